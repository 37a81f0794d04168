/**
 * Off-site copies: `copy` (make one now), `copies list`, and the body of `restore --from-copy`
 * (the option lives on the restore command in operator.ts). Registered in program.ts through
 * `extraCommands`.
 */
import type { Command } from 'commander';
import { CopyAdapter, copyDeps, copyRestoreDeps, startImport } from '../aws/copies';
import { CopyLedger } from '../aws/copy-ledger';
import { S3RestObjects } from '../aws/copy-objects';
import { TargetExistsError } from '../aws/restore';
import type { Service } from '../aws/service';
import { settingsClients } from '../aws/table-settings';
import { advanceCopies, newestCompleted, PitrOffError, startCopy, type CopyRecord } from '../core/copies/copies';
import { copyTask, copyTaskState } from '../core/copies/copy-task';
import { COPY_RESTORE_TASK_KIND, copyRestoreTask, type CopyRestoreState } from '../core/copies/copy-restore';
import { CopyDataNotFoundError } from '../core/copies/import-source';
import { TableNotFoundError, UsageError, errorMessage } from '../core/errors';
import { runLongTask, type StepOutcome } from '../core/long-task';
import type { EffectivePolicy } from '../core/policy';
import { parsePolicyTag } from '../core/tags';
import { DEFAULTS } from '../env';
import { humanBytes, renderTable } from './output';
import { EXIT, policyNameArg, positiveInt, tableNameArg, type CliContext, type GlobalOpts, type RegisterCommands } from './context';
import { ListTagsOfResourceCommand } from '@aws-sdk/client-dynamodb';
import { findTable } from '../aws/restore';

/** A command refused (exit 1): the message on stderr and, with --json, `{"error": {message, input}}` on stdout. */
function refuse(ctx: CliContext, json: boolean | undefined, message: string, input: Record<string, unknown>): void {
  if (json) ctx.io.out(JSON.stringify({ error: { message, input } }));
  ctx.io.err(`error: ${message}`);
  ctx.fail(EXIT.FAILED);
}

/**
 * The longest sleep between two polls of a wait, in seconds: DDB_BACKUP_POLL_SECONDS when set
 * (tests, impatient operators), else the task's own pace.
 */
function sleeper(env: NodeJS.ProcessEnv = process.env): (ms: number) => Promise<void> {
  const cap = Number(env.DDB_BACKUP_POLL_SECONDS);
  const capMs = Number.isFinite(cap) && cap > 0 ? cap * 1000 : Infinity;
  return (ms) => new Promise((r) => setTimeout(r, Math.min(ms, capMs)));
}

function clientsOf(ctx: CliContext, cmd: Command, svc: Service) {
  const g = cmd.optsWithGlobals<GlobalOpts>();
  return settingsClients(svc.clients, { endpoint: g.endpoint, region: g.region, counter: ctx.counter });
}

function ledgerTableOf(svc: Service): string {
  // Throws the service's own "missing setting" error when none is configured.
  return svc.ledger().tableName;
}

/** A copy for people and --json: everything but the settings snapshot. */
export function copyView(r: CopyRecord) {
  return {
    id: r.copyId,
    table: r.table,
    policy: r.policy,
    status: r.status,
    exportArn: r.exportArn,
    s3: `s3://${r.bucket}/${r.prefix}/`,
    ...(r.owner ? { owner: r.owner } : {}),
    ...(r.region ? { region: r.region } : {}),
    requestedAt: r.requestedAt,
    ...(r.completedAt ? { completedAt: r.completedAt } : {}),
    ...(r.itemCount !== undefined ? { itemCount: r.itemCount } : {}),
    ...(r.billedSizeBytes !== undefined ? { billedSizeBytes: r.billedSizeBytes } : {}),
    ...(r.error ? { error: r.error } : {}),
  };
}

/** The policy whose copy settings apply: the one named, else the one policy on the table's tag that has `copy`. */
async function copyPolicy(svc: Service, table: string, name: string | undefined): Promise<EffectivePolicy | string> {
  if (name) {
    const effective = await svc.policies.getEffective(name, table);
    return effective.policy.copy ? effective : `policy "${name}" has no copy settings (add "copy": {"to": "s3://BUCKET/PREFIX"})`;
  }
  const t = await findTable(svc.clients.dynamodb, table);
  if (!t) throw new TableNotFoundError(table);
  const tags = (await svc.clients.dynamodb.send(new ListTagsOfResourceCommand({ ResourceArn: t.TableArn }))).Tags ?? [];
  const names = parsePolicyTag(tags.find((x) => x.Key === (svc.config.tagKey || DEFAULTS.TAG_KEY))?.Value);
  const withCopy: EffectivePolicy[] = [];
  for (const n of names) {
    const effective = await svc.policies.getEffective(n, table);
    if (effective.policy.copy) withCopy.push(effective);
  }
  if (withCopy.length === 1) return withCopy[0];
  return withCopy.length === 0
    ? `no policy on table "${table}" has copy settings (tagged: ${names.join(', ') || 'none'}); pass --policy`
    : `more than one policy on table "${table}" has copy settings (${withCopy.map((e) => e.name).join(', ')}); pass --policy`;
}

