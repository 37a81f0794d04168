import {
  PERCENT_OF_ZERO_BASELINE,
  baselineOf,
  batchPoints,
  breaches,
  growthPoints,
  growthSince,
  smallestThreshold,
  tablePoints,
  thresholdFor,
} from '../../lambda/core/triggers/size';
import {
  MAX_ALARM_NAME,
  diffAlarms,
  parseSizeAlarmName,
  readAlarmEvent,
  sizeAlarmName,
  sizeAlarmSpec,
  sizeSlot,
  type ExistingAlarm,
} from '../../lambda/core/triggers/size-alarms';
import { SizeTriggerSchema } from '../../lambda/core/policy';

const PREFIX = 'ddb-backup-size-';
const NS = 'DynamoDBBackupService';

describe('growthSince', () => {
  it.each([
    // current, baseline, bytes, percent
    [1500, 1000, 500, 50],
    [1000, 1000, 0, 0],
    [750, 1000, -250, -25],
    [3, 3, 0, 0],
    [1_000_001, 3, 999_998, PERCENT_OF_ZERO_BASELINE], // capped
    [1, 3, -2, -66.667], // rounded to 1/1000 %
  ])('current %d over baseline %d: %d bytes, %d %%', (current, baseline, bytes, percent) => {
    // Act
    const g = growthSince(current, baseline);
    // Assess
    expect(g).toEqual({ bytes, percent, baselineBytes: baseline });
  });

  it('without a baseline (never backed up), growth is the whole size and the percent is "unbounded" but finite', () => {
    // Act
    const g = growthSince(4096, undefined);
    // Assess
    expect(g).toEqual({ bytes: 4096, percent: PERCENT_OF_ZERO_BASELINE });
    expect(Number.isFinite(g.percent)).toBe(true);
    // Above any growthPercent the schema accepts, so a percent-only policy backs up a table with data.
    expect(SizeTriggerSchema.safeParse({ growthPercent: PERCENT_OF_ZERO_BASELINE }).success).toBe(false);
  });

  it('on a 0-byte baseline: data is unbounded growth, an empty table is 0 %', () => {
    // Act / Assess
    expect(growthSince(10, 0)).toEqual({ bytes: 10, percent: PERCENT_OF_ZERO_BASELINE, baselineBytes: 0 });
    expect(growthSince(0, 0)).toEqual({ bytes: 0, percent: 0, baselineBytes: 0 });
    expect(growthSince(0, undefined)).toEqual({ bytes: 0, percent: 0 });
  });

  it('never yields NaN or Infinity, whatever the input', () => {
    for (const [c, b] of [[NaN, 1], [Infinity, 5], [-5, 10], [5, -10], [5, NaN]] as const) {
      // Act
      const g = growthSince(c, b);
      // Assess
      expect(Number.isFinite(g.bytes) && Number.isFinite(g.percent)).toBe(true);
    }
  });
});

describe('baselineOf', () => {
  it('is the size recorded with the last successful backup, undefined when there was none', () => {
    expect(baselineOf(undefined)).toBeUndefined();
    expect(baselineOf({ lastSizeBytes: 100 })).toBeUndefined(); // a failed attempt only
    expect(baselineOf({ lastBackupAt: '2026-11-24T03:00:00Z', lastSizeBytes: 100 })).toBe(100);
    expect(baselineOf({ lastBackupAt: '2026-11-24T03:00:00Z' })).toBe(0);
  });
});

describe('thresholdFor', () => {
  it('no size trigger: no alarm', () => {
    expect(thresholdFor({}, 100)).toBeUndefined();
    expect(thresholdFor({ size: undefined }, undefined)).toBeUndefined();
  });

  it('growthBytes only: the bytes metric; growthPercent only: the percent metric, whatever the baseline', () => {
    expect(thresholdFor({ size: { growthBytes: 1e9 } }, 5)).toMatchObject({ metric: 'GrowthSinceLastBackupBytes', threshold: 1e9 });
    expect(thresholdFor({ size: { growthPercent: 20 } }, 5)).toMatchObject({ metric: 'GrowthSinceLastBackupPercent', threshold: 20 });
    expect(thresholdFor({ size: { growthPercent: 20 } }, undefined)).toMatchObject({ metric: 'GrowthSinceLastBackupPercent', threshold: 20 });
  });

  it('both: the smaller at the current baseline, in bytes', () => {
    const size = { growthBytes: 1000, growthPercent: 10 };
    // 10 % of 5,000 = 500 < 1,000
    expect(thresholdFor({ size }, 5000)).toMatchObject({ metric: 'GrowthSinceLastBackupBytes', threshold: 500 });
    // 10 % of 50,000 = 5,000 > 1,000
    expect(thresholdFor({ size }, 50_000)).toMatchObject({ metric: 'GrowthSinceLastBackupBytes', threshold: 1000 });
    // No baseline or 0 bytes: any data is unbounded growth, so 1 byte.
    expect(thresholdFor({ size }, undefined)).toMatchObject({ threshold: 1 });
    expect(thresholdFor({ size }, 0)).toMatchObject({ threshold: 1 });
  });

  it('breaches at >= threshold, on the metric the threshold names', () => {
    const bytes = thresholdFor({ size: { growthBytes: 100 } }, 1000)!;
    const pct = thresholdFor({ size: { growthPercent: 10 } }, 1000)!;
    expect(breaches(growthSince(1099, 1000), bytes)).toBe(false);
    expect(breaches(growthSince(1100, 1000), bytes)).toBe(true);
    expect(breaches(growthSince(1099, 1000), pct)).toBe(false);
    expect(breaches(growthSince(1100, 1000), pct)).toBe(true);
    // A table that shrank never breaches.
    expect(breaches(growthSince(10, 1000), bytes)).toBe(false);
  });

  it('smallestThreshold picks, across a table\'s size policies, the one that fires first', () => {
    // Act
    const best = smallestThreshold([
      { policy: 'daily', threshold: thresholdFor({ size: { growthBytes: 5000 } }, 10_000)!, baselineBytes: 10_000 },
      { policy: 'hourly', threshold: thresholdFor({ size: { growthPercent: 20 } }, 10_000)!, baselineBytes: 10_000 }, // 2,000 bytes
      { policy: 'weekly', threshold: thresholdFor({ size: { growthBytes: 3000 } }, 10_000)!, baselineBytes: 10_000 },
    ]);
    // Assess
    expect(best).toMatchObject({ policy: 'hourly', bytes: 2000 });
    expect(smallestThreshold([])).toBeUndefined();
  });
});

