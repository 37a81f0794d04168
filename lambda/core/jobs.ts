import { createHash, randomUUID } from 'node:crypto';
import { TRIGGERS, type Trigger } from './triggers/triggers';
import { POLICY_NAME_PATTERN } from './policy';
import type { CopyJobResult } from './copies/copies';

/** One unit of work for the worker: back up `table` under `policy`. */
/** What started a job: a backup trigger, or the scheduled prune sweep. */
export type JobTrigger = Trigger | 'prune';

export interface BackupJob {
  readonly table: string;
  readonly policy: string;
  readonly trigger: JobTrigger;
  /**
   * Idempotency slot. Two jobs with the same (table, policy, slot) yield one backup.
   * schedule: the rule's scheduled time; size: the alarm's state-change time; manual: unique.
   */
  readonly slot: string;
  /** When the trigger fired (ISO-8601 UTC). */
  readonly requestedAt: string;
  /** Groups the jobs of one planner run for the run summary. */
  readonly runId: string;
  /**
   * `backup` (default): back up, then prune. `prune`: prune only (the scheduled sweep).
   * A job never names what to delete: the worker plans that from the ledger.
   */
  readonly kind?: 'backup' | 'prune';
  /** Back up even inside the cooldown (`ddb-backup run --force`); a slot still gets one backup. */
  readonly force?: boolean;
}

export type ResultStatus = 'backed-up' | 'pruned' | 'skipped' | 'failed';

/** Outcome of one job; `--json` prints these. */
export interface JobResult {
  readonly table: string;
  readonly policy: string;
  readonly status: ResultStatus;
  readonly backupArn?: string;
  readonly reason?: string;
  /** Backups deleted by retention in this job. */
  readonly deleted?: number;
  /** Deletions put off to the next run (backup in use, throttled). */
  readonly deferred?: number;
  /** Ledger backups found deleted outside the service in this job (they no longer count). */
  readonly vanished?: number;
  /** The off-site copy step after the backup (policies with `copy`). */
  readonly copy?: CopyJobResult;
}

export function pruneSlot(time: string): string {
  return `prune:${new Date(time).toISOString()}`;
}

export function scheduleSlot(scheduledTime: string): string {
  return `schedule:${new Date(scheduledTime).toISOString()}`;
}

/** Every manual invocation is its own slot. */
export function manualSlot(now: Date): string {
  return `manual:${now.toISOString()}:${randomUUID().slice(0, 8)}`;
}

export function runIdFor(policy: string, trigger: JobTrigger, slot: string): string {
  return `${policy}|${trigger}|${slot}`;
}

/**
 * SQS FIFO message group (max 128 characters): the table, so one table's jobs never race; a
 * table name over 128 characters (DynamoDB allows 255) becomes its SHA-256, still one group per table.
 */
export function messageGroupId(table: string): string {
  return table.length <= 128 ? table : createHash('sha256').update(table).digest('hex');
}

/** SQS FIFO deduplication id (max 128 chars): a hash of (table, policy, slot). */
export function dedupeId(job: Pick<BackupJob, 'table' | 'policy' | 'slot'>): string {
  return createHash('sha256').update(`${job.table}\n${job.policy}\n${job.slot}`).digest('hex');
}

export type CooldownDecision = { due: true } | { due: false; reason: string };

/**
 * `minIntervalMinutes`: a new backup is due only when the last successful one is at least that
 * old. 0 disables the cooldown.
 */
export function cooldown(lastBackupAt: string | undefined, minIntervalMinutes: number, now: Date): CooldownDecision {
  if (!lastBackupAt || minIntervalMinutes <= 0) return { due: true };
  const ageMs = now.getTime() - new Date(lastBackupAt).getTime();
  if (Number.isNaN(ageMs) || ageMs >= minIntervalMinutes * 60_000) return { due: true };
  const ageMin = Math.max(0, Math.floor(ageMs / 60_000));
  const next = new Date(new Date(lastBackupAt).getTime() + minIntervalMinutes * 60_000).toISOString();
  return {
    due: false,
    reason: `cooldown: last backup ${ageMin} min ago (${lastBackupAt}), minIntervalMinutes is ${minIntervalMinutes}; next backup allowed after ${next}`,
  };
}

/** Parses and checks a job from a queue message body. */
export function parseJob(body: string): BackupJob {
  let raw: unknown;
  try {
    raw = JSON.parse(body);
  } catch (err) {
    throw new Error(`job message is not JSON: ${(err as Error).message}`);
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new Error('job message is not an object');
  const job = raw as Partial<BackupJob>;
  for (const key of ['table', 'policy', 'trigger', 'slot', 'requestedAt', 'runId'] as const) {
    if (typeof job[key] !== 'string' || job[key] === '') {
      throw new Error(`job message lacks "${key}"`);
    }
  }
  if (!POLICY_NAME_PATTERN.test(job.policy!)) throw new Error(`job message has an invalid policy name "${job.policy}"`);
  if (!([...TRIGGERS, 'prune'] as string[]).includes(job.trigger!)) throw new Error(`job message has an unknown trigger "${job.trigger}"`);
  if (job.kind !== undefined && job.kind !== 'backup' && job.kind !== 'prune') throw new Error(`job message has an unknown kind "${String(job.kind)}"`);
  if ((job.kind === 'prune') !== (job.trigger === 'prune')) throw new Error('job message: kind "prune" goes with trigger "prune"');
  // Only the known fields go on: nothing else in a message (a listing, a backup ARN) is ever read.
  const { table, policy, trigger, slot, requestedAt, runId, kind, force } = job as BackupJob;
  return { table, policy, trigger, slot, requestedAt, runId, ...(kind ? { kind } : {}), ...(force === true ? { force } : {}) };
}
