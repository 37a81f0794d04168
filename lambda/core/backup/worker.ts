import { ClaimLostError, claimIsStale, newAttemptId } from './claim';
import { PolicyUnavailableError, RetryableError, TableNotFoundError, errorMessage } from '../errors';
import { cooldown, type BackupJob, type JobResult } from '../jobs';
import { backupName, type Trigger } from '../naming';
import type { EffectivePolicy } from '../policy';
import type { BackupApi, ClaimRequest, Clock, CopyPort, CreatedBackup, ExistenceFeed, LedgerBackupRecord, LedgerPort, PolicySource, TableFacts, TableState, TableUpkeep } from '../ports';
import { DAILY_UPKEEP_MS, SETTINGS_REFRESH_MS, upkeepDue } from '../events/feed';
import { pruneTable, type PruneOutcome } from '../retention/prune';
import { silentLog, type Log } from '../log';

export { silentLog, type Log } from '../log';

export interface WorkerDeps {
  readonly policies: PolicySource;
  readonly backups: BackupApi;
  readonly ledger: LedgerPort;
  readonly clock: Clock;
  readonly log?: Log;
  readonly upkeep?: TableUpkeep;
  /** Off-site copies after the backup, when the policy has `copy` (lambda/core/copies). */
  readonly copies?: CopyPort;
  /** How long the settings snapshot may hold up a backup (default SNAPSHOT_DEADLINE_MS). */
  readonly snapshotDeadlineMs?: number;
  /** The CloudTrail feed: while alive, the prune skips its listing and the upkeep is a slow refresh. */
  readonly existence?: ExistenceFeed;
}

/** A settings snapshot taken before CreateBackup gives up waiting after this long. */
export const SNAPSHOT_DEADLINE_MS = 10_000;

/**
 * A table's settings are captured for restore fidelity, and PITR checked, this often while the
 * CloudTrail feed is not alive; while it is, changes arrive as events and the period is the slow
 * refresh (`existence.settingsRefreshMs`, default SETTINGS_REFRESH_MS, each table on its own day).
 */
export const SETTINGS_SNAPSHOT_EVERY_MS = DAILY_UPKEEP_MS;

const failed = (job: BackupJob, reason: string): JobResult => ({ table: job.table, policy: job.policy, status: 'failed', reason });
const skipped = (job: BackupJob, reason: string): JobResult => ({ table: job.table, policy: job.policy, status: 'skipped', reason });

/**
 * The item count recorded with a backup is reused for this long (for the refresh period while the
 * CloudTrail feed is alive). DynamoDB itself refreshes ItemCount only about every six hours, and
 * each settings snapshot reads it afresh, so a steady-state backup makes no DescribeTable call.
 */
export const TABLE_FACTS_MAX_AGE_MS = SETTINGS_SNAPSHOT_EVERY_MS;

/** Table states in which CreateBackup may succeed shortly. */
const TRANSIENT_TABLE_STATES = new Set(['CREATING', 'UPDATING']);

/**
 * Runs one backup job: policy, cooldown, durable claim, CreateBackup, ledger.
 *
 * Returns a result for every outcome that retrying cannot change (backed up, skipped, failed for
 * good). Throws RetryableError when the same job may succeed later (throttling, a conflicting
 * backup in progress, an SSM outage); the caller retries it and, after the last attempt, reports it
 * as failed.
 */
