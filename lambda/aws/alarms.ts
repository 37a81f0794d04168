import {
  DeleteAlarmsCommand,
  DescribeAlarmsCommand,
  PutMetricAlarmCommand,
  type CloudWatchClient,
  type MetricAlarm,
} from '@aws-sdk/client-cloudwatch';
import { alarmDefinition, type ExistingAlarm, type SizeAlarmSpec } from '../core/triggers/size-alarms';
import type { SizeAlarmStore } from '../core/triggers/size-probe';
import { retryableOr } from './errors';
import { ACCOUNT_RATES } from './limits';

/**
 * CloudWatch's default per-account rates (calls per second) for the alarm APIs, added to the
 * account rates by the handlers that reconcile alarms (see RateLimits).
 */
export const CLOUDWATCH_RATES: Readonly<Record<string, number>> = {
  DescribeAlarms: 9,
  PutMetricAlarm: 3,
  DeleteAlarms: 3,
};

/** The rates the size handlers run under: the account rates plus CloudWatch's alarm APIs. */
export const SIZE_RATES: Readonly<Record<string, number>> = { ...ACCOUNT_RATES, ...CLOUDWATCH_RATES };

/** DeleteAlarms takes at most 100 names per call. */
export const DELETE_ALARMS_BATCH = 100;

function existingOf(a: MetricAlarm): ExistingAlarm {
  return {
    name: a.AlarmName ?? '',
    namespace: a.Namespace,
    metric: a.MetricName,
    dimensions: Object.fromEntries((a.Dimensions ?? []).map((d) => [d.Name ?? '', d.Value ?? ''])),
    threshold: a.Threshold,
    comparison: a.ComparisonOperator,
    period: a.Period,
    evaluationPeriods: a.EvaluationPeriods,
    datapointsToAlarm: a.DatapointsToAlarm,
    statistic: a.Statistic,
    treatMissingData: a.TreatMissingData,
  };
}

/** The size alarms of one prefix, over the CloudWatch client. */
export class CloudWatchSizeAlarms implements SizeAlarmStore {
  constructor(
    private readonly cw: CloudWatchClient,
    readonly prefix: string,
  ) {}

  /** Every metric alarm of the prefix: pages with NextToken, 100 per page. */
  async list(): Promise<ExistingAlarm[]> {
    const out: ExistingAlarm[] = [];
    let token: string | undefined;
    try {
      do {
        const page = await this.cw.send(
          new DescribeAlarmsCommand({
            AlarmNamePrefix: this.prefix,
            AlarmTypes: ['MetricAlarm'],
            MaxRecords: 100,
            ...(token ? { NextToken: token } : {}),
          }),
        );
        for (const a of page.MetricAlarms ?? []) {
          // The prefix filter is CloudWatch's; check it here as well before anything is deleted.
          if (a.AlarmName?.startsWith(this.prefix)) out.push(existingOf(a));
        }
        token = page.NextToken && page.NextToken !== token ? page.NextToken : undefined;
      } while (token);
    } catch (err) {
      throw retryableOr(err, 'DescribeAlarms');
    }
    return out;
  }

  async put(spec: SizeAlarmSpec): Promise<void> {
    if (!spec.name.startsWith(this.prefix)) throw new Error(`alarm ${spec.name} is outside the prefix ${this.prefix}`);
    try {
      await this.cw.send(
        new PutMetricAlarmCommand(alarmDefinition(spec)),
      );
    } catch (err) {
      throw retryableOr(err, `PutMetricAlarm ${spec.name}`);
    }
  }

  async delete(names: readonly string[]): Promise<number> {
    const mine = names.filter((n) => n.startsWith(this.prefix));
    let calls = 0;
    for (let i = 0; i < mine.length; i += DELETE_ALARMS_BATCH) {
      try {
        await this.cw.send(new DeleteAlarmsCommand({ AlarmNames: mine.slice(i, i + DELETE_ALARMS_BATCH) }));
      } catch (err) {
        throw retryableOr(err, 'DeleteAlarms');
      }
      calls++;
    }
    return calls;
  }
}
