import { RetryableError, errorMessage } from '../errors';
import { parseBackupName } from '../naming';
import type { Retention } from '../policy';
import { isLive, type BackupApi, type BackupInfo, type Clock, type ExistenceFeed, type LedgerBackupRecord, type LedgerPort, type TableState } from '../ports';
import { planRetention, type BackupRecord as RetentionBackup, type RetentionPlan } from './retention';
import { silentLog, type Log } from '../log';

/**
 * Pruning: the retention planner's decisions carried out over the ledger, the only source of
 * truth for what the service owns.
 *
 *  - Candidates are the ledger's live records (CREATING or AVAILABLE, with an ARN) of this table
 *    and policy: backups the worker created and recorded, or adopted by the exact name its claim
 *    chose. A listing never adds a candidate, a job message never names one, and a backup's name
 *    proves nothing.
 *  - The plan is made from the ledger first. Only when it would delete something is the table's
 *    ListBackups read (every page) to confirm what still exists, with one DescribeBackup for each
 *    record the listing does not show (it may lag a new backup): records whose backup is gone are
 *    marked VANISHED (with when it was noticed) and never count toward a keep rule; records still
 *    CREATING are settled. Then the plan is made again from what exists, and only that plan's
 *    deletions happen. A steady table whose plan deletes nothing costs no AWS call.
 *  - While the CloudTrail feed is alive (`existence`), a deletion outside the service reaches the
 *    ledger as an event (lambda/core/events) and the ledger is taken as current: no listing and no
 *    DescribeBackup. A hand deletion is missed only until its event arrives (typically minutes).
 *  - Each deletion is first marked in the ledger with a conditional write that fails on a held
 *    (or no longer live) record, so a legal hold placed at any moment wins.
 */

export interface PruneDeps {
  readonly backups: BackupApi;
  readonly ledger: LedgerPort;
  readonly clock: Clock;
  readonly log?: Log;
  /** The CloudTrail feed: while alive, the ledger is current and the listing is skipped. */
  readonly existence?: ExistenceFeed;
}

export interface PruneRequest {
  readonly table: string;
  readonly policy: string;
  /** The effective retention; undefined when the policy is invalid or unreadable (nothing is deleted). */
  readonly retention: Retention | undefined;
  /** Plan only: nothing is deleted and the ledger is not written. */
  readonly dryRun?: boolean;
  /** The (table, policy) state when the caller already holds it (the worker, right after a backup). */
  readonly state?: TableState;
  /** The backup this job just created: CreateBackup answered for it, so it needs no DescribeBackup when a listing lags it. */
  readonly justCreated?: string;
  /**
   * The policy's live records when the caller already read them (the worker's one live-index
   * read, with the record it just wrote): the plan starts from them, and the table's full
   * history is read only when a deletion must be confirmed (it holds the VANISHED records a
   * listing may revive).
   */
  readonly records?: readonly LedgerBackupRecord[];
}

export interface PruneOutcome {
  readonly table: string;
  readonly policy: string;
  readonly plan: RetentionPlan;
  readonly deleted: string[];
  /** Deletions put off to the next run (BackupInUseException, throttling). */
  readonly deferred: { arn: string; reason: string }[];
  readonly failed: { arn: string; reason: string }[];
  /** Ledger records found gone (deleted outside the service) and marked VANISHED in this prune. */
  readonly vanished: number;
  /** Ledger records whose status the listing corrected otherwise (settled, or seen again). */
  readonly reconciled: number;
  /** Whether the table's backups were listed to confirm the plan (not while the CloudTrail feed is alive). */
  readonly confirmed: boolean;
}


/** CreateBackup usually answers CREATING; a record still CREATING after this long is presumed settled until a listing says. */
export const SETTLE_AFTER_MS = 5 * 60_000;


const timeOf = (r: LedgerBackupRecord): Date => new Date(r.createdAt ?? r.claimedAt);

/**
 * What the planner sees of the ledger's records: the live ones, with their holds, each with the
 * status `statusOf` gives it; undefined leaves the record out (its backup is gone).
 */
function ownedBackups(records: readonly LedgerBackupRecord[], statusOf: (r: LedgerBackupRecord) => string | undefined): RetentionBackup[] {
  const out: RetentionBackup[] = [];
  for (const r of records) {
    const status = isLive(r) ? statusOf(r) : undefined;
    if (status === undefined) continue;
    out.push({ arn: r.backupArn!, name: r.backupName, table: r.table, policy: r.policy, createdAt: timeOf(r), status, ...(r.hold ? { hold: r.hold } : {}) });
  }
  return out;
}

