import { Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type * as sns from 'aws-cdk-lib/aws-sns';
import { createApp } from '../../bin/ddb-backup-app';
import {
  BackupState,
  DEFAULT_WORKER_CONCURRENCY,
  DynamoDbBackupService,
  METRIC_NAMESPACE,
  NOTIFY_FAILURE_MESSAGE,
  NOTIFY_FAILURES_METRIC,
} from '../../lib';
import type { DynamoDbBackupServiceProps } from '../../lib';
import { appProps, newApp, statementsOf } from './helpers';

function synth(props: DynamoDbBackupServiceProps = {}) {
  const stack = new Stack(newApp(), 'Backups');
  const service = new DynamoDbBackupService(stack, 'Backups', props);
  return { stack, service, template: Template.fromStack(stack) };
}

const logicalId = (stack: Stack, c: { node: { defaultChild?: unknown } }) =>
  stack.getLogicalId(c.node.defaultChild as Parameters<Stack['getLogicalId']>[0]);
const arnOf = (stack: Stack, role: iam.IRole) => ({ 'Fn::GetAtt': [logicalId(stack, role), 'Arn'] });

// Environment-agnostic stack: ARNs render with pseudo parameters.
const TABLES = 'arn:<AWS::Partition>:dynamodb:<AWS::Region>:<AWS::AccountId>:table/*';
const STREAMS = 'arn:<AWS::Partition>:kinesis:<AWS::Region>:<AWS::AccountId>:stream/*';
const ALARMS_OF_THIS_ACCOUNT = {
  StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } },
  ArnLike: {
    'aws:SourceArn': {
      'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':cloudwatch:', { Ref: 'AWS::Region' }, ':', { Ref: 'AWS::AccountId' }, ':alarm:*']],
    },
  },
};

interface PolicyStatementJson {
  Sid?: string;
  Effect: string;
  Principal?: unknown;
  Action: string | string[];
  Resource?: unknown;
  Condition?: Record<string, Record<string, unknown>>;
}

/** The statements of the resource policy (`type`) attached to the resource `ref` points at. */
function resourcePolicyStatements(template: Template, type: string, listKey: string, ref: unknown): PolicyStatementJson[] {
  const policies = Object.values(template.findResources(type)).filter((p) =>
    (p.Properties[listKey] as unknown[]).some((r) => JSON.stringify(r) === JSON.stringify(ref)),
  );
  expect(policies).toHaveLength(1);
  return policies[0].Properties.PolicyDocument.Statement as PolicyStatementJson[];
}

/** The job queue's statement that denies SendMessage to every principal it does not name. */
function sendDeny(stack: Stack, service: DynamoDbBackupService, template: Template): PolicyStatementJson {
  const statements = resourcePolicyStatements(template, 'AWS::SQS::QueuePolicy', 'Queues', { Ref: logicalId(stack, service.jobQueue) });
  const denies = statements.filter((s) => s.Effect === 'Deny' && s.Condition?.ArnNotEquals);
  expect(denies).toHaveLength(1);
  return denies[0];
}

/** Statements granting `action` to `role` (Allow), as rendered. */
function allowing(template: Template, role: iam.IRole, action: string) {
  return statementsOf(template, role).filter((s) => s.Effect === 'Allow' && s.actions.includes(action));
}

