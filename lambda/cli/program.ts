import { readFileSync } from 'node:fs';
import { basename, extname } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { DEFAULTS, ENV } from '../env';
import { createClients } from '../aws/clients';
import { CallCounter } from '../aws/limits';
import { buildService, configFromEnv, type Service } from '../aws/service';
import { tableUpkeep } from '../aws/upkeep';
import type { LedgerPort } from '../core/ports';
import { PolicyValidationError, UsageError, errorMessage } from '../core/errors';
import { manualSlot, pruneSlot } from '../core/jobs';
import { assertPolicyName, parsePolicyJson, policyHash, serialisePolicy } from '../core/policy';
import { runInProcess } from '../core/backup/in-process';
import { sweepInProcess } from '../core/retention/sweep';
import { countResults } from '../core/backup/summary';
import {
  EXIT,
  failureInput,
  policyNameArg,
  positiveInt,
  processIo,
  tableNameArg,
  type CliContext,
  type CliIo,
  type GlobalOpts,
  type RegisterCommands,
} from './context';
import { errorAnswer, humanBytes, oneLineError, renderTable } from './output';
import { registerDrillCommands } from './drill';
import { registerOperatorCommands } from './operator';
import { startProgress } from './progress';
import { registerRunsCommand } from './runs';
import { registerReportCommand } from './report';
import { registerCostCommand } from './cost';
import { registerCopyCommands } from './copies';
import { serviceCopyPort } from '../aws/copies';

/** The ledger a dry run gets: any use of it is a bug, and says so. */
const dryRunLedger: LedgerPort = new Proxy({} as LedgerPort, {
  get: (_t, prop) => () => Promise.reject(new Error(`a dry run must not touch the ledger (${String(prop)})`)),
});

/** The command modules (`lambda/cli/*.ts`) the program registers. */
const extraCommands: RegisterCommands[] = [registerOperatorCommands, registerRunsCommand, registerReportCommand, registerCostCommand, registerDrillCommands, registerCopyCommands];

function endpointArg(value: string): string {
  try {
    const u = new URL(value);
    if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error('scheme');
    return value;
  } catch {
    throw new InvalidArgumentError(`not an http(s) URL: "${value}"`);
  }
}

/** The message the CLI gives when no region is configured anywhere the SDK looks. */
export const REGION_MISSING =
  'no AWS region configured: pass --region <region>, set AWS_REGION (or AWS_DEFAULT_REGION), or set a region in your AWS profile';

/**
 * The region a command talks to: the flag (or AWS_REGION), AWS_DEFAULT_REGION, then whatever
 * the SDK resolves from the shared config (the profile's region). Undefined when none is set:
 * the SDK would fail with "Region is missing".
 */
async function resolveRegion(flag: string | undefined): Promise<string | undefined> {
  const fromEnv = flag || process.env.AWS_DEFAULT_REGION;
  if (fromEnv) return fromEnv;
  const probe = new DynamoDBClient({});
  try {
    return (await probe.config.region()) || undefined;
  } catch {
    return undefined;
  } finally {
    probe.destroy();
  }
}

function readPolicyFile(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    throw new UsageError(`cannot read ${file}: ${errorMessage((err as Error).message)}`);
  }
}

function policyNameFromFile(file: string, name?: string): string {
  const n = name ?? basename(file, extname(file));
  assertPolicyName(n);
  return n;
}

/**
 * Builds the `ddb-backup` program. `makeService` lets tests inject clients; by default the
 * global flags and the environment decide where AWS is.
 */