/** The status a confirmation gives a record whose backup no longer exists. */
const GONE = 'GONE';

export interface Confirmation {
  /** What exists of each live record (by ARN): its status, or GONE. */
  readonly status: Map<string, string>;
  readonly vanished: LedgerBackupRecord[];
  readonly settled: LedgerBackupRecord[];
  readonly revived: LedgerBackupRecord[];
  /** Live records the listing did not show: ListBackups may lag a new backup, so each is described. */
  readonly unlisted: LedgerBackupRecord[];
}

/** Compares the table's records with its listing. Pure: the caller describes the unlisted and writes what it found. */
export function confirmAgainstListing(records: readonly LedgerBackupRecord[], listing: readonly BackupInfo[]): Confirmation {
  const seen = new Map(listing.map((b) => [b.arn, b]));
  const out: Confirmation = { status: new Map(), vanished: [], settled: [], revived: [], unlisted: [] };
  for (const r of records) {
    if (!r.backupArn) continue;
    const b = seen.get(r.backupArn);
    if (r.status === 'VANISHED') {
      if (b && b.status !== 'DELETED') out.revived.push(r);
      continue;
    }
    if (!isLive(r)) continue;
    if (!b) {
      out.unlisted.push(r);
    } else if (b.status === 'DELETED') {
      out.status.set(r.backupArn, GONE);
      out.vanished.push(r);
    } else {
      out.status.set(r.backupArn, b.status);
      if (r.status === 'CREATING' && b.status === 'AVAILABLE') out.settled.push(r);
    }
  }
  return out;
}

/** The ledger taken as current (the CloudTrail feed is alive): each live record with the status `presume` gives it. */
export function ledgerAsConfirmation(records: readonly LedgerBackupRecord[], presume: (r: LedgerBackupRecord) => string): Confirmation {
  const status = new Map(records.filter(isLive).map((r) => [r.backupArn!, presume(r)]));
  return { status, vanished: [], settled: [], revived: [], unlisted: [] };
}

/** Settles the records a listing did not show with one DescribeBackup each (a rare path). */
async function describeUnlisted(deps: PruneDeps, found: Confirmation, justCreated: string | undefined): Promise<void> {
  for (const r of found.unlisted) {
    if (justCreated !== undefined && r.backupArn === justCreated) {
      found.status.set(justCreated, r.status);
      continue;
    }
    const status = await deps.backups.describeBackupStatus(r.backupArn!);
    if (status === undefined || status === 'DELETED') {
      found.status.set(r.backupArn!, GONE);
      found.vanished.push(r);
    } else {
      found.status.set(r.backupArn!, status);
      if (r.status === 'CREATING' && status === 'AVAILABLE') found.settled.push(r);
    }
  }
}