describe('safety', () => {
  describe('job queue senders', () => {
    it('denies sqs:SendMessage (and nothing else) to every principal but the planner and stream handler roles', () => {
      // Prepare / Act
      const { stack, service, template } = synth();

      // Assess
      expect(sendDeny(stack, service, template)).toEqual({
        Sid: 'OnlyAllowedSendersMaySendMessages',
        Effect: 'Deny',
        Principal: { AWS: '*' },
        // Only SendMessage (SendMessageBatch included): CloudFormation and the worker keep
        // managing and consuming the queue.
        Action: 'sqs:SendMessage',
        Resource: { 'Fn::GetAtt': [logicalId(stack, service.jobQueue), 'Arn'] },
        Condition: {
          ArnNotEquals: {
            'aws:PrincipalArn': [arnOf(stack, service.planner.role!), arnOf(stack, service.changeTrigger!.streamHandler.role!)],
          },
        },
      });
    });

    it('names exactly the roles whose identity policies allow sending to the job queue', () => {
      // Prepare / Act
      const { stack, service, template } = synth();

      // Assess
      const queueArn = JSON.stringify({ 'Fn::GetAtt': [logicalId(stack, service.jobQueue), 'Arn'] });
      const senders = Object.values(template.findResources('AWS::IAM::Policy'))
        .filter((p) =>
          (p.Properties.PolicyDocument.Statement as PolicyStatementJson[]).some(
            (s) =>
              s.Effect === 'Allow' &&
              ([] as string[]).concat(s.Action).includes('sqs:SendMessage') &&
              ([] as unknown[]).concat(s.Resource).some((r) => JSON.stringify(r) === queueArn),
          ),
        )
        .flatMap((p) => (p.Properties.Roles as Array<{ Ref: string }>).map((r) => ({ 'Fn::GetAtt': [r.Ref, 'Arn'] })));
      const named = sendDeny(stack, service, template).Condition!.ArnNotEquals['aws:PrincipalArn'] as unknown[];
      expect(named).toHaveLength(2);
      expect(new Set(named.map((a) => JSON.stringify(a)))).toEqual(new Set(senders.map((a) => JSON.stringify(a))));
    });

    it('names the planner role alone without change triggers', () => {
      // Prepare / Act
      const { stack, service, template } = synth({ changeTriggers: false });

      // Assess
      expect(sendDeny(stack, service, template).Condition).toEqual({
        ArnNotEquals: { 'aws:PrincipalArn': [arnOf(stack, service.planner.role!)] },
      });
    });

    it('adds the roles given to grantOperator/grantRun, and warns about a group (it cannot be named)', () => {
      // Prepare
      const stack = new Stack(newApp(), 'Backups');
      const service = new DynamoDbBackupService(stack, 'Backups');
      const operator = new iam.Role(stack, 'Operator', { assumedBy: new iam.AccountRootPrincipal() });
      const group = new iam.Group(stack, 'Operators');

      // Act
      service.grantOperator(operator);
      service.grantRun(group);

      // Assess (the synth prints the warning it reports: keep the output clean)
      const printed = jest.spyOn(console, 'error').mockImplementation(() => undefined);
      try {
        const template = Template.fromStack(stack);
        expect(sendDeny(stack, service, template).Condition!.ArnNotEquals['aws:PrincipalArn']).toEqual([
          arnOf(stack, service.planner.role!),
          arnOf(stack, service.changeTrigger!.streamHandler.role!),
          arnOf(stack, operator),
        ]);
        Annotations.fromStack(stack).hasWarning('*', Match.stringLikeRegexp('Backups/Operators is neither a role nor a user'));
      } finally {
        printed.mockRestore();
      }
    });
  });

  describe('alarm notifications', () => {
    it('lets CloudWatch alarms of this account publish to the topic', () => {
      // Prepare
      const stack = new Stack(newApp(), 'State');

      // Act
      const state = new BackupState(stack, 'State');

      // Assess
      const template = Template.fromStack(stack);
      const statements = resourcePolicyStatements(template, 'AWS::SNS::TopicPolicy', 'Topics', { Ref: logicalId(stack, state.topic) });
      expect(statements.filter((s) => s.Effect === 'Allow')).toEqual([
        {
          Sid: 'AllowAlarmsToPublish',
          Effect: 'Allow',
          Principal: { Service: 'cloudwatch.amazonaws.com' },
          Action: 'sns:Publish',
          Resource: { Ref: logicalId(stack, state.topic) },
          Condition: ALARMS_OF_THIS_ACCOUNT,
        },
      ]);
    });

    it('lets CloudWatch use the topic key for the alarms of this account only', () => {
      // Prepare
      const stack = new Stack(newApp(), 'State');

      // Act
      const state = new BackupState(stack, 'State');

      // Assess
      const template = Template.fromStack(stack);
      const key = template.findResources('AWS::KMS::Key')[logicalId(stack, state.key as kms.Key)];
      const forCloudWatch = (key.Properties.KeyPolicy.Statement as PolicyStatementJson[]).filter((s) =>
        JSON.stringify(s.Principal).includes('cloudwatch.amazonaws.com'),
      );
      expect(forCloudWatch).toEqual([
        {
          Sid: 'AllowAlarmsToPublishToEncryptedTopic',
          Effect: 'Allow',
          Principal: { Service: 'cloudwatch.amazonaws.com' },
          Action: ['kms:Decrypt', 'kms:GenerateDataKey*'],
          Resource: '*',
          Condition: ALARMS_OF_THIS_ACCOUNT,
        },
      ]);
    });

    it('scopes both to the account and region of a bound stack', () => {
      // Prepare
      const stack = new Stack(newApp(), 'State', { env: { account: '123456789012', region: 'eu-west-1' } });

      // Act
      const state = new BackupState(stack, 'State');

      // Assess
      const template = Template.fromStack(stack);
      const bound = {
        StringEquals: { 'aws:SourceAccount': '123456789012' },
        ArnLike: { 'aws:SourceArn': 'arn:aws:cloudwatch:eu-west-1:123456789012:alarm:*' },
      };
      template.hasResourceProperties('AWS::SNS::TopicPolicy', {
        Topics: [{ Ref: logicalId(stack, state.topic) }],
        PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Effect: 'Allow', Action: 'sns:Publish', Condition: bound })]) },
      });
      template.hasResourceProperties('AWS::KMS::Key', {
        KeyPolicy: {
          Statement: Match.arrayWith([Match.objectLike({ Principal: { Service: 'cloudwatch.amazonaws.com' }, Condition: bound })]),
        },
      });
    });
  });

  describe('notification failures', () => {
    const filterPattern = `{ $.message = "${NOTIFY_FAILURE_MESSAGE}" }`;

    it('counts "run summary not published" in the planner, worker and digest logs into NotifyFailures', () => {
      // Prepare / Act
      const { stack, service, template } = synth();

      // Assess
      expect(NOTIFY_FAILURE_MESSAGE).toBe('run summary not published');
      expect(METRIC_NAMESPACE).toBe('DynamoDBBackupService');
      expect(NOTIFY_FAILURES_METRIC).toBe('NotifyFailures');
      template.resourceCountIs('AWS::Logs::MetricFilter', 3);
      for (const fn of [service.planner, service.worker, service.digest!]) {
        template.hasResourceProperties('AWS::Logs::MetricFilter', {
          LogGroupName: { Ref: stack.getLogicalId(fn.logGroup.node.defaultChild as logs.CfnLogGroup) },
          FilterPattern: '{ $.message = "run summary not published" }',
          MetricTransformations: [{ MetricNamespace: 'DynamoDBBackupService', MetricName: 'NotifyFailures', MetricValue: '1' }],
        });
      }
    });

    it('alarms to the topic on one failure in 5 minutes; no data is not breaching', () => {
      // Prepare / Act
      const { stack, service, template } = synth();

      // Assess
      const topicRef = { Ref: logicalId(stack, service.topic as sns.Topic) };
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        Namespace: 'DynamoDBBackupService',
        MetricName: 'NotifyFailures',
        Dimensions: Match.absent(),
        Statistic: 'Sum',
        Period: 300,
        EvaluationPeriods: 1,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        Threshold: 1,
        TreatMissingData: 'notBreaching',
        AlarmActions: [topicRef],
      });
      expect(service.notifyFailureAlarm).toBeDefined();
    });

    it('watches the planner and worker only when there is no digest', () => {
      // Prepare / Act
      const { stack, service, template } = synth({ coverageDigest: false });

      // Assess
      const filters = Object.values(template.findResources('AWS::Logs::MetricFilter'));
      expect(filters.map((f) => f.Properties.LogGroupName).sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)))).toEqual(
        [service.planner, service.worker]
          .map((fn) => ({ Ref: stack.getLogicalId(fn.logGroup.node.defaultChild as logs.CfnLogGroup) }))
          .sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b))),
      );
      for (const f of filters) expect(f.Properties.FilterPattern).toBe(filterPattern);
    });
  });

  describe('least privilege', () => {
    it('lets the worker turn PITR on only on tables carrying the opt-in tag', () => {
      // Prepare / Act
      const byDefault = synth();
      const otherKey = synth({ tagKey: 'team:backup' });

      // Assess
      for (const [{ service, template }, tagKey] of [
        [byDefault, 'backup:policy'],
        [otherKey, 'team:backup'],
      ] as const) {
        const grants = allowing(template, service.worker.role!, 'dynamodb:UpdateContinuousBackups');
        expect(grants.map((s) => ({ actions: s.actions, resources: s.resources, Condition: s.Condition }))).toEqual([
          { actions: ['dynamodb:UpdateContinuousBackups'], resources: [TABLES], Condition: { StringLike: { [`aws:ResourceTag/${tagKey}`]: '*' } } },
        ]);
      }
    });

    it('lets the stream reconciler update only tables carrying the opt-in tag', () => {
      // Prepare / Act
      const { service, template } = synth({ tagKey: 'team:backup' });

      // Assess
      const grants = allowing(template, service.changeTrigger!.reconciler.role!, 'dynamodb:UpdateTable');
      expect(grants.map((s) => ({ actions: s.actions, resources: s.resources, Condition: s.Condition }))).toEqual([
        { actions: ['dynamodb:UpdateTable'], resources: [TABLES], Condition: { StringLike: { 'aws:ResourceTag/team:backup': '*' } } },
      ]);
    });

    it('lets the worker describe Kinesis streams of the account for the settings snapshot', () => {
      // Prepare / Act
      const { service, template } = synth();

      // Assess
      const grants = statementsOf(template, service.worker.role!).filter((s) => s.actions.some((a) => a.startsWith('kinesis:')));
      expect(grants.map((s) => ({ Effect: s.Effect, actions: [...s.actions].sort(), resources: s.resources, Condition: s.Condition }))).toEqual([
        { Effect: 'Allow', actions: ['kinesis:DescribeStream', 'kinesis:DescribeStreamSummary'], resources: [STREAMS], Condition: undefined },
      ]);
    });

    describe('restore', () => {
      const stack = new Stack(newApp(), 'Backups');
      const service = new DynamoDbBackupService(stack, 'Backups');
      const operator = new iam.Role(stack, 'Operator', { assumedBy: new iam.AccountRootPrincipal() });
      service.grantRestore(operator);
      const template = Template.fromStack(stack);
      const grantsOf = (action: string) =>
        allowing(template, operator, action).map((s) => ({ actions: [...s.actions].sort(), resources: s.resources, Condition: s.Condition }));

      it('puts resource policies only on tables without the opt-in tag (never on a protected table)', () => {
        expect(grantsOf('dynamodb:PutResourcePolicy')).toEqual([
          { actions: ['dynamodb:PutResourcePolicy'], resources: [TABLES], Condition: { Null: { 'aws:ResourceTag/backup:policy': 'true' } } },
        ]);
      });

      it('describes KMS keys and creates grants on them only through DynamoDB', () => {
        expect(grantsOf('kms:CreateGrant')).toEqual([
          {
            actions: ['kms:CreateGrant', 'kms:DescribeKey'],
            resources: ['arn:<AWS::Partition>:kms:<AWS::Region>:<AWS::AccountId>:key/*'],
            Condition: { StringEquals: { 'kms:ViaService': { 'Fn::Join': ['', ['dynamodb.', { Ref: 'AWS::Region' }, '.amazonaws.com']] } } },
          },
        ]);
      });

      it('manages the target tracking alarms of auto scaling, and no other alarm', () => {
        expect(grantsOf('cloudwatch:PutMetricAlarm')).toEqual([
          {
            actions: ['cloudwatch:DeleteAlarms', 'cloudwatch:DescribeAlarms', 'cloudwatch:PutMetricAlarm'],
            resources: ['arn:<AWS::Partition>:cloudwatch:<AWS::Region>:<AWS::AccountId>:alarm:TargetTracking-table/*'],
            Condition: undefined,
          },
        ]);
      });

      it("creates Application Auto Scaling's service-linked role for DynamoDB, and no other", () => {
        expect(grantsOf('iam:CreateServiceLinkedRole')).toEqual([
          {
            actions: ['iam:CreateServiceLinkedRole'],
            resources: [
              'arn:<AWS::Partition>:iam::<AWS::AccountId>:role/aws-service-role/dynamodb.application-autoscaling.amazonaws.com/AWSServiceRoleForApplicationAutoScaling_DynamoDBTable',
            ],
            Condition: { StringEquals: { 'iam:AWSServiceName': 'dynamodb.application-autoscaling.amazonaws.com' } },
          },
        ]);
      });

      it('describes and writes to Kinesis streams of the account to re-enable a streaming destination', () => {
        expect(grantsOf('kinesis:PutRecords')).toEqual([
          {
            actions: ['kinesis:DescribeStream', 'kinesis:DescribeStreamSummary', 'kinesis:PutRecord', 'kinesis:PutRecords'],
            resources: [STREAMS],
            Condition: undefined,
          },
        ]);
      });
    });

    it(`caps the worker at ${DEFAULT_WORKER_CONCURRENCY} instances by default: reserved concurrency and the event source's maximum concurrency`, () => {
      // Prepare / Act
      const { stack, service, template } = synth();

      // Assess
      expect(DEFAULT_WORKER_CONCURRENCY).toBe(10);
      template.hasResourceProperties('AWS::Lambda::Function', {
        Role: arnOf(stack, service.worker.role!),
        ReservedConcurrentExecutions: 10,
      });
      template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
        FunctionName: { Ref: logicalId(stack, service.worker) },
        ScalingConfig: { MaximumConcurrency: 10 },
      });
      // No other function reserves concurrency.
      const reserving = Object.values(template.findResources('AWS::Lambda::Function')).filter(
        (f) => f.Properties.ReservedConcurrentExecutions !== undefined,
      );
      expect(reserving).toHaveLength(1);
    });

    it('follows workerConcurrency, from the construct and from the app config', () => {
      // Prepare / Act
      const { stack, service, template } = synth({ workerConcurrency: 4 });
      const { serviceStack } = createApp(appProps({ ddbBackup: { workerConcurrency: 3 } }));
      const fromConfig = Template.fromStack(serviceStack);

      // Assess
      template.hasResourceProperties('AWS::Lambda::Function', { Role: arnOf(stack, service.worker.role!), ReservedConcurrentExecutions: 4 });
      template.hasResourceProperties('AWS::Lambda::EventSourceMapping', { ScalingConfig: { MaximumConcurrency: 4 } });
      fromConfig.hasResourceProperties('AWS::Lambda::Function', {
        Role: arnOf(serviceStack, serviceStack.service.worker.role!),
        ReservedConcurrentExecutions: 3,
      });
      fromConfig.hasResourceProperties('AWS::Lambda::EventSourceMapping', { ScalingConfig: { MaximumConcurrency: 3 } });
    });

    it('refuses a workerConcurrency below 2 (the smallest maximum concurrency) or above 1000', () => {
      for (const workerConcurrency of [1, 1001, 2.5]) {
        // Prepare
        const stack = new Stack(newApp(), 'Backups');
        new DynamoDbBackupService(stack, 'Backups', { workerConcurrency });

        // Act / Assess
        expect(() => Template.fromStack(stack)).toThrow(`workerConcurrency: must be an integer from 2 to 1000, got ${workerConcurrency}`);
      }
    });
  });
});
