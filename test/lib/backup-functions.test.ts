import { Match, Template } from 'aws-cdk-lib/assertions';
import * as logs from 'aws-cdk-lib/aws-logs';
import { DEFAULTS, ENV } from '../../lambda/env';
import { BackupServiceGrants } from '../../lib';
import * as perms from '../../lib/perms';
import {
  BackupFunctions,
  DEFAULT_WORKER_CONCURRENCY,
  SERVICE_NAME,
  PLANNER_TIMEOUT,
  WORKER_TIMEOUT,
  serviceEnvironment,
} from '../../lib/service/backup-functions';
import { JobQueues } from '../../lib/service/job-queues';
import { actionsOn, logicalIdOf, partFixture, unacknowledgedUnder } from './helpers';

const TABLES = 'arn:<AWS::Partition>:dynamodb:<AWS::Region>:<AWS::AccountId>:table/*';

function build(workerConcurrency = DEFAULT_WORKER_CONCURRENCY) {
  const fixture = partFixture();
  const { scope, encryptionKey, ledgerTable, topic } = fixture;
  const queues = new JobQueues(scope, { maxReceiveCount: 4, workerTimeout: WORKER_TIMEOUT, plannerTimeout: PLANNER_TIMEOUT, encryptionKey, topic });
  const grants = new BackupServiceGrants({
    scope,
    ledgerTable,
    topic,
    encryptionKey,
    jobQueue: queues.jobQueue,
    jobQueueSenders: queues.senders,
    tagKey: 'team:backup',
  });
  const functions = new BackupFunctions(scope, {
    ledgerTable,
    topic,
    tagKey: 'team:backup',
    auditDays: 400,
    maxReceiveCount: 4,
    logRetention: logs.RetentionDays.ONE_WEEK,
    workerConcurrency,
    jobQueue: queues.jobQueue,
    planQueue: queues.planQueue,
    deadLetterQueue: queues.triggerDeadLetterQueue,
    grants,
  });
  return { ...fixture, queues, functions, template: Template.fromStack(fixture.stack) };
}