export async function processJob(deps: WorkerDeps, job: BackupJob): Promise<JobResult> {
  const log = deps.log ?? silentLog;
  const now = deps.clock.now();
  const ctx = { table: job.table, policy: job.policy, trigger: job.trigger, slot: job.slot };

  const fail = async (reason: string, err?: unknown): Promise<JobResult> => {
    log.error('backup failed', { ...ctx, reason, error: err === undefined ? undefined : errorMessage(err) });
    await recordFailureQuietly(deps, job, reason, now);
    return failed(job, reason);
  };

  let effective: EffectivePolicy;
  try {
    effective = await deps.policies.getEffective(job.policy, job.table);
  } catch (err) {
    if (err instanceof PolicyUnavailableError && err.retryable) {
      if (job.kind !== 'prune') await recordFailureQuietly(deps, job, errorMessage(err), now);
      throw new RetryableError(errorMessage(err), { cause: err });
    }
    // An invalid policy: no backup and no deletion; the failure is recorded, so pruning stays
    // blocked for this table until a backup succeeds again.
    if (job.kind === 'prune') return failed(job, `not pruned: ${errorMessage(err)}`);
    return fail(errorMessage(err), err);
  }

  if (job.kind === 'prune') {
    const outcome = await pruneTable(deps, { table: job.table, policy: job.policy, retention: effective.policy.retention });
    return pruneResult(job, outcome);
  }

  // One read for the state and the policy's live records (the prune plans from them below).
  const live = deps.ledger.readLive ? await deps.ledger.readLive(job.table, job.policy) : undefined;
  const state = live ? live.state : await deps.ledger.getState(job.table, job.policy);
  // `force` (an operator's explicit ask) skips the cooldown; the slot still gets one backup.
  const minIntervalMinutes = job.force ? 0 : effective.policy.minIntervalMinutes;
  const due = cooldown(state?.lastBackupAt, minIntervalMinutes, now);
  if (!due.due) {
    log.info('skipped', { ...ctx, reason: due.reason });
    return skipped(job, due.reason);
  }

  const attemptId = newAttemptId();
  const name = backupName(job.policy, job.trigger as Trigger, now, job.slot, attemptId);
  const claimed = await claimSlot(deps, job, {
    policyHash: effective.hash,
    now,
    attemptId,
    backupName: name,
    minIntervalMinutes,
  });
  if (claimed.kind === 'skip') {
    log.info('skipped', { ...ctx, reason: claimed.reason });
    return skipped(job, claimed.reason);
  }

  try {
    const upkeep = await upkeepPeriod(deps, now);
    const facts = await tableFacts(deps, job, effective, state, now, upkeep);
    // (A backup to adopt exists already, whatever the table's state now.)
    if (claimed.kind === 'create' && facts.status && TRANSIENT_TABLE_STATES.has(facts.status)) {
      throw new RetryableError(`table ${job.table} is ${facts.status}`);
    }
    if (claimed.kind === 'create' && facts.status && facts.status !== 'ACTIVE') {
      return await fail(`table ${job.table} is ${facts.status}; cannot back it up`);
    }
    // CreateBackup itself refuses a table being created or deleted (TableInUseException,
    // retryable) or gone (TableNotFoundException), so cached facts need no status check. An
    // earlier attempt's backup (found by the exact name its claim chose) is adopted instead.
    const created = claimed.kind === 'adopt' ? claimed.backup : await deps.backups.createBackup(job.table, claimed.backupName);
    try {
      await deps.ledger.recordBackup(
        job,
        {
          ...created,
          // Never let a missing figure (or a CREATING backup's 0) record a size of 0.
          sizeBytes: facts.sizeBytes ?? positive(created.sizeBytes) ?? state?.lastSizeBytes,
          ...(facts.itemCount !== undefined ? { itemCount: facts.itemCount, itemCountAt: facts.at } : {}),
        },
        claimed.attemptId,
      );
    } catch (err) {
      if (err instanceof ClaimLostError) {
        // The slot is another attempt's now: its record and the state are left alone.
        const reason = `backup ${created.backupArn} (${created.backupName}) was made but not recorded: ${err.message}; the service does not own it and will never delete it`;
        log.error('backup failed', { ...ctx, reason });
        return failed(job, reason);
      }
      // The backup exists: the next attempt finds it by its name and adopts it, never makes a second.
      throw new RetryableError(`backup ${created.backupArn} was made but not recorded (${errorMessage(err)}); the next attempt adopts it`, { cause: err });
    }
    log.info(claimed.kind === 'adopt' ? 'adopted the backup of an earlier attempt' : 'backed up', { ...ctx, backupArn: created.backupArn, backupName: created.backupName });
    await upkeepAfterBackup(deps, job, effective, state, facts, now, upkeep);
    // The off-site copy, when due: never fails the backup; its problems are in the result.
    const copy = deps.copies && effective.policy.copy ? await deps.copies.copyIfDue(job.table, effective, now) : undefined;
    const backedUp: JobResult = { table: job.table, policy: job.policy, status: 'backed-up', backupArn: created.backupArn, ...(copy ? { copy } : {}) };
    // Prune this table and policy now. A pruning problem never turns a good backup into a failure.
    try {
      // The state just moved on: the latest attempt succeeded. Passing it saves a ledger read.
      const current = { ...state, table: job.table, policy: job.policy, lastAttemptStatus: 'succeeded' as const, lastAttemptAt: created.createdAt };
      const records = live && [...live.records.filter((r) => r.slot !== job.slot), createdRecord(job, created, claimed.attemptId, now)];
      const outcome = await pruneTable(deps, { table: job.table, policy: job.policy, retention: effective.policy.retention, state: current, justCreated: created.backupArn, records });
      const note = pruneNote(outcome);
      return { ...backedUp, deleted: outcome.deleted.length, ...pruneCounts(outcome), ...(note ? { reason: note } : {}) };
    } catch (err) {
      log.error('prune after backup failed', { ...ctx, error: errorMessage(err) });
      return { ...backedUp, reason: `backup ok; pruning failed: ${errorMessage(err)}` };
    }
  } catch (err) {
    if (err instanceof RetryableError) {
      await recordFailureQuietly(deps, job, errorMessage(err), now);
      throw err;
    }
    if (err instanceof TableNotFoundError) {
      return fail(err.message, err);
    }
    return fail(errorMessage(err), err);
  }
}

