import type { Policy } from '../policy';

/**
 * Size-trigger math: growth of a table since the last backup of (table, policy), and which
 * threshold of a policy's `size` trigger fires first. Pure; no SDK.
 *
 * Definitions (documented in the README's size-trigger section):
 *  - the baseline is the table size the ledger recorded at the last successful backup of
 *    (table, policy) (`TableState.lastSizeBytes`); a (table, policy) never backed up has none;
 *  - growth bytes = current - baseline (signed: a table that shrank has negative growth), and
 *    current - 0 when there is no baseline;
 *  - growth percent = growth / baseline x 100 when the baseline is positive; when the baseline is
 *    0 or missing, a table that holds data has grown "without bound", reported as
 *    PERCENT_OF_ZERO_BASELINE (finite, so CloudWatch accepts it, and above any valid
 *    `growthPercent`), and an empty table has grown 0 %.
 */

/** Growth percent reported for data on a 0-byte (or missing) baseline: above the schema's max. */
export const PERCENT_OF_ZERO_BASELINE = 1_000_000;

export interface Growth {
  /** Current size minus the baseline (bytes; may be negative). */
  readonly bytes: number;
  /** Growth in percent of the baseline; see PERCENT_OF_ZERO_BASELINE. */
  readonly percent: number;
  /** The baseline used, or undefined when (table, policy) has no recorded backup. */
  readonly baselineBytes?: number;
}

function nonNegative(n: number | undefined): number | undefined {
  return n === undefined || !Number.isFinite(n) ? undefined : Math.max(0, n);
}

export function growthSince(currentBytes: number, baselineBytes: number | undefined): Growth {
  const current = nonNegative(currentBytes) ?? 0;
  const baseline = nonNegative(baselineBytes);
  const bytes = current - (baseline ?? 0);
  let percent: number;
  if (baseline === undefined || baseline === 0) {
    percent = current > 0 ? PERCENT_OF_ZERO_BASELINE : 0;
  } else {
    // Rounded to 1/1000 %: stable metric values, no float noise in tests or dashboards.
    percent = Math.min(PERCENT_OF_ZERO_BASELINE, Math.round((bytes / baseline) * 100 * 1000) / 1000);
  }
  return { bytes, percent, ...(baseline === undefined ? {} : { baselineBytes: baseline }) };
}

/** The baseline of (table, policy): the size recorded with its last successful backup. */
export function baselineOf(state: { lastBackupAt?: string; lastSizeBytes?: number } | undefined): number | undefined {
  if (!state?.lastBackupAt) return undefined;
  return state.lastSizeBytes ?? 0;
}

export type SizeMetricName = 'GrowthSinceLastBackupBytes' | 'GrowthSinceLastBackupPercent';

/** One threshold an alarm watches: a metric and the value at which it fires. */
export interface SizeThreshold {
  readonly metric: SizeMetricName;
  readonly threshold: number;
  /** Where the threshold comes from, for logs and the alarm description. */
  readonly source: string;
}

/** The policy's `size` trigger, or undefined when it has none. */
export function sizeTriggerOf(policy: Pick<Policy, 'size'>): Policy['size'] {
  return policy.size && (policy.size.growthBytes !== undefined || policy.size.growthPercent !== undefined) ? policy.size : undefined;
}

/**
 * The threshold an alarm of (table, policy) watches; undefined when the policy has no size trigger.
 *  - growthBytes only: GrowthSinceLastBackupBytes >= growthBytes;
 *  - growthPercent only: GrowthSinceLastBackupPercent >= growthPercent (needs no baseline, so the
 *    alarm does not change after a backup);
 *  - both: the one that fires first at the current baseline. Percent is converted into bytes of
 *    the baseline and the smaller of the two bytes thresholds is watched (at least 1 byte; with no
 *    or a 0-byte baseline the percent threshold is reached by any data, so 1 byte). The reconciler
 *    that runs with every probe moves the threshold when a backup moves the baseline.
 */
export function thresholdFor(policy: Pick<Policy, 'size'>, baselineBytes: number | undefined): SizeThreshold | undefined {
  const size = sizeTriggerOf(policy);
  if (!size) return undefined;
  const { growthBytes, growthPercent } = size;
  if (growthPercent === undefined) {
    return { metric: 'GrowthSinceLastBackupBytes', threshold: growthBytes!, source: `growthBytes ${growthBytes}` };
  }
  if (growthBytes === undefined) {
    return { metric: 'GrowthSinceLastBackupPercent', threshold: growthPercent, source: `growthPercent ${growthPercent}` };
  }
  const percentInBytes = Math.max(1, Math.ceil(((baselineBytes ?? 0) * growthPercent) / 100));
  return percentInBytes < growthBytes
    ? {
        metric: 'GrowthSinceLastBackupBytes',
        threshold: percentInBytes,
        source: `growthPercent ${growthPercent} of ${baselineBytes ?? 0} bytes (smaller than growthBytes ${growthBytes})`,
      }
    : { metric: 'GrowthSinceLastBackupBytes', threshold: growthBytes, source: `growthBytes ${growthBytes}` };
}