export function buildProgram(io: CliIo = processIo, makeService?: (opts: GlobalOpts, counter: CallCounter) => Service): Command {
  const counter = new CallCounter();
  // Resolved before each action (see the preAction hook); undefined when no region is set anywhere.
  let region: string | undefined;
  const service = (cmd: Command): Service => {
    const g = cmd.optsWithGlobals<GlobalOpts>();
    if (makeService) return makeService(g, counter);
    if (!region) throw Object.assign(new Error(REGION_MISSING), { input: { region: null } });
    const env = configFromEnv();
    const clients = createClients({ endpoint: g.endpoint, region, counter });
    return buildService(clients, {
      ...env,
      ledgerTable: g.ledgerTable ?? env.ledgerTable,
      topicArn: g.topicArn ?? env.topicArn,
      tagKey: g.tagKey ?? env.tagKey,
      // Policies are read once per command (a run), never from a stale cache across commands.
      cacheSeconds: 600,
    });
  };
  let exitCode: number = EXIT.OK;
  const ctx: CliContext = {
    io,
    counter,
    service,
    fail: (code = EXIT.FAILED) => {
      exitCode = Math.max(exitCode, code);
    },
  };

  const program = new Command('ddb-backup')
    .description('Policy-driven DynamoDB backups: run the planner and worker, manage policies, read the ledger.')
    .configureOutput({ writeOut: (s) => io.out(s), writeErr: (s) => io.err(s), outputError: (s, write) => write(oneLineError(s)) })
    .exitOverride()
    .option('--verbose', 'show every warning (the AWS SDK\'s Node.js version notice among them)')
    .addOption(
      new Option('--endpoint <url>', 'AWS endpoint for every service (moto, LocalStack)').env('AWS_ENDPOINT_URL').argParser(endpointArg),
    )
    .addOption(new Option('--region <region>', 'AWS region').env('AWS_REGION'))
    .addOption(new Option('--ledger-table <name>', 'ledger DynamoDB table').env(ENV.LEDGER_TABLE))
    .addOption(new Option('--topic-arn <arn>', 'SNS topic for run summaries').env(ENV.TOPIC_ARN))
    .addOption(new Option('--tag-key <key>', `opt-in tag key (default "${DEFAULTS.TAG_KEY}")`).env(ENV.TAG_KEY));

  // ---- policy ----
  const policy = program.command('policy').description('validate, write and list backup policies (SSM Parameter Store)');

  policy
    .command('validate')
    .description('validate a policy file against the schema; names the field at fault')
    .requiredOption('--file <path>', 'policy JSON file')
    .option('--name <name>', 'policy name (default: the file name without extension)', policyNameArg)
    .option('--json', 'print JSON')
    .action((opts: { file: string; name?: string; json?: boolean }) => {
      const name = policyNameFromFile(opts.file, opts.name);
      const parsed = parsePolicyJson(readPolicyFile(opts.file), `"${name}" (${opts.file})`);
      if (opts.json) io.out(JSON.stringify({ name, valid: true, hash: policyHash(parsed), policy: parsed }));
      else io.out(`ok: policy "${name}" is valid (hash ${policyHash(parsed)})`);
    });

  policy
    .command('put')
    .description('validate a policy file, then write it to SSM')
    .requiredOption('--file <path>', 'policy JSON file')
    .option('--name <name>', 'policy name (default: the file name without extension)', policyNameArg)
    .action(async (opts: { file: string; name?: string }, cmd: Command) => {
      const name = policyNameFromFile(opts.file, opts.name);
      const parsed = parsePolicyJson(readPolicyFile(opts.file), `"${name}" (${opts.file})`);
      const svc = service(cmd);
      await svc.policies.putPolicy(name, parsed);
      io.out(`wrote ${svc.policies.policyPrefix}${name} (hash ${policyHash(parsed)})`);
    });

  policy
    .command('list')
    .description('list the policies in SSM, with their triggers and retention')
    .option('--json', 'print JSON')
    .action(async (opts: { json?: boolean }, cmd: Command) => {
      const svc = service(cmd);
      const raw = await svc.policies.listRaw();
      const rows = Object.entries(raw)
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([name, text]) => {
          try {
            const p = parsePolicyJson(text, `"${name}"`);
            return { name, valid: true as const, hash: policyHash(p), policy: JSON.parse(serialisePolicy(p)) as unknown, p };
          } catch (err) {
            exitCode = EXIT.FAILED;
            return { name, valid: false as const, error: errorMessage(err) };
          }
        });
      if (opts.json) {
        io.out(JSON.stringify({ policies: rows.map(({ p: _p, ...r }: { p?: unknown } & Record<string, unknown>) => r) }));
        return;
      }
      if (rows.length === 0) {
        io.out(`no policies under ${svc.policies.policyPrefix}`);
        return;
      }
      io.out(
        renderTable(
          ['policy', 'schedule', 'size', 'changes', 'cooldown', 'retention', 'notify'],
          rows.map((r) =>
            r.valid
              ? [
                  r.name,
                  r.p.schedule ?? '-',
                  r.p.size ? JSON.stringify(r.p.size) : '-',
                  r.p.changes ? JSON.stringify(r.p.changes) : '-',
                  `${r.p.minIntervalMinutes} min`,
                  Object.entries(r.p.retention)
                    .map(([k, v]) => `${k}=${v}`)
                    .join(' '),
                  r.p.notify,
                ]
              : [r.name, `INVALID: ${r.error}`, '', '', '', '', ''],
          ),
        ),
      );
    });

  // ---- ledger ----
  program
    .command('ledger')
    .description('the backup ledger')
    .command('init')
    .description('create the ledger table (PITR on, TTL on run items) where no CDK stack did')
    .action(async (_opts: unknown, cmd: Command) => {
      const svc = service(cmd);
      const ledger = svc.ledger();
      const outcome = await ledger.init();
      io.out(outcome === 'created' ? `created ledger table ${ledger.tableName}` : `ledger table ${ledger.tableName} already exists`);
    });

  // ---- run ----
  program
    .command('run')
    .description('back up the tables tagged with a policy now (same planner and worker as the Lambdas, in-process)')
    .requiredOption('--policy <name>', 'policy to run', policyNameArg)
    .option('--table <name>', 'only this table (it must be tagged with the policy)', tableNameArg)
    .option('--dry-run', 'show what would be backed up; change nothing')
    .option('--json', 'print {"results":[...]} as JSON')
    .option('--concurrency <n>', 'jobs at once', positiveInt(64))
    .option('--force', 'back up even inside the cooldown (minIntervalMinutes); each run is still one backup per table')
    .action(async (opts: { policy: string; table?: string; dryRun?: boolean; json?: boolean; concurrency?: number; force?: boolean }, cmd: Command) => {
      const svc = service(cmd);
      const now = svc.clock.now();
      let progress: ReturnType<typeof startProgress> | undefined;
      const report = await runInProcess(
        {
          policies: svc.policies,
          discovery: svc.discovery,
          backups: svc.backups,
          // A dry run touches no ledger: it may run where none exists yet.
          ledger: opts.dryRun ? dryRunLedger : svc.ledger(),
          clock: svc.clock,
          upkeep: opts.dryRun ? undefined : tableUpkeep(svc, { endpoint: cmd.optsWithGlobals<GlobalOpts>().endpoint, region: region ?? cmd.optsWithGlobals<GlobalOpts>().region }),
          copies: opts.dryRun ? undefined : serviceCopyPort(svc, { endpoint: cmd.optsWithGlobals<GlobalOpts>().endpoint, region: region ?? cmd.optsWithGlobals<GlobalOpts>().region }),
          // Without a topic there is nothing to publish, and nothing to report about publishing.
          notifier: svc.config.topicArn ? svc.notifier : undefined,
        },
        { policy: opts.policy, trigger: 'manual', slot: manualSlot(now), requestedAt: now.toISOString(), table: opts.table },
        {
          dryRun: opts.dryRun,
          concurrency: opts.concurrency,
          force: opts.force,
          onPlan: (jobs) => {
            if (!opts.dryRun && jobs > 0) progress = startProgress(`backing up ${jobs} table(s) under ${opts.policy}`, jobs, (l) => io.err(l));
          },
          onResult: (r) => progress?.done(r.status),
        },
      ).finally(() => progress?.stop());
      const c = countResults(report);
      // Unknown policies in other tables' tags (and a failed listing, which only makes pruning
      // fall back to the ledger) are reported; failures, an unreadable policy or a failed
      // discovery make the exit code non-zero.
      if (c.failed > 0 || c.copyFailed || report.problems.some((p) => p.kind === 'invalid-policy' || p.kind === 'discovery')) exitCode = EXIT.FAILED;
      // The results stand either way; a summary SNS did not take fails the command and says so.
      const notification = report.notification;
      const notPublished = notification && !notification.published ? notification : undefined;
      if (notPublished) exitCode = EXIT.FAILED;
      const sayNotPublished = () => {
        if (notPublished) io.err(`error: notification failed: the run summary was not published to ${svc.config.topicArn}: ${notPublished.error}`);
      };
      if (opts.json) {
        io.out(
          JSON.stringify({
            runId: report.runId,
            results: report.results,
            problems: report.problems,
            ...(notification ? { notification } : {}),
            calls: counter.snapshot(),
          }),
        );
        sayNotPublished();
        return;
      }
      for (const p of report.problems) io.err(`problem: ${[p.table, p.policy, p.message].filter(Boolean).join(': ')}`);
      io.out(
        renderTable(
          ['table', 'policy', 'status', 'backup / reason'],
          report.results.map((r) => [r.table, r.policy, r.status, r.backupArn ?? r.reason]),
        ),
      );
      io.out(`${c.backedUp} backed up, ${c.skipped} skipped, ${c.failed} failed, ${c.problems} problems${opts.dryRun ? ' (dry run)' : ''}`);
      for (const r of report.results) if (r.copy) io.err(`copy: ${r.table} [${r.policy}]: ${[r.copy.status, r.copy.copyId, r.copy.reason, ...(r.copy.alerts ?? [])].filter(Boolean).join(': ')}`);
      sayNotPublished();
    });

  // ---- prune ----
  program
    .command('prune')
    .description("apply a policy's retention now: print the plan (keep or delete, and why); --dry-run changes nothing")
    .requiredOption('--policy <name>', 'policy whose backups to prune', policyNameArg)
    .option('--table <name>', 'only this table', tableNameArg)
    .option('--dry-run', 'print the plan; delete nothing')
    .option('--json', 'print the plan as JSON')
    .action(async (opts: { policy: string; table?: string; dryRun?: boolean; json?: boolean }, cmd: Command) => {
      const svc = service(cmd);
      const time = svc.clock.now().toISOString();
      const report = await sweepInProcess(
        { policies: svc.policies, discovery: svc.discovery, backups: svc.backups, ledger: svc.ledger(), clock: svc.clock },
        { policy: opts.policy, time, slot: `${pruneSlot(time)}:cli`, table: opts.table },
        { dryRun: opts.dryRun },
      );
      const c = countResults(report);
      if (c.failed > 0 || report.problems.some((p) => p.kind !== 'unknown-policy' && p.kind !== 'orphaned')) exitCode = EXIT.FAILED;
      if (opts.json) {
        io.out(
          JSON.stringify({
            dryRun: Boolean(opts.dryRun),
            plans: report.outcomes.map((o) => ({
              table: o.table,
              policy: o.policy,
              ...(o.plan.blocked ? { blocked: o.plan.blocked } : {}),
              decisions: o.plan.decisions.map((d) => ({
                backupArn: d.arn,
                name: d.name,
                createdAt: d.createdAt.toISOString(),
                action: d.action,
                reasons: d.reasons,
              })),
              deleted: o.deleted,
              deferred: o.deferred,
              failed: o.failed,
            })),
            results: report.results,
            problems: report.problems,
            calls: counter.snapshot(),
          }),
        );
        return;
      }
      for (const p of report.problems) io.err(`${p.kind === 'orphaned' ? 'note' : 'problem'}: ${[p.table, p.message].filter(Boolean).join(': ')}`);
      const rows = report.outcomes.flatMap((o) =>
        o.plan.decisions.map((d) => [
          o.table,
          d.name ?? d.arn,
          d.createdAt.toISOString(),
          d.action === 'delete' ? (opts.dryRun ? 'delete (dry run)' : o.deleted.includes(d.arn) ? 'deleted' : 'delete (not done)') : d.action,
          d.reasons.join('; '),
        ]),
      );
      if (rows.length > 0) io.out(renderTable(['table', 'backup', 'created (UTC)', 'action', 'why'], rows));
      // A table that could not be pruned says why, in plain words (the plan above shows only tables that could).
      for (const r of report.results) if (r.status === 'failed') io.err(`failed: ${r.table} [${r.policy}]: ${r.reason ?? 'unknown reason'}`);
      const wouldDelete = report.outcomes.reduce((n, o) => n + o.plan.delete.length, 0);
      io.out(
        opts.dryRun
          ? `dry run: would delete ${wouldDelete} backup(s) across ${report.outcomes.length} table(s); nothing was deleted`
          : `deleted ${c.deleted} backup(s) across ${report.outcomes.length} table(s)${c.failed ? `, ${c.failed} table(s) failed` : ''}`,
      );
    });

  // ---- backups ----
  const backups = program.command('backups').description("the service's backups, from the ledger");
  backups
    .command('list')
    .description('list backups recorded in the ledger, newest first')
    .option('--table <name>', 'only this table', tableNameArg)
    .option('--policy <name>', 'only this policy', policyNameArg)
    .addOption(new Option('--status <status>', 'only this ledger status').choices(['CLAIMED', 'CREATING', 'AVAILABLE', 'FAILED', 'DELETED', 'VANISHED']))
    .option('--since <when>', 'only backups created since then: an ISO time or an age such as 30d, 12h, 90m', sinceArg)
    .option('--limit <n>', 'at most this many (the newest)', positiveInt(100000))
    .option('--json', 'print JSON')
    .action(async (opts: { table?: string; policy?: string; status?: string; since?: Date; limit?: number; json?: boolean }, cmd: Command) => {
      const svc = service(cmd);
      const since = opts.since?.toISOString();
      const records = (await svc.ledger().listBackupRecords(opts.table, opts.table ? opts.policy : undefined))
        .filter((r) => (!opts.policy || r.policy === opts.policy) && (!opts.status || r.status === opts.status))
        .filter((r) => !since || (r.createdAt ?? r.claimedAt) >= since)
        .sort((a, b) => (b.createdAt ?? b.claimedAt).localeCompare(a.createdAt ?? a.claimedAt))
        .slice(0, opts.limit ?? Infinity);
      if (opts.json) {
        io.out(
          JSON.stringify({
            backups: records.map(({ pk: _pk, sk: _sk, ...r }) => r),
          }),
        );
        return;
      }
      if (records.length === 0) {
        io.out('no backups recorded');
        return;
      }
      io.out(
        renderTable(
          ['table', 'policy', 'trigger', 'status', 'created (UTC)', 'size (at backup)', 'items (as DynamoDB reported them)', 'hold', 'backup'],
          records.map((r) => [
            r.table,
            r.policy,
            r.trigger,
            r.status,
            r.createdAt ?? r.claimedAt,
            humanBytes(r.sizeBytes),
            r.itemCount !== undefined ? `${r.itemCount}${r.itemCountAt ? ` at ${r.itemCountAt}` : ''}` : '',
            r.hold ? `held by ${r.hold.by}: ${r.hold.reason}` : '',
            r.backupArn ?? r.error,
          ]),
        ),
      );
    });

  // Commands that live in their own modules.
  for (const register of extraCommands) register(program, ctx);

  // Every subcommand reports to the same io, exits through the same path, refuses unknown
  // commands and excess arguments, and names the closest command when a name is mistyped.
  const configure = (cmd: Command) => {
    cmd
      .configureOutput({ writeOut: (s) => io.out(s), writeErr: (s) => io.err(s), outputError: (s, write) => write(oneLineError(s)) })
      .exitOverride()
      .showSuggestionAfterError()
      .allowExcessArguments(false);
    refuseUnknownCommandBeforeHelp(cmd);
    cmd.commands.forEach(configure);
  };
  configure(program);

  let actionCommand: Command | undefined;
  program.hook('preAction', async (_program, action) => {
    actionCommand = action;
    if (!makeService) region = await resolveRegion(action.optsWithGlobals<GlobalOpts>().region);
  });

  const state = program as ProgramState;
  state.finalExitCode = () => exitCode;
  state.actionCommand = () => actionCommand;
  return program;
}

