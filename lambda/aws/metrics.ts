/**
 * Writes the service's metric points (lambda/core/observability/metric-points.ts) as CloudWatch
 * embedded metric format with Powertools Metrics: one EMF line per dimension set, in the one
 * namespace. Only the Lambdas write them (the CLI's stdout is for its answers).
 */
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { CoverageReport } from '../core/coverage/coverage';
import { POLICY_DIMENSION, TABLE_DIMENSION, jobResultPoints, newestBackupAgePoints, notifyFailurePoint, type MetricPoint } from '../core/observability/metric-points';
import type { RunLedger } from '../core/backup/runs';
import type { RunNotifier } from '../core/ports';
import { AGE_TICK_EVENT, METRICS_ENV, SIZE_DEFAULTS, SIZE_ENV } from '../env';

/** The service's metrics writer: its namespace from the environment, else the service's. */
export function serviceMetrics(serviceName: string, env: NodeJS.ProcessEnv = process.env): Metrics {
  const metrics = new Metrics({ namespace: env[SIZE_ENV.METRIC_NAMESPACE] || SIZE_DEFAULTS.METRIC_NAMESPACE, serviceName });
  // No `service` dimension: the dashboard and the RPO alarms read the metrics by `Policy` alone.
  metrics.clearDefaultDimensions();
  return metrics;
}

/** True when the per-table dimension is switched on (METRICS_ENV.PER_TABLE=true). */
export function perTableMetrics(env: NodeJS.ProcessEnv = process.env): boolean {
  return env[METRICS_ENV.PER_TABLE] === 'true';
}

/**
 * Writes points, one EMF document per (policy, table): dimension `Policy`, and for a point with a
 * table a second dimension set `Table` (so the per-policy figures stay whole).
 */
export function writePoints(metrics: Metrics, points: readonly MetricPoint[]): void {
  const groups = new Map<string, MetricPoint[]>();
  for (const p of points) {
    const key = JSON.stringify([p.policy, p.table ?? null]);
    groups.set(key, [...(groups.get(key) ?? []), p]);
  }
  for (const group of groups.values()) {
    metrics.addDimension(POLICY_DIMENSION, group[0].policy);
    if (group[0].table !== undefined) metrics.addDimensions({ [TABLE_DIMENSION]: group[0].table });
    for (const p of group) metrics.addMetric(p.name, p.unit === 'Seconds' ? MetricUnit.Seconds : MetricUnit.Count, p.value);
    metrics.publishStoredMetrics();
  }
}

/**
 * The run ledger and notifier of a function, metered: each job result recorded for the first time
 * (a redelivery records nothing new) becomes its points, and each run summary SNS refuses a
 * NotifyFailures point. Everything else passes through unchanged.
 */
export function metered<R extends Pick<RunLedger, 'recordRunResult'>, N extends RunNotifier>(
  runs: R,
  notifier: N,
  metrics: Metrics,
  perTable: boolean = perTableMetrics(),
): { runs: R; notifier: N } {
  const recordRunResult: RunLedger['recordRunResult'] = async (runId, result, now) => {
    const recorded = await runs.recordRunResult(runId, result, now);
    if (recorded) writePoints(metrics, jobResultPoints(result, perTable));
    return recorded;
  };
  const publishRun: RunNotifier['publishRun'] = async (report) => {
    try {
      return await notifier.publishRun(report);
    } catch (err) {
      writePoints(metrics, [notifyFailurePoint(report.policy)]);
      throw err;
    }
  };
  return { runs: override(runs, 'recordRunResult', recordRunResult), notifier: override(notifier, 'publishRun', publishRun) };
}

/** `target` with one method replaced; every other member is the target's own (methods bound to it). */
function override<T extends object, K extends keyof T>(target: T, key: K, fn: T[K]): T {
  return new Proxy(target, {
    get: (t, prop) => {
      if (prop === key) return fn;
      const v = Reflect.get(t, prop, t) as unknown;
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(t) : v;
    },
  });
}

/** Writes NewestBackupAgeSeconds per policy from a coverage report, and gives the report back. */
export function writeNewestBackupAges(metrics: Metrics, report: CoverageReport, now: Date, perTable: boolean = perTableMetrics()): CoverageReport {
  writePoints(metrics, newestBackupAgePoints(report, now, perTable));
  return report;
}

/** True for the digest's hourly tick (AGE_TICK_EVENT): the ages are published, the SNS digest is not. */
export function isAgeTick(event: unknown): boolean {
  return typeof event === 'object' && event !== null && (event as Record<string, unknown>).metricsOnly === AGE_TICK_EVENT.metricsOnly;
}
