import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as events from 'aws-cdk-lib/aws-events';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import { rpoTargetMinutes } from '../../lambda/core/evidence/rpo';
import { METRIC, POLICY_DIMENSION, type MetricName } from '../../lambda/core/observability/metric-points';
import type { Policy } from '../../lambda/core/policy';
import { newestBackupAgeMetric } from './rpo-alarms';

/** The parts of the service the dashboard shows (DynamoDbBackupService has them). */
export interface DashboardSources {
  /** The synthesized policies: one age graph each, with its RPO line. */
  readonly policies: Readonly<Record<string, Policy>>;
  readonly jobQueue: sqs.IQueue;
  readonly deadLetterQueue: sqs.IQueue;
  readonly triggerDeadLetterQueue: sqs.IQueue;
  readonly planner: lambda.IFunction;
  readonly worker: lambda.IFunction;
  /** The size probe and the rule that sends size alarms to the planner (size triggers on). */
  readonly sizeTrigger?: { readonly probe: lambda.IFunction; readonly alarmRule: events.IRule };
  /** The stream handler and its reconciler (change triggers on). */
  readonly changeTrigger?: { readonly streamHandler: lambda.IFunction; readonly reconciler: lambda.IFunction };
}

export interface ServiceDashboardProps {
  readonly namespace: string;
  readonly sources: DashboardSources;
  /** The RPO alarms, by policy: shown in one alarm status widget. */
  readonly rpoAlarms: Readonly<Record<string, cloudwatch.IAlarm>>;
}

const HOUR = Duration.hours(1);
const FIVE_MINUTES = Duration.minutes(5);

/**
 * A per-policy graph of one service metric: every policy that published it, the ones added in SSM
 * after deploy included (a metric search, so none is left out).
 */
function perPolicy(namespace: string, name: MetricName, statistic: string, label: string): cloudwatch.MathExpression {
  return new cloudwatch.MathExpression({
    expression: `SEARCH('{${namespace},${POLICY_DIMENSION}} MetricName="${name}"', '${statistic}', 3600)`,
    usingMetrics: {},
    label,
    period: HOUR,
  });
}

function graph(title: string, left: cloudwatch.IMetric[], opts: Partial<cloudwatch.GraphWidgetProps> = {}): cloudwatch.GraphWidget {
  return new cloudwatch.GraphWidget({ title, left, width: 8, height: 6, ...opts });
}

/**
 * The service's CloudWatch dashboard (`Dashboard`): backups created, failed, deleted and skipped per
 * policy; per synthesized policy the newest backup's age against its RPO (a horizontal line), and
 * the state of the RPO alarms; the job queue's depth and oldest message, the dead-letter queues;
 * the worker's errors, throttles and duration, the planner's errors; the size probe's and the
 * stream trigger's activity.
 */
export class ServiceDashboard {
  public readonly dashboard: cloudwatch.Dashboard;

