import { RetryableError, errorMessage } from './errors';
import { parseBackupName } from './naming';
import type { Retention } from './policy';
import type { BackupApi, BackupInfo, Clock, LedgerBackupRecord, LedgerPort, TableState } from './ports';
import { planRetention, type BackupRecord as RetentionBackup, type RetentionPlan } from './retention';
import { silentLog, type Log } from './log';

/**
 * Pruning: the retention planner's decisions carried out, with the ledger as the index of the
 * service's own backups. The hot path (after each backup) reads the ledger only: no ListBackups.
 * A sweep reconciles the ledger against one account-wide ListBackups first.
 */

export interface PruneDeps {
  readonly backups: BackupApi;
  readonly ledger: LedgerPort;
  readonly clock: Clock;
  readonly log?: Log;
}

export interface PruneRequest {
  readonly table: string;
  readonly policy: string;
  /** The effective retention; undefined when the policy is invalid or unreadable (nothing is deleted). */
  readonly retention: Retention | undefined;
  /** Plan only. */
  readonly dryRun?: boolean;
  /**
   * This table's backups from ListBackups, when the caller listed them (sweep, CLI). They are the
   * truth: the ledger is reconciled against them. Without it the ledger alone is used.
   */
  readonly listing?: readonly BackupInfo[];
  /** When the listing was taken: ledger records newer than this are not judged missing. */
  readonly listedAt?: Date;
  /** The (table, policy) state when the caller already holds it (the worker, right after a backup). */
  readonly state?: TableState;
}

export interface PruneOutcome {
  readonly table: string;
  readonly policy: string;
  readonly plan: RetentionPlan;
  readonly deleted: string[];
  /** Deletions put off to the next run (BackupInUseException, throttling). */
  readonly deferred: { arn: string; reason: string }[];
  readonly failed: { arn: string; reason: string }[];
  /** Ledger records whose status the listing corrected. */
  readonly reconciled: number;
}

/** Ledger statuses that stand for a backup that exists (or is being created). */
const LIVE = new Set(['CREATING', 'AVAILABLE']);

/**
 * Reconciles one table's ledger records against its listing: CREATING → AVAILABLE, and records
 * of backups that vanished (deleted by hand, expired) → DELETED. Returns the number corrected.
 */
export async function reconcileLedger(
  deps: PruneDeps,
  records: readonly LedgerBackupRecord[],
  listing: readonly BackupInfo[],
  listedAt: Date,
): Promise<number> {
  const byArn = new Map(listing.map((b) => [b.arn, b]));
  let changed = 0;
  for (const r of records) {
    if (!r.backupArn || !LIVE.has(r.status)) continue;
    const seen = byArn.get(r.backupArn);
    if (seen) {
      if (seen.status !== r.status && (seen.status === 'AVAILABLE' || seen.status === 'DELETED')) {
        await deps.ledger.setBackupStatus(
          r,
          seen.status,
          seen.status === 'DELETED' ? { at: deps.clock.now().toISOString(), reason: 'deleted outside the service' } : undefined,
        );
        changed++;
      }
    } else if (r.createdAt && new Date(r.createdAt).getTime() < listedAt.getTime() - 60_000) {
      await deps.ledger.setBackupStatus(r, 'DELETED', {
        at: deps.clock.now().toISOString(),
        reason: 'backup no longer exists (deleted outside the service)',
      });
      changed++;
    }
  }
  return changed;
}

/** CreateBackup usually answers CREATING; a record still CREATING after this long is checked once. */
export const VERIFY_CREATING_AFTER_MS = 5 * 60_000;

/**
 * The ledger records a backup as CreateBackup answered, usually CREATING. Before planning from the
 * ledger alone, each record still CREATING and older than a few minutes is checked with one
 * DescribeBackup and updated, so every backup costs one extra call in its life, not one per run.
 */
async function verifySettledBackups(
  deps: PruneDeps,
  records: readonly LedgerBackupRecord[],
  now: Date,
  dryRun: boolean | undefined,
): Promise<{ records: LedgerBackupRecord[]; changed: number }> {
  let changed = 0;
  const out: LedgerBackupRecord[] = [];
  for (const r of records) {
    const old = r.createdAt && now.getTime() - new Date(r.createdAt).getTime() >= VERIFY_CREATING_AFTER_MS;
    if (r.status !== 'CREATING' || !r.backupArn || !old) {
      out.push(r);
      continue;
    }
    const status = await deps.backups.describeBackupStatus(r.backupArn);
    const next = status === undefined ? 'DELETED' : status === 'AVAILABLE' || status === 'DELETED' ? status : undefined;
    if (next && !dryRun) {
      await deps.ledger.setBackupStatus(
        r,
        next,
        next === 'DELETED' ? { at: now.toISOString(), reason: 'backup no longer exists (deleted outside the service)' } : undefined,
      );
      changed++;
    }
    out.push(next ? { ...r, status: next } : r);
  }
  return { records: out, changed };
}