/** Plans and (unless dry-run) carries out retention for one table and policy. */
export async function pruneTable(deps: PruneDeps, req: PruneRequest): Promise<PruneOutcome> {
  const log = deps.log ?? silentLog;
  const now = deps.clock.now();
  const [records, state] = await Promise.all([
    req.records ?? deps.ledger.listBackupRecords(req.table, req.policy),
    req.state ? Promise.resolve(req.state) : deps.ledger.getState(req.table, req.policy),
  ]);
  const own = (list: readonly LedgerBackupRecord[]) => list.filter((r) => r.table === req.table && r.policy === req.policy);
  let mine = own(records);
  const plan = (backups: RetentionBackup[]) =>
    planRetention({
      table: req.table,
      policy: req.policy,
      backups,
      retention: req.retention,
      now,
      lastAttempt:
        state?.lastAttemptStatus && state.lastAttemptAt ? { status: state.lastAttemptStatus, at: new Date(state.lastAttemptAt) } : undefined,
      frozenUntil: state?.pruneFrozenUntil ? new Date(state.pruneFrozenUntil) : undefined,
    });

  // From the ledger alone; a record long CREATING is presumed settled here (the listing decides).
  const presume = (r: LedgerBackupRecord): string => (r.status === 'CREATING' && now.getTime() - timeOf(r).getTime() >= SETTLE_AFTER_MS ? 'AVAILABLE' : r.status);
  const presumed = plan(ownedBackups(mine, presume));
  const base = { table: req.table, policy: req.policy, deleted: [] as string[], deferred: [], failed: [], vanished: 0, reconciled: 0 };
  if (presumed.delete.length === 0) return { ...base, plan: presumed, confirmed: false };

  // Something would go: confirm what exists first, by listing unless the CloudTrail feed keeps
  // the ledger current. A listing is checked against the whole history (it may revive a VANISHED
  // record); the caller's fresher records win over what that read shows.
  const byEvents = (await deps.existence?.eventsAlive(now)) === true;
  if (!byEvents && req.records) mine = own(overlay(await deps.ledger.listBackupRecords(req.table, req.policy), req.records));
  const listing = byEvents ? undefined : (await deps.backups.listBackups(req.table)).filter((b) => b.table === req.table);
  const found = listing ? confirmAgainstListing(mine, listing) : ledgerAsConfirmation(mine, presume);
  if (listing) await describeUnlisted(deps, found, req.justCreated);
  let reconciled = 0;
  if (!req.dryRun) {
    const at = deps.clock.now().toISOString();
    for (const r of found.vanished) {
      await deps.ledger.setBackupStatus(r, 'VANISHED', { at, reason: 'backup no longer exists: deleted outside the service' }, ['CREATING', 'AVAILABLE']);
      log.warn('backup vanished outside the service', { table: req.table, policy: req.policy, backupArn: r.backupArn });
    }
    for (const r of found.settled) if (await deps.ledger.setBackupStatus(r, 'AVAILABLE', undefined, ['CREATING'])) reconciled++;
    for (const r of found.revived) if (await deps.ledger.setBackupStatus(r, 'AVAILABLE', undefined, ['VANISHED'])) reconciled++;
  }
  const confirmedPlan = plan(ownedBackups(mine, (r) => {
    const seen = found.status.get(r.backupArn!);
    return seen === GONE ? undefined : (seen ?? r.status);
  }));
  const outcome: PruneOutcome = { ...base, plan: confirmedPlan, vanished: found.vanished.length, reconciled, confirmed: !byEvents };
  if (req.dryRun) return outcome;

  const owned = new Map(mine.filter(isLive).map((r) => [r.backupArn!, r]));
  for (const d of confirmedPlan.delete) {
    // Every target is a live ledger record of this table and policy; nothing else is ever deleted.
    const rec = owned.get(d.arn);
    if (!rec) {
      log.error('prune refused a target that is not a live ledger record of this table and policy', { table: req.table, policy: req.policy, backupArn: d.arn });
      continue;
    }
    const mark = await deps.ledger.markDeleting(rec, { at: deps.clock.now().toISOString(), reason: `pruned: ${d.reasons.join(', ')}` });
    if (mark !== 'marked') {
      log.info('prune skipped a backup', { table: req.table, policy: req.policy, backupArn: d.arn, why: mark });
      continue;
    }
    try {
      const result = await deps.backups.deleteBackup(d.arn);
      outcome.deleted.push(d.arn);
      log.info('pruned backup', { table: req.table, policy: req.policy, backupArn: d.arn, result });
    } catch (err) {
      const reason = errorMessage(err);
      try {
        await deps.ledger.unmarkDeleting(rec);
      } catch (undoErr) {
        // The record stays DELETED while the backup exists: it no longer counts and is never
        // deleted by the service (kept, not lost); the next listing does not revive DELETED rows.
        log.error('could not undo a deletion mark', { table: req.table, backupArn: d.arn, error: errorMessage(undoErr) });
      }
      if (err instanceof RetryableError) {
        // BackupInUseException or throttling: the next run tries again; no failure storm.
        outcome.deferred.push({ arn: d.arn, reason });
        log.warn('prune deferred', { table: req.table, policy: req.policy, backupArn: d.arn, reason });
      } else {
        outcome.failed.push({ arn: d.arn, reason });
        log.error('prune failed', { table: req.table, policy: req.policy, backupArn: d.arn, reason });
      }
    }
  }
  return outcome;
}

/** `base` with each record of `fresher` in place of the one of its slot (or added). */
function overlay(base: readonly LedgerBackupRecord[], fresher: readonly LedgerBackupRecord[]): LedgerBackupRecord[] {
  const bySlot = new Map(fresher.map((r) => [r.slot, r]));
  return [...base.filter((r) => !bySlot.has(r.slot)), ...fresher];
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
