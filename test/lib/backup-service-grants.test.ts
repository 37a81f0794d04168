import { Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { BackupServiceGrants } from '../../lib';
import * as perms from '../../lib/perms';
import { ONLY_ALLOWED_SENDERS_SID, QueueSenders } from '../../lib/private/queue-senders';
import { actionsOn, allActions, logicalIdOf, partFixture } from './helpers';

const TAG_KEY = 'team:backup';

function build(env?: { account: string; region: string }) {
  const fixture = partFixture(env);
  const { stack, scope, encryptionKey, ledgerTable, topic } = fixture;
  const jobQueue = new sqs.Queue(scope, 'JobQueue', { fifo: true, encryptionMasterKey: encryptionKey });
  const jobQueueSenders = new QueueSenders(scope, jobQueue);
  const grants = new BackupServiceGrants({ scope, ledgerTable, topic, encryptionKey, jobQueue, jobQueueSenders, tagKey: TAG_KEY });
  let n = 0;
  const role = () => new iam.Role(stack, `Role${++n}`, { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
  return { ...fixture, jobQueue, grants, role };
}

/**
 * The statements a Grant added to its principal, resolved, but for the grants on the ledger, the
 * queue, the topic and the key (they name those resources; the grants' own statements name ARN
 * patterns).
 */
function ownStatements(stack: Stack, grant: iam.Grant): Array<{ Action: string | string[]; Resource: unknown; Condition?: unknown }> {
  return grant.principalStatements
    .map((s) => stack.resolve(s.toStatementJson()))
    .filter((s) => !/"Fn::GetAtt"|"Ref":"(?!AWS::)/.test(JSON.stringify(s.Resource)));
}

const actionsOf = (s: { Action: string | string[] }) => ([] as string[]).concat(s.Action);

// Environment-agnostic stack: ARNs render with pseudo parameters.
const TABLES = 'arn:<AWS::Partition>:dynamodb:<AWS::Region>:<AWS::AccountId>:table/*';
const PARAMETERS = 'arn:<AWS::Partition>:ssm:<AWS::Region>:<AWS::AccountId>:parameter/dynamodb-backup/*';

describe('BackupServiceGrants', () => {
  it('builds the restore statements from the named lists, one statement per list, with their conditions', () => {
    // Prepare
    const { stack, grants, role } = build();

    // Act
    const grant = grants.restore(role());

    // Assess
    const statements = ownStatements(stack, grant);
    expect(statements.map(actionsOf)).toEqual([
      [...perms.RESTORE_ACTIONS, ...perms.SETTINGS_APPLY_ACTIONS, ...perms.RESTORE_DATA_ACTIONS],
      [...perms.RESOURCE_POLICY_APPLY_ACTIONS],
      [...perms.RESTORE_KEY_ACTIONS],
      [...perms.STREAMING_DESTINATION_ACTIONS],
      [...perms.TARGET_TRACKING_ALARM_ACTIONS],
      [...perms.SERVICE_LINKED_ROLE_ACTIONS],
      [...perms.AUTOSCALING_APPLY_ACTIONS],
    ]);
    expect(statements.map((s) => s.Condition)).toEqual([
      undefined,
      { Null: { [`aws:ResourceTag/${TAG_KEY}`]: 'true' } },
      { StringEquals: { 'kms:ViaService': { 'Fn::Join': ['', ['dynamodb.', { Ref: 'AWS::Region' }, '.amazonaws.com']] } } },
      undefined,
      undefined,
      { StringEquals: { 'iam:AWSServiceName': 'dynamodb.application-autoscaling.amazonaws.com' } },
      undefined,
    ]);
    expect(grant.success).toBe(true);
    expect(grant.principalStatements).toHaveLength(7);
  });

  it('lets the worker turn PITR on only on tables carrying the opt-in tag, and builds its statements from the named lists', () => {
    // Prepare
    const { stack, grants, role } = build();

    // Act
    const grant = grants.worker(role());

    // Assess
    const statements = ownStatements(stack, grant);
    expect(statements.map(actionsOf)).toEqual([
      [...perms.BACKUP_CREATE_ACTIONS, ...perms.SETTINGS_SNAPSHOT_TABLE_ACTIONS],
      [...perms.PITR_UPDATE_ACTIONS],
      [...perms.SETTINGS_SNAPSHOT_STREAM_ACTIONS],
      [...perms.SETTINGS_SNAPSHOT_INDEX_ACTIONS],
      [...perms.SETTINGS_SNAPSHOT_AUTOSCALING_ACTIONS],
      [...perms.BACKUP_PRUNE_ACTIONS],
      [...perms.POLICY_READ_ACTIONS],
    ]);
    expect(statements[1].Condition).toEqual({ StringLike: { [`aws:ResourceTag/${TAG_KEY}`]: '*' } });
    expect(statements.filter((s) => s.Condition !== undefined)).toHaveLength(1);
  });

  it('returns one Grant holding every statement a method added, the ones CDK makes included', () => {
    // Prepare
    const { stack, grants, role } = build();

    // Act
    const planner = grants.planner(role());
    const run = grants.run(role());

    // Assess: discovery, policy read, send, publish, key, ledger (with its key).
    const plannerActions = planner.principalStatements.flatMap((s) => actionsOf(stack.resolve(s.toStatementJson())));
    expect(plannerActions).toEqual(
      expect.arrayContaining([
        ...perms.PLANNER_DISCOVERY_ACTIONS,
        ...perms.POLICY_READ_ACTIONS,
        'sqs:SendMessage',
        'sns:Publish',
        ...perms.TOPIC_KEY_ACTIONS,
        'dynamodb:PutItem',
      ]),
    );
    const runActions = run.principalStatements.flatMap((s) => actionsOf(stack.resolve(s.toStatementJson())));
    expect(runActions).toEqual(expect.arrayContaining([...perms.PLANNER_DISCOVERY_ACTIONS, ...perms.BACKUP_CREATE_ACTIONS, ...perms.BACKUP_PRUNE_ACTIONS]));
  });

  it('gives the digest the coverage report (read-only) and publish, and status the report alone', () => {
    // Prepare
    const { grants, role } = build();
    const digestRole = role();
    const statusRole = role();

    // Act
    grants.digest(digestRole);
    grants.status(statusRole);

    // Assess
    const template = Template.fromStack(Stack.of(digestRole));
    for (const r of [digestRole, statusRole]) {
      expect(actionsOn(template, r, '*')).toEqual([...perms.COVERAGE_LIST_ACTIONS].sort());
      expect(actionsOn(template, r, TABLES)).toEqual([...perms.COVERAGE_DESCRIBE_ACTIONS].sort());
      expect(actionsOn(template, r, PARAMETERS)).toEqual([...perms.POLICY_READ_ACTIONS].sort());
      for (const a of allActions(template, r)) expect(a).not.toMatch(/^dynamodb:(Create|Delete|Put|Update|BatchWrite|Restore|Tag)/);
    }
    expect(allActions(template, digestRole)).toContain('sns:Publish');
    expect(allActions(template, statusRole)).not.toContain('sns:Publish');
  });

  it('gives the operator run, status, policy writes and restore', () => {
    // Prepare
    const { grants, role } = build();
    const operator = role();

    // Act
    grants.operator(operator);

    // Assess
    const template = Template.fromStack(Stack.of(operator));
    expect(actionsOn(template, operator, PARAMETERS)).toEqual([...perms.POLICY_READ_ACTIONS, ...perms.POLICY_WRITE_ACTIONS].sort());
    expect(allActions(template, operator)).toEqual(
      expect.arrayContaining([
        ...perms.PLANNER_DISCOVERY_ACTIONS,
        ...perms.BACKUP_CREATE_ACTIONS,
        ...perms.COVERAGE_LIST_ACTIONS,
        ...perms.RESTORE_ACTIONS,
        ...perms.AUTOSCALING_APPLY_ACTIONS,
      ]),
    );
  });

  it('names as job queue senders the grantees of planner, run and operator only', () => {
    // Prepare
    const { stack, jobQueue, grants, role } = build();
    const [planner, runner, operator, worker, status, restorer, digest] = [role(), role(), role(), role(), role(), role(), role()];

    // Act
    grants.planner(planner);
    grants.run(runner);
    grants.operator(operator);
    grants.worker(worker);
    grants.status(status);
    grants.restore(restorer);
    grants.digest(digest);

    // Assess
    const policy = Object.values(Template.fromStack(stack).findResources('AWS::SQS::QueuePolicy')).find(
      (p) => p.Properties.Queues[0].Ref === logicalIdOf(jobQueue),
    )!;
    const deny = policy.Properties.PolicyDocument.Statement.find((s: { Sid?: string }) => s.Sid === ONLY_ALLOWED_SENDERS_SID);
    expect(deny.Condition.ArnNotEquals['aws:PrincipalArn']).toEqual(
      [planner, runner, operator].map((r) => ({ 'Fn::GetAtt': [logicalIdOf(r), 'Arn'] })),
    );
  });

  it('formats every ARN in the account and region of the scope', () => {
    // Prepare
    const { stack, grants, role } = build({ account: '123456789012', region: 'eu-west-1' });

    // Act
    const grant = grants.restore(role());

    // Assess
    const resources = ownStatements(stack, grant).flatMap((s) => ([] as unknown[]).concat(s.Resource));
    expect(resources).toEqual([
      'arn:aws:dynamodb:eu-west-1:123456789012:table/*',
      'arn:aws:dynamodb:eu-west-1:123456789012:table/*/backup/*',
      'arn:aws:dynamodb:eu-west-1:123456789012:table/*/index/*',
      'arn:aws:dynamodb:eu-west-1:123456789012:table/*',
      'arn:aws:kms:eu-west-1:123456789012:key/*',
      'arn:aws:kinesis:eu-west-1:123456789012:stream/*',
      'arn:aws:cloudwatch:eu-west-1:123456789012:alarm:TargetTracking-table/*',
      'arn:aws:iam::123456789012:role/aws-service-role/dynamodb.application-autoscaling.amazonaws.com/AWSServiceRoleForApplicationAutoScaling_DynamoDBTable',
      '*',
    ]);
    expect(ownStatements(stack, grant)[2].Condition).toEqual({ StringEquals: { 'kms:ViaService': 'dynamodb.eu-west-1.amazonaws.com' } });
  });
});