/** What the retention planner sees: the listing when there is one, else the ledger's records. */
function backupsForPlan(records: readonly LedgerBackupRecord[], listing?: readonly BackupInfo[]): RetentionBackup[] {
  if (listing) {
    const listed = new Set(listing.map((b) => b.arn));
    const fromListing: RetentionBackup[] = listing.map((b) => ({
      arn: b.arn,
      name: b.name,
      table: b.table,
      createdAt: new Date(b.createdAt),
      status: b.status,
    }));
    // Records created after the listing are not in it; they count as the ledger knows them.
    const newer = records
      .filter((r) => r.backupArn && !listed.has(r.backupArn) && LIVE.has(r.status))
      .map((r) => ({ arn: r.backupArn!, name: r.backupName, table: r.table, createdAt: new Date(r.createdAt ?? r.claimedAt), status: 'CREATING' }));
    return [...fromListing, ...newer];
  }
  return records
    .filter((r) => r.backupArn && r.status !== 'CLAIMED' && r.status !== 'FAILED')
    .map((r) => ({
      arn: r.backupArn!,
      name: r.backupName,
      table: r.table,
      createdAt: new Date(r.createdAt ?? r.claimedAt),
      status: r.status,
    }));
}

/** Plans and (unless dry-run) carries out retention for one table and policy. */
export async function pruneTable(deps: PruneDeps, req: PruneRequest): Promise<PruneOutcome> {
  const log = deps.log ?? silentLog;
  const now = deps.clock.now();
  const [records, state] = await Promise.all([
    deps.ledger.listBackupRecords(req.table),
    req.state ? Promise.resolve(req.state) : deps.ledger.getState(req.table, req.policy),
  ]);

  let reconciled = 0;
  let current: LedgerBackupRecord[] = records;
  if (req.listing && !req.dryRun) {
    reconciled = await reconcileLedger(deps, records, req.listing, req.listedAt ?? now);
  } else if (!req.listing) {
    ({ records: current, changed: reconciled } = await verifySettledBackups(deps, records, now, req.dryRun));
  }
  const plan = planRetention({
    table: req.table,
    policy: req.policy,
    backups: backupsForPlan(current, req.listing),
    retention: req.retention,
    now,
    lastAttempt:
      state?.lastAttemptStatus && state.lastAttemptAt
        ? { status: state.lastAttemptStatus, at: new Date(state.lastAttemptAt) }
        : undefined,
    frozenUntil: state?.pruneFrozenUntil ? new Date(state.pruneFrozenUntil) : undefined,
  });
  const outcome: PruneOutcome = { table: req.table, policy: req.policy, plan, deleted: [], deferred: [], failed: [], reconciled };
  if (req.dryRun || plan.delete.length === 0) return outcome;

  const recordByArn = new Map(records.filter((r) => r.backupArn).map((r) => [r.backupArn!, r]));
  for (const d of plan.delete) {
    // Belt and braces: the planner already ignores anything whose name is not ours.
    if (!parseBackupName(d.name)) continue;
    let result: 'deleted' | 'gone';
    try {
      result = await deps.backups.deleteBackup(d.arn);
    } catch (err) {
      const reason = errorMessage(err);
      if (err instanceof RetryableError) {
        // BackupInUseException or throttling: the next run tries again; no failure storm.
        outcome.deferred.push({ arn: d.arn, reason });
        log.warn('prune deferred', { table: req.table, policy: req.policy, backupArn: d.arn, reason });
      } else {
        outcome.failed.push({ arn: d.arn, reason });
        log.error('prune failed', { table: req.table, policy: req.policy, backupArn: d.arn, reason });
      }
      continue;
    }
    outcome.deleted.push(d.arn);
    log.info('pruned backup', { table: req.table, policy: req.policy, backupArn: d.arn, result });
    const rec = recordByArn.get(d.arn);
    // A record already DELETED keeps its first deletion time and reason.
    if (!rec || rec.status === 'DELETED') continue;
    try {
      await deps.ledger.setBackupStatus(rec, 'DELETED', {
        at: deps.clock.now().toISOString(),
        reason: result === 'deleted' ? `pruned: ${d.reasons.join(', ')}` : 'already gone when pruning',
      });
    } catch (err) {
      // The backup is gone either way; the next sweep's reconciliation corrects the record.
      log.warn('could not mark a pruned backup in the ledger', { table: req.table, backupArn: d.arn, error: errorMessage(err) });
    }
  }
  return outcome;
}

/** Tables with the policy's backups, by the listing; those not tagged with it are orphans. */
export function orphanedTables(
  listing: readonly BackupInfo[],
  policy: string,
  taggedTables: ReadonlySet<string>,
): { table: string; backups: number }[] {
  const counts = new Map<string, number>();
  for (const b of listing) {
    if (b.status === 'DELETED' || taggedTables.has(b.table)) continue;
    if (parseBackupName(b.name)?.policy !== policy) continue;
    counts.set(b.table, (counts.get(b.table) ?? 0) + 1);
  }
  return [...counts.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([table, backups]) => ({ table, backups }));
}

/** Groups a listing by table. */
export function listingByTable(listing: readonly BackupInfo[]): Map<string, BackupInfo[]> {
  const out = new Map<string, BackupInfo[]>();
  for (const b of listing) {
    const list = out.get(b.table);
    if (list) list.push(b);
    else out.set(b.table, [b]);
  }
  return out;
}
