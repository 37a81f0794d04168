import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as sns from 'aws-cdk-lib/aws-sns';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct } from 'constructs';
import { LONG_TASK_MAX_SECONDS } from '../../lambda/core/long-task';
import type { BackupServiceGrants } from '../backup-service-grants';
import * as perms from '../perms';
import { acknowledgeWildcardAction, acknowledgeWildcardResource } from '../private/acknowledge';
import { alarmArn, kinesisStreamArn, kmsKeyArn, tableArn } from '../private/arns';
import { handlerFunction } from '../private/handler-function';
import { serviceEnvironment } from './backup-functions';

/** One step never takes long: it starts or looks at something, or checks a restored table. */
const STEP_TIMEOUT = Duration.minutes(10);

export interface LongTaskWaiterProps {
  readonly ledgerTable: dynamodb.ITable;
  /** Failed tasks are published here. */
  readonly topic: sns.ITopic;
  /** Key of the topic: the state machine encrypts its notices with it. */
  readonly encryptionKey: kms.IKey;
  readonly tagKey: string;
  readonly logRetention: logs.RetentionDays;
  /** The service's permissions: the step function gets restore's (drills restore backups). */
  readonly grants: BackupServiceGrants;
}

/**
 * The waiter of long tasks (restore drills; export copies can be added): one Step Functions
 * state machine that runs any task of lambda/aws/long-tasks.ts by its `kind`, step by step,
 * waiting in Wait states, so no Lambda ever sleeps through a restore.
 *
 *   Start (Pass: {state: input}) -> Step (Lambda, payload $.state) -> Choice on $.next:
 *     wait     -> Wait ($.waitSeconds) -> Step
 *     continue -> Step
 *     done     -> Choice on $.passed: true -> Succeed; false -> Notify (SNS) -> Fail
 *   Step errors (after retries) -> Notify (SNS) -> Fail. Timeout: LONG_TASK_MAX_SECONDS.
 *
 * Scheduled drills: `addDrillSchedule(policy, expression)`, one rule per policy with `drill`.
 * Another kind of task: register it in lambda/aws/long-tasks.ts and grant its actions to the
 * step function with `grantTaskActions`.
 */
export class LongTaskWaiter extends Construct {
  public readonly stateMachine: sfn.StateMachine;
  /** The step function (lambda/handlers/long-task.handler.ts). */
  public readonly stepFunction: nodejs.NodejsFunction;
  public readonly stepRole: iam.Role;
  /** Drill schedule rules, by policy name. */
  public readonly drillRules: Record<string, events.Rule> = {};

  constructor(scope: Construct, id: string, props: LongTaskWaiterProps) {
    super(scope, id);
    const step = handlerFunction(this, 'StepFunction', {
      handler: 'long-task',
      description: 'DynamoDB backups: one step of a long task (restore drill) for the waiter state machine',
      timeout: STEP_TIMEOUT,
      logRetention: props.logRetention,
      environment: serviceEnvironment({ ledgerTable: props.ledgerTable, topic: props.topic, tagKey: props.tagKey }),
    });
    this.stepFunction = step.fn;
    this.stepRole = step.role;
    this.grantDrill(props);

    const notice = (id: string, message: sfn.TaskInput) =>
      new tasks.SnsPublish(this, id, { topic: props.topic, subject: 'DynamoDB backup: a long task failed', message, resultPath: sfn.JsonPath.DISCARD });
    const fail = new sfn.Fail(this, 'Failed', { error: 'LongTaskFailed', cause: 'the task failed or did not pass; the notice on the topic says why' });
    const stepTask = new tasks.LambdaInvoke(this, 'Step', {
      lambdaFunction: step.fn,
      // The task's state is the payload; the step's outcome replaces the state's input.
      inputPath: '$.state',
      payloadResponseOnly: true,
      retryOnServiceExceptions: true,
    });
    stepTask.addCatch(
      notice('NotifyError', sfn.TaskInput.fromObject({ 'task.$': '$.state', 'error.$': '$.error.Error', 'cause.$': '$.error.Cause' })).next(fail),
      { resultPath: '$.error' },
    );
    const wait = new sfn.Wait(this, 'Wait', { time: sfn.WaitTime.secondsPath('$.waitSeconds') }).next(stepTask);
    const done = new sfn.Choice(this, 'Passed?')
      .when(sfn.Condition.booleanEquals('$.passed', true), new sfn.Succeed(this, 'Succeeded'))
      .otherwise(notice('NotifyFailed', sfn.TaskInput.fromObject({ 'summary.$': '$.summary', 'task.$': '$.state' })).next(fail));
    const next = new sfn.Choice(this, 'Next?')
      .when(sfn.Condition.stringEquals('$.next', 'wait'), wait)
      .when(sfn.Condition.stringEquals('$.next', 'continue'), stepTask)
      .when(sfn.Condition.stringEquals('$.next', 'done'), done)
      .otherwise(fail);
    const start = new sfn.Pass(this, 'Start', { parameters: { 'state.$': '$' } });

    const logGroup = new logs.LogGroup(this, 'LogGroup', { retention: props.logRetention, removalPolicy: RemovalPolicy.RETAIN });
    this.stateMachine = new sfn.StateMachine(this, 'StateMachine', {
      comment: 'DynamoDB backups: long tasks (restore drills), one short step at a time',
      definitionBody: sfn.DefinitionBody.fromChainable(start.next(stepTask).next(next)),
      timeout: Duration.seconds(LONG_TASK_MAX_SECONDS),
      tracingEnabled: true,
      logs: { destination: logGroup, level: sfn.LogLevel.ALL, includeExecutionData: false },
    });
    props.encryptionKey.grant(this.stateMachine, ...perms.TOPIC_KEY_ACTIONS);
    this.acknowledge(props);
  }