describe('metric points and PutMetricData batches', () => {
  it('publishes size and items per table, growth per (table, policy)', () => {
    const at = new Date('2026-11-24T03:00:00Z');
    expect(tablePoints('orders', 10, 2, at)).toEqual([
      { name: 'TableSizeBytes', dimensions: { TableName: 'orders' }, value: 10, unit: 'Bytes', timestamp: at },
      { name: 'ItemCount', dimensions: { TableName: 'orders' }, value: 2, unit: 'Count', timestamp: at },
    ]);
    expect(growthPoints('orders', 'daily', growthSince(15, 10), at).map((p) => [p.name, p.dimensions, p.value, p.unit])).toEqual([
      ['GrowthSinceLastBackupBytes', { TableName: 'orders', Policy: 'daily' }, 5, 'Bytes'],
      ['GrowthSinceLastBackupPercent', { TableName: 'orders', Policy: 'daily' }, 50, 'Percent'],
    ]);
  });

  it('splits at 1,000 points per call', () => {
    const points = Array.from({ length: 2001 }, (_, i) => i);
    const batches = batchPoints(points, () => 100);
    expect(batches.map((b) => b.length)).toEqual([1000, 1000, 1]);
    expect(batches.flat()).toEqual(points);
  });

  it('splits by payload size before the count when points are large', () => {
    const batches = batchPoints(Array.from({ length: 10 }, (_, i) => i), () => 300, 1000, 1000);
    expect(batches.map((b) => b.length)).toEqual([3, 3, 3, 1]);
    expect(batchPoints([], () => 1)).toEqual([]);
  });
});

describe('size alarm names', () => {
  it('round-trip: <prefix><policy>.<table>, unambiguous with dashes and dots in the table name', () => {
    const name = sizeAlarmName(PREFIX, 'daily-eu', 'orders-v2.prod');
    expect(name).toBe('ddb-backup-size-daily-eu.orders-v2.prod');
    expect(parseSizeAlarmName(PREFIX, name)).toEqual({ policy: 'daily-eu', table: 'orders-v2.prod' });
    expect(parseSizeAlarmName(PREFIX, 'other-alarm')).toBeUndefined();
    expect(parseSizeAlarmName(PREFIX, `${PREFIX}nodot`)).toBeUndefined();
  });

  it('stays within 255 characters; a shortened name is stable, unique and never parsed as a full one', () => {
    const policy = 'p'.repeat(64);
    const a = sizeAlarmName(PREFIX, policy, `${'t'.repeat(250)}a`);
    const b = sizeAlarmName(PREFIX, policy, `${'t'.repeat(250)}b`);
    expect(a.length).toBe(MAX_ALARM_NAME);
    expect(a).not.toBe(b);
    expect(sizeAlarmName(PREFIX, policy, `${'t'.repeat(250)}a`)).toBe(a);
    expect(parseSizeAlarmName(PREFIX, a)).toBeUndefined();
  });
});

