import { Duration, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as events from 'aws-cdk-lib/aws-events';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { AwsSolutionsChecks } from 'cdk-nag';
import { BackupState } from '../../lib/backup-state';
import { ChangeTrigger, type ChangeTriggerProps } from '../../lib/change-trigger';
import { ENV, STREAM_ENV } from '../../lambda/env';
import { actionsOn, allActions, newApp, statementsOf } from './helpers';

function build(props: Partial<ChangeTriggerProps> = {}) {
  const app = newApp();
  const stack = new Stack(app, 'Test');
  const state = new BackupState(stack, 'State');
  const jobQueue = new sqs.Queue(stack, 'Jobs', {
    fifo: true,
    encryption: sqs.QueueEncryption.KMS,
    encryptionMasterKey: state.key,
    enforceSSL: true,
  });
  const trigger = new ChangeTrigger(stack, 'Changes', {
    jobQueue,
    ledgerTable: state.ledgerTable,
    topic: state.topic,
    encryptionKey: state.key,
    ...props,
  });
  return { app, stack, trigger, template: Template.fromStack(stack) };
}

describe('ChangeTrigger', () => {
  it('creates the stream handler and the reconciler: nodejs22.x, arm64, own log groups, own roles without managed policies', () => {
    // Prepare / Act
    const { template, trigger, stack } = build();

    // Assess
    template.resourcePropertiesCountIs('AWS::Lambda::Function', { Runtime: 'nodejs22.x', Architectures: ['arm64'] }, 2);
    template.resourceCountIs('AWS::Logs::LogGroup', 2);
    for (const fn of [trigger.streamHandler, trigger.reconciler]) {
      const role = template.toJSON().Resources[stack.getLogicalId(fn.role!.node.defaultChild as never)];
      expect(role.Properties.ManagedPolicyArns).toBeUndefined();
    }
    template.hasResourceProperties('AWS::Lambda::Function', {
      Description: Match.stringLikeRegexp('counts stream changes'),
      Environment: { Variables: Match.objectLike({ [ENV.JOB_QUEUE_URL]: Match.anyValue(), [ENV.LEDGER_TABLE]: Match.anyValue() }) },
    });
    template.hasResourceProperties('AWS::Lambda::Function', {
      Description: Match.stringLikeRegexp('stream event source mappings'),
      Environment: {
        Variables: Match.objectLike({
          [STREAM_ENV.FUNCTION_NAME]: { 'Fn::GetAtt': [Match.stringLikeRegexp('ChangesStreamHandler'), 'Arn'] },
          [STREAM_ENV.ON_FAILURE_ARN]: { 'Fn::GetAtt': [Match.stringLikeRegexp('StreamFailureQueue'), 'Arn'] },
        }),
      },
    });
  });

  it('has an encrypted, SSL-only on-failure queue with an alarm to the topic', () => {
    // Prepare / Act
    const { template } = build();

    // Assess
    template.hasResourceProperties('AWS::SQS::Queue', {
      KmsMasterKeyId: Match.anyValue(),
      MessageRetentionPeriod: 1209600,
      FifoQueue: Match.absent(),
    });
    template.hasResourceProperties('AWS::SQS::QueuePolicy', {
      Queues: [{ Ref: Match.stringLikeRegexp('ChangesStreamFailureQueue') }],
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]) },
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [Match.stringLikeRegexp('ChangesStreamFailureQueue'), 'QueueName'] } }],
      AlarmActions: [{ Ref: Match.stringLikeRegexp('StateTopic') }],
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'Errors', Namespace: 'AWS/Lambda' });
  });

  it('schedules the reconciler every 15 minutes by default, or as given', () => {
    // Prepare / Act
    const { template } = build();
    const custom = build({ reconcileSchedule: events.Schedule.rate(Duration.hours(1)) }).template;

    // Assess
    template.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'rate(15 minutes)',
      Targets: [Match.objectLike({ Arn: { 'Fn::GetAtt': [Match.stringLikeRegexp('ChangesStreamReconciler'), 'Arn'] } })],
    });
    custom.hasResourceProperties('AWS::Events::Rule', { ScheduleExpression: 'rate(1 hour)' });
  });

  it('grants the stream handler stream reads, tag reads, ledger writes and job queue sends; nothing to manage backups or mappings', () => {
    // Prepare / Act
    const { template, trigger } = build();
    const role = trigger.streamHandler.role!;

    // Assess
    expect(actionsOn(template, role, 'arn:<AWS::Partition>:dynamodb:<AWS::Region>:<AWS::AccountId>:table/*/stream/*')).toEqual([
      'dynamodb:DescribeStream',
      'dynamodb:GetRecords',
      'dynamodb:GetShardIterator',
    ]);
    const actions = allActions(template, role);
    expect(actions).toEqual(expect.arrayContaining(['dynamodb:ListTagsOfResource', 'dynamodb:UpdateItem', 'sqs:SendMessage', 'sns:Publish', 'ssm:GetParametersByPath']));
    for (const forbidden of ['dynamodb:CreateBackup', 'dynamodb:DeleteBackup', 'dynamodb:UpdateTable', 'lambda:CreateEventSourceMapping']) {
      expect(actions).not.toContain(forbidden);
    }
  });

  it('limits the reconciler\'s mapping management to the stream handler, and UpdateTable to tables', () => {
    // Prepare / Act
    const { template, trigger } = build();
    const statements = statementsOf(template, trigger.reconciler.role!);

    // Assess
    const esm = statements.find((s) => s.actions.includes('lambda:CreateEventSourceMapping'))!;
    expect(esm.actions.sort()).toEqual([
      'lambda:CreateEventSourceMapping',
      'lambda:DeleteEventSourceMapping',
      'lambda:GetEventSourceMapping',
      'lambda:UpdateEventSourceMapping',
    ]);
    expect(esm.Condition).toEqual({ StringEquals: { 'lambda:FunctionArn': { 'Fn::GetAtt': [expect.stringMatching(/ChangesStreamHandler/), 'Arn'] } } });
    const update = statements.find((s) => s.actions.includes('dynamodb:UpdateTable'))!;
    expect(update.resources).toEqual(['arn:<AWS::Partition>:dynamodb:<AWS::Region>:<AWS::AccountId>:table/*']);
    expect(allActions(template, trigger.reconciler.role!)).not.toContain('dynamodb:CreateBackup');
  });

  it('passes cdk-nag AwsSolutions with zero unacknowledged findings in the construct', () => {
    // Prepare
    const { app, trigger } = build();

    // Act
    const findings = new AwsSolutionsChecks()
      .validateScope(app)
      .violations.flatMap((v) => v.violatingResources.map((r) => `${v.severity} ${v.ruleName} at ${r.constructPath}`));

    // Assess
    expect(findings.filter((f) => f.includes(trigger.node.path))).toEqual([]);
  });
});