/**
 * The threshold of an alarm defined without a baseline (the alarms CDK creates at deploy time for
 * `sizeAlarmTables`): growthBytes when the policy sets it, else growthPercent. With both set this
 * is the bytes threshold alone, not the smaller-at-the-baseline one of `thresholdFor`, because
 * no baseline is known at synth and a CloudFormation alarm does not move after each backup; the
 * percent threshold then does not fire that alarm. Undefined when the policy has no size trigger.
 */
export function staticThresholdFor(policy: Pick<Policy, 'size'>): SizeThreshold | undefined {
  const size = sizeTriggerOf(policy);
  if (!size) return undefined;
  return size.growthBytes !== undefined
    ? { metric: 'GrowthSinceLastBackupBytes', threshold: size.growthBytes, source: `growthBytes ${size.growthBytes}` }
    : { metric: 'GrowthSinceLastBackupPercent', threshold: size.growthPercent!, source: `growthPercent ${size.growthPercent}` };
}

/** True when the growth reaches the threshold (GreaterThanOrEqualToThreshold, like the alarm). */
export function breaches(growth: Growth, t: SizeThreshold): boolean {
  const value = t.metric === 'GrowthSinceLastBackupBytes' ? growth.bytes : growth.percent;
  return value >= t.threshold;
}

/**
 * Of several (table, policy) thresholds of one table, the one that fires first: smallest in bytes
 * at each policy's baseline (a percent threshold converted with its own baseline). For logs and
 * the CLI; each policy keeps its own alarm because each has its own baseline and retention.
 */
export function smallestThreshold(
  candidates: readonly { policy: string; threshold: SizeThreshold; baselineBytes?: number }[],
): { policy: string; threshold: SizeThreshold; bytes: number } | undefined {
  let best: { policy: string; threshold: SizeThreshold; bytes: number } | undefined;
  for (const c of candidates) {
    const bytes =
      c.threshold.metric === 'GrowthSinceLastBackupBytes'
        ? c.threshold.threshold
        : Math.max(1, Math.ceil(((c.baselineBytes ?? 0) * c.threshold.threshold) / 100));
    if (!best || bytes < best.bytes || (bytes === best.bytes && c.policy < best.policy)) best = { ...c, bytes };
  }
  return best;
}

// ---- metric data --------------------------------------------------------------------------------

export type MetricUnit = 'Bytes' | 'Count' | 'Percent';

/** One data point for PutMetricData, SDK-free. */
export interface MetricPoint {
  readonly name: 'TableSizeBytes' | 'ItemCount' | SizeMetricName;
  readonly dimensions: Readonly<Record<string, string>>;
  readonly value: number;
  readonly unit: MetricUnit;
  readonly timestamp: Date;
}

export const DIMENSION_TABLE = 'TableName';
export const DIMENSION_POLICY = 'Policy';

/** Dimensions of the growth metrics (and of the alarms on them): one series per (table, policy). */
export function growthDimensions(table: string, policy: string): Record<string, string> {
  return { [DIMENSION_TABLE]: table, [DIMENSION_POLICY]: policy };
}

/** The table's size and item count: one series per table, whatever its policies. */
export function tablePoints(table: string, sizeBytes: number, itemCount: number, timestamp: Date): MetricPoint[] {
  const dimensions = { [DIMENSION_TABLE]: table };
  return [
    { name: 'TableSizeBytes', dimensions, value: sizeBytes, unit: 'Bytes', timestamp },
    { name: 'ItemCount', dimensions, value: itemCount, unit: 'Count', timestamp },
  ];
}

export function growthPoints(table: string, policy: string, growth: Growth, timestamp: Date): MetricPoint[] {
  const dimensions = growthDimensions(table, policy);
  return [
    { name: 'GrowthSinceLastBackupBytes', dimensions, value: growth.bytes, unit: 'Bytes', timestamp },
    { name: 'GrowthSinceLastBackupPercent', dimensions, value: growth.percent, unit: 'Percent', timestamp },
  ];
}

/**
 * Splits data points into PutMetricData calls: at most `maxCount` points per call (1,000, the API
 * limit) and at most `maxBytes` of estimated payload (the request limit is 1 MB).
 */
export function batchPoints<T>(points: readonly T[], sizeOf: (p: T) => number, maxCount = 1000, maxBytes = 1_000_000): T[][] {
  const batches: T[][] = [];
  let current: T[] = [];
  let bytes = 0;
  for (const p of points) {
    const size = sizeOf(p);
    if (current.length > 0 && (current.length >= maxCount || bytes + size > maxBytes)) {
      batches.push(current);
      current = [];
      bytes = 0;
    }
    current.push(p);
    bytes += size;
  }
  if (current.length > 0) batches.push(current);
  return batches;
}