type ProgramState = Command & { finalExitCode: () => number; actionCommand: () => Command | undefined };

/**
 * `ddb-backup runs --help` must fail on the unknown command, not print the parent's help: commander
 * shows help before it looks at the command name, so the name is checked first.
 */
function refuseUnknownCommandBeforeHelp(cmd: Command): void {
  const internals = cmd as unknown as { _outputHelpIfRequested(args: string[]): void; unknownCommand(): never };
  const showHelpIfAsked = internals._outputHelpIfRequested.bind(cmd);
  internals._outputHelpIfRequested = (args: string[]) => {
    const first = cmd.args[0];
    const known = (name: string) => cmd.commands.some((c) => c.name() === name || c.aliases().includes(name)) || name === 'help';
    if (cmd.commands.length > 0 && first !== undefined && !first.startsWith('-') && !known(first)) internals.unknownCommand();
    showHelpIfAsked(args);
  };
}

/** `--since`: an ISO 8601 time, or an age back from now (`30d`, `12h`, `90m`). */
export function sinceArg(value: string, now: Date = new Date()): Date {
  const age = /^(\d+)([dhm])$/.exec(value);
  if (age) {
    const unit = { d: 86_400_000, h: 3_600_000, m: 60_000 }[age[2] as 'd' | 'h' | 'm'];
    return new Date(now.getTime() - Number(age[1]) * unit);
  }
  const t = new Date(value);
  if (!/^\d{4}-\d{2}-\d{2}/.test(value) || Number.isNaN(t.getTime())) {
    throw new InvalidArgumentError(`not an ISO 8601 time nor an age like 30d, 12h or 90m: "${value}"`);
  }
  return t;
}

