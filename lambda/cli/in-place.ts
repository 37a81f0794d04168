/**
 * `ddb-backup restore --table T --in-place (--latest | --backup-arn ARN) --yes`: the cut-over
 * restore under the table's own name (lambda/core/restore/in-place.ts), called by the restore
 * command in operator.ts.
 */
import { userInfo } from 'node:os';
import type { Command } from 'commander';
import { inPlaceDeps } from '../aws/in-place';
import { NoBackupError } from '../aws/restore';
import { settingsClients } from '../aws/table-settings';
import { UsageError } from '../core/errors';
import { InPlaceIncompleteError, InPlaceRefusedError, restoreInPlace } from '../core/restore/in-place';
import { EXIT, type CliContext, type GlobalOpts } from './context';
import { renderTable } from './output';

export interface InPlaceOpts {
  readonly table: string;
  readonly target?: string;
  readonly latest?: boolean;
  readonly backupArn?: string;
  readonly pointInTime?: Date;
  readonly latestRestorable?: boolean;
  readonly yes?: boolean;
  readonly disableDeletionProtection?: boolean;
  readonly timeoutMinutes?: number;
  readonly json?: boolean;
  readonly [flag: string]: unknown;
}

function whoAmI(): string {
  try {
    return process.env.USER || userInfo().username || 'ddb-backup';
  } catch {
    return 'ddb-backup';
  }
}

/** Flags that do not go with --in-place: a usage error (exit 2). */
function usageProblem(o: InPlaceOpts): string | undefined {
  if (o.target !== undefined) return '--in-place restores under the table\'s own name: leave out --target';
  if (o.pointInTime || o.latestRestorable) {
    return '--in-place restores a backup (--latest or --backup-arn); for a point in time, restore --point-in-time into a new table, back it up, then restore that backup in place';
  }
  if (Boolean(o.latest) === Boolean(o.backupArn)) return 'choose exactly one of --latest, --backup-arn';
  const shaping = ['billingMode', 'read', 'write', 'sse', 'kmsKey', 'keepPolicyTag'].filter((k) => o[k] !== undefined);
  if (Array.isArray(o.gsi)) shaping.push('no-gsi');
  if (shaping.length > 0) return `--in-place puts the table back as it was backed up; ${shaping.join(', ')} do not apply`;
  return undefined;
}

export async function runInPlace(ctx: CliContext, cmd: Command, opts: InPlaceOpts): Promise<void> {
  const { io } = ctx;
  const problem = usageProblem(opts);
  if (problem) throw new UsageError(problem);
  const svc = ctx.service(cmd);
  const g = cmd.optsWithGlobals<GlobalOpts>();
  const deps = inPlaceDeps(svc, settingsClients(svc.clients, { endpoint: g.endpoint, region: g.region, counter: ctx.counter }), {
    maxWaitMs: (opts.timeoutMinutes ?? 120) * 60_000,
    progress: opts.json ? undefined : (l) => io.err(l),
  });
  const request = {
    table: opts.table,
    backup: opts.backupArn ?? 'latest',
    confirmed: Boolean(opts.yes),
    disableDeletionProtection: Boolean(opts.disableDeletionProtection),
    by: whoAmI(),
  };
  try {
    const r = await restoreInPlace(deps, request);
    if (!r.passed) ctx.fail(EXIT.FAILED);
    if (opts.json) {
      io.out(JSON.stringify({ inPlace: true, ...r }));
      return;
    }
    io.out(renderTable(['setting', 'outcome', 'detail'], r.settings.map((s) => [s.setting, s.outcome, s.detail])));
    const count = r.itemCount.recorded === undefined ? `${r.itemCount.restored} item(s)` : `${r.itemCount.restored} item(s), ${r.itemCount.recorded} recorded`;
    io.out(`restored ${r.table} in place from ${r.backupArn} in ${r.restoreSeconds} s (delete to ACTIVE with settings); ${count}`);
    io.out(`safety backup of the replaced table: ${r.safetyBackupArn} (held; release with: ddb-backup backups release ${r.safetyBackupArn})`);
    if (!r.passed) io.err(`error: the restored table ${r.table} does not match: ${r.itemCount.passed === false ? 'item count differs; ' : ''}${r.settings.filter((s) => s.outcome === 'failed').map((s) => s.setting).join(', ')}`);
  } catch (err) {
    if (err instanceof InPlaceRefusedError || err instanceof NoBackupError) {
      if (opts.json) io.out(JSON.stringify({ error: { message: err.message, input: { table: opts.table, backup: request.backup } } }));
      io.err(`error: ${err.message}`);
      ctx.fail(EXIT.FAILED);
      return;
    }
    if (err instanceof InPlaceIncompleteError) {
      if (opts.json) io.out(JSON.stringify({ error: { message: err.message, input: { table: opts.table }, safetyBackupArn: err.safetyBackupArn, finishByHand: err.steps } }));
      io.err(`error: ${err.message}`);
      io.err('finish by hand:');
      for (const s of err.steps) io.err(s);
      ctx.fail(EXIT.FAILED);
      return;
    }
    throw err;
  }
}
