import { ArnFormat, Stack, Validations } from 'aws-cdk-lib';
import type { App } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Duration } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { SizeTrigger, type SizeTriggerProps } from '../../lib/size-trigger';
import { SIZE_ENV } from '../../lambda/env';
import { sizeAlarmName } from '../../lambda/core/triggers/size-alarms';
import { newApp, statementsOf } from './helpers';

interface Fixture {
  app: App;
  stack: Stack;
  trigger: SizeTrigger;
  template: Template;
  planner: lambda.Function;
}

function build(props: Partial<SizeTriggerProps> = {}, env?: { account: string; region: string }): Fixture {
  const app = newApp();
  const stack = new Stack(app, 'Svc', env ? { env } : {});
  const planner = new lambda.Function(stack, 'Planner', {
    runtime: lambda.Runtime.NODEJS_22_X,
    handler: 'index.handler',
    code: lambda.Code.fromInline('exports.handler = async () => ({})'),
  });
  const ledgerTable = new dynamodb.Table(stack, 'Ledger', {
    partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
    sortKey: { name: 'sk', type: dynamodb.AttributeType.STRING },
  });
  const key = new kms.Key(stack, 'Key', { enableKeyRotation: true });
  const topic = new sns.Topic(stack, 'Topic', { masterKey: key });
  const trigger = new SizeTrigger(stack, 'Size', { planner, ledgerTable, topic, encryptionKey: key, ...props });
  let template: Template | undefined;
  return {
    app,
    stack,
    trigger,
    planner,
    get template() {
      return (template ??= Template.fromStack(stack));
    },
  };
}

/** AwsSolutions findings on the SizeTrigger's resources (the fixtures around it are not under test). */
function unacknowledged(app: App): string[] {
  return new AwsSolutionsChecks()
    .validateScope(app)
    .violations.flatMap((v) => v.violatingResources.map((r) => `${v.severity} ${v.ruleName} at ${r.constructPath}`))
    .filter((f) => f.includes(' at Svc/Size/'));
}