type Claimed =
  | { readonly kind: 'create'; readonly attemptId: string; readonly backupName: string }
  | { readonly kind: 'adopt'; readonly attemptId: string; readonly backup: CreatedBackup }
  | { readonly kind: 'skip'; readonly reason: string };

/** Slot records that stand for a backup that exists or existed: the slot is done. */
const DONE = new Set(['CREATING', 'AVAILABLE', 'DELETED', 'VANISHED']);

/**
 * Claims the job's slot for this attempt (the cooldown held by the same conditional write).
 * When an earlier attempt holds or failed the slot, its backup is looked up by the exact name
 * its claim chose: found, it is adopted (never a second backup); not found, a failed or stale
 * claim is taken over, and a live one is left to finish (retry later).
 */
async function claimSlot(deps: WorkerDeps, job: BackupJob, req: ClaimRequest): Promise<Claimed> {
  const mine = { kind: 'create' as const, attemptId: req.attemptId, backupName: req.backupName };
  const first = await deps.ledger.claim(job, req);
  if (first.claimed) return mine;
  if ('cooldown' in first) return { kind: 'skip', reason: first.cooldown };
  const existing = first.existing;
  if (DONE.has(existing.status)) {
    return { kind: 'skip', reason: `duplicate: slot ${job.slot} already has backup ${existing.backupArn ?? '(none)'} (${existing.status})` };
  }
  if (existing.attemptId && existing.backupName) {
    const found = (await deps.backups.listBackups(job.table)).find(
      (b) => b.table === job.table && b.name === existing.backupName && b.status !== 'DELETED',
    );
    if (found) {
      const backup: CreatedBackup = { backupArn: found.arn, backupName: existing.backupName, status: found.status, createdAt: found.createdAt || existing.claimedAt, sizeBytes: found.sizeBytes };
      return { kind: 'adopt', attemptId: existing.attemptId, backup };
    }
  }
  if (existing.status === 'CLAIMED' && !claimIsStale(existing.claimedAt, req.now)) {
    throw new RetryableError(`slot ${job.slot} of ${job.table} is claimed by another attempt since ${existing.claimedAt}`);
  }
  const again = await deps.ledger.claim(job, { ...req, takeOver: existing.attemptId ?? '' });
  if (again.claimed) return mine;
  if ('cooldown' in again) return { kind: 'skip', reason: again.cooldown };
  throw new RetryableError(`slot ${job.slot} of ${job.table} was taken by another attempt at the same moment`);
}

