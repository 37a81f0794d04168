import { CommanderError, InvalidArgumentError, type Command } from 'commander';
import type { CallCounter } from '../aws/limits';
import type { Service } from '../aws/service';
import { POLICY_NAME_PATTERN } from '../core/policy';

/**
 * What the program and its command modules share: exit codes, output, the context a command
 * module gets, the global flags, and the argument parsers of more than one command.
 */

/** Exit codes a script can rely on. */
export const EXIT = { OK: 0, FAILED: 1, USAGE: 2 } as const;

export interface CliIo {
  out(text: string): void;
  err(text: string): void;
}

export const processIo: CliIo = {
  out: (t) => process.stdout.write(t.endsWith('\n') ? t : `${t}\n`),
  err: (t) => process.stderr.write(t.endsWith('\n') ? t : `${t}\n`),
};

/**
 * What a command module gets: output, the service for the command's global flags, the call
 * counter, and a way to make the exit code non-zero.
 */
export interface CliContext {
  readonly io: CliIo;
  readonly counter: CallCounter;
  service(cmd: Command): Service;
  fail(code?: number): void;
}

/** Command modules (`lambda/cli/*.ts`) register here: `(program, ctx) => void`. */
export type RegisterCommands = (program: Command, ctx: CliContext) => void;

export interface GlobalOpts {
  endpoint?: string;
  region?: string;
  ledgerTable?: string;
  topicArn?: string;
  tagKey?: string;
}

/** A flag value that must be a whole number from 1 to `max`. */
export function positiveInt(max: number): (v: string) => number {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1 || n > max) throw new InvalidArgumentError(`must be a whole number from 1 to ${max}`);
    return n;
  };
}

export function policyNameArg(value: string): string {
  if (!POLICY_NAME_PATTERN.test(value)) {
    throw new InvalidArgumentError(`policy names use only letters, digits, "_" and "-" (1-64), got "${value}"`);
  }
  return value;
}

export function tableNameArg(value: string): string {
  if (!/^[A-Za-z0-9_.-]{3,255}$/.test(value)) {
    throw new InvalidArgumentError(`not a DynamoDB table name: "${value}"`);
  }
  return value;
}

/** `--file` → `file`, `--ledger-table` → `ledgerTable`. */
function flagKey(flag: string): string {
  return flag.replace(/^-+/, '').replace(/-([a-z])/g, (_m, c: string) => c.toUpperCase());
}

/** Flags that shape the output, not the operation: never "the failing input". */
const OUTPUT_FLAGS = new Set(['json', 'verbose']);

/**
 * What a failure was about, for the `input` of a `--json` error answer: the value an error
 * carries as `input`, the name or value a usage error quotes, else the inputs the failing
 * command was given (its own flags and arguments, as typed or from the environment).
 */
export function failureInput(err: unknown, command: Command | undefined): unknown {
  if (err && typeof err === 'object' && 'input' in err && (err as { input?: unknown }).input !== undefined) {
    return (err as { input: unknown }).input;
  }
  if (err instanceof CommanderError) {
    const m = err.message;
    let g: RegExpMatchArray | null;
    if ((g = /unknown command '([^']*)'/.exec(m))) return { command: g[1] };
    if ((g = /unknown option '([^']*)'/.exec(m))) return { option: g[1] };
    if ((g = /option '(-[^\s',]+)[^']*' argument '([\s\S]*)' is invalid/.exec(m))) return { [flagKey(g[1])]: g[2] };
    if ((g = /command-argument value '([\s\S]*)' is invalid for argument '([^']*)'/.exec(m))) return { [g[2]]: g[1] };
    if ((g = /required option '(-[^\s',]+)/.exec(m))) return { option: g[1] };
    if ((g = /option '(-[^\s',]+)[^']*' argument missing/.exec(m))) return { option: g[1] };
    if ((g = /missing required argument '([^']*)'/.exec(m))) return { argument: g[1] };
    if ((g = /too many arguments for '([^']*)'/.exec(m))) return { command: g[1] };
    return null;
  }
  if (!command) return null;
  const given: Record<string, unknown> = {};
  for (const o of command.options) {
    const key = o.attributeName();
    const source = command.getOptionValueSource(key);
    if (OUTPUT_FLAGS.has(key) || (source !== 'cli' && source !== 'env')) continue;
    given[key] = command.getOptionValue(key);
  }
  command.registeredArguments.forEach((a, i) => {
    if (command.processedArgs[i] !== undefined) given[a.name()] = command.processedArgs[i];
  });
  return Object.keys(given).length > 0 ? given : null;
}
