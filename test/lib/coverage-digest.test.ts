import { Template } from 'aws-cdk-lib/assertions';
import * as logs from 'aws-cdk-lib/aws-logs';
import { DEFAULTS, DIGEST_ENV, ENV } from '../../lambda/env';
import { BackupServiceGrants } from '../../lib';
import * as perms from '../../lib/perms';
import { CoverageDigest, DEFAULT_DIGEST_SCHEDULE } from '../../lib/service/coverage-digest';
import type { CoverageDigestProps } from '../../lib/service/coverage-digest';
import { JobQueues } from '../../lib/service/job-queues';
import { PLANNER_TIMEOUT, WORKER_TIMEOUT } from '../../lib/service/backup-functions';
import { actionsOn, allActions, logicalIdOf, partFixture, unacknowledgedUnder } from './helpers';

const TABLES = 'arn:<AWS::Partition>:dynamodb:<AWS::Region>:<AWS::AccountId>:table/*';

function build(props: Partial<Pick<CoverageDigestProps, 'digestSchedule' | 'digestIgnoreTables'>> = {}) {
  const fixture = partFixture();
  const { scope, encryptionKey, ledgerTable, topic } = fixture;
  const queues = new JobQueues(scope, { maxReceiveCount: 3, workerTimeout: WORKER_TIMEOUT, plannerTimeout: PLANNER_TIMEOUT, encryptionKey, topic });
  const grants = new BackupServiceGrants({
    scope,
    ledgerTable,
    topic,
    encryptionKey,
    jobQueue: queues.jobQueue,
    jobQueueSenders: queues.senders,
    tagKey: DEFAULTS.TAG_KEY,
  });
  const digest = new CoverageDigest(scope, {
    ledgerTable,
    topic,
    tagKey: DEFAULTS.TAG_KEY,
    logRetention: logs.RetentionDays.ONE_MONTH,
    digestSchedule: DEFAULT_DIGEST_SCHEDULE,
    deadLetterQueue: queues.triggerDeadLetterQueue,
    grants,
    ...props,
  });
  return { ...fixture, queues, digest, template: Template.fromStack(fixture.stack) };
}

describe('CoverageDigest', () => {
  it('creates the digest (log group, role, function) and its rule directly in the scope', () => {
    // Prepare / Act
    const { scope, digest } = build();

    // Assess
    expect(scope.node.findChild('Digest')).toBe(digest.fn);
    expect(scope.node.findChild('DigestLogGroup')).toBe(digest.logGroup);
    expect(scope.node.findChild('DigestSchedule')).toBe(digest.rule);
    expect(scope.node.tryFindChild('DigestRole')).toBeDefined();
  });

  it('runs on digestSchedule with 2 retries within 2 hours, and sends failed deliveries and runs to the DLQ', () => {
    // Prepare / Act
    const { digest, queues, template } = build({ digestSchedule: 'cron(30 6 ? * MON-FRI *)' });

    // Assess
    const dlqArn = { 'Fn::GetAtt': [logicalIdOf(queues.triggerDeadLetterQueue), 'Arn'] };
    template.hasResourceProperties('AWS::Events::Rule', {
      Description: 'DynamoDB backups: daily coverage digest',
      ScheduleExpression: 'cron(30 6 ? * MON-FRI *)',
      Targets: [
        {
          Arn: { 'Fn::GetAtt': [logicalIdOf(digest.fn), 'Arn'] },
          Id: 'Target0',
          RetryPolicy: { MaximumRetryAttempts: 2, MaximumEventAgeInSeconds: 7200 },
          DeadLetterConfig: { Arn: dlqArn },
        },
      ],
    });
    template.hasResourceProperties('AWS::Lambda::Function', {
      Role: { 'Fn::GetAtt': [logicalIdOf(digest.fn.role!), 'Arn'] },
      Timeout: 600,
      DeadLetterConfig: { TargetArn: dlqArn },
    });
  });

  it('gets the service environment without MAX_RECEIVE_COUNT, and the ignore list only when given', () => {
    // Prepare / Act
    const plain = build();
    const ignoring = build({ digestIgnoreTables: ['scratch', 'tmp-*'] });

    // Assess
    const varsOf = (f: ReturnType<typeof build>) =>
      f.template.findResources('AWS::Lambda::Function')[logicalIdOf(f.digest.fn)].Properties.Environment.Variables;
    expect(varsOf(plain)).toEqual({
      [ENV.LEDGER_TABLE]: { Ref: logicalIdOf(plain.ledgerTable) },
      [ENV.TOPIC_ARN]: { Ref: logicalIdOf(plain.topic) },
      [ENV.TAG_KEY]: DEFAULTS.TAG_KEY,
      [ENV.POLICY_PREFIX]: DEFAULTS.POLICY_PREFIX,
      [ENV.TABLE_OVERRIDE_PREFIX]: DEFAULTS.TABLE_OVERRIDE_PREFIX,
      POWERTOOLS_SERVICE_NAME: 'ddb-backup',
    });
    expect(varsOf(ignoring)).toMatchObject({ [DIGEST_ENV.IGNORE_TABLES]: 'scratch,tmp-*' });
  });

  it('is read-only over every table, the tags, the policies and the ledger, and publishes to the topic', () => {
    // Prepare / Act
    const { digest, template } = build();

    // Assess
    const role = digest.fn.role!;
    expect(actionsOn(template, role, '*')).toEqual([...perms.COVERAGE_LIST_ACTIONS].sort());
    expect(actionsOn(template, role, TABLES)).toEqual([...perms.COVERAGE_DESCRIBE_ACTIONS].sort());
    const actions = allActions(template, role);
    expect(actions).toEqual(expect.arrayContaining(['sns:Publish', ...perms.TOPIC_KEY_ACTIONS, 'dynamodb:Query']));
    for (const a of actions) expect(a).not.toMatch(/^dynamodb:(Create|Delete|Put|Update|BatchWrite|Restore|Tag)/);
  });

  it("acknowledges every cdk-nag finding of the digest's role, each with its reason", () => {
    // Prepare
    const { app } = build();

    // Act
    app.synth();

    // Assess
    expect(unacknowledgedUnder(app, 'Svc/Backups/Digest')).toEqual([]);
  });
});
