/**
 * `ddb-backup drill`: restore a backup into a scratch table, check it, record the RTO, clean up;
 * `ddb-backup drills`: the drills recorded in the ledger, newest first. The drill runs the same
 * steps as the deployed waiter (drillTask), here in-process with real sleeps.
 */
import { InvalidArgumentError, type Command } from 'commander';
import { DrillLedger, drillDeps } from '../aws/drills';
import { findTable } from '../aws/restore';
import { settingsClients } from '../aws/table-settings';
import { errorMessage } from '../core/errors';
import { LongTaskTimeoutError, runLongTask } from '../core/long-task';
import { DrillRefusedError, drillRecordOf, drillState, drillTask, type DrillRecord } from '../core/restore/drill';
import { EXIT, positiveInt, tableNameArg, type CliContext, type GlobalOpts, type RegisterCommands } from './context';
import { renderTable } from './output';

const BACKUP_ARN = /^arn:aws[\w-]*:dynamodb:[\w-]+:\d{12}:table\/[A-Za-z0-9_.-]{3,255}\/backup\/[\w.-]+$/;

function backupChoice(v: string): string {
  if (v === 'latest' || BACKUP_ARN.test(v)) return v;
  throw new InvalidArgumentError(`must be "latest" or a DynamoDB backup ARN, got "${v}"`);
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** A command refused (exit 1): stderr, and with --json `{"error": {message, input}}`. */
function refuse(ctx: CliContext, json: boolean | undefined, message: string, input: Record<string, unknown>): void {
  if (json) ctx.io.out(JSON.stringify({ error: { message, input } }));
  ctx.io.err(`error: ${message}`);
  ctx.fail(EXIT.FAILED);
}

/** The drill as `--json` prints it. */
export function drillAnswer(r: DrillRecord) {
  return {
    table: r.table,
    backupArn: r.backupArn ?? null,
    passed: r.passed,
    restoreSeconds: r.restoreSeconds ?? null,
    checks: r.checks,
    outcome: r.outcome,
    scratchTable: r.scratchTable ?? null,
    kept: r.kept,
    startedAt: r.startedAt,
    finishedAt: r.finishedAt,
    ...(r.error ? { error: r.error } : {}),
  };
}

const mark = (p: boolean | null) => (p === null ? 'not checked' : p ? 'pass' : 'FAIL');

export const registerDrillCommands: RegisterCommands = (program, ctx) => {
  const { io } = ctx;

  program
    .command('drill')
    .description('restore drill: restore a backup into a scratch table, verify data and settings, record the restore time (RTO), delete the scratch table')
    .requiredOption('--table <name>', 'table whose backup to drill', tableNameArg)
    .option('--backup <latest|arn>', "the backup: latest (the service's newest AVAILABLE one) or an ARN", backupChoice, 'latest')
    .option('--keep', 'keep the scratch table (to look at it); delete it yourself afterwards')
    .option('--scratch-table <name>', 'name of the scratch table (default <table>-drill-<utc stamp>); refused if it exists', tableNameArg)
    .option('--poll-seconds <n>', 'seconds between looks while the restore runs (default 15)', positiveInt(300))
    .option('--timeout-minutes <n>', 'give up after this long (default 24 h)', positiveInt(24 * 60))
    .option('--json', 'print JSON: {table, backupArn, passed, restoreSeconds, checks}')
    .action(
      async (
        opts: { table: string; backup: string; keep?: boolean; scratchTable?: string; pollSeconds?: number; timeoutMinutes?: number; json?: boolean },
        cmd: Command,
      ) => {
        const svc = ctx.service(cmd);
        const input = { table: opts.table, backup: opts.backup };
        // A table that neither exists nor has a backup in the ledger is a typo: refuse, record nothing.
        const known =
          (await findTable(svc.clients.dynamodb, opts.table)) !== undefined ||
          (svc.config.ledgerTable !== undefined && (await svc.ledger().listBackupRecords(opts.table)).length > 0);
        if (!known) {
          refuse(ctx, opts.json, `no table named "${opts.table}" and no backup of it in the ledger`, input);
          return;
        }
        const g = cmd.optsWithGlobals<GlobalOpts>();
        const deps = drillDeps(svc, settingsClients(svc.clients, { endpoint: g.endpoint, region: g.region, counter: ctx.counter }));
        const initial = drillState(svc.clock.now(), {
          table: opts.table,
          backup: opts.backup,
          keep: opts.keep,
          scratchTable: opts.scratchTable,
          pollSeconds: opts.pollSeconds,
        });
        let outcome;
        try {
          outcome = await runLongTask(drillTask, deps, initial, {
            now: () => svc.clock.now(),
            sleep,
            ...(opts.timeoutMinutes ? { maxSeconds: opts.timeoutMinutes * 60 } : {}),
            onStep: (o) => {
              if (!opts.json && o.next !== 'done') io.err(`drill ${opts.table}: ${o.state.phase}${o.next === 'wait' ? ` (next look in ${o.waitSeconds} s)` : ''}`);
            },
          });
        } catch (err) {
          if (err instanceof DrillRefusedError || err instanceof LongTaskTimeoutError) {
            refuse(ctx, opts.json, err instanceof DrillRefusedError ? err.message : errorMessage(err), input);
            return;
          }
          throw err;
        }
        const record = drillRecordOf(outcome.state)!;
        if (!outcome.passed) ctx.fail(EXIT.FAILED);
        if (opts.json) {
          io.out(JSON.stringify(drillAnswer(record)));
          if (!outcome.passed) io.err(`error: ${outcome.summary}`);
          return;
        }
        io.out(renderTable(['check', 'result', 'detail'], record.checks.map((c) => [c.name, mark(c.passed), c.detail])));
        io.out(
          `${outcome.summary}${record.kept && record.scratchTable ? `; scratch table ${record.scratchTable} kept (delete it when done)` : ''}` +
            `${record.backupArn ? ` (backup ${record.backupArn})` : ''}`,
        );
      },
    );

  program
    .command('drills')
    .description('past restore drills from the ledger, newest first: outcome, restore time (RTO), failed checks')
    .option('--table <name>', 'only this table', tableNameArg)
    .option('--limit <n>', 'how many (default 20)', positiveInt(1000))
    .option('--json', 'print JSON')
    .action(async (opts: { table?: string; limit?: number; json?: boolean }, cmd: Command) => {
      const svc = ctx.service(cmd);
      const drills = await new DrillLedger(svc.clients.dynamodb, svc.ledger().tableName).list({ table: opts.table, limit: opts.limit ?? 20 });
      if (opts.json) {
        io.out(JSON.stringify({ drills: drills.map(({ pk: _pk, sk: _sk, ...d }) => d) }));
        return;
      }
      if (drills.length === 0) {
        io.out(`no drills recorded${opts.table ? ` for ${opts.table}` : ''}`);
        return;
      }
      io.out(
        renderTable(
          ['started (UTC)', 'table', 'outcome', 'restore (s)', 'failed checks', 'backup'],
          drills.map((d) => [
            d.startedAt,
            d.table,
            d.outcome,
            d.restoreSeconds,
            d.checks.filter((c) => c.passed === false).map((c) => c.name).join(', ') || (d.error ?? '-'),
            d.backupArn,
          ]),
        ),
      );
    });
};