describe('BackupFunctions', () => {
  it('gives every function of the service the same environment; MAX_RECEIVE_COUNT only to the job queue side', () => {
    // Prepare
    const { stack, ledgerTable, topic } = partFixture();

    // Act
    const withCount = stack.resolve(serviceEnvironment({ ledgerTable, topic, tagKey: 'k', maxReceiveCount: 3 }));
    const without = stack.resolve(serviceEnvironment({ ledgerTable, topic, tagKey: 'k' }));

    // Assess: the key order is the deployed one.
    expect(Object.keys(withCount)).toEqual([
      ENV.LEDGER_TABLE,
      ENV.TOPIC_ARN,
      ENV.TAG_KEY,
      ENV.POLICY_PREFIX,
      ENV.TABLE_OVERRIDE_PREFIX,
      ENV.MAX_RECEIVE_COUNT,
      'POWERTOOLS_SERVICE_NAME',
    ]);
    expect(withCount).toEqual({
      [ENV.LEDGER_TABLE]: { Ref: logicalIdOf(ledgerTable) },
      [ENV.TOPIC_ARN]: { Ref: logicalIdOf(topic) },
      [ENV.TAG_KEY]: 'k',
      [ENV.POLICY_PREFIX]: DEFAULTS.POLICY_PREFIX,
      [ENV.TABLE_OVERRIDE_PREFIX]: DEFAULTS.TABLE_OVERRIDE_PREFIX,
      [ENV.MAX_RECEIVE_COUNT]: '3',
      POWERTOOLS_SERVICE_NAME: SERVICE_NAME,
    });
    expect(without).not.toHaveProperty(ENV.MAX_RECEIVE_COUNT);
  });

  it('creates the planner and the worker (log group, role, function) directly in the scope', () => {
    // Prepare / Act
    const { scope, functions } = build();

    // Assess
    expect(scope.node.findChild('Planner')).toBe(functions.planner);
    expect(scope.node.findChild('Worker')).toBe(functions.worker);
    for (const id of ['PlannerLogGroup', 'PlannerRole', 'WorkerLogGroup', 'WorkerRole']) expect(scope.node.tryFindChild(id)).toBeDefined();
    expect(functions.plannerLogGroup).toBe(scope.node.findChild('PlannerLogGroup'));
    expect(functions.workerLogGroup).toBe(scope.node.findChild('WorkerLogGroup'));
  });

  it('lets the planner send to the job queue and fail to the trigger DLQ; the worker has neither', () => {
    // Prepare / Act
    const { functions, queues, template } = build();

    // Assess
    const fns = template.findResources('AWS::Lambda::Function');
    const planner = fns[logicalIdOf(functions.planner)].Properties;
    const worker = fns[logicalIdOf(functions.worker)].Properties;
    expect(planner.Timeout).toBe(300);
    expect(planner.Environment.Variables).toMatchObject({ [ENV.JOB_QUEUE_URL]: { Ref: logicalIdOf(queues.jobQueue) }, [ENV.MAX_RECEIVE_COUNT]: '4' });
    expect(planner.DeadLetterConfig).toEqual({ TargetArn: { 'Fn::GetAtt': [logicalIdOf(queues.triggerDeadLetterQueue), 'Arn'] } });
    expect(worker.Timeout).toBe(WORKER_TIMEOUT.toSeconds());
    expect(worker.Environment.Variables).not.toHaveProperty(ENV.JOB_QUEUE_URL);
    expect(worker.DeadLetterConfig).toBeUndefined();
    template.allResourcesProperties('AWS::Logs::LogGroup', { RetentionInDays: 7 });
  });

  it('caps the worker at workerConcurrency: reserved concurrency and the job queue event source maximum', () => {
    // Prepare / Act
    const { functions, queues, template } = build(4);

    // Assess
    template.hasResourceProperties('AWS::Lambda::Function', {
      Role: { 'Fn::GetAtt': [logicalIdOf(functions.worker.role!), 'Arn'] },
      ReservedConcurrentExecutions: 4,
    });
    // Each container keeps to its share of the account's API rates.
    template.hasResourceProperties('AWS::Lambda::Function', {
      ReservedConcurrentExecutions: 4,
      Environment: { Variables: Match.objectLike({ [ENV.RATE_SHARE]: '4' }) },
    });
    // Two mappings: the worker's (capped) and the planner's plan queue of the fan-out (one message per invocation).
    template.resourceCountIs('AWS::Lambda::EventSourceMapping', 2);
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      FunctionName: { Ref: logicalIdOf(functions.planner) },
      EventSourceArn: { 'Fn::GetAtt': [logicalIdOf(queues.planQueue), 'Arn'] },
      BatchSize: 1,
    });
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      FunctionName: { Ref: logicalIdOf(functions.worker) },
      EventSourceArn: { 'Fn::GetAtt': [logicalIdOf(queues.jobQueue), 'Arn'] },
      BatchSize: 10,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      ScalingConfig: { MaximumConcurrency: 4 },
    });
  });

  it("grants the planner's and the worker's roles their own permissions", () => {
    // Prepare / Act
    const { functions, template } = build();

    // Assess
    expect(actionsOn(template, functions.planner.role!, '*')).toEqual([...perms.PLANNER_DISCOVERY_ACTIONS].sort());
    expect(actionsOn(template, functions.worker.role!, TABLES)).toEqual(
      [...perms.BACKUP_CREATE_ACTIONS, ...perms.SETTINGS_SNAPSHOT_TABLE_ACTIONS, ...perms.PITR_UPDATE_ACTIONS].sort(),
    );
    template.hasResourceProperties('AWS::IAM::Policy', {
      Roles: [{ Ref: logicalIdOf(functions.worker.role!) }],
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Action: 'dynamodb:UpdateContinuousBackups', Condition: { StringLike: { 'aws:ResourceTag/team:backup': '*' } } }),
        ]),
      },
    });
  });

  it("acknowledges every cdk-nag finding of the planner's and the worker's roles, each with its reason", () => {
    // Prepare
    const { app } = build();

    // Act
    app.synth();

    // Assess
    expect(unacknowledgedUnder(app, 'Svc/Backups/Planner')).toEqual([]);
    expect(unacknowledgedUnder(app, 'Svc/Backups/Worker')).toEqual([]);
  });
});
