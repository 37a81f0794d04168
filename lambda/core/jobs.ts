import { createHash, randomUUID } from 'node:crypto';
import type { Trigger } from './naming';

/** One unit of work for the worker: back up `table` under `policy`. */
export interface BackupJob {
  readonly table: string;
  readonly policy: string;
  readonly trigger: Trigger;
  /**
   * Idempotency slot. Two jobs with the same (table, policy, slot) yield one backup.
   * schedule: the rule's scheduled time; size: the alarm's state-change time; manual: unique.
   */
  readonly slot: string;
  /** When the trigger fired (ISO-8601 UTC). */
  readonly requestedAt: string;
  /** Groups the jobs of one planner run for the run summary. */
  readonly runId: string;
}

export type ResultStatus = 'backed-up' | 'skipped' | 'failed';

/** Outcome of one job; `--json` prints these. */
export interface JobResult {
  readonly table: string;
  readonly policy: string;
  readonly status: ResultStatus;
  readonly backupArn?: string;
  readonly reason?: string;
}

export function scheduleSlot(scheduledTime: string): string {
  return `schedule:${new Date(scheduledTime).toISOString()}`;
}

/** Every manual invocation is its own slot. */
export function manualSlot(now: Date): string {
  return `manual:${now.toISOString()}:${randomUUID().slice(0, 8)}`;
}

export function runIdFor(policy: string, trigger: Trigger, slot: string): string {
  return `${policy}|${trigger}|${slot}`;
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
  return {
    due: false,
    reason: `cooldown: last backup ${ageMin} min ago (${lastBackupAt}), minIntervalMinutes is ${minIntervalMinutes}`,
  };
}

/** Parses and checks a job from a queue message body. */
export function parseJob(body: string): BackupJob {
  const raw = JSON.parse(body) as Partial<BackupJob>;
  for (const key of ['table', 'policy', 'trigger', 'slot', 'requestedAt', 'runId'] as const) {
    if (typeof raw[key] !== 'string' || raw[key] === '') {
      throw new Error(`job message lacks "${key}"`);
    }
  }
  return raw as BackupJob;
}