async function recordFailureQuietly(deps: WorkerDeps, job: BackupJob, reason: string, now: Date): Promise<void> {
  try {
    await deps.ledger.recordFailure(job, reason, now);
  } catch (err) {
    (deps.log ?? silentLog).error('could not record the failure in the ledger', {
      table: job.table,
      policy: job.policy,
      error: errorMessage(err),
    });
  }
}

function pruneNote(outcome: PruneOutcome): string | undefined {
  const parts: string[] = [];
  if (outcome.plan.keep.some((d) => d.reasons.some((r) => r.startsWith('blocked:')))) {
    parts.push(`pruning blocked: ${outcome.plan.blocked}`);
  }
  if (outcome.deferred.length) parts.push(`${outcome.deferred.length} deletion(s) deferred: ${outcome.deferred[0].reason}`);
  if (outcome.failed.length) parts.push(`${outcome.failed.length} deletion(s) failed: ${outcome.failed[0].reason}`);
  if (outcome.vanished) parts.push(`${outcome.vanished} backup(s) vanished outside the service (no longer counted)`);
  return parts.length ? parts.join('; ') : undefined;
}

function pruneCounts(outcome: PruneOutcome): Pick<JobResult, 'deferred' | 'vanished'> {
  return {
    ...(outcome.deferred.length ? { deferred: outcome.deferred.length } : {}),
    ...(outcome.vanished ? { vanished: outcome.vanished } : {}),
  };
}

function pruneResult(job: BackupJob, outcome: PruneOutcome): JobResult {
  const note = pruneNote(outcome);
  if (outcome.failed.length > 0) {
    return { table: job.table, policy: job.policy, status: 'failed', deleted: outcome.deleted.length, ...pruneCounts(outcome), reason: note };
  }
  return {
    table: job.table,
    policy: job.policy,
    status: 'pruned',
    deleted: outcome.deleted.length,
    ...pruneCounts(outcome),
    reason: note ?? `${outcome.deleted.length} deleted, ${outcome.plan.keep.length} kept`,
  };
}

/** Post-backup upkeep; each step is logged on failure and never fails the backup. */
async function upkeepAfterBackup(
  deps: WorkerDeps,
  job: BackupJob,
  effective: EffectivePolicy,
  state: TableState | undefined,
  facts: BackupFacts,
  now: Date,
  periodMs: number,
): Promise<void> {
  const upkeep = deps.upkeep;
  if (!upkeep) return;
  const log = deps.log ?? silentLog;
  const step = async (name: string, fn: (() => Promise<unknown>) | undefined) => {
    if (!fn) return;
    try {
      await fn();
    } catch (err) {
      log.warn(`${name} after backup failed`, { table: job.table, policy: job.policy, error: errorMessage(err) });
    }
  };
  // The backup covers every change counted so far: later ones count toward the next. Only a
  // policy with a change trigger has a counter to reset (a write saved for every other backup).
  if (effective.policy.changes) await step('change baseline', upkeep.markChangesBaseline && (() => upkeep.markChangesBaseline!(job.table, now)));
  // PITR is checked once a period (with the snapshot), and at once when the policy changed (a new
  // hash) or a CloudTrail UpdateContinuousBackups cleared the hash; the mark is written only after a
  // check succeeded, so a failed one is tried again at the next backup. A steady-state backup
  // spends no DescribeContinuousBackups.
  const pitr = effective.policy.pointInTimeRecovery;
  const pitrDue = upkeepDue(job.table, state?.pitrCheckedAt, now, periodMs) || state?.pitrCheckedHash !== effective.hash;
  if (pitr?.enabled && pitrDue && upkeep.ensurePitr) {
    await step('PITR', async () => {
      await upkeep.ensurePitr!(job.table, pitr.recoveryPeriodDays, facts.pitr);
      await deps.ledger.markPitrChecked?.(job.table, job.policy, effective.hash, now);
    });
  }
}