describe('diffAlarms', () => {
  const spec = (table: string, policy = 'daily', threshold = 1000) =>
    sizeAlarmSpec(PREFIX, NS, table, policy, { metric: 'GrowthSinceLastBackupBytes', threshold, source: 'test' });
  const existingOf = (s: ReturnType<typeof spec>, over: Partial<ExistingAlarm> = {}): ExistingAlarm => ({
    name: s.name,
    namespace: s.namespace,
    metric: s.metric,
    dimensions: s.dimensions,
    threshold: s.threshold,
    comparison: 'GreaterThanOrEqualToThreshold',
    period: 3600,
    evaluationPeriods: 1,
    datapointsToAlarm: 1,
    statistic: 'Maximum',
    treatMissingData: 'notBreaching',
    ...over,
  });

  it('creates the missing, updates the drifted, deletes the unwanted, leaves the rest', () => {
    // Prepare
    const desired = [spec('a'), spec('b', 'daily', 2000), spec('c'), spec('d')];
    const existing = [
      existingOf(spec('b', 'daily', 1000)), // threshold drift
      existingOf(spec('c'), { metric: 'GrowthSinceLastBackupPercent' }), // metric drift
      existingOf(spec('d')),
      existingOf(spec('gone')),
    ];
    // Act
    const diff = diffAlarms(desired, existing);
    // Assess
    expect(diff.create.map((s) => s.table)).toEqual(['a']);
    expect(diff.update.map((u) => [u.spec.table, u.drift])).toEqual([
      ['b', ['threshold 1000 -> 2000']],
      ['c', ['metric GrowthSinceLastBackupPercent -> GrowthSinceLastBackupBytes']],
    ]);
    expect(diff.delete).toEqual([spec('gone').name]);
    expect(diff.unchanged).toBe(1);
  });

  it('never deletes an alarm in `keep` (its policy could not be read this run)', () => {
    const old = existingOf(spec('orders'));
    expect(diffAlarms([], [old], new Set([old.name])).delete).toEqual([]);
    expect(diffAlarms([], [old]).delete).toEqual([old.name]);
  });

  it('is idempotent: applying the diff gives an empty diff', () => {
    const desired = [spec('a'), spec('b')];
    const applied = desired.map((s) => existingOf(s));
    expect(diffAlarms(desired, applied)).toEqual({ create: [], update: [], delete: [], unchanged: 2 });
  });
});

describe('readAlarmEvent', () => {
  const event = (over: { name?: string; state?: string; timestamp?: string; dims?: Record<string, string> | null; source?: string } = {}) => ({
    version: '0',
    id: 'e1',
    'detail-type': 'CloudWatch Alarm State Change',
    source: over.source ?? 'aws.cloudwatch',
    account: '123456789012',
    time: '2026-11-24T05:00:41Z',
    region: 'us-east-1',
    resources: [],
    detail: {
      alarmName: over.name ?? 'ddb-backup-size-daily.orders',
      state: { value: over.state ?? 'ALARM', reason: 'Threshold Crossed', timestamp: over.timestamp ?? '2026-11-24T05:00:40.123+0000' },
      previousState: { value: 'OK' },
      configuration: {
        metrics:
          over.dims === null
            ? []
            : [
                {
                  id: 'm1',
                  metricStat: {
                    metric: { namespace: NS, name: 'GrowthSinceLastBackupBytes', dimensions: over.dims ?? { TableName: 'orders', Policy: 'daily' } },
                    period: 3600,
                    stat: 'Maximum',
                  },
                  returnData: true,
                },
              ],
      },
    },
  });

  it('reads table, policy (dimensions) and the state-change time (CloudWatch\'s +0000 form)', () => {
    expect(readAlarmEvent(event(), PREFIX)).toEqual({
      kind: 'fired',
      alarmName: 'ddb-backup-size-daily.orders',
      table: 'orders',
      policy: 'daily',
      time: '2026-11-24T05:00:40.123Z',
    });
    expect(sizeSlot('2026-11-24T05:00:40.123Z')).toBe('size:2026-11-24T05:00:40.123Z');
  });

  it('falls back to the name without dimensions, and to the event time without a state timestamp', () => {
    const e = event({ dims: null, timestamp: 'garbage' });
    expect(readAlarmEvent(e, PREFIX)).toMatchObject({ kind: 'fired', table: 'orders', policy: 'daily', time: '2026-11-24T05:00:41.000Z' });
  });

  it('ignores OK and INSUFFICIENT_DATA, other prefixes, other sources, and dimensions that do not match the name', () => {
    expect(readAlarmEvent(event({ state: 'OK' }), PREFIX)).toMatchObject({ kind: 'ignored' });
    expect(readAlarmEvent(event({ name: 'cpu-high' }), PREFIX)).toMatchObject({ kind: 'ignored' });
    expect(readAlarmEvent(event({ source: 'my.app' }), PREFIX)).toMatchObject({ kind: 'ignored' });
    expect(readAlarmEvent(event({ dims: { TableName: 'payments', Policy: 'daily' } }), PREFIX)).toMatchObject({
      kind: 'ignored',
      reason: expect.stringContaining('do not match'),
    });
  });

  it('leaves schedule ticks to the planner\'s own input parsing', () => {
    expect(readAlarmEvent({ policy: 'daily', trigger: 'schedule', time: '2026-11-24T03:00:00Z' }, PREFIX)).toEqual({ kind: 'not-an-alarm-event' });
    expect(readAlarmEvent(null, PREFIX)).toEqual({ kind: 'not-an-alarm-event' });
  });
});
