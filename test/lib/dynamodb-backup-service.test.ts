import { Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { DEFAULTS, DIGEST_ENV, ENV, SIZE_DEFAULTS, SIZE_ENV } from '../../lambda/env';
import { DEFAULT_POLICIES, parsePolicy, serialisePolicy } from '../../lambda/core/policy';
import {
  ChangeTrigger,
  DEFAULT_DIGEST_SCHEDULE,
  DEFAULT_PROBE_SCHEDULE,
  DEFAULT_PRUNE_SCHEDULE,
  DEFAULT_RECONCILE_SCHEDULE,
  DynamoDbBackupService,
  SizeTrigger,
} from '../../lib';
import type { DynamoDbBackupServiceProps } from '../../lib';
import { actionsOn, allActions, newApp, statementsOf } from './helpers';

function synth(props: DynamoDbBackupServiceProps = {}) {
  const stack = new Stack(newApp(), 'Backups');
  const service = new DynamoDbBackupService(stack, 'Backups', props);
  return { stack, service, template: Template.fromStack(stack) };
}

const id = (stack: Stack, c: { node: { defaultChild?: unknown } }) =>
  stack.getLogicalId(c.node.defaultChild as Parameters<Stack['getLogicalId']>[0]);

// Environment-agnostic stack: ARNs render with pseudo parameters.
const TABLES = 'arn:<AWS::Partition>:dynamodb:<AWS::Region>:<AWS::AccountId>:table/*';
const BACKUPS = 'arn:<AWS::Partition>:dynamodb:<AWS::Region>:<AWS::AccountId>:table/*/backup/*';
const PARAMETERS = 'arn:<AWS::Partition>:ssm:<AWS::Region>:<AWS::AccountId>:parameter/dynamodb-backup/*';
const INDEXES = 'arn:<AWS::Partition>:dynamodb:<AWS::Region>:<AWS::AccountId>:table/*/index/*';

/** Rules besides the schedules and prune sweeps: size probe, size alarm -> planner, stream reconcile, digest, the digest's hourly age tick, the two CloudTrail table-event rules. */
const TRIGGER_RULES = 7;

describe('DynamoDbBackupService', () => {
  describe('policies', () => {
    it('writes one SSM parameter per default policy, holding its canonical JSON', () => {
      // Prepare / Act
      const { template } = synth();

      // Assess
      template.resourceCountIs('AWS::SSM::Parameter', Object.keys(DEFAULT_POLICIES).length);
      for (const [name, input] of Object.entries(DEFAULT_POLICIES)) {
        template.hasResourceProperties('AWS::SSM::Parameter', {
          Name: `/dynamodb-backup/policies/${name}`,
          Type: 'String',
          Value: serialisePolicy(parsePolicy(input)),
        });
      }
    });

    it('merges user policies over the defaults by name and stores the exact canonical document', () => {
      // Prepare / Act
      const { template, service } = synth({
        policies: {
          daily: { schedule: 'cron(0 1 * * ? *)', retention: { keepDaily: 3 } },
          nightly: { retention: { keepLast: 3 }, schedule: 'cron(0 2 * * ? *)' },
        },
      });

      // Assess
      template.resourceCountIs('AWS::SSM::Parameter', 4);
      expect(Object.keys(service.policies).sort()).toEqual(['daily', 'hourly', 'nightly', 'weekly']);
      template.hasResourceProperties('AWS::SSM::Parameter', {
        Name: '/dynamodb-backup/policies/nightly',
        // Keys sorted, defaults filled in by the schema.
        Value: '{"minIntervalMinutes":0,"notify":"failures","retention":{"keepLast":3},"schedule":"cron(0 2 * * ? *)"}',
      });
      template.hasResourceProperties('AWS::SSM::Parameter', {
        Name: '/dynamodb-backup/policies/daily',
        Value: '{"minIntervalMinutes":0,"notify":"failures","retention":{"keepDaily":3},"schedule":"cron(0 1 * * ? *)"}',
      });
    });

    it('deploys only the given policies when includeDefaultPolicies is false', () => {
      // Prepare / Act
      const { template } = synth({ includeDefaultPolicies: false, policies: { sizeonly: { size: { growthPercent: 20 } } } });

      // Assess
      template.resourceCountIs('AWS::SSM::Parameter', 1);
      template.hasResourceProperties('AWS::SSM::Parameter', { Name: '/dynamodb-backup/policies/sizeonly' });
      // No schedule rule; the prune sweep only (besides the trigger and digest rules).
      template.resourceCountIs('AWS::Events::Rule', 1 + TRIGGER_RULES);
    });
  });

  describe('schedules', () => {
    it('creates one rule per scheduled policy with its expression, targeting the planner with the policy name', () => {
      // Prepare / Act
      const { stack, service, template } = synth({
        policies: { sizeonly: { size: { growthBytes: 1_000_000 } }, nightly: { schedule: 'rate(1 day)' } },
      });

      // Assess: hourly, daily, weekly, nightly; sizeonly has no schedule (its prune rule aside).
      expect(Object.keys(service.scheduleRules).sort()).toEqual(['daily', 'hourly', 'nightly', 'weekly']);
      template.resourceCountIs('AWS::Events::Rule', 4 + Object.keys(service.pruneRules).length + TRIGGER_RULES);
      const plannerId = id(stack, service.planner);
      const dlqId = id(stack, service.triggerDeadLetterQueue);
      const expressions = {
        ...Object.fromEntries(Object.entries(DEFAULT_POLICIES).map(([n, p]) => [n, p.schedule])),
        nightly: 'rate(1 day)',
      };
      for (const [name, expression] of Object.entries(expressions)) {
        template.hasResourceProperties('AWS::Events::Rule', {
          ScheduleExpression: expression,
          State: 'ENABLED',
          Targets: [
            Match.objectLike({
              Arn: { 'Fn::GetAtt': [plannerId, 'Arn'] },
              InputTransformer: {
                InputPathsMap: { time: '$.time' },
                InputTemplate: `{"policy":"${name}","trigger":"schedule","time":<time>}`,
              },
              RetryPolicy: { MaximumRetryAttempts: 2, MaximumEventAgeInSeconds: 7200 },
              DeadLetterConfig: { Arn: { 'Fn::GetAtt': [dlqId, 'Arn'] } },
            }),
          ],
        });
      }
    });

    it('gives the rules distinct ids and every rule one target; schedules, sweeps and size alarms go to the planner', () => {
      // Prepare / Act
      const { stack, service, template } = synth({ policies: { sizeonly: { size: { growthBytes: 1_000_000 } } } });

      // Assess
      const rules = Object.values(template.findResources('AWS::Events::Rule'));
      expect(rules).toHaveLength(Object.keys(service.scheduleRules).length + Object.keys(service.pruneRules).length + TRIGGER_RULES);
      for (const rule of rules) expect(rule.Properties.Targets).toHaveLength(1);
      const plannerArn = { 'Fn::GetAtt': [id(stack, service.planner), 'Arn'] };
      const toPlanner = rules.filter((r) => JSON.stringify(r.Properties.Targets[0].Arn) === JSON.stringify(plannerArn));
      // + 1: the size alarm rule.
      expect(toPlanner).toHaveLength(Object.keys(service.scheduleRules).length + Object.keys(service.pruneRules).length + 1);
      // One invoke permission per rule.
      template.resourceCountIs('AWS::Lambda::Permission', rules.length);
    });

    it('gives the trigger DLQ SQS-managed encryption, SSL enforcement and an alarm to the topic', () => {
      // Prepare / Act
      const { stack, service, template } = synth();

      // Assess
      const dlqId = id(stack, service.triggerDeadLetterQueue);
      template.hasResourceProperties('AWS::SQS::Queue', { SqsManagedSseEnabled: true, MessageRetentionPeriod: 1209600 });
      template.hasResourceProperties('AWS::SQS::QueuePolicy', {
        Queues: [{ Ref: dlqId }],
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
          ]),
        },
      });
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [dlqId, 'QueueName'] } }],
        Threshold: 1,
        AlarmActions: [{ Ref: id(stack, service.topic as sns.Topic) }],
      });
    });
  });

  describe('prune sweeps', () => {
    const pruneTarget = (stack: Stack, service: DynamoDbBackupService, name: string) =>
      Match.objectLike({
        Arn: { 'Fn::GetAtt': [id(stack, service.planner), 'Arn'] },
        InputTransformer: {
          InputPathsMap: { time: '$.time' },
          InputTemplate: `{"policy":"${name}","trigger":"prune","time":<time>}`,
        },
        RetryPolicy: { MaximumRetryAttempts: 2, MaximumEventAgeInSeconds: 7200 },
        DeadLetterConfig: { Arn: { 'Fn::GetAtt': [id(stack, service.triggerDeadLetterQueue), 'Arn'] } },
      });

    it('creates one prune rule per policy, scheduled or not, daily at 05:30 UTC by default', () => {
      // Prepare / Act
      const { stack, service, template } = synth({
        policies: { sizeonly: { size: { growthBytes: 1_000_000 } }, nightly: { schedule: 'rate(1 day)' } },
      });

      // Assess
      const names = ['daily', 'hourly', 'nightly', 'sizeonly', 'weekly'];
      expect(DEFAULT_PRUNE_SCHEDULE).toBe('cron(30 5 * * ? *)');
      expect(service.pruneSchedule).toBe(DEFAULT_PRUNE_SCHEDULE);
      expect(Object.keys(service.pruneRules).sort()).toEqual(names);
      expect(Object.keys(template.findResources('AWS::Events::Rule', { Properties: { ScheduleExpression: DEFAULT_PRUNE_SCHEDULE } }))).toHaveLength(5);
      for (const name of names) {
        const rule = service.pruneRules[name];
        template.hasResource('AWS::Events::Rule', {
          Properties: {
            Description: `DynamoDB backups: prune sweep of policy "${name}"`,
            ScheduleExpression: DEFAULT_PRUNE_SCHEDULE,
            State: 'ENABLED',
            Targets: [pruneTarget(stack, service, name)],
          },
        });
        expect(rule).toBeDefined();
        expect(rule).not.toBe(service.scheduleRules[name]);
      }
    });

    it('follows pruneSchedule (trimmed, like a policy schedule)', () => {
      // Prepare / Act
      const { stack, service, template } = synth({
        includeDefaultPolicies: false,
        policies: { nightly: { schedule: 'cron(0 2 * * ? *)' } },
        pruneSchedule: ' rate(12 hours) ',
      });

      // Assess
      expect(service.pruneSchedule).toBe('rate(12 hours)');
      template.resourceCountIs('AWS::Events::Rule', 2 + TRIGGER_RULES);
      template.hasResourceProperties('AWS::Events::Rule', {
        ScheduleExpression: 'rate(12 hours)',
        Targets: [pruneTarget(stack, service, 'nightly')],
      });
      template.hasResourceProperties('AWS::Events::Rule', {
        ScheduleExpression: 'cron(0 2 * * ? *)',
        Targets: [Match.objectLike({ InputTransformer: Match.objectLike({ InputTemplate: '{"policy":"nightly","trigger":"schedule","time":<time>}' }) })],
      });
    });
  });

  describe('job queue', () => {
    it('is a KMS-encrypted FIFO queue without content deduplication, 6x the worker timeout, with a FIFO DLQ', () => {
      // Prepare / Act
      const { stack, service, template } = synth();

      // Assess
      const keyArn = { 'Fn::GetAtt': [stack.getLogicalId(service.encryptionKey.node.defaultChild as never), 'Arn'] };
      const dlqId = id(stack, service.deadLetterQueue);
      template.hasResourceProperties('AWS::SQS::Queue', {
        FifoQueue: true,
        ContentBasedDeduplication: false,
        VisibilityTimeout: 720,
        KmsMasterKeyId: keyArn,
        RedrivePolicy: { deadLetterTargetArn: { 'Fn::GetAtt': [dlqId, 'Arn'] }, maxReceiveCount: 3 },
      });
      template.hasResource('AWS::SQS::Queue', {
        Properties: Match.objectLike({ FifoQueue: true, KmsMasterKeyId: keyArn, RedrivePolicy: Match.absent() }),
      });
      const jobQueue = template.findResources('AWS::SQS::Queue')[id(stack, service.jobQueue)];
      expect(jobQueue.Properties.VisibilityTimeout).toBeGreaterThanOrEqual(6 * service.worker.timeout!.toSeconds());
    });

    it('enforces SSL on the job queue and its DLQ', () => {
      // Prepare / Act
      const { stack, service, template } = synth();

      // Assess
      for (const queue of [service.jobQueue, service.deadLetterQueue]) {
        template.hasResourceProperties('AWS::SQS::QueuePolicy', {
          Queues: [{ Ref: id(stack, queue) }],
          PolicyDocument: {
            Statement: Match.arrayWith([
              Match.objectLike({ Effect: 'Deny', Action: 'sqs:*', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
            ]),
          },
        });
      }
    });

    it('alarms on the DLQ (>= 1 visible message) to the SNS topic', () => {
      // Prepare / Act
      const { stack, service, template } = synth();

      // Assess
      const topicRef = { Ref: id(stack, service.topic as sns.Topic) };
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        Namespace: 'AWS/SQS',
        MetricName: 'ApproximateNumberOfMessagesVisible',
        Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [id(stack, service.deadLetterQueue), 'QueueName'] } }],
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        Threshold: 1,
        EvaluationPeriods: 1,
        TreatMissingData: 'notBreaching',
        AlarmActions: [topicRef],
      });
    });

    it('uses maxReceiveCount for the redrive policy and the worker environment', () => {
      // Prepare / Act
      const { stack, service, template } = synth({ maxReceiveCount: 5 });

      // Assess
      template.hasResourceProperties('AWS::SQS::Queue', {
        RedrivePolicy: Match.objectLike({ maxReceiveCount: 5 }),
      });
      template.hasResourceProperties('AWS::Lambda::Function', {
        Role: { 'Fn::GetAtt': [id(stack, service.worker.role as iam.Role), 'Arn'] },
        Environment: { Variables: Match.objectLike({ [ENV.MAX_RECEIVE_COUNT]: '5' }) },
      });
    });

    it('feeds the worker in batches of 10 with partial batch responses', () => {
      // Prepare / Act
      const { stack, service, template } = synth();

      // Assess
      template.resourceCountIs('AWS::Lambda::EventSourceMapping', 2); // and the planner's plan queue
      template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
        FunctionName: { Ref: id(stack, service.worker) },
        EventSourceArn: { 'Fn::GetAtt': [id(stack, service.jobQueue), 'Arn'] },
        BatchSize: 10,
        FunctionResponseTypes: ['ReportBatchItemFailures'],
      });
    });
  });

  describe('functions', () => {
    it('run nodejs22.x on arm64 with 512 MB: planner 5 min, worker 2 min, probe 10 min, stream 1 min, reconciler 5 min, digest 10 min, table events 1 min', () => {
      // Prepare / Act
      const { stack, service, template } = synth();

      // Assess
      template.resourceCountIs('AWS::Lambda::Function', 7);
      for (const [fn, timeout] of [
        [service.planner, 300],
        [service.worker, 120],
        [service.sizeTrigger!.probe, 600],
        [service.changeTrigger!.streamHandler, 60],
        [service.changeTrigger!.reconciler, 300],
        [service.digest!, 600],
        [service.tableEvents!.fn, 60],
      ] as const) {
        template.hasResourceProperties('AWS::Lambda::Function', {
          Role: { 'Fn::GetAtt': [id(stack, fn.role as iam.Role), 'Arn'] },
          Runtime: 'nodejs22.x',
          Architectures: ['arm64'],
          MemorySize: 512,
          Timeout: timeout,
          Handler: 'index.handler',
        });
      }
    });

    it('log to their own log groups with the retention (default one month, configurable)', () => {
      // Prepare / Act
      const byDefault = synth();
      const configured = synth({ logRetention: logs.RetentionDays.ONE_YEAR });

      // Assess
      byDefault.template.resourceCountIs('AWS::Logs::LogGroup', 7);
      const s = byDefault.service;
      for (const fn of [s.planner, s.worker, s.sizeTrigger!.probe, s.changeTrigger!.streamHandler, s.changeTrigger!.reconciler, s.digest!, s.tableEvents!.fn]) {
        const logGroupId = byDefault.stack.getLogicalId(fn.logGroup.node.defaultChild as logs.CfnLogGroup);
        byDefault.template.hasResourceProperties('AWS::Lambda::Function', {
          FunctionName: Match.absent(),
          Role: { 'Fn::GetAtt': [id(byDefault.stack, fn.role as iam.Role), 'Arn'] },
          LoggingConfig: { LogGroup: { Ref: logGroupId } },
        });
      }
      byDefault.template.allResourcesProperties('AWS::Logs::LogGroup', { RetentionInDays: 30 });
      configured.template.allResourcesProperties('AWS::Logs::LogGroup', { RetentionInDays: 365 });
    });

    it('send failed async planner runs to the trigger DLQ', () => {
      // Prepare / Act
      const { stack, service, template } = synth();

      // Assess
      template.hasResourceProperties('AWS::Lambda::Function', {
        Role: { 'Fn::GetAtt': [id(stack, service.planner.role as iam.Role), 'Arn'] },
        DeadLetterConfig: { TargetArn: { 'Fn::GetAtt': [id(stack, service.triggerDeadLetterQueue), 'Arn'] } },
      });
    });

    it('get the environment variables named in lambda/env.ts', () => {
      // Prepare / Act
      const { stack, service, template } = synth({ tagKey: 'team:backup' });

      // Assess
      const common = {
        [ENV.LEDGER_TABLE]: { Ref: id(stack, service.ledgerTable as dynamodb.Table) },
        [ENV.TOPIC_ARN]: { Ref: id(stack, service.topic as sns.Topic) },
        [ENV.TAG_KEY]: 'team:backup',
        [ENV.POLICY_PREFIX]: DEFAULTS.POLICY_PREFIX,
        [ENV.TABLE_OVERRIDE_PREFIX]: DEFAULTS.TABLE_OVERRIDE_PREFIX,
        [ENV.MAX_RECEIVE_COUNT]: '3',
        POWERTOOLS_SERVICE_NAME: 'ddb-backup',
      };
      template.hasResourceProperties('AWS::Lambda::Function', {
        Role: { 'Fn::GetAtt': [id(stack, service.planner.role as iam.Role), 'Arn'] },
        Environment: {
          Variables: Match.objectLike({ ...common, [ENV.JOB_QUEUE_URL]: { Ref: id(stack, service.jobQueue) } }),
        },
      });
      template.hasResourceProperties('AWS::Lambda::Function', {
        Role: { 'Fn::GetAtt': [id(stack, service.worker.role as iam.Role), 'Arn'] },
        Environment: { Variables: Match.objectLike(common) },
      });
      const workerVars = Object.values(template.findResources('AWS::Lambda::Function')).find(
        (f) => f.Properties.Role['Fn::GetAtt'][0] === id(stack, service.worker.role as iam.Role),
      )!.Properties.Environment.Variables;
      expect(workerVars).not.toHaveProperty(ENV.JOB_QUEUE_URL);
    });
  });

  describe('IAM', () => {
    it('scopes the worker: CreateBackup, DescribeTable and its upkeep on table/*, Describe/DeleteBackup on table/*/backup/*, auto scaling reads on *', () => {
      // Prepare / Act
      const { service, template } = synth();
      const role = service.worker.role!;

      // Assess: the post-backup upkeep (settings snapshot, PITR) is read-only but for
      // UpdateContinuousBackups.
      expect(actionsOn(template, role, TABLES)).toEqual([
        'dynamodb:CreateBackup',
        'dynamodb:DescribeContinuousBackups',
        'dynamodb:DescribeContributorInsights',
        'dynamodb:DescribeKinesisStreamingDestination',
        'dynamodb:DescribeTable',
        'dynamodb:DescribeTimeToLive',
        'dynamodb:GetResourcePolicy',
        'dynamodb:ListTagsOfResource',
        'dynamodb:UpdateContinuousBackups',
      ]);
      expect(actionsOn(template, role, INDEXES)).toEqual(['dynamodb:DescribeContributorInsights']);
      expect(actionsOn(template, role, BACKUPS)).toEqual(['dynamodb:DeleteBackup', 'dynamodb:DescribeBackup']);
      // The planner lists; the worker prunes from its job's listing slice or from the ledger.
      expect(actionsOn(template, role, '*')).toEqual([
        'application-autoscaling:DescribeScalableTargets',
        'application-autoscaling:DescribeScalingPolicies',
      ]);
      for (const write of ['dynamodb:UpdateTable', 'dynamodb:TagResource', 'dynamodb:PutResourcePolicy', 'application-autoscaling:RegisterScalableTarget']) {
        expect(allActions(template, role)).not.toContain(write);
      }
      expect(allActions(template, role)).not.toContain('dynamodb:ListBackups');
      expect(actionsOn(template, role, PARAMETERS)).toEqual(['ssm:GetParameter', 'ssm:GetParameters', 'ssm:GetParametersByPath']);
      expect(allActions(template, role)).toEqual(
        expect.arrayContaining(['sns:Publish', 'dynamodb:PutItem', 'dynamodb:Query', 'sqs:ReceiveMessage', 'sqs:DeleteMessage', 'kms:Decrypt']),
      );
      expect(allActions(template, role)).not.toEqual(expect.arrayContaining(['tag:GetResources']));
    });

    it('scopes the planner: GetResources and ListBackups on *, SSM reads, send to the job queue, publish; never creates or deletes backups', () => {
      // Prepare / Act
      const { stack, service, template } = synth();
      const role = service.planner.role!;

      // Assess
      expect(actionsOn(template, role, '*')).toEqual(['dynamodb:ListBackups', 'tag:GetResources']);
      expect(actionsOn(template, role, PARAMETERS)).toEqual(['ssm:GetParameter', 'ssm:GetParameters', 'ssm:GetParametersByPath']);
      const actions = allActions(template, role);
      expect(actions).toEqual(expect.arrayContaining(['sqs:SendMessage', 'sns:Publish', 'dynamodb:PutItem', 'kms:GenerateDataKey*']));
      for (const forbidden of ['dynamodb:CreateBackup', 'dynamodb:DeleteBackup', 'dynamodb:DescribeBackup', 'dynamodb:RestoreTableFromBackup']) {
        expect(actions).not.toContain(forbidden);
      }
      const sendTo = statementsOf(template, role).filter((s) => s.actions.includes('sqs:SendMessage'));
      expect(sendTo.flatMap((s) => s.resources)).toEqual(
        expect.arrayContaining([`<${id(stack, service.jobQueue)}.Arn>`]),
      );
    });

    it('grants no service-wide wildcard action to either function', () => {
      // Prepare / Act
      const { service, template } = synth();

      // Assess
      for (const role of [service.planner.role!, service.worker.role!]) {
        for (const action of allActions(template, role)) {
          expect(action).not.toMatch(/^[a-z0-9-]+:\*$|^\*$/);
        }
      }
    });

    it('uses its own roles without AWS managed policies', () => {
      // Prepare / Act
      const { template } = synth();

      // Assess
      for (const role of Object.values(template.findResources('AWS::IAM::Role'))) {
        expect(role.Properties.ManagedPolicyArns).toBeUndefined();
      }
    });

    it('grantOperator gives the CLI run, policy write and restore permissions', () => {
      // Prepare
      const stack = new Stack(newApp(), 'Backups');
      const service = new DynamoDbBackupService(stack, 'Backups');
      const operator = new iam.Role(stack, 'Operator', { assumedBy: new iam.AccountRootPrincipal() });

      // Act
      service.grantOperator(operator);

      // Assess
      const template = Template.fromStack(stack);
      const actions = allActions(template, operator);
      expect(actions).toEqual(
        expect.arrayContaining([
          'tag:GetResources',
          'dynamodb:CreateBackup',
          'dynamodb:DeleteBackup',
          'dynamodb:ListBackups',
          'dynamodb:RestoreTableFromBackup',
          'ssm:PutParameter',
          'sqs:SendMessage',
          'sns:Publish',
        ]),
      );
      expect(actionsOn(template, operator, PARAMETERS)).toEqual(expect.arrayContaining(['ssm:PutParameter', 'ssm:GetParametersByPath']));
      // Restore: into a new table, then the source's settings re-applied to it.
      expect(actionsOn(template, operator, TABLES)).toEqual(
        expect.arrayContaining([
          'dynamodb:RestoreTableFromBackup',
          'dynamodb:RestoreTableToPointInTime',
          'dynamodb:TagResource',
          'dynamodb:UpdateTimeToLive',
          'dynamodb:UpdateTable',
          'dynamodb:UpdateContinuousBackups',
          'dynamodb:PutResourcePolicy',
          'dynamodb:UpdateContributorInsights',
          'dynamodb:EnableKinesisStreamingDestination',
          'dynamodb:BatchWriteItem',
          'dynamodb:PutItem',
          'dynamodb:Scan',
          'dynamodb:Query',
        ]),
      );
      expect(actionsOn(template, operator, BACKUPS)).toEqual(expect.arrayContaining(['dynamodb:RestoreTableFromBackup', 'dynamodb:DeleteBackup']));
      expect(actionsOn(template, operator, INDEXES)).toEqual(expect.arrayContaining(['dynamodb:UpdateContributorInsights']));
      // status (coverage) and restore's auto scaling.
      expect(actionsOn(template, operator, '*')).toEqual(
        expect.arrayContaining([
          'dynamodb:ListTables',
          'application-autoscaling:RegisterScalableTarget',
          'application-autoscaling:PutScalingPolicy',
        ]),
      );
      expect(actions).not.toContain('dynamodb:DeleteTable');
    });
  });

  describe('given state', () => {
    it('uses the given ledger and topic and creates a key for the queues only', () => {
      // Prepare
      const stack = new Stack(newApp(), 'Backups');
      const ledgerTable = dynamodb.Table.fromTableName(stack, 'Ledger', 'existing-ledger');
      const topic = sns.Topic.fromTopicArn(stack, 'Topic', 'arn:aws:sns:eu-west-1:111111111111:backups');

      // Act
      const service = new DynamoDbBackupService(stack, 'Backups', { ledgerTable, topic });

      // Assess
      const template = Template.fromStack(stack);
      expect(service.state).toBeUndefined();
      template.resourceCountIs('AWS::DynamoDB::Table', 0);
      template.resourceCountIs('AWS::SNS::Topic', 0);
      template.resourceCountIs('AWS::KMS::Key', 1);
      template.hasResourceProperties('AWS::Lambda::Function', {
        Environment: {
          Variables: Match.objectLike({
            [ENV.LEDGER_TABLE]: 'existing-ledger',
            [ENV.TOPIC_ARN]: 'arn:aws:sns:eu-west-1:111111111111:backups',
          }),
        },
      });
    });

    it('refuses a ledger without a topic', () => {
      // Prepare
      const stack = new Stack(newApp(), 'Backups');
      const ledgerTable = dynamodb.Table.fromTableName(stack, 'Ledger', 'existing-ledger');

      // Act / Assess
      expect(() => new DynamoDbBackupService(stack, 'Backups', { ledgerTable })).toThrow(/ledgerTable and topic/);
    });
  });

  it('exposes its resources as properties', () => {
    // Prepare / Act
    const { service } = synth();

    // Assess
    expect(service.jobQueue).toBeInstanceOf(sqs.Queue);
    expect(service.jobQueue.fifo).toBe(true);
    expect(service.deadLetterQueue.fifo).toBe(true);
    expect(service.jobQueue.deadLetterQueue?.queue).toBe(service.deadLetterQueue);
    expect(service.ledgerTable).toBe(service.state?.ledgerTable);
    expect(service.topic).toBe(service.state?.topic);
    expect(service.tagKey).toBe('backup:policy');
    expect(service.sizeTrigger).toBeInstanceOf(SizeTrigger);
    expect(service.changeTrigger).toBeInstanceOf(ChangeTrigger);
    expect(service.digest).toBeDefined();
    expect(service.digestRule).toBeDefined();
  });

  describe('size and change triggers, coverage digest', () => {
    // One synth with everything on, shared by the read-only assertions below (keeps the suite fast).
    const all = synth();
    const fnOf = (role: iam.IRole | undefined) => (f: Record<string, unknown>) =>
      (f as { Properties: { Role: { 'Fn::GetAtt': string[] } } }).Properties.Role['Fn::GetAtt'][0] === all.stack.getLogicalId(role!.node.defaultChild as iam.CfnRole);

    it('routes the size alarms\' ALARM state changes to the planner, with the trigger DLQ', () => {
      // Assess
      const { stack, service, template } = all;
      template.hasResourceProperties('AWS::Events::Rule', {
        EventPattern: {
          source: ['aws.cloudwatch'],
          'detail-type': ['CloudWatch Alarm State Change'],
          detail: { alarmName: [{ prefix: SIZE_DEFAULTS.ALARM_PREFIX }], state: { value: ['ALARM'] } },
        },
        Targets: [
          Match.objectLike({
            Arn: { 'Fn::GetAtt': [id(stack, service.planner), 'Arn'] },
            DeadLetterConfig: { Arn: { 'Fn::GetAtt': [id(stack, service.triggerDeadLetterQueue), 'Arn'] } },
          }),
        ],
      });
      template.hasResourceProperties('AWS::Lambda::Permission', {
        FunctionName: { 'Fn::GetAtt': [id(stack, service.planner), 'Arn'] },
        Principal: 'events.amazonaws.com',
        SourceArn: { 'Fn::GetAtt': [id(stack, service.sizeTrigger!.alarmRule), 'Arn'] },
      });
      // The default prefix is the planner's default: no variable.
      const planner = Object.values(template.findResources('AWS::Lambda::Function')).find(fnOf(service.planner.role))!;
      expect(planner.Properties.Environment.Variables).not.toHaveProperty(SIZE_ENV.ALARM_PREFIX);
    });

    it('gives the planner a non-default size alarm prefix', () => {
      // Prepare / Act
      const { stack, service, template } = synth({ sizeAlarmPrefix: 'prod-size-' });

      // Assess
      template.hasResourceProperties('AWS::Lambda::Function', {
        Role: { 'Fn::GetAtt': [id(stack, service.planner.role as iam.Role), 'Arn'] },
        Environment: { Variables: Match.objectLike({ [SIZE_ENV.ALARM_PREFIX]: 'prod-size-' }) },
      });
      template.hasResourceProperties('AWS::Events::Rule', {
        EventPattern: Match.objectLike({ detail: Match.objectLike({ alarmName: [{ prefix: 'prod-size-' }] }) }),
      });
    });

    it('runs the probe hourly and the stream reconciler every 15 minutes, with the trigger DLQ', () => {
      // Assess
      const { stack, service, template } = all;
      const dlq = { Arn: { 'Fn::GetAtt': [id(stack, service.triggerDeadLetterQueue), 'Arn'] } };
      for (const [expression, fn] of [
        [DEFAULT_PROBE_SCHEDULE, service.sizeTrigger!.probe],
        [DEFAULT_RECONCILE_SCHEDULE, service.changeTrigger!.reconciler],
      ] as const) {
        template.hasResourceProperties('AWS::Events::Rule', {
          ScheduleExpression: expression,
          Targets: [Match.objectLike({ Arn: { 'Fn::GetAtt': [id(stack, fn), 'Arn'] }, DeadLetterConfig: dlq })],
        });
      }
      expect(DEFAULT_PROBE_SCHEDULE).toBe('rate(1 hour)');
      expect(DEFAULT_RECONCILE_SCHEDULE).toBe('rate(15 minutes)');
    });

    it('runs the digest daily at 07:00 UTC by default, or on digestSchedule, with the trigger DLQ', () => {
      // Prepare / Act
      const custom = synth({ digestSchedule: ' cron(30 6 ? * MON-FRI *) ', probeSchedule: 'rate(30 minutes)', reconcileSchedule: 'rate(1 hour)' });

      // Assess
      const { stack, service, template } = all;
      expect(DEFAULT_DIGEST_SCHEDULE).toBe('cron(0 7 * * ? *)');
      template.hasResourceProperties('AWS::Events::Rule', {
        ScheduleExpression: DEFAULT_DIGEST_SCHEDULE,
        Targets: [
          Match.objectLike({
            Arn: { 'Fn::GetAtt': [id(stack, service.digest!), 'Arn'] },
            DeadLetterConfig: { Arn: { 'Fn::GetAtt': [id(stack, service.triggerDeadLetterQueue), 'Arn'] } },
          }),
        ],
      });
      template.hasResourceProperties('AWS::Lambda::Function', {
        Role: { 'Fn::GetAtt': [id(stack, service.digest!.role as iam.Role), 'Arn'] },
        DeadLetterConfig: { TargetArn: { 'Fn::GetAtt': [id(stack, service.triggerDeadLetterQueue), 'Arn'] } },
      });
      for (const [expression, fn] of [
        ['cron(30 6 ? * MON-FRI *)', custom.service.digest!],
        ['rate(30 minutes)', custom.service.sizeTrigger!.probe],
        ['rate(1 hour)', custom.service.changeTrigger!.reconciler],
      ] as const) {
        custom.template.hasResourceProperties('AWS::Events::Rule', {
          ScheduleExpression: expression,
          Targets: [Match.objectLike({ Arn: { 'Fn::GetAtt': [id(custom.stack, fn), 'Arn'] } })],
        });
      }
    });

    it('gives the digest its environment (ignore list only when given)', () => {
      // Prepare / Act
      const ignoring = synth({ digestIgnoreTables: ['scratch', 'tmp-*'] });

      // Assess
      const { stack, service, template } = all;
      const vars = Object.values(template.findResources('AWS::Lambda::Function')).find(fnOf(service.digest!.role))!.Properties.Environment.Variables;
      expect(vars).toEqual({
        [ENV.LEDGER_TABLE]: { Ref: id(stack, service.ledgerTable as dynamodb.Table) },
        [ENV.TOPIC_ARN]: { Ref: id(stack, service.topic as sns.Topic) },
        [ENV.TAG_KEY]: DEFAULTS.TAG_KEY,
        [ENV.POLICY_PREFIX]: DEFAULTS.POLICY_PREFIX,
        [ENV.TABLE_OVERRIDE_PREFIX]: DEFAULTS.TABLE_OVERRIDE_PREFIX,
        POWERTOOLS_SERVICE_NAME: 'ddb-backup',
      });
      ignoring.template.hasResourceProperties('AWS::Lambda::Function', {
        Role: { 'Fn::GetAtt': [id(ignoring.stack, ignoring.service.digest!.role as iam.Role), 'Arn'] },
        Environment: { Variables: Match.objectLike({ [DIGEST_ENV.IGNORE_TABLES]: 'scratch,tmp-*' }) },
      });
    });

    it('scopes the digest: read-only over every table, tags, policies and the ledger; publish to the topic', () => {
      // Assess
      const { service, template } = all;
      const role = service.digest!.role!;
      expect(actionsOn(template, role, '*')).toEqual(['dynamodb:ListBackups', 'dynamodb:ListTables', 'tag:GetResources']);
      expect(actionsOn(template, role, TABLES)).toEqual(['dynamodb:DescribeContinuousBackups', 'dynamodb:DescribeTable']);
      expect(actionsOn(template, role, PARAMETERS)).toEqual(['ssm:GetParameter', 'ssm:GetParameters', 'ssm:GetParametersByPath']);
      const actions = allActions(template, role);
      expect(actions).toEqual(expect.arrayContaining(['dynamodb:GetItem', 'dynamodb:Query', 'sns:Publish', 'kms:Decrypt', 'kms:GenerateDataKey*']));
      for (const a of actions) {
        expect(a).not.toMatch(/^dynamodb:(Create|Delete|Put|Update|BatchWrite|Restore|Tag)/);
        expect(a).not.toMatch(/^[a-z0-9-]+:\*$|^\*$/);
      }
    });

    it('never lets the planner, probe, stream handler, reconciler or digest create or delete backups', () => {
      // Assess
      const { service, template } = all;
      const roles = [
        service.planner.role!,
        service.sizeTrigger!.probe.role!,
        service.changeTrigger!.streamHandler.role!,
        service.changeTrigger!.reconciler.role!,
        service.digest!.role!,
      ];
      for (const role of roles) {
        const actions = allActions(template, role);
        for (const forbidden of ['dynamodb:CreateBackup', 'dynamodb:DeleteBackup', 'dynamodb:RestoreTableFromBackup']) {
          expect(actions).not.toContain(forbidden);
        }
      }
    });

    it('can leave out the size triggers, the change triggers, the digest and the table events', () => {
      // Prepare / Act
      const { service, template } = synth({ sizeTriggers: false, changeTriggers: false, coverageDigest: false, tableEvents: false });

      // Assess
      expect(service.sizeTrigger).toBeUndefined();
      expect(service.changeTrigger).toBeUndefined();
      expect(service.digest).toBeUndefined();
      expect(service.digestRule).toBeUndefined();
      expect(service.tableEvents).toBeUndefined();
      template.resourceCountIs('AWS::Lambda::Function', 2);
      template.resourceCountIs('AWS::Events::Rule', Object.keys(service.scheduleRules).length + Object.keys(service.pruneRules).length);
    });
  });
});
