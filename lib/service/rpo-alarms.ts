import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import { rpoTargetMinutes } from '../../lambda/core/evidence/rpo';
import { METRIC, POLICY_DIMENSION } from '../../lambda/core/observability/metric-points';
import type { Policy } from '../../lambda/core/policy';
import { AGE_TICK_EVENT, METRICS_ENV } from '../../lambda/env';
import { notifyTopic } from '../private/alarms';

/** How often the digest publishes NewestBackupAgeSeconds (its metrics-only tick). */
export const AGE_TICK_SCHEDULE = 'rate(1 hour)';

/** Context flag that adds the per-table dimension to the service's metrics (off by default: cost). */
export const METRICS_PER_TABLE_CONTEXT = 'ddbBackup:metricsPerTable';

export interface RpoAlarmsProps {
  /** The synthesized policies, by name: one alarm each (those with an RPO target). */
  readonly policies: Readonly<Record<string, Policy>>;
  readonly namespace: string;
  /** ALARM and OK go here. */
  readonly topic: sns.ITopic;
  /** The function that publishes NewestBackupAgeSeconds (the coverage digest). */
  readonly ageFunction: lambda.IFunction;
  /** Dead-letter queue of the tick's failed deliveries (the trigger DLQ). */
  readonly deadLetterQueue: sqs.IQueue;
}

/** The age metric of a policy: the newest backup of its stalest table, worst value per hour. */
export function newestBackupAgeMetric(namespace: string, policy: string, label?: string): cloudwatch.Metric {
  return new cloudwatch.Metric({
    namespace,
    metricName: METRIC.NEWEST_AGE,
    dimensionsMap: { [POLICY_DIMENSION]: policy },
    statistic: cloudwatch.Stats.MAXIMUM,
    period: Duration.hours(1),
    ...(label ? { label } : {}),
  });
}

/**
 * One RPO alarm per synthesized policy (`RpoAlarm-<name>`) on NewestBackupAgeSeconds: over the
 * policy's RPO target (`rpoHours`, else its schedule's interval × 1.5) for two hours in a row, or
 * no data at all (missing data is breaching: a silent digest is no proof). A policy without a
 * schedule or `rpoHours` promises no time and gets none. The metric comes from the coverage
 * digest's hourly metrics-only tick (`AgeTick`). Policies added in SSM after deploy have no alarm:
 * the daily digest's STALE check covers them.
 *
 * Built in the service's scope: the logical IDs are `RpoAlarm<name>...` and `AgeTick...`.
 */
export class RpoAlarms {
  public readonly alarms: Readonly<Record<string, cloudwatch.Alarm>>;
  public readonly ageTick: events.Rule;

  constructor(scope: Construct, props: RpoAlarmsProps) {
    const alarms: Record<string, cloudwatch.Alarm> = {};
    for (const [name, policy] of Object.entries(props.policies)) {
      const minutes = rpoTargetMinutes(policy);
      if (minutes === undefined) continue;
      const alarm = new cloudwatch.Alarm(scope, `RpoAlarm-${name}`, {
        alarmDescription: `DynamoDB backups: a table of policy "${name}" has no backup newer than its RPO (${minutes} minutes), or no age was published`,
        metric: newestBackupAgeMetric(props.namespace, name),
        threshold: minutes * 60,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: 2,
        datapointsToAlarm: 2,
        treatMissingData: cloudwatch.TreatMissingData.BREACHING,
      });
      notifyTopic(alarm, props.topic);
      alarms[name] = alarm;
    }
    this.alarms = alarms;
    this.ageTick = new events.Rule(scope, 'AgeTick', {
      description: 'DynamoDB backups: hourly recovery-point age metrics (coverage digest, metrics only)',
      schedule: events.Schedule.expression(AGE_TICK_SCHEDULE),
      targets: [
        new targets.LambdaFunction(props.ageFunction, {
          event: events.RuleTargetInput.fromObject(AGE_TICK_EVENT),
          retryAttempts: 2,
          maxEventAge: Duration.hours(1),
          deadLetterQueue: props.deadLetterQueue,
        }),
      ],
    });
  }
}

/** Turns the per-table metrics on for `functions` when the context flag is set. */
export function applyMetricsContext(scope: Construct, functions: readonly (lambda.Function | undefined)[]): boolean {
  const flag = scope.node.tryGetContext(METRICS_PER_TABLE_CONTEXT) as unknown;
  const on = flag === true || flag === 'true';
  if (on) for (const fn of functions) fn?.addEnvironment(METRICS_ENV.PER_TABLE, 'true');
  return on;
}
