import { InvalidArgumentError, type Command } from 'commander';
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