describe('SizeTrigger', () => {
  it('creates the probe as the other functions: nodejs22.x, arm64, own log group, own role without managed policies', () => {
    // Prepare / Act
    const { template, trigger, stack } = build();

    // Assess
    template.hasResourceProperties('AWS::Lambda::Function', {
      Runtime: 'nodejs22.x',
      Architectures: ['arm64'],
      Timeout: 600,
      LoggingConfig: { LogGroup: { Ref: Match.stringLikeRegexp('^SizeProbeLogGroup') } },
      Environment: {
        Variables: Match.objectLike({
          [SIZE_ENV.ALARM_PREFIX]: 'ddb-backup-size-',
          [SIZE_ENV.METRIC_NAMESPACE]: 'DynamoDBBackupService',
          [SIZE_ENV.MAX_ALARM_WRITES]: '500',
          DDB_BACKUP_TAG_KEY: 'backup:policy',
          DDB_BACKUP_LEDGER_TABLE: { Ref: Match.stringLikeRegexp('^Ledger') },
          DDB_BACKUP_TOPIC_ARN: { Ref: Match.stringLikeRegexp('^Topic') },
        }),
      },
    });
    const roleId = stack.getLogicalId(trigger.probe.role!.node.defaultChild as never);
    const role = template.findResources('AWS::IAM::Role')[roleId];
    expect(role.Properties.ManagedPolicyArns).toBeUndefined();
    template.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 30 });
  });

  it('runs the probe hourly by default, or on the given schedule', () => {
    // Prepare / Act
    const byDefault = build().template;
    const custom = build({ probeSchedule: events.Schedule.rate(Duration.minutes(30)) }).template;

    // Assess
    byDefault.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'rate(1 hour)',
      Targets: [Match.objectLike({ Arn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^SizeProbe'), 'Arn'] } })],
    });
    custom.hasResourceProperties('AWS::Events::Rule', { ScheduleExpression: 'rate(30 minutes)' });
  });

  it('routes only ALARM state changes of the prefixed alarms to the planner, with the whole event', () => {
    // Prepare / Act
    const { template } = build({ alarmPrefix: 'acme-size-' });

    // Assess
    template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: {
        source: ['aws.cloudwatch'],
        'detail-type': ['CloudWatch Alarm State Change'],
        detail: { alarmName: [{ prefix: 'acme-size-' }], state: { value: ['ALARM'] } },
      },
      Targets: [
        Match.objectLike({
          Arn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^Planner'), 'Arn'] },
          Input: Match.absent(),
          InputTransformer: Match.absent(),
          RetryPolicy: { MaximumRetryAttempts: 2, MaximumEventAgeInSeconds: 7200 },
        }),
      ],
    });
    template.hasResourceProperties('AWS::Lambda::Permission', {
      Action: 'lambda:InvokeFunction',
      Principal: 'events.amazonaws.com',
      FunctionName: { 'Fn::GetAtt': [Match.stringLikeRegexp('^Planner'), 'Arn'] },
    });
  });

  it('sends failed deliveries of both rules to the dead-letter queue when one is given', () => {
    // Prepare
    const app = newApp();
    const stack = new Stack(app, 'Svc');
    const dlq = new sqs.Queue(stack, 'Dlq');
    const planner = lambda.Function.fromFunctionAttributes(stack, 'P', { functionArn: stack.formatArn({ service: 'lambda', resource: 'function', resourceName: 'planner', arnFormat: ArnFormat.COLON_RESOURCE_NAME }), sameEnvironment: true });
    const ledgerTable = dynamodb.Table.fromTableName(stack, 'L', 'ledger');

    // Act
    new SizeTrigger(stack, 'Size', { planner, ledgerTable, deadLetterQueue: dlq });
    const template = Template.fromStack(stack);

    // Assess
    const rules = Object.values(template.findResources('AWS::Events::Rule'));
    expect(rules).toHaveLength(2);
    for (const r of rules) {
      expect(r.Properties.Targets[0].DeadLetterConfig).toEqual({ Arn: { 'Fn::GetAtt': [expect.stringMatching(/^Dlq/), 'Arn'] } });
    }
  });

  it('scopes IAM: metrics by namespace, alarms by prefix, tables, SSM path, ledger read-only', () => {
    // Prepare / Act
    const { template, trigger } = build({ namespace: 'Acme/Backups' }, { account: '123456789012', region: 'eu-west-1' });
    const statements = statementsOf(template, trigger.probe.role!);
    const bySid = (sid: string) => {
      const s = statements.find((st) => (st as { Sid?: string }).Sid === sid)!;
      return { ...s, actions: [...s.actions].sort() };
    };

    // Assess
    expect(bySid('PublishSizeMetrics')).toMatchObject({
      actions: ['cloudwatch:PutMetricData'],
      resources: ['*'],
      Condition: { StringEquals: { 'cloudwatch:namespace': 'Acme/Backups' } },
    });
    expect(bySid('ReconcileSizeAlarms')).toMatchObject({
      actions: ['cloudwatch:DeleteAlarms', 'cloudwatch:DescribeAlarms', 'cloudwatch:PutMetricAlarm'],
      resources: ['arn:aws:cloudwatch:eu-west-1:123456789012:alarm:ddb-backup-size-*'],
    });
    expect(bySid('DescribeTables')).toMatchObject({
      actions: ['dynamodb:DescribeTable'],
      resources: ['arn:aws:dynamodb:eu-west-1:123456789012:table/*'],
    });
    expect(bySid('DiscoverTaggedTables')).toMatchObject({ actions: ['tag:GetResources'], resources: ['*'] });
    expect(bySid('ReadPolicies')).toMatchObject({
      actions: ['ssm:GetParameter', 'ssm:GetParameters', 'ssm:GetParametersByPath'],
      resources: ['arn:aws:ssm:eu-west-1:123456789012:parameter/dynamodb-backup/*'],
    });
    const all = statements.flatMap((s) => s.actions);
    // Ledger: read only. No CreateBackup, no writes anywhere.
    expect(all.filter((a) => a.startsWith('dynamodb:')).sort()).toEqual(
      expect.arrayContaining(['dynamodb:GetItem', 'dynamodb:Query', 'dynamodb:DescribeTable']),
    );
    expect(all.filter((a) => /dynamodb:(Put|Update|Delete|BatchWrite|CreateBackup)/.test(a))).toEqual([]);
    expect(all).toEqual(expect.arrayContaining(['sns:Publish', 'kms:Decrypt', 'kms:GenerateDataKey*']));
    // Every wildcard resource other than '*' is one of the scoped ones.
    const wildcards = new Set(statements.flatMap((s) => s.resources).filter((r) => r.includes('*')));
    expect([...wildcards].sort()).toEqual(
      [
        '*',
        'arn:aws:cloudwatch:eu-west-1:123456789012:alarm:ddb-backup-size-*',
        'arn:aws:dynamodb:eu-west-1:123456789012:table/*',
        'arn:aws:ssm:eu-west-1:123456789012:parameter/dynamodb-backup/*',
      ].sort(),
    );
    // '*' only for the two APIs without resource types.
    expect(statements.filter((s) => s.resources.includes('*')).flatMap((s) => s.actions).sort()).toEqual([
      'cloudwatch:PutMetricData',
      'tag:GetResources',
    ]);
  });

  it('passes cdk-nag AwsSolutions with zero unacknowledged findings, each acknowledgement with a reason', () => {
    for (const env of [undefined, { account: '123456789012', region: 'eu-west-1' }]) {
      // Prepare
      const { app } = build({}, env);

      // Act
      const findings = unacknowledged(app);
      const acknowledgements = app.node
        .findAll()
        .filter((c) => c.node.path.startsWith('Svc/Size'))
        .flatMap((c) => c.node.metadata.filter((m) => m.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY))
        .flatMap((m) => Object.entries(m.data as Record<string, string>));

      // Assess
      expect(findings).toEqual([]);
      expect(acknowledgements.length).toBeGreaterThan(0);
      for (const [id, reason] of acknowledgements) {
        expect({ id, reason: reason.length >= 40 }).toEqual({ id, reason: true });
      }
    }
  });

  it('stays nag-clean without a topic or key (no KMS grant, no topic env)', () => {
    // Prepare
    const app = newApp();
    const stack = new Stack(app, 'Svc');
    const planner = lambda.Function.fromFunctionAttributes(stack, 'P', { functionArn: stack.formatArn({ service: 'lambda', resource: 'function', resourceName: 'planner', arnFormat: ArnFormat.COLON_RESOURCE_NAME }), sameEnvironment: true });
    const ledgerTable = dynamodb.Table.fromTableName(stack, 'L', 'ledger');

    // Act
    const trigger = new SizeTrigger(stack, 'Size', { planner, ledgerTable });
    const template = Template.fromStack(stack);

    // Assess
    expect(unacknowledged(app)).toEqual([]);
    expect(statementsOf(template, trigger.probe.role!).flatMap((s) => s.actions).filter((a) => a.startsWith('kms:') || a.startsWith('sns:'))).toEqual([]);
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ DDB_BACKUP_TOPIC_ARN: Match.absent() }) },
    });
  });

  describe('sizeAlarmTables: alarms CDK owns', () => {
    const policies = {
      growth: { size: { growthBytes: 5_000_000 } },
      pct: { size: { growthPercent: 20 } },
      both: { size: { growthBytes: 5_000_000, growthPercent: 10 } },
      plain: { schedule: 'rate(1 day)' },
    } as unknown as SizeTriggerProps['policies'];

    it('creates each alarm as the reconciler would, and tells the probe to leave them alone', () => {
      // Prepare / Act
      const { template, app } = build({
        policies,
        sizeAlarmTables: [
          { table: 'orders', policy: 'growth' },
          { table: 'carts.v2', policy: 'pct' },
          { table: 'users', policy: 'both' },
        ],
      });

      // Assess
      template.resourceCountIs('AWS::CloudWatch::Alarm', 3);
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        AlarmName: sizeAlarmName('ddb-backup-size-', 'growth', 'orders'),
        Namespace: 'DynamoDBBackupService',
        MetricName: 'GrowthSinceLastBackupBytes',
        Dimensions: [
          { Name: 'TableName', Value: 'orders' },
          { Name: 'Policy', Value: 'growth' },
        ],
        Statistic: 'Maximum',
        Period: 3600,
        EvaluationPeriods: 1,
        DatapointsToAlarm: 1,
        Threshold: 5_000_000,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        TreatMissingData: 'notBreaching',
        ActionsEnabled: false,
        AlarmDescription: Match.stringLikeRegexp('Managed by CloudFormation'),
      });
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        AlarmName: 'ddb-backup-size-pct.carts.v2',
        MetricName: 'GrowthSinceLastBackupPercent',
        Threshold: 20,
      });
      // Both thresholds: growthBytes (no baseline at synth).
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        AlarmName: 'ddb-backup-size-both.users',
        MetricName: 'GrowthSinceLastBackupBytes',
        Threshold: 5_000_000,
      });
      template.hasResourceProperties('AWS::Lambda::Function', {
        Environment: { Variables: Match.objectLike({ [SIZE_ENV.STATIC_ALARMS]: 'both.users,growth.orders,pct.carts.v2' }) },
      });
      expect(unacknowledged(app)).toEqual([]);
    });

    it('uses the alarm prefix and namespace of the construct', () => {
      const { template } = build({ policies, alarmPrefix: 'team-a-', namespace: 'TeamA', sizeAlarmTables: [{ table: 'orders', policy: 'growth' }] });
      template.hasResourceProperties('AWS::CloudWatch::Alarm', { AlarmName: 'team-a-growth.orders', Namespace: 'TeamA' });
    });

    it('creates no alarm and sets no env var without sizeAlarmTables', () => {
      const { template } = build({ policies });
      template.resourceCountIs('AWS::CloudWatch::Alarm', 0);
      template.hasResourceProperties('AWS::Lambda::Function', {
        Environment: { Variables: Match.objectLike({ [SIZE_ENV.STATIC_ALARMS]: Match.absent() }) },
      });
    });

    it.each([
      [[{ table: 'orders', policy: 'nope' }], /sizeAlarmTables\[0\]\.policy: "nope" is not a declared policy/],
      [[{ table: 'orders', policy: 'plain' }], /sizeAlarmTables\[0\]\.policy: "plain" has no size trigger/],
      [[{ table: 'a', policy: 'growth' }], /sizeAlarmTables\[0\]\.table: must be a literal table name/],
      [[{ table: 'bad/name', policy: 'growth' }], /sizeAlarmTables\[0\]\.table/],
      [
        [
          { table: 'orders', policy: 'growth' },
          { table: 'orders', policy: 'growth' },
        ],
        /sizeAlarmTables\[1\]: table "orders" with policy "growth" is listed twice/,
      ],
    ])('fails the synth on %p', (sizeAlarmTables, message) => {
      const { app } = build({ policies, sizeAlarmTables });
      expect(() => app.synth()).toThrow(message);
    });
  });

  it.each([
    [{ alarmPrefix: 'bad prefix*' }, /alarmPrefix: must match/],
    [{ namespace: 'AWS/DynamoDB' }, /namespace: must be/],
    [{ maxAlarmWrites: 0 }, /maxAlarmWrites: must be a whole number/],
  ])('fails the synth on an invalid setting %p', (props, message) => {
    // Prepare
    const { app } = build(props as Partial<SizeTriggerProps>);

    // Act / Assess
    expect(() => app.synth()).toThrow(message);
  });
});