function progressLine(ctx: CliContext, json: boolean | undefined): ((o: StepOutcome) => void) | undefined {
  if (json) return undefined;
  return (o) => {
    if (o.next === 'wait') ctx.io.err(`${String(o.state.phase)}: waiting ${o.waitSeconds} s`);
  };
}

export const registerCopyCommands: RegisterCommands = (program, ctx) => {
  const { io } = ctx;

  program
    .command('copy')
    .description("make an off-site copy of a table now: a DynamoDB export to the policy's S3 vault (needs PITR); --wait waits until it is COMPLETED")
    .requiredOption('--table <name>', 'table to copy', tableNameArg)
    .option('--policy <name>', "policy whose copy settings to use (default: the one policy on the table's tag with copy settings)", policyNameArg)
    .option('--wait', 'wait until the export has COMPLETED (or FAILED)')
    .option('--timeout-minutes <n>', 'how long --wait waits (default 24 h)', positiveInt(24 * 60))
    .option('--json', 'print JSON')
    .action(async (opts: { table: string; policy?: string; wait?: boolean; timeoutMinutes?: number; json?: boolean }, cmd: Command) => {
      const svc = ctx.service(cmd);
      const input = { table: opts.table, ...(opts.policy ? { policy: opts.policy } : {}) };
      const deps = copyDeps(clientsOf(ctx, cmd, svc), ledgerTableOf(svc));
      let record: CopyRecord;
      try {
        const effective = await copyPolicy(svc, opts.table, opts.policy);
        if (typeof effective === 'string') return refuse(ctx, opts.json, effective, input);
        record = await startCopy(deps, { table: opts.table, policy: effective.name, copy: effective.policy.copy!, now: svc.clock.now() });
      } catch (err) {
        if (err instanceof PitrOffError || err instanceof TableNotFoundError) return refuse(ctx, opts.json, err.message, input);
        throw err;
      }
      if (!opts.json) io.err(`copy ${record.copyId} of ${record.table} requested: export ${record.exportArn} to s3://${record.bucket}/${record.prefix}/`);
      let task: { passed: boolean; summary: string } | undefined;
      if (opts.wait && record.status === 'IN_PROGRESS') {
        const done = await runLongTask(copyTask, deps, copyTaskState(record), {
          now: () => svc.clock.now(),
          sleep: sleeper(),
          maxSeconds: (opts.timeoutMinutes ?? 24 * 60) * 60,
          onStep: progressLine(ctx, opts.json),
        });
        task = { passed: done.passed, summary: done.summary };
        record = (await deps.ledger.listCopies(record.table)).find((c) => c.copyId === record.copyId) ?? record;
      } else if (record.status !== 'IN_PROGRESS') {
        task = { passed: record.status === 'COMPLETED', summary: `copy ${record.copyId} of ${record.table} ${record.status}` };
      }
      if (task && !task.passed) ctx.fail(EXIT.FAILED);
      if (opts.json) {
        io.out(JSON.stringify({ copy: copyView(record), ...(task ? { wait: task } : {}) }));
        return;
      }
      io.out(task ? task.summary : `copy ${record.copyId} is ${record.status}; see it with: ddb-backup copies list --table ${record.table}`);
    });

  const copies = program.command('copies').description('off-site copies (exports to the S3 vault) recorded in the ledger');
  copies
    .command('list')
    .description('copies, newest first: id, table, status, time, items, bytes, S3 location, export ARN (IN_PROGRESS ones are looked up first)')
    .option('--table <name>', 'only this table', tableNameArg)
    .option('--json', 'print JSON')
    .action(async (opts: { table?: string; json?: boolean }, cmd: Command) => {
      const svc = ctx.service(cmd);
      const clients = clientsOf(ctx, cmd, svc);
      const ledger = new CopyLedger(clients.dynamodb, ledgerTableOf(svc));
      const listed = opts.table ? await ledger.listCopies(opts.table) : await ledger.listAllCopies();
      const { records, alerts } = await advanceCopies({ api: new CopyAdapter(clients), ledger }, listed, svc.clock.now());
      for (const a of alerts) io.err(`alert: ${a}`);
      if (opts.json) {
        io.out(JSON.stringify({ copies: records.map(copyView), ...(alerts.length ? { alerts } : {}) }));
        return;
      }
      if (records.length === 0) {
        io.out(`no copies recorded${opts.table ? ` for table "${opts.table}"` : ''}`);
        return;
      }
      io.out(
        renderTable(
          ['id', 'table', 'status', 'requested (UTC)', 'items', 'size', 's3 location', 'export ARN'],
          records.map((r) => [r.copyId, r.table, r.status, r.requestedAt, r.itemCount ?? '-', r.billedSizeBytes !== undefined ? humanBytes(r.billedSizeBytes) : '-', `s3://${r.bucket}/${r.prefix}/`, r.exportArn ?? '-']),
        ),
      );
    });
};

