/**
 * The service's metrics, as plain data points: which job results and coverage facts become which
 * metric. Pure; lambda/aws/metrics.ts writes them as CloudWatch embedded metric format.
 * One namespace (SIZE_DEFAULTS.METRIC_NAMESPACE), dimension `Policy`, and `Table` only when the
 * per-table switch is on.
 */
import type { CoverageReport } from '../coverage/coverage';
import type { JobResult } from '../jobs';

export const METRIC = {
  /** Backups the worker created (job status `backed-up`). */
  CREATED: 'BackupsCreated',
  /** Jobs that ended failed (after the queue's retries), and jobs that could not be enqueued. */
  FAILED: 'BackupsFailed',
  /** Backups deleted by retention (scheduled jobs and the prune sweep). */
  DELETED: 'BackupsDeleted',
  /** Jobs that made no backup on purpose (cooldown, already done for the slot). */
  SKIPPED: 'BackupsSkipped',
  /** Run summaries SNS did not take. */
  NOTIFY_FAILURES: 'NotifyFailures',
  /** Per policy: age of the newest backup of its stalest table, seconds. */
  NEWEST_AGE: 'NewestBackupAgeSeconds',
} as const;
export type MetricName = (typeof METRIC)[keyof typeof METRIC];

export const POLICY_DIMENSION = 'Policy';
export const TABLE_DIMENSION = 'Table';

export interface MetricPoint {
  readonly name: MetricName;
  readonly unit: 'Count' | 'Seconds';
  readonly value: number;
  readonly policy: string;
  /** Only with per-table dimensions on. */
  readonly table?: string;
}

/**
 * One job's final result as points: created, failed, skipped (1 or 0 each, so a quiet policy still
 * shows zeros) and deleted (how many).
 */
export function jobResultPoints(result: JobResult, perTable = false): MetricPoint[] {
  const dims = { policy: result.policy, ...(perTable ? { table: result.table } : {}) };
  const count = (name: MetricName, value: number): MetricPoint => ({ name, unit: 'Count', value, ...dims });
  return [
    count(METRIC.CREATED, result.status === 'backed-up' ? 1 : 0),
    count(METRIC.FAILED, result.status === 'failed' ? 1 : 0),
    count(METRIC.SKIPPED, result.status === 'skipped' ? 1 : 0),
    count(METRIC.DELETED, result.deleted ?? 0),
  ];
}

export function notifyFailurePoint(policy: string): MetricPoint {
  return { name: METRIC.NOTIFY_FAILURES, unit: 'Count', value: 1, policy };
}

/**
 * NewestBackupAgeSeconds per policy: for each table under the policy, the age of its newest live
 * backup of that policy; the policy's point is the oldest of those (its stalest table). A table
 * never backed up under the policy has no age and is left out (the digest names it); a policy with
 * no aged table has no point, which the RPO alarm treats as breaching. With `perTable`, one point
 * per table as well.
 */
export function newestBackupAgePoints(report: Pick<CoverageReport, 'tables'>, now: Date, perTable = false): MetricPoint[] {
  const stalest = new Map<string, number>();
  const points: MetricPoint[] = [];
  for (const t of report.tables) {
    for (const p of t.policies) {
      const at = p.lastBackupAt ? Date.parse(p.lastBackupAt) : Number.NaN;
      if (Number.isNaN(at)) continue;
      const age = Math.max(0, Math.round((now.getTime() - at) / 1000));
      stalest.set(p.name, Math.max(stalest.get(p.name) ?? 0, age));
      if (perTable) points.push({ name: METRIC.NEWEST_AGE, unit: 'Seconds', value: age, policy: p.name, table: t.table });
    }
  }
  return [...[...stalest].map(([policy, value]): MetricPoint => ({ name: METRIC.NEWEST_AGE, unit: 'Seconds', value, policy })), ...points];
}
