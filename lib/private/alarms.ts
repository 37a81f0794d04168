import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cloudwatchActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';

/** Sends both the alarm's ALARM and OK transitions to `topic`. */
export function notifyTopic(alarm: cloudwatch.Alarm, topic: sns.ITopic): void {
  const action = new cloudwatchActions.SnsAction(topic);
  alarm.addAlarmAction(action);
  alarm.addOkAction(action);
}

/**
 * Alarm `id` under `scope` as soon as any message is visible in `queue` (a dead-letter or
 * on-failure queue); ALARM and OK go to `topic`.
 */
export function queueMessagesAlarm(
  scope: Construct,
  id: string,
  queue: sqs.IQueue,
  description: string,
  topic: sns.ITopic,
): cloudwatch.Alarm {
  const alarm = new cloudwatch.Alarm(scope, id, {
    alarmDescription: description,
    metric: queue.metricApproximateNumberOfMessagesVisible({
      period: Duration.minutes(1),
      statistic: cloudwatch.Stats.MAXIMUM,
    }),
    threshold: 1,
    comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
    evaluationPeriods: 1,
    treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
  });
  notifyTopic(alarm, topic);
  return alarm;
}

export interface LogMessageAlarmOptions {
  /** Log groups to watch, by a name used in the metric filters' ids (e.g. `Planner`). */
  readonly logGroups: Readonly<Record<string, logs.ILogGroup>>;
  /** Value of the `message` field of the JSON log lines to count (Powertools Logger). */
  readonly message: string;
  readonly namespace: string;
  readonly metricName: string;
  readonly description: string;
  readonly topic: sns.ITopic;
}

/**
 * Counts the JSON log lines whose `message` is `opts.message` in every log group into one metric
 * (one metric filter per log group, `<id><name>Filter`), and alarms (`id`) as soon as one is
 * seen in 5 minutes; ALARM and OK go to `topic`. No data (no such line) is not breaching.
 */
export function logMessageAlarm(scope: Construct, id: string, opts: LogMessageAlarmOptions): cloudwatch.Alarm {
  for (const [name, logGroup] of Object.entries(opts.logGroups)) {
    new logs.MetricFilter(scope, `${id}${name}Filter`, {
      logGroup,
      filterPattern: logs.FilterPattern.stringValue('$.message', '=', opts.message),
      metricNamespace: opts.namespace,
      metricName: opts.metricName,
      metricValue: '1',
    });
  }
  const alarm = new cloudwatch.Alarm(scope, id, {
    alarmDescription: opts.description,
    metric: new cloudwatch.Metric({
      namespace: opts.namespace,
      metricName: opts.metricName,
      period: Duration.minutes(5),
      statistic: cloudwatch.Stats.SUM,
    }),
    threshold: 1,
    comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
    evaluationPeriods: 1,
    treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
  });
  notifyTopic(alarm, opts.topic);
  return alarm;
}