  /**
   * Starts a restore drill of one table of `policy` on `expression` (the tables take turns, the
   * one drilled longest ago first): input `{kind: 'drill', phase: 'pick', policy, startedAt}`.
   */
  public addDrillSchedule(policy: string, expression: string): events.Rule {
    const rule = new events.Rule(this, `Drill-${policy}`, {
      description: `DynamoDB backups: restore drill of policy "${policy}"`,
      schedule: events.Schedule.expression(expression),
      targets: [
        new targets.SfnStateMachine(this.stateMachine, {
          input: events.RuleTargetInput.fromObject({ kind: 'drill', phase: 'pick', policy, startedAt: events.EventField.time }),
          retryAttempts: 2,
          maxEventAge: Duration.hours(2),
        }),
      ],
    });
    this.drillRules[policy] = rule;
    return rule;
  }

  /** Grants the step function what another kind of task does (register the task in lambda/aws/long-tasks.ts). */
  public grantTaskActions(actions: readonly string[], resourceArns: string[]): iam.Grant {
    return iam.Grant.addToPrincipal({ grantee: this.stepRole, actions: [...actions], resourceArns });
  }

  /** Lets `grantee` start (and look at) long tasks: `aws stepfunctions start-execution`. */
  public grantStart(grantee: iam.IGrantable): iam.Grant {
    return this.stateMachine.grantStartExecution(grantee).combine(this.stateMachine.grantRead(grantee));
  }

  /** A drill: choose a backup (ledger), read it and its source, restore, re-apply, check, delete the scratch table, record. */
  private grantDrill(props: LongTaskWaiterProps): void {
    const role = this.stepRole;
    props.grants.restore(role);
    props.ledgerTable.grantReadWriteData(role);
    this.grantTaskActions(perms.DRILL_READ_ACTIONS, [tableArn(this, '*'), tableArn(this, '*/backup/*')]);
    this.grantTaskActions(perms.SETTINGS_SNAPSHOT_TABLE_ACTIONS, [tableArn(this, '*')]);
    this.grantTaskActions(perms.SETTINGS_SNAPSHOT_INDEX_ACTIONS, [tableArn(this, '*/index/*')]);
    this.grantTaskActions([...perms.TAG_DISCOVERY_ACTIONS, ...perms.SETTINGS_SNAPSHOT_AUTOSCALING_ACTIONS], ['*']);
    this.grantTaskActions(perms.DRILL_CLEANUP_ACTIONS, [tableArn(this, '*-drill-*')]);
  }

  private acknowledge(props: LongTaskWaiterProps): void {
    const role = this.stepRole;
    acknowledgeWildcardResource(role, '*', 'tag:GetResources and Application Auto Scaling Describe* do not support resource-level permissions; a drill finds the tables of its policy by tag and reads their settings.');
    acknowledgeWildcardResource(role, tableArn(this, '*'), 'A drill restores any opted-in table\'s backup into a new scratch table and reads its settings; the scratch table\'s name is only known at run time.');
    acknowledgeWildcardResource(role, tableArn(this, '*/backup/*'), 'A drill reads (DescribeBackup) and restores the backups of opted-in tables, whose ARNs are known only at run time.');
    acknowledgeWildcardResource(role, tableArn(this, '*/index/*'), 'Settings of the indexes of the source and the scratch table (Contributor Insights), known only at run time.');
    acknowledgeWildcardResource(role, tableArn(this, '*-drill-*'), 'DeleteTable only on drill scratch tables (<table>-drill-<stamp>); the service deletes no other table.');
    acknowledgeWildcardResource(role, kmsKeyArn(this), 'A restore of a table encrypted with a customer managed key: DynamoDB describes the key and creates a grant with the caller\'s permissions, only via DynamoDB (kms:ViaService condition).');
    acknowledgeWildcardResource(role, kinesisStreamArn(this), 'Re-applying a Kinesis streaming destination to the scratch table: DynamoDB checks the caller may describe and write to the stream, known only at run time.');
    acknowledgeWildcardResource(role, alarmArn(this, 'TargetTracking-table/*'), 'Re-applying target tracking auto scaling: Application Auto Scaling manages its alarms with the caller\'s permissions.');
    acknowledgeWildcardResource(role, `${props.ledgerTable.tableArn}/index/*`, 'The ledger\'s indexes (CDK grantReadWriteData).');
    for (const action of perms.KEY_DATA_KEY_WILDCARD_ACTIONS) acknowledgeWildcardAction(role, action, 'KMS data-key actions for the single service key that encrypts the ledger and the topic.');
    for (const action of perms.TOPIC_KEY_ACTIONS.filter((a) => a.endsWith('*'))) {
      acknowledgeWildcardAction(this.stateMachine, action, 'Publishes failure notices to the topic, encrypted with the service key.');
    }
    acknowledgeWildcardResource(this.stateMachine, `${this.stepFunction.functionArn}:*`, 'Invokes the versions of its own step function (CDK LambdaInvoke).');
    acknowledgeWildcardResource(this.stateMachine, '*', 'X-Ray tracing and CloudWatch Logs delivery do not support resource-level permissions (CDK).');
  }
}
