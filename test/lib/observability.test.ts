import { Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { METRICS_ENV } from '../../lambda/env';
import { DynamoDbBackupService, METRIC_NAMESPACE } from '../../lib';
import type { DynamoDbBackupServiceProps } from '../../lib';
import { METRICS_PER_TABLE_CONTEXT } from '../../lib/service/rpo-alarms';
import { newApp } from './helpers';

function synth(props: DynamoDbBackupServiceProps = {}, context: Record<string, unknown> = {}) {
  const stack = new Stack(newApp(context), 'Backups');
  const service = new DynamoDbBackupService(stack, 'Backups', props);
  return { stack, service, template: Template.fromStack(stack) };
}

const logicalId = (stack: Stack, c: { node: { defaultChild?: unknown } } | { node: unknown }) =>
  stack.getLogicalId(((c as { node: { defaultChild?: unknown } }).node.defaultChild ?? c) as Parameters<Stack['getLogicalId']>[0]);

/** The dashboard body as one string (its tokens joined). */
function dashboardBody(template: Template): string {
  const [dash] = Object.values(template.findResources('AWS::CloudWatch::Dashboard'));
  return JSON.stringify((dash as { Properties: { DashboardBody: unknown } }).Properties.DashboardBody);
}

describe('RPO alarms', () => {
  it('one alarm per synthesized policy on NewestBackupAgeSeconds by Policy, threshold interval × 1.5 or rpoHours, missing data breaching, to the topic', () => {
    // Prepare: the built-in hourly, daily and weekly policies, plus one with rpoHours and one without a schedule.
    const props: DynamoDbBackupServiceProps = {
      policies: {
        tight: { schedule: 'rate(6 hours)', rpoHours: 7, retention: { keepLast: 4 } },
        bysize: { size: { growthPercent: 20 }, retention: { keepLast: 3 } },
      },
    };
    // Act
    const { stack, service, template } = synth(props);
    // Assess
    expect(Object.keys(service.rpoAlarms).sort()).toEqual(['daily', 'hourly', 'tight', 'weekly']);
    const expected: Record<string, number> = { hourly: 90 * 60, daily: 36 * 3600, weekly: 7 * 36 * 3600, tight: 7 * 3600 };
    const topicRef = { Ref: logicalId(stack, service.topic) };
    for (const [policy, threshold] of Object.entries(expected)) {
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        Namespace: METRIC_NAMESPACE,
        MetricName: 'NewestBackupAgeSeconds',
        Dimensions: [{ Name: 'Policy', Value: policy }],
        Statistic: 'Maximum',
        Period: 3600,
        Threshold: threshold,
        ComparisonOperator: 'GreaterThanThreshold',
        TreatMissingData: 'breaching',
        AlarmActions: [topicRef],
        OKActions: [topicRef],
      });
    }
    expect(Object.keys(template.findResources('AWS::CloudWatch::Alarm', { Properties: { MetricName: 'NewestBackupAgeSeconds' } }))).toHaveLength(4);
  });

  it('an hourly rule asks the digest for the ages only, with retries and the trigger DLQ', () => {
    // Act
    const { stack, service, template } = synth();
    // Assess
    template.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'rate(1 hour)',
      Targets: [
        Match.objectLike({
          Arn: { 'Fn::GetAtt': [logicalId(stack, service.digest!), 'Arn'] },
          Input: JSON.stringify({ metricsOnly: true }),
          RetryPolicy: { MaximumRetryAttempts: 2, MaximumEventAgeInSeconds: 3600 },
          DeadLetterConfig: { Arn: { 'Fn::GetAtt': [logicalId(stack, service.triggerDeadLetterQueue), 'Arn'] } },
        }),
      ],
    });
  });

  it('no coverage digest: no ages, so no RPO alarm (they would only ever be in ALARM)', () => {
    const { service, template } = synth({ coverageDigest: false });
    expect(service.rpoAlarms).toEqual({});
    expect(Object.keys(template.findResources('AWS::CloudWatch::Alarm', { Properties: { MetricName: 'NewestBackupAgeSeconds' } }))).toHaveLength(0);
  });
});

describe('dashboard', () => {
  it('shows the per-policy backup metrics in the service namespace, each policy’s age against its RPO, queues, worker and triggers', () => {
    // Act
    const { template } = synth();
    // Assess
    template.resourceCountIs('AWS::CloudWatch::Dashboard', 1);
    const body = dashboardBody(template);
    for (const name of ['BackupsCreated', 'BackupsFailed', 'BackupsDeleted', 'BackupsSkipped', 'NotifyFailures']) {
      expect(body).toContain(`SEARCH('{${METRIC_NAMESPACE},Policy} MetricName=\\\\\\"${name}\\\\\\"', 'Sum', 3600)`);
    }
    for (const [policy, rpoSeconds] of [['hourly', 5400], ['daily', 129600], ['weekly', 907200]] as const) {
      expect(body).toContain(`Newest backup age: ${policy}`);
      expect(body).toContain(`\\"${METRIC_NAMESPACE}\\",\\"NewestBackupAgeSeconds\\",\\"Policy\\",\\"${policy}\\"`);
      expect(body).toContain(`{\\"value\\":${rpoSeconds},\\"label\\":\\"RPO ${rpoSeconds / 60} min\\"`);
    }
    for (const title of ['RPO alarms', 'Job queue depth', 'Job queue: oldest message age (s)', 'Dead-letter queues', 'Worker and planner errors', 'Worker duration (ms)', 'Triggers: size probe and stream']) {
      expect(body).toContain(title);
    }
    for (const metric of ['ApproximateNumberOfMessagesVisible', 'ApproximateAgeOfOldestMessage', 'Errors', 'Duration', 'TriggeredRules', 'IteratorAge']) {
      expect(body).toContain(`\\"${metric}\\"`);
    }
  });

  it('without size and change triggers the trigger graph is empty of them', () => {
    const { template } = synth({ sizeTriggers: false, changeTriggers: false });
    const body = dashboardBody(template);
    expect(body).not.toContain('TriggeredRules');
    expect(body).not.toContain('IteratorAge');
    expect(body).toContain('Worker duration (ms)');
  });
});

describe('per-table metrics', () => {
  it('are off by default', () => {
    const { template } = synth();
    const fns = template.findResources('AWS::Lambda::Function');
    expect(JSON.stringify(fns)).not.toContain(METRICS_ENV.PER_TABLE);
  });

  it(`the context flag ${METRICS_PER_TABLE_CONTEXT} turns them on for the worker, planner and digest`, () => {
    // Act
    const { stack, service, template } = synth({}, { [METRICS_PER_TABLE_CONTEXT]: true });
    // Assess
    for (const fn of [service.worker, service.planner, service.digest!]) {
      const props = template.findResources('AWS::Lambda::Function')[logicalId(stack, fn)].Properties as { Environment: { Variables: Record<string, string> } };
      expect(props.Environment.Variables[METRICS_ENV.PER_TABLE]).toBe('true');
    }
  });
});