/** Runs the CLI; resolves to the process exit code. */
export async function main(argv: string[], io: CliIo = processIo, makeService?: (opts: GlobalOpts, counter: CallCounter) => Service): Promise<number> {
  const program = buildProgram(io, makeService) as ProgramState;
  // With --json, a failure is answered on stdout too: one object with an `error` field.
  const json = argv.includes('--json');
  const answer = (err: unknown, message: string) => {
    if (json) io.out(errorAnswer(message, failureInput(err, program.actionCommand())));
  };
  try {
    await program.parseAsync(argv, { from: 'user' });
    return program.finalExitCode();
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help and --version exit 0; usage errors were already printed on one line.
      if (err.exitCode === 0) return EXIT.OK;
      answer(err, err.code === 'commander.help' ? 'a command is required' : oneLineError(err.message).replace(/^error: /, '').trim());
      return EXIT.USAGE;
    }
    if (err instanceof UsageError || err instanceof PolicyValidationError) {
      const message = errorMessage(err).replace(/^\w+Error: /, '');
      io.err(`error: ${message}`);
      answer(err, message);
      return err instanceof PolicyValidationError ? EXIT.FAILED : EXIT.USAGE;
    }
    io.err(`error: ${errorMessage(err)}`);
    answer(err, errorMessage(err));
    return EXIT.FAILED;
  }
}