/** The ledger record this job just wrote, as the live read before the claim could not show it. */
function createdRecord(job: BackupJob, created: CreatedBackup, attemptId: string, now: Date): LedgerBackupRecord {
  return {
    table: job.table,
    policy: job.policy,
    slot: job.slot,
    trigger: job.trigger,
    runId: job.runId,
    requestedAt: job.requestedAt,
    status: created.status === 'AVAILABLE' ? 'AVAILABLE' : 'CREATING',
    claimedAt: now.toISOString(),
    attemptId,
    backupArn: created.backupArn,
    backupName: created.backupName,
    createdAt: created.createdAt,
  };
}

const positive = (n: number | undefined): number | undefined => (n !== undefined && n > 0 ? n : undefined);

interface BackupFacts {
  /** Set only when read just now; cached facts leave the status to CreateBackup. */
  readonly status?: string;
  readonly sizeBytes?: number;
  readonly itemCount?: number;
  /** When DynamoDB reported the item count. */
  readonly at: string;
  readonly pitr?: TableFacts['pitr'];
}

/** The upkeep period now: the slow refresh while the CloudTrail feed is alive, daily otherwise. */
async function upkeepPeriod(deps: WorkerDeps, now: Date): Promise<number> {
  if (!deps.existence || !(await deps.existence.eventsAlive(now))) return SETTINGS_SNAPSHOT_EVERY_MS;
  return deps.existence.settingsRefreshMs ?? SETTINGS_REFRESH_MS;
}

/** True when `at` is absent, unreadable, or at least `ms` before `now`. */
function olderThan(at: string | undefined, ms: number, now: Date): boolean {
  const t = at ? new Date(at).getTime() : Number.NaN;
  return !(now.getTime() - t < ms);
}

/**
 * The table's size and item count for the ledger, at the least cost:
 *  - when the settings snapshot is due (daily, or per `periodMs`), it is taken now (before CreateBackup, within
 *    SNAPSHOT_DEADLINE_MS) and its DescribeTable supplies them;
 *  - otherwise, for a policy without a size trigger, the item count the state recorded while
 *    younger than TABLE_FACTS_MAX_AGE_MS, or `periodMs` when longer (the size then comes from CreateBackup's BackupSizeBytes
 *    or, failing that, the last recorded one);
 *  - otherwise one DescribeTable: a first backup, a failed or slow snapshot, no upkeep, or a size
 *    policy, whose backup's size is the size probe's next baseline and must be current.
 * A failed snapshot never fails the backup.
 */
async function tableFacts(
  deps: WorkerDeps,
  job: BackupJob,
  effective: EffectivePolicy,
  state: TableState | undefined,
  now: Date,
  periodMs: number,
): Promise<BackupFacts> {
  const log = deps.log ?? silentLog;
  const at = now.toISOString();
  const upkeep = deps.upkeep;
  if (upkeep?.snapshotSettings && upkeepDue(job.table, state?.settingsCapturedAt, now, periodMs)) {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const deadline = deps.snapshotDeadlineMs ?? SNAPSHOT_DEADLINE_MS;
    const timeout = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), deadline);
    });
    try {
      const f = await Promise.race([upkeep.snapshotSettings(job.table, job.policy, now), timeout]);
      if (f === 'timeout') {
        log.warn('settings snapshot before backup is slow; backing up without waiting', { table: job.table, policy: job.policy, deadlineMs: deadline });
      } else if (f) {
        return { status: f.status, sizeBytes: f.sizeBytes, itemCount: f.itemCount, at, pitr: f.pitr };
      }
    } catch (err) {
      if (err instanceof TableNotFoundError) throw err;
      log.warn('settings snapshot before backup failed', { table: job.table, policy: job.policy, error: errorMessage(err) });
    } finally {
      clearTimeout(timer);
    }
  }
  if (!effective.policy.size && state?.lastItemCount !== undefined && state.itemCountAt && !olderThan(state.itemCountAt, Math.max(TABLE_FACTS_MAX_AGE_MS, periodMs), now)) {
    return { itemCount: state.lastItemCount, at: state.itemCountAt };
  }
  const f = await deps.backups.describeTable(job.table);
  return { status: f.status, sizeBytes: f.sizeBytes, itemCount: f.itemCount, at };
}
