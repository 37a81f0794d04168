import { staticThresholdFor, thresholdFor } from '../../lambda/core/triggers/size';
import {
  alarmDefinition,
  desiredSizeAlarm,
  diffAlarms,
  formatStaticAlarms,
  parseStaticAlarms,
  sizeAlarmName,
  type ExistingAlarm,
  type SizeAlarmSpec,
} from '../../lambda/core/triggers/size-alarms';
import { sizeConfigFromEnv } from '../../lambda/aws/size-service';
import { SIZE_ENV } from '../../lambda/env';

const PREFIX = 'ddb-backup-size-';
const NS = 'DynamoDBBackupService';

function existingOf(s: SizeAlarmSpec, over: Partial<ExistingAlarm> = {}): ExistingAlarm {
  const d = alarmDefinition(s);
  return {
    name: d.AlarmName,
    namespace: d.Namespace,
    metric: d.MetricName,
    dimensions: Object.fromEntries(d.Dimensions.map((x) => [x.Name, x.Value])),
    threshold: d.Threshold,
    comparison: d.ComparisonOperator,
    period: d.Period,
    evaluationPeriods: d.EvaluationPeriods,
    datapointsToAlarm: d.DatapointsToAlarm,
    statistic: d.Statistic,
    treatMissingData: d.TreatMissingData,
    ...over,
  };
}

const spec = (table: string, policy = 'daily', baselineBytes?: number) =>
  desiredSizeAlarm({ prefix: PREFIX, namespace: NS, table, policy, effective: { size: { growthBytes: 1000 } }, baselineBytes })!;

describe('static thresholds (alarms CDK owns, no baseline at synth)', () => {
  it('uses growthBytes when set, else growthPercent; none without a size trigger', () => {
    expect(staticThresholdFor({ size: { growthBytes: 5000 } })).toMatchObject({ metric: 'GrowthSinceLastBackupBytes', threshold: 5000 });
    expect(staticThresholdFor({ size: { growthPercent: 20 } })).toMatchObject({ metric: 'GrowthSinceLastBackupPercent', threshold: 20 });
    expect(staticThresholdFor({ size: { growthBytes: 5000, growthPercent: 20 } })).toMatchObject({ metric: 'GrowthSinceLastBackupBytes', threshold: 5000 });
    expect(staticThresholdFor({})).toBeUndefined();
  });

  it('desiredSizeAlarm: the reconciler follows the baseline, CDK does not; everything else is the same', () => {
    const both = { size: { growthBytes: 5000, growthPercent: 10 } };
    const base = { prefix: PREFIX, namespace: NS, table: 'orders', policy: 'daily', effective: both };
    const reconciled = desiredSizeAlarm({ ...base, baselineBytes: 10_000 })!;
    const cdk = desiredSizeAlarm({ ...base, owner: 'cdk' })!;
    expect(reconciled.threshold).toBe(thresholdFor(both, 10_000)!.threshold);
    expect(reconciled.threshold).toBe(1000);
    expect(cdk.threshold).toBe(5000);
    const { AlarmDescription: _r, Threshold: _rt, ...restReconciled } = alarmDefinition(reconciled);
    const { AlarmDescription: _c, Threshold: _ct, ...restCdk } = alarmDefinition(cdk);
    expect(restCdk).toEqual(restReconciled);
    expect(restCdk).toMatchObject({ AlarmName: sizeAlarmName(PREFIX, 'daily', 'orders'), ActionsEnabled: false });
    expect(cdk.description).toMatch(/Managed by CloudFormation/);
    expect(desiredSizeAlarm({ ...base, effective: {}, owner: 'cdk' })).toBeUndefined();
  });
});

describe('static alarm list (SIZE_ENV.STATIC_ALARMS)', () => {
  it('round-trips <policy>.<table>, sorted and deduplicated; table names may hold dots and dashes', () => {
    const value = formatStaticAlarms([
      { table: 'orders-v2.prod', policy: 'daily' },
      { table: 'carts', policy: 'hourly-eu' },
      { table: 'carts', policy: 'hourly-eu' },
    ]);
    expect(value).toBe('daily.orders-v2.prod,hourly-eu.carts');
    expect(parseStaticAlarms(value)).toEqual([
      { table: 'orders-v2.prod', policy: 'daily' },
      { table: 'carts', policy: 'hourly-eu' },
    ]);
    expect(parseStaticAlarms(undefined)).toEqual([]);
    expect(parseStaticAlarms('')).toEqual([]);
  });

  it.each(['nodot', '.orders', 'daily.ab', 'bad policy.orders', 'daily.orders/x'])('rejects "%s"', (entry) => {
    expect(() => parseStaticAlarms(entry)).toThrow(/not <policy>.<table>/);
  });

  it('is read by sizeConfigFromEnv (empty when unset)', () => {
    expect(sizeConfigFromEnv({ [SIZE_ENV.STATIC_ALARMS]: 'daily.orders' }).staticAlarms).toEqual([{ table: 'orders', policy: 'daily' }]);
    expect(sizeConfigFromEnv({}).staticAlarms).toEqual([]);
  });
});

describe('diffAlarms skips the alarms CDK owns', () => {
  const skip = new Set([sizeAlarmName(PREFIX, 'daily', 'cdk-owned')]);

  it('never creates one, even when desired', () => {
    const diff = diffAlarms([spec('cdk-owned'), spec('orders')], [], new Set(), skip);
    expect(diff.create.map((s) => s.table)).toEqual(['orders']);
  });

  it('never updates one, however it drifted', () => {
    const diff = diffAlarms([spec('cdk-owned', 'daily', 10)], [existingOf(spec('cdk-owned'), { threshold: 42, period: 60 })], new Set(), skip);
    expect(diff).toEqual({ create: [], update: [], delete: [], unchanged: 0 });
  });

  it('never deletes one, though no tagged (table, policy) wants it', () => {
    const existing = [existingOf(spec('cdk-owned')), existingOf(spec('gone'))];
    expect(diffAlarms([], existing, new Set(), skip).delete).toEqual([spec('gone').name]);
    // Without the skip list the reconciler would delete it.
    expect(diffAlarms([], existing).delete).toEqual([spec('cdk-owned').name, spec('gone').name]);
  });
});
