import { Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { LONG_TASK_MAX_SECONDS } from '../../lambda/core/long-task';
import { DynamoDbBackupService } from '../../lib/dynamodb-backup-service';
import { actionsOn, newApp, unacknowledgedUnder } from './helpers';

/** A service whose `nightly` policy drills weekly; `daily` (built in) has no drill. */
function service(policies: Record<string, object> = { nightly: { schedule: 'rate(1 day)', drill: { schedule: 'cron(0 6 ? * MON *)' } } }) {
  const app = newApp();
  const stack = new Stack(app, 'Svc');
  return { app, stack, service: new DynamoDbBackupService(stack, 'Backups', { policies, includeDefaultPolicies: false, sizeTriggers: false, changeTriggers: false }) };
}

function build(policies?: Record<string, object>) {
  const built = service(policies);
  return { ...built, template: Template.fromStack(built.stack) };
}

/** The state machine's definition, rendered to one string (tokens as JSON). */
function definitionOf(template: Template): string {
  const [sm] = Object.values(template.findResources('AWS::StepFunctions::StateMachine'));
  return JSON.stringify(sm.Properties.DefinitionString);
}

describe('LongTaskWaiter (restore drills on Step Functions)', () => {
  it('steps, then waits ($.waitSeconds), steps again or ends; a failure or an error is published, then fails', () => {
    // Prepare / Act
    const { template } = build();

    // Assess
    template.resourceCountIs('AWS::StepFunctions::StateMachine', 1);
    template.hasResourceProperties('AWS::StepFunctions::StateMachine', {
      DefinitionString: Match.anyValue(),
      TracingConfiguration: { Enabled: true },
      LoggingConfiguration: Match.objectLike({ Level: 'ALL' }),
    });
    const def = definitionOf(template);
    expect(def).toContain(`\\"TimeoutSeconds\\":${LONG_TASK_MAX_SECONDS}`);
    expect(def).toContain('\\"StartAt\\":\\"Start\\"');
    expect(def).toContain('\\"Start\\":{\\"Type\\":\\"Pass\\",\\"Parameters\\":{\\"state.$\\":\\"$\\"},\\"Next\\":\\"Step\\"}');
    expect(def).toMatch(/\\"Step\\":\{\\"Next\\":\\"Next\?\\",.*\\"Type\\":\\"Task\\"/);
    expect(def).toContain('\\"InputPath\\":\\"$.state\\"');
    expect(def).toContain('\\"Variable\\":\\"$.next\\",\\"StringEquals\\":\\"wait\\",\\"Next\\":\\"Wait\\"');
    expect(def).toContain('\\"Variable\\":\\"$.next\\",\\"StringEquals\\":\\"continue\\",\\"Next\\":\\"Step\\"');
    expect(def).toContain('\\"Variable\\":\\"$.next\\",\\"StringEquals\\":\\"done\\",\\"Next\\":\\"Passed?\\"');
    expect(def).toContain('\\"Wait\\":{\\"Type\\":\\"Wait\\",\\"SecondsPath\\":\\"$.waitSeconds\\",\\"Next\\":\\"Step\\"}');
    expect(def).toContain('\\"Variable\\":\\"$.passed\\",\\"BooleanEquals\\":true,\\"Next\\":\\"Succeeded\\"');
    expect(def).toContain('\\"Default\\":\\"NotifyFailed\\"');
    expect(def).toContain('\\"Catch\\":[{\\"ErrorEquals\\":[\\"States.ALL\\"],\\"ResultPath\\":\\"$.error\\",\\"Next\\":\\"NotifyError\\"}]');
    expect(def).toMatch(/\\"NotifyFailed\\":\{\\"Next\\":\\"Failed\\".*arn:.*:states:::sns:publish/);
    expect(def).toMatch(/\\"NotifyError\\":\{\\"Next\\":\\"Failed\\"/);
    expect(def).toContain('\\"Failed\\":{\\"Type\\":\\"Fail\\"');
  });

  it('schedules one drill per policy with `drill`, starting the state machine with {kind: drill, phase: pick, policy, startedAt: the event time}', () => {
    // Prepare / Act
    const { service: svc, template } = build({
      nightly: { schedule: 'rate(1 day)', drill: { schedule: 'cron(0 6 ? * MON *)' } },
      hourly: { schedule: 'rate(1 hour)', drill: { schedule: 'rate(7 days)' } },
      plain: { schedule: 'rate(1 day)' },
    });

    // Assess
    expect(Object.keys(svc.waiter!.drillRules).sort()).toEqual(['hourly', 'nightly']);
    template.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'cron(0 6 ? * MON *)',
      Targets: [
        Match.objectLike({
          Arn: { Ref: Match.stringLikeRegexp('LongTaskWaiterStateMachine') },
          InputTransformer: {
            InputPathsMap: { time: '$.time' },
            InputTemplate: '{"kind":"drill","phase":"pick","policy":"nightly","startedAt":<time>}',
          },
          RetryPolicy: { MaximumRetryAttempts: 2, MaximumEventAgeInSeconds: 7200 },
        }),
      ],
    });
    template.hasResourceProperties('AWS::Events::Rule', { ScheduleExpression: 'rate(7 days)' });
    expect(Object.values(template.findResources('AWS::Events::Rule')).filter((r) => JSON.stringify(r).includes('"kind\\":\\"drill')).length).toBe(2);
  });

  it('deploys no waiter when no policy has a drill', () => {
    const { service: svc, template } = build({ plain: { schedule: 'rate(1 day)' } });
    expect(svc.waiter).toBeUndefined();
    template.resourceCountIs('AWS::StepFunctions::StateMachine', 0);
  });

  it('the step function may delete only drill scratch tables, and runs the long-task handler', () => {
    // Prepare / Act
    const { service: svc, template } = build();
    const waiter = svc.waiter!;

    // Assess
    expect(actionsOn(template, waiter.stepRole, 'arn:<AWS::Partition>:dynamodb:<AWS::Region>:<AWS::AccountId>:table/*-drill-*')).toEqual(['dynamodb:DeleteTable']);
    const everyTable = actionsOn(template, waiter.stepRole, 'arn:<AWS::Partition>:dynamodb:<AWS::Region>:<AWS::AccountId>:table/*');
    expect(everyTable).not.toContain('dynamodb:DeleteTable');
    expect(everyTable).toEqual(expect.arrayContaining(['dynamodb:RestoreTableFromBackup', 'dynamodb:DescribeTable', 'dynamodb:Scan', 'dynamodb:TagResource']));
    expect(everyTable).not.toContain('dynamodb:DeleteBackup');
    template.hasResourceProperties('AWS::Lambda::Function', {
      Description: Match.stringLikeRegexp('one step of a long task'),
      Environment: { Variables: Match.objectLike({ DDB_BACKUP_LEDGER_TABLE: Match.anyValue(), DDB_BACKUP_TOPIC_ARN: Match.anyValue() }) },
    });
  });

  it('grantTaskActions adds another kind\'s actions to the step function', () => {
    // Prepare
    const built = service();
    const waiter = built.service.waiter!;
    // Act
    waiter.grantTaskActions(['dynamodb:ExportTableToPointInTime'], ['arn:aws:dynamodb:us-east-1:123456789012:table/orders']);
    // Assess
    expect(actionsOn(Template.fromStack(built.stack), waiter.stepRole, 'arn:aws:dynamodb:us-east-1:123456789012:table/orders')).toEqual(['dynamodb:ExportTableToPointInTime']);
  });

  it('has no unacknowledged cdk-nag findings', () => {
    const { app } = build();
    expect(unacknowledgedUnder(app, 'Svc/Backups/LongTaskWaiter')).toEqual([]);
  });
});