  constructor(scope: Construct, { namespace: ns, sources: props, rpoAlarms }: ServiceDashboardProps) {
    const dashboard = new cloudwatch.Dashboard(scope, 'Dashboard', { defaultInterval: Duration.days(7) });
    dashboard.addWidgets(
      new cloudwatch.TextWidget({
        markdown: `# DynamoDB backups\nMetrics in namespace \`${ns}\`, dimension \`${POLICY_DIMENSION}\`. Ages come from the coverage digest every hour; the red line of each age graph is the policy's RPO.`,
        width: 24,
        height: 2,
      }),
    );
    dashboard.addWidgets(
      graph('Backups created per policy (per hour)', [perPolicy(ns, METRIC.CREATED, 'Sum', '')]),
      graph('Backups failed per policy (per hour)', [perPolicy(ns, METRIC.FAILED, 'Sum', ''), perPolicy(ns, METRIC.NOTIFY_FAILURES, 'Sum', 'notify failures: ')]),
      graph('Backups deleted and skipped per policy (per hour)', [perPolicy(ns, METRIC.DELETED, 'Sum', 'deleted: '), perPolicy(ns, METRIC.SKIPPED, 'Sum', 'skipped: ')]),
    );
    const ages = Object.entries(props.policies).map(([name, policy]) => {
      const minutes = rpoTargetMinutes(policy);
      return graph(`Newest backup age: ${name}`, [newestBackupAgeMetric(ns, name, `${name}: newest backup age`)], {
        leftAnnotations: minutes === undefined ? [] : [{ value: minutes * 60, label: `RPO ${minutes} min`, color: cloudwatch.Color.RED }],
        leftYAxis: { min: 0, label: 'seconds', showUnits: false },
      });
    });
    if (ages.length > 0) dashboard.addWidgets(...ages);
    const alarms = Object.values(rpoAlarms);
    if (alarms.length > 0) dashboard.addWidgets(new cloudwatch.AlarmStatusWidget({ title: 'RPO alarms', alarms, width: 24, height: 3 }));

    const q = (queue: sqs.IQueue, label: string) => queue.metricApproximateNumberOfMessagesVisible({ period: FIVE_MINUTES, statistic: cloudwatch.Stats.MAXIMUM, label });
    dashboard.addWidgets(
      graph('Job queue depth', [q(props.jobQueue, 'visible'), props.jobQueue.metricApproximateNumberOfMessagesNotVisible({ period: FIVE_MINUTES, statistic: cloudwatch.Stats.MAXIMUM, label: 'in flight' })]),
      graph('Job queue: oldest message age (s)', [props.jobQueue.metricApproximateAgeOfOldestMessage({ period: FIVE_MINUTES, statistic: cloudwatch.Stats.MAXIMUM, label: 'oldest' })]),
      graph('Dead-letter queues', [q(props.deadLetterQueue, 'job DLQ'), q(props.triggerDeadLetterQueue, 'trigger DLQ')]),
    );
    dashboard.addWidgets(
      graph('Worker and planner errors', [
        props.worker.metricErrors({ period: FIVE_MINUTES, label: 'worker errors' }),
        props.worker.metricThrottles({ period: FIVE_MINUTES, label: 'worker throttles' }),
        props.planner.metricErrors({ period: FIVE_MINUTES, label: 'planner errors' }),
      ]),
      graph('Worker duration (ms)', [
        props.worker.metricDuration({ period: FIVE_MINUTES, statistic: cloudwatch.Stats.p(50), label: 'p50' }),
        props.worker.metricDuration({ period: FIVE_MINUTES, statistic: cloudwatch.Stats.MAXIMUM, label: 'max' }),
      ]),
      graph('Triggers: size probe and stream', triggerMetrics(props), { right: streamAge(props) }),
    );
    this.dashboard = dashboard;
  }
}

function triggerMetrics({ sizeTrigger: size, changeTrigger: change }: DashboardSources): cloudwatch.IMetric[] {
  const out: cloudwatch.IMetric[] = [];
  if (size) {
    out.push(
      size.probe.metricInvocations({ period: HOUR, label: 'size probe runs' }),
      size.probe.metricErrors({ period: HOUR, label: 'size probe errors' }),
      new cloudwatch.Metric({ namespace: 'AWS/Events', metricName: 'TriggeredRules', dimensionsMap: { RuleName: size.alarmRule.ruleName }, statistic: cloudwatch.Stats.SUM, period: HOUR, label: 'size alarms to the planner' }),
    );
  }
  if (change) {
    out.push(
      change.streamHandler.metricInvocations({ period: HOUR, label: 'stream batches' }),
      change.streamHandler.metricErrors({ period: HOUR, label: 'stream errors' }),
      change.reconciler.metricErrors({ period: HOUR, label: 'stream reconciler errors' }),
    );
  }
  return out;
}

function streamAge({ changeTrigger: change }: DashboardSources): cloudwatch.IMetric[] {
  return change ? [change.streamHandler.metric('IteratorAge', { period: FIVE_MINUTES, statistic: cloudwatch.Stats.MAXIMUM, label: 'stream iterator age (ms)' })] : [];
}