export interface RestoreFromCopyOptions {
  readonly table: string;
  readonly target: string;
  readonly fromCopy: string;
  readonly keepPolicyTag?: boolean;
  readonly wait?: boolean;
  readonly timeoutMinutes?: number;
  readonly json?: boolean;
}

/**
 * `restore --from-copy latest|ID --target NEW`: ImportTable into NEW (never over an existing
 * table) from the copy's data files; with --wait, wait for the import, re-apply the copy's
 * recorded settings as a backup restore does, and check the item count against the copy's.
 */
export async function restoreFromCopy(ctx: CliContext, cmd: Command, opts: RestoreFromCopyOptions): Promise<void> {
  if (opts.target === opts.table) throw new UsageError('--target must differ from --table: a restore only ever creates a new table');
  const svc = ctx.service(cmd);
  const clients = clientsOf(ctx, cmd, svc);
  const ledger = new CopyLedger(clients.dynamodb, ledgerTableOf(svc));
  const input = { table: opts.table, target: opts.target, fromCopy: opts.fromCopy };
  const { records } = await advanceCopies({ api: new CopyAdapter(clients), ledger }, await ledger.listCopies(opts.table), svc.clock.now());
  const copy = opts.fromCopy === 'latest' ? newestCompleted(records) : records.find((r) => r.copyId === opts.fromCopy);
  if (!copy) return refuse(ctx, opts.json, opts.fromCopy === 'latest' ? `no COMPLETED copy of table "${opts.table}" in the ledger` : `no copy "${opts.fromCopy}" of table "${opts.table}" in the ledger`, input);
  if (copy.status !== 'COMPLETED') return refuse(ctx, opts.json, `copy ${copy.copyId} of "${opts.table}" is ${copy.status}, not COMPLETED`, input);
  const g = cmd.optsWithGlobals<GlobalOpts>();
  const objects = new S3RestObjects(svc.clients.dynamodb, { region: copy.region, endpoint: g.endpoint });
  let started;
  try {
    started = await startImport(svc.clients.dynamodb, objects, copy, opts.target);
  } catch (err) {
    if (err instanceof TargetExistsError || err instanceof CopyDataNotFoundError) return refuse(ctx, opts.json, err.message, input);
    throw err;
  }
  if (!opts.json) ctx.io.err(`import started: copy ${copy.copyId} of ${opts.table} (s3://${copy.bucket}/${started.keyPrefix}${started.manifest ? ', per its manifest' : ''}) -> ${opts.target}`);
  let task: { passed: boolean; summary: string } | undefined;
  if (opts.wait) {
    const state: CopyRestoreState = {
      kind: COPY_RESTORE_TASK_KIND,
      phase: 'wait-import',
      startedAt: svc.clock.now().toISOString(),
      table: opts.table,
      copyId: copy.copyId,
      requestedAt: copy.requestedAt,
      target: opts.target,
      importArn: started.importArn,
      ...(copy.itemCount !== undefined ? { expectedItems: copy.itemCount } : {}),
    };
    const deps = copyRestoreDeps(clients, ledger, {
      tagKey: svc.config.tagKey || DEFAULTS.TAG_KEY,
      keepPolicyTag: opts.keepPolicyTag,
      onProgress: opts.json ? undefined : (l) => ctx.io.err(l),
      maxWaitMs: (opts.timeoutMinutes ?? 120) * 60_000,
    });
    try {
      const done = await runLongTask(copyRestoreTask, deps, state, {
        now: () => svc.clock.now(),
        sleep: sleeper(),
        maxSeconds: (opts.timeoutMinutes ?? 120) * 60,
        onStep: progressLine(ctx, opts.json),
      });
      task = { passed: done.passed, summary: done.summary };
    } catch (err) {
      task = { passed: false, summary: errorMessage(err) };
    }
    if (!task.passed) ctx.fail(EXIT.FAILED);
  }
  if (opts.json) {
    ctx.io.out(JSON.stringify({ table: opts.table, target: opts.target, copy: copyView(copy), import: started, ...(task ? { result: task } : {}) }));
    return;
  }
  ctx.io.out(task ? task.summary : `import into ${opts.target} started (${started.status}); settings are re-applied with --wait, or later with: ddb-backup restore-settings --table ${opts.target} --from ${opts.table}`);
}
