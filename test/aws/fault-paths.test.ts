import { ApplicationAutoScalingClient, DescribeScalableTargetsCommand } from '@aws-sdk/client-application-auto-scaling';
/**
 * Fault paths of the real adapters and the worker handler, over SDK clients mocked with
 * aws-sdk-client-mock. Nothing here reaches a network: every client is mocked, and the clients the
 * handler builds point at a closed local port, so an unmocked call fails fast instead.
 */
import {
  BackupInUseException,
  CreateBackupCommand,
  DescribeTableCommand,
  DynamoDBClient,
  LimitExceededException,
  ListBackupsCommand,
  ResourceNotFoundException,
  TableNotFoundException,
  ThrottlingException,
  TransactionCanceledException,
} from '@aws-sdk/client-dynamodb';
import {
  GetResourcesCommand,
  ResourceGroupsTaggingAPIClient,
  type GetResourcesCommandInput,
  type GetResourcesCommandOutput,
  type ResourceTagMapping,
} from '@aws-sdk/client-resource-groups-tagging-api';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { SendMessageBatchCommand, SQSClient } from '@aws-sdk/client-sqs';
import { GetParameterCommand, GetParametersByPathCommand, InternalServerError, ParameterNotFound, SSMClient } from '@aws-sdk/client-ssm';
import {
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  TransactWriteCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import type { Context, SQSEvent, SQSRecord } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { Ledger } from '../../lambda/aws/ledger';
import { BackupsAdapter } from '../../lambda/aws/backups';
import { createClients } from '../../lambda/aws/clients';
import { Notifier } from '../../lambda/aws/notifier';
import { PolicyStore } from '../../lambda/aws/policy-store';
import { JobQueue } from '../../lambda/aws/queue';
import { buildService, type ServiceConfig } from '../../lambda/aws/service';
import { discoverTaggedTables } from '../../lambda/aws/tagging';
import { ClaimLostError } from '../../lambda/core/backup/claim';
import { PolicyUnavailableError, PolicyValidationError, RetryableError, TableNotFoundError } from '../../lambda/core/errors';
import { dedupeId, type BackupJob, type JobResult } from '../../lambda/core/jobs';
import type { Clock } from '../../lambda/core/ports';
import { parseSummaryJson, type RunReport } from '../../lambda/core/backup/summary';
import { DEFAULTS } from '../../lambda/env';

const REGION = 'us-east-1';
const credentials = { accessKeyId: 'AKIAFAKEFAKEFAKE', secretAccessKey: 'fake-secret' };
/** Nothing listens here: a call that escapes the mocks fails at once, locally. */
const DEAD_END = 'http://127.0.0.1:9';
const clientConfig = { region: REGION, credentials, endpoint: DEAD_END, maxAttempts: 1 };

const ddbMock = mockClient(DynamoDBClient);
const docMock = mockClient(DynamoDBDocumentClient);
// The worker's settings snapshot reads auto scaling: answer it here, never from AWS.
const asMock = mockClient(ApplicationAutoScalingClient);
const taggingMock = mockClient(ResourceGroupsTaggingAPIClient);
const ssmMock = mockClient(SSMClient);
const snsMock = mockClient(SNSClient);
const sqsMock = mockClient(SQSClient);

const meta = { $metadata: {} };

beforeEach(() => {
  ddbMock.reset();
  docMock.reset();
  asMock.reset();
  taggingMock.reset();
  ssmMock.reset();
  snsMock.reset();
  sqsMock.reset();
});

afterAll(() => {
  ddbMock.restore();
  docMock.restore();
  asMock.restore();
  taggingMock.restore();
  ssmMock.restore();
  snsMock.restore();
  sqsMock.restore();
});

async function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (err) {
    return err;
  }
  throw new Error('expected a rejection, but the promise resolved');
}

const tableArn = (table: string) => `arn:aws:dynamodb:${REGION}:123456789012:table/${table}`;

// ---------------------------------------------------------------------------------------------
// Tagging: discoverTaggedTables
// ---------------------------------------------------------------------------------------------

describe('discoverTaggedTables', () => {
  const TAG = 'backup:policy';
  const mapping = (table: string, tags?: Record<string, string>): ResourceTagMapping => ({
    ResourceARN: tableArn(table),
    ...(tags ? { Tags: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })) } : {}),
  });

  it('pages through every page, post-filters tables without a tag value, and dedupes', async () => {
    // Prepare
    const tagging = new ResourceGroupsTaggingAPIClient(clientConfig);
    const pagesByToken: Record<string, GetResourcesCommandOutput> = {
      first: {
        ResourceTagMappingList: [
          mapping('orders', { [TAG]: 'daily', team: 'shop' }),
          mapping('untagged-now', { team: 'shop' }), // tag removed: GetResources still lists it
          mapping('bare'), // no Tags at all
        ],
        PaginationToken: 'page-2',
        $metadata: {},
      },
      'page-2': {
        ResourceTagMappingList: [
          mapping('empty', { [TAG]: '' }),
          mapping('blank', { [TAG]: '  + ' }),
          mapping('orders', { [TAG]: 'daily' }), // listed twice
          mapping('users', { [TAG]: 'daily+hourly' }),
          { ResourceARN: 'arn:aws:dynamodb:us-east-1:123456789012:global-table/x', Tags: [{ Key: TAG, Value: 'daily' }] },
        ],
        PaginationToken: 'page-3',
        $metadata: {},
      },
      'page-3': {
        ResourceTagMappingList: [mapping('carts', { [TAG.toUpperCase()]: 'daily', [TAG]: 'weekly daily weekly' }), {}],
        PaginationToken: '',
        $metadata: {},
      },
    };
    // The SDK paginator reuses one input object across pages, so the token of each call is
    // captured when the call is made (the recorded inputs all show the last token).
    const tokens: (string | undefined)[] = [];
    taggingMock.on(GetResourcesCommand).callsFake((input: GetResourcesCommandInput) => {
      tokens.push(input.PaginationToken);
      return pagesByToken[input.PaginationToken ?? 'first'];
    });
    let pages = 0;
    // Act
    const tables = await discoverTaggedTables(tagging, TAG, () => pages++);
    // Assess
    expect(tables).toEqual([
      { table: 'orders', arn: tableArn('orders'), policies: ['daily'] },
      { table: 'users', arn: tableArn('users'), policies: ['daily', 'hourly'] },
      { table: 'carts', arn: tableArn('carts'), policies: ['weekly', 'daily'] },
    ]);
    expect(pages).toBe(3);
    expect(taggingMock).toHaveReceivedCommandTimes(GetResourcesCommand, 3);
    expect(taggingMock).toHaveReceivedNthCommandWith(1, GetResourcesCommand, {
      ResourceTypeFilters: ['dynamodb:table'],
      TagFilters: [{ Key: TAG }],
      ResourcesPerPage: 100,
    });
    expect(tokens).toEqual([undefined, 'page-2', 'page-3']);
  });

  it('returns nothing for an account without tagged tables (one call)', async () => {
    // Prepare
    const tagging = new ResourceGroupsTaggingAPIClient(clientConfig);
    taggingMock.on(GetResourcesCommand).resolves({ ResourceTagMappingList: [] });
    // Act
    const tables = await discoverTaggedTables(tagging, TAG);
    // Assess
    expect(tables).toEqual([]);
    expect(taggingMock).toHaveReceivedCommandTimes(GetResourcesCommand, 1);
  });

  it('fails loudly when a later page fails (never a silent partial list)', async () => {
    // Prepare
    const tagging = new ResourceGroupsTaggingAPIClient(clientConfig);
    taggingMock
      .on(GetResourcesCommand)
      .resolvesOnce({ ResourceTagMappingList: [mapping('orders', { [TAG]: 'daily' })], PaginationToken: 'page-2' })
      .rejectsOnce(Object.assign(new Error('Rate exceeded'), { name: 'ThrottledException' }));
    // Act
    const err = await rejectionOf(discoverTaggedTables(tagging, TAG));
    // Assess
    expect((err as Error).name).toBe('ThrottledException');
    expect(taggingMock).toHaveReceivedCommandTimes(GetResourcesCommand, 2);
  });
});

// ---------------------------------------------------------------------------------------------
// BackupsAdapter: SDK errors -> typed core errors
// ---------------------------------------------------------------------------------------------

describe('BackupsAdapter', () => {
  const adapter = () => new BackupsAdapter(new DynamoDBClient(clientConfig));

  it('creates a backup and maps the details', async () => {
    // Prepare
    const created = new Date('2026-11-24T03:00:05Z');
    ddbMock.on(CreateBackupCommand).resolves({
      BackupDetails: {
        BackupArn: `${tableArn('orders')}/backup/01700000000000-abcdef`,
        BackupName: 'ddbbk.daily.schedule.20261124T030005Z.abcdef',
        BackupStatus: 'CREATING',
        BackupCreationDateTime: created,
        BackupSizeBytes: 42,
        BackupType: 'USER',
      },
    });
    // Act
    const backup = await adapter().createBackup('orders', 'ddbbk.daily.schedule.20261124T030005Z.abcdef');
    // Assess
    expect(backup).toEqual({
      backupArn: `${tableArn('orders')}/backup/01700000000000-abcdef`,
      backupName: 'ddbbk.daily.schedule.20261124T030005Z.abcdef',
      status: 'CREATING',
      createdAt: created.toISOString(),
      sizeBytes: 42,
    });
    expect(ddbMock).toHaveReceivedCommandWith(CreateBackupCommand, {
      TableName: 'orders',
      BackupName: 'ddbbk.daily.schedule.20261124T030005Z.abcdef',
    });
  });

  it.each([
    ['TableNotFoundException', () => new TableNotFoundException({ message: 'Table not found: orders', ...meta })],
    ['ResourceNotFoundException', () => new ResourceNotFoundException({ message: 'Requested resource not found', ...meta })],
  ])('maps %s from CreateBackup to TableNotFoundError, keeping the cause', async (_name, make) => {
    // Prepare
    const sdkError = make();
    ddbMock.on(CreateBackupCommand).rejects(sdkError);
    // Act
    const err = await rejectionOf(adapter().createBackup('orders', 'ddbbk.x'));
    // Assess
    expect(err).toBeInstanceOf(TableNotFoundError);
    expect((err as TableNotFoundError).table).toBe('orders');
    expect((err as TableNotFoundError).cause).toBe(sdkError);
  });

  it('maps ResourceNotFoundException from DescribeTable to TableNotFoundError', async () => {
    // Prepare
    ddbMock.on(DescribeTableCommand).rejects(new ResourceNotFoundException({ message: 'Requested resource not found', ...meta }));
    // Act
    const err = await rejectionOf(adapter().describeTable('orders'));
    // Assess
    expect(err).toBeInstanceOf(TableNotFoundError);
    expect(ddbMock).toHaveReceivedCommandWith(DescribeTableCommand, { TableName: 'orders' });
  });

  it.each([
    ['LimitExceededException', () => new LimitExceededException({ message: 'Too many concurrent backups', ...meta })],
    ['ThrottlingException', () => new ThrottlingException({ message: 'Rate of requests exceeds the allowed throughput', ...meta })],
    ['BackupInUseException', () => new BackupInUseException({ message: 'Backup is being created', ...meta })],
    ['an HTTP 500', () => Object.assign(new Error('We encountered an internal error'), { name: 'SomethingNew', $metadata: { httpStatusCode: 500 } })],
  ])('maps %s from CreateBackup to RetryableError, naming the call and table', async (name, make) => {
    // Prepare
    const sdkError = make();
    ddbMock.on(CreateBackupCommand).rejects(sdkError);
    // Act
    const err = await rejectionOf(adapter().createBackup('orders', 'ddbbk.x'));
    // Assess
    expect(err).toBeInstanceOf(RetryableError);
    expect((err as Error).message).toMatch(/^CreateBackup orders: /);
    expect((err as Error).message).toContain(name.startsWith('an ') ? 'internal error' : name);
    expect((err as Error).cause).toBe(sdkError);
  });

  it('maps throttling on DescribeTable to RetryableError', async () => {
    // Prepare
    ddbMock.on(DescribeTableCommand).rejects(new ThrottlingException({ message: 'slow down', ...meta }));
    // Act
    const err = await rejectionOf(adapter().describeTable('orders'));
    // Assess
    expect(err).toBeInstanceOf(RetryableError);
    expect((err as Error).message).toMatch(/^DescribeTable orders: /);
  });

  it('passes other errors through unchanged (they fail the job for good)', async () => {
    // Prepare
    const sdkError = Object.assign(new Error('1 validation error detected: Value at backupName failed to satisfy constraint'), {
      name: 'ValidationException',
      $metadata: { httpStatusCode: 400 },
    });
    ddbMock.on(CreateBackupCommand).rejects(sdkError);
    // Act
    const err = await rejectionOf(adapter().createBackup('orders', 'ddbbk.x'));
    // Assess
    expect(err).toBe(sdkError);
  });

  it('fails when CreateBackup returns no backup ARN', async () => {
    // Prepare
    ddbMock.on(CreateBackupCommand).resolves({ BackupDetails: undefined });
    // Act
    const err = await rejectionOf(adapter().createBackup('orders', 'ddbbk.x'));
    // Assess
    expect((err as Error).message).toBe('CreateBackup for orders returned no backup ARN');
  });

  it('reads status, size and item count from DescribeTable', async () => {
    // Prepare
    ddbMock.on(DescribeTableCommand).resolves({ Table: { TableStatus: 'ACTIVE', TableSizeBytes: 2048, ItemCount: 7 } });
    // Act
    const facts = await adapter().describeTable('orders');
    // Assess
    expect(facts).toEqual({ table: 'orders', status: 'ACTIVE', sizeBytes: 2048, itemCount: 7 });
  });
});

// ---------------------------------------------------------------------------------------------
// PolicyStore over SSM
// ---------------------------------------------------------------------------------------------

describe('PolicyStore', () => {
  const store = () => new PolicyStore(new SSMClient(clientConfig), { cacheSeconds: 300 });
  const policyPath = `${DEFAULTS.POLICY_PREFIX}daily`;

  it('reads and validates a named policy from its parameter', async () => {
    // Prepare
    ssmMock.on(GetParameterCommand, { Name: policyPath }).resolves({ Parameter: { Name: policyPath, Value: '{"retention":{"keepDaily":7}}' } });
    // Act
    const policy = await store().getPolicy('daily');
    // Assess
    expect(policy).toEqual({ retention: { keepDaily: 7 }, minIntervalMinutes: 0, notify: 'failures' });
    expect(ssmMock).toHaveReceivedCommandWith(GetParameterCommand, { Name: policyPath });
  });

  it('caches a policy for cacheSeconds (one GetParameter for two reads)', async () => {
    // Prepare
    ssmMock.on(GetParameterCommand).resolves({ Parameter: { Name: policyPath, Value: '{}' } });
    const s = store();
    // Act
    await s.getPolicy('daily');
    await s.getPolicy('daily');
    // Assess
    expect(ssmMock).toHaveReceivedCommandTimes(GetParameterCommand, 1);
  });

  it('maps ParameterNotFound to a non-retryable PolicyUnavailableError', async () => {
    // Prepare
    ssmMock.on(GetParameterCommand).rejects(new ParameterNotFound({ message: '', ...meta }));
    // Act
    const err = await rejectionOf(store().getPolicy('daily'));
    // Assess
    expect(err).toBeInstanceOf(PolicyUnavailableError);
    expect((err as PolicyUnavailableError).retryable).toBe(false);
    expect((err as PolicyUnavailableError).policy).toBe('daily');
    expect((err as Error).message).toContain(`${policyPath} does not exist`);
  });

  it('maps an SSM outage (InternalServerError) to a retryable PolicyUnavailableError', async () => {
    // Prepare
    const outage = new InternalServerError({ message: 'An internal error occurred', ...meta });
    ssmMock.on(GetParameterCommand).rejects(outage);
    // Act
    const err = await rejectionOf(store().getPolicy('daily'));
    // Assess
    expect(err).toBeInstanceOf(PolicyUnavailableError);
    expect((err as PolicyUnavailableError).retryable).toBe(true);
    expect((err as Error).message).toContain('An internal error occurred');
    let cause: unknown = err;
    while ((cause as Error).cause) cause = (cause as Error).cause;
    expect(cause).toBe(outage);
  });

  it('reports malformed JSON in SSM as a PolicyValidationError naming "(json)"', async () => {
    // Prepare
    ssmMock.on(GetParameterCommand).resolves({ Parameter: { Name: policyPath, Value: '{"retention": {"keepDaily": 7}' } });
    // Act
    const [fromGet, fromEffective] = await Promise.all([
      rejectionOf(store().getPolicy('daily')),
      rejectionOf(store().getEffective('daily', 'orders')),
    ]);
    // Assess
    for (const err of [fromGet, fromEffective]) {
      expect(err).toBeInstanceOf(PolicyValidationError);
      expect((err as PolicyValidationError).issues).toEqual([expect.stringMatching(/^\(json\): /)]);
      expect((err as Error).message).toContain('"daily"');
    }
  });

  it('reports a schema error in SSM naming the field and the parameter', async () => {
    // Prepare
    ssmMock.on(GetParameterCommand).resolves({ Parameter: { Name: policyPath, Value: '{"retention": {"keepDaily": -1}}' } });
    // Act
    const err = await rejectionOf(store().getPolicy('daily'));
    // Assess
    expect(err).toBeInstanceOf(PolicyValidationError);
    expect((err as Error).message).toContain(policyPath);
    expect((err as PolicyValidationError).issues).toEqual([expect.stringMatching(/^retention\.keepDaily: /)]);
  });

  it('rejects an invalid policy name without calling SSM', async () => {
    // Prepare
    const name = '../tables/orders';
    // Act
    const err = await rejectionOf(store().getPolicy(name));
    // Assess
    expect(err).toBeInstanceOf(PolicyValidationError);
    expect(ssmMock).toHaveReceivedCommandTimes(GetParameterCommand, 0);
  });

  it('merges the table override read from the overrides path', async () => {
    // Prepare
    ssmMock.on(GetParameterCommand).resolves({ Parameter: { Name: policyPath, Value: '{"retention":{"keepDaily":7,"keepWeekly":4}}' } });
    ssmMock.on(GetParametersByPathCommand).resolves({
      Parameters: [
        { Name: `${DEFAULTS.TABLE_OVERRIDE_PREFIX}orders`, Value: '{"retention":{"keepWeekly":null,"keepLast":2}}' },
        { Name: `${DEFAULTS.TABLE_OVERRIDE_PREFIX}users`, Value: '{"minIntervalMinutes":5}' },
      ],
    });
    // Act
    const effective = await store().getEffective('daily', 'orders');
    // Assess
    expect(effective.overridden).toBe(true);
    expect(effective.policy.retention).toEqual({ keepDaily: 7, keepLast: 2 });
    expect(ssmMock).toHaveReceivedCommandWith(GetParametersByPathCommand, {
      Path: DEFAULTS.TABLE_OVERRIDE_PREFIX.replace(/\/$/, ''),
      Recursive: false,
    });
  });

  it('maps an outage while reading overrides to a retryable PolicyUnavailableError', async () => {
    // Prepare
    ssmMock.on(GetParameterCommand).resolves({ Parameter: { Name: policyPath, Value: '{}' } });
    ssmMock.on(GetParametersByPathCommand).rejects(new InternalServerError({ message: 'boom', ...meta }));
    // Act
    const err = await rejectionOf(store().getEffective('daily', 'orders'));
    // Assess
    expect(err).toBeInstanceOf(PolicyUnavailableError);
    expect((err as PolicyUnavailableError).retryable).toBe(true);
    expect((err as Error).message).toContain('table "orders"');
  });
});

// ---------------------------------------------------------------------------------------------
// JobQueue over SQS FIFO
// ---------------------------------------------------------------------------------------------

describe('JobQueue', () => {
  const QUEUE_URL = 'https://sqs.us-east-1.amazonaws.com/123456789012/ddb-backup-jobs.fifo';
  const jobs: BackupJob[] = Array.from({ length: 23 }, (_, i) => ({
    table: `t${String(i).padStart(2, '0')}`,
    policy: 'daily',
    trigger: 'schedule',
    slot: 'schedule:2026-11-24T03:00:00.000Z',
    requestedAt: '2026-11-24T03:00:00.000Z',
    runId: 'daily|schedule|schedule:2026-11-24T03:00:00.000Z',
  }));
  const entries = (batch: BackupJob[]) =>
    batch.map((job, idx) => ({
      Id: String(idx),
      MessageBody: JSON.stringify(job),
      MessageGroupId: job.table,
      MessageDeduplicationId: dedupeId(job),
    }));

  it('sends batches of at most 10, grouped by table, with a dedupe id per job', async () => {
    // Prepare
    sqsMock.on(SendMessageBatchCommand).resolves({ Successful: [], Failed: [] });
    const queue = new JobQueue(new SQSClient(clientConfig), QUEUE_URL);
    // Act
    const failures = await queue.enqueue(jobs);
    // Assess
    expect(failures).toEqual([]);
    expect(sqsMock).toHaveReceivedCommandTimes(SendMessageBatchCommand, 3);
    expect(sqsMock).toHaveReceivedNthCommandWith(1, SendMessageBatchCommand, { QueueUrl: QUEUE_URL, Entries: entries(jobs.slice(0, 10)) });
    expect(sqsMock).toHaveReceivedNthCommandWith(2, SendMessageBatchCommand, { QueueUrl: QUEUE_URL, Entries: entries(jobs.slice(10, 20)) });
    expect(sqsMock).toHaveReceivedNthCommandWith(3, SendMessageBatchCommand, { QueueUrl: QUEUE_URL, Entries: entries(jobs.slice(20)) });
    expect(dedupeId(jobs[0]).length).toBeLessThanOrEqual(128);
  });

  it('reports the entries SQS lists as Failed, mapped back to their jobs', async () => {
    // Prepare
    sqsMock
      .on(SendMessageBatchCommand)
      .resolvesOnce({ Failed: [] })
      .resolvesOnce({
        Failed: [
          { Id: '3', Code: 'InternalError', Message: 'try again', SenderFault: false },
          { Id: '9', Code: 'InvalidParameterValue', SenderFault: true },
        ],
      })
      .resolvesOnce({});
    const queue = new JobQueue(new SQSClient(clientConfig), QUEUE_URL);
    // Act
    const failures = await queue.enqueue(jobs);
    // Assess
    expect(failures).toEqual([
      { job: jobs[13], error: 'InternalError: try again' },
      { job: jobs[19], error: 'InvalidParameterValue:' },
    ]);
    expect(sqsMock).toHaveReceivedCommandTimes(SendMessageBatchCommand, 3);
  });

  it('reports every job of a batch whose call fails, and still sends the other batches', async () => {
    // Prepare
    sqsMock
      .on(SendMessageBatchCommand)
      .resolvesOnce({})
      .rejectsOnce(Object.assign(new Error('Access to the resource is denied'), { name: 'AccessDenied' }))
      .resolvesOnce({});
    const queue = new JobQueue(new SQSClient(clientConfig), QUEUE_URL);
    // Act
    const failures = await queue.enqueue(jobs);
    // Assess
    expect(failures.map((f) => f.job)).toEqual(jobs.slice(10, 20));
    expect(failures[0].error).toBe('AccessDenied: Access to the resource is denied');
    expect(sqsMock).toHaveReceivedCommandTimes(SendMessageBatchCommand, 3);
  });

  it('sends nothing for no jobs', async () => {
    // Prepare
    const queue = new JobQueue(new SQSClient(clientConfig), QUEUE_URL);
    // Act
    const failures = await queue.enqueue([]);
    // Assess
    expect(failures).toEqual([]);
    expect(sqsMock).toHaveReceivedCommandTimes(SendMessageBatchCommand, 0);
  });
});

// ---------------------------------------------------------------------------------------------
// Notifier over SNS
// ---------------------------------------------------------------------------------------------

describe('Notifier', () => {
  const TOPIC = `arn:aws:sns:${REGION}:123456789012:ddb-backup`;
  const SNS_MAX_BYTES = 256 * 1024;
  const base: Omit<RunReport, 'results' | 'problems'> = {
    runId: 'daily|schedule|schedule:2026-11-24T03:00:00.000Z',
    policy: 'daily',
    trigger: 'schedule',
    startedAt: '2026-11-24T03:00:01.000Z',
    finishedAt: '2026-11-24T03:00:09.000Z',
  };
  const backedUp = (i: number): JobResult => ({
    table: `table-with-a-rather-long-name-${String(i).padStart(5, '0')}`,
    policy: 'daily',
    status: 'backed-up',
    backupArn: `${tableArn(`table-with-a-rather-long-name-${i}`)}/backup/01700000000000-abcdef`,
  });
  const failed = (i: number, reason = 'CreateBackup: LimitExceededException: too many'): JobResult => ({
    table: `failing-${String(i).padStart(5, '0')}`,
    policy: 'daily',
    status: 'failed',
    reason,
  });

  /** The Message of the n-th Publish, read from the mock. */
  const publishedMessage = (n = 0): string => String(snsMock.commandCalls(PublishCommand)[n].args[0].input.Message);

  it('publishes the subject, the human text and the JSON block, with outcome attributes', async () => {
    // Prepare
    snsMock.on(PublishCommand).resolves({ MessageId: 'm-1' });
    const report: RunReport = { ...base, results: [backedUp(1), failed(2)], problems: [] };
    // Act
    const id = await new Notifier(new SNSClient(clientConfig), TOPIC).publishRun(report);
    // Assess
    expect(id).toBe('m-1');
    expect(snsMock).toHaveReceivedCommandTimes(PublishCommand, 1);
    expect(snsMock).toHaveReceivedCommandWith(PublishCommand, {
      TopicArn: TOPIC,
      Subject: '[ddb-backup] PARTIAL: daily (schedule) - 1 backed up, 1 failed',
      Message: expect.stringMatching(/^DynamoDB backup run PARTIAL\n[\s\S]*\n```json\n[\s\S]*\n```$/),
      MessageAttributes: {
        policy: { DataType: 'String', StringValue: 'daily' },
        outcome: { DataType: 'String', StringValue: 'PARTIAL' },
      },
    });
    expect(parseSummaryJson(publishedMessage())).toMatchObject({
      counts: expect.objectContaining({ backedUp: 1, skipped: 0, failed: 1, problems: 0 }),
      results: report.results,
    });
  });

  it('publishes nothing without a topic', async () => {
    // Prepare
    const report: RunReport = { ...base, results: [failed(1)], problems: [] };
    // Act
    const id = await new Notifier(new SNSClient(clientConfig), undefined).publishRun(report);
    // Assess
    expect(id).toBeUndefined();
    expect(snsMock).toHaveReceivedCommandTimes(PublishCommand, 0);
  });

  it('leaves success rows out of a report too large for SNS, keeping every failure, the true counts and a readable JSON block', async () => {
    // Prepare
    snsMock.on(PublishCommand).resolves({ MessageId: 'm-2' });
    const results = [...Array.from({ length: 3000 }, (_, i) => backedUp(i)), failed(1), failed(2)];
    const report: RunReport = { ...base, results, problems: [{ kind: 'unknown-policy', table: 'x', message: 'tag names unknown policy "dialy"' }] };
    // Act
    await new Notifier(new SNSClient(clientConfig), TOPIC).publishRun(report);
    // Assess
    expect(snsMock).toHaveReceivedCommandWith(PublishCommand, {
      Subject: '[ddb-backup] PARTIAL: daily (schedule) - 3000 backed up, 2 failed, 1 warning',
      Message: expect.stringMatching(/^DynamoDB backup run PARTIAL\n/),
    });
    const message = publishedMessage();
    expect(Buffer.byteLength(message)).toBeLessThan(SNS_MAX_BYTES);
    expect(message).toMatch(/results left out: the message would exceed SNS's size limit/);
    const machine = parseSummaryJson(message) as { truncated?: boolean; outcome: string; counts: Record<string, number>; results: JobResult[]; problems: unknown[]; warnings: unknown[] };
    expect(machine.truncated).toBe(true);
    expect(machine.outcome).toBe('PARTIAL');
    expect(machine.counts).toMatchObject({ backedUp: 3000, failed: 2, problems: 0, warnings: 1 });
    expect(machine.results.slice(0, 2)).toEqual([failed(1), failed(2)]);
    expect(machine.problems).toHaveLength(0);
    expect(machine.warnings).toHaveLength(1);
  });

  it('caps even the failures of a huge report, measured in bytes, with the JSON block intact', async () => {
    // Prepare
    snsMock.on(PublishCommand).resolves({ MessageId: 'm-3' });
    const results = Array.from({ length: 3000 }, (_, i) => failed(i, `CreateBackup failed: ${'ü'.repeat(200)}`));
    const report: RunReport = { ...base, results, problems: [] };
    // Act
    await new Notifier(new SNSClient(clientConfig), TOPIC).publishRun(report);
    // Assess
    expect(snsMock).toHaveReceivedCommandTimes(PublishCommand, 1);
    expect(snsMock).toHaveReceivedCommandWith(PublishCommand, {
      Subject: '[ddb-backup] FAILED: daily (schedule) - 0 backed up, 3000 failed',
    });
    const message = publishedMessage();
    expect(Buffer.byteLength(message)).toBeLessThan(SNS_MAX_BYTES);
    expect(message).toContain('Failed:\n  - failing-00000 [daily]: CreateBackup failed:');
    const machine = parseSummaryJson(message) as { truncated?: boolean; counts: Record<string, number>; results: JobResult[] };
    expect(machine.truncated).toBe(true);
    expect(machine.counts.failed).toBe(3000);
    expect(machine.results.length).toBeGreaterThan(0);
    expect(machine.results.length).toBeLessThan(3000);
  });
});

// ---------------------------------------------------------------------------------------------
// Worker handler: SQS redelivery, the last receive and the DLQ
// ---------------------------------------------------------------------------------------------

describe('Ledger.recordBackup', () => {
  const job = { table: 'orders', policy: 'daily', slot: 's', trigger: 'schedule', requestedAt: '2026-11-24T03:00:00.000Z', runId: 'r' } as const;
  const created = { backupArn: 'arn:b', backupName: 'n', status: 'CREATING', createdAt: '2026-11-24T03:00:05.000Z', sizeBytes: 10 };
  const updates = () => docMock.commandCalls(TransactWriteCommand)[0].args[0].input.TransactItems!.map((i) => i.Update!);
  const ATTEMPT = 'attempt-1';

  it('records the item count with when DynamoDB reported it, on the backup and the state', async () => {
    // Prepare
    docMock.on(TransactWriteCommand).resolves({});
    // Act
    await new Ledger(new DynamoDBClient(clientConfig), 'ledger').recordBackup(job, { ...created, itemCount: 7, itemCountAt: '2026-11-24T01:00:00.000Z' }, ATTEMPT);
    // Assess
    const [record, state] = updates();
    expect(record.UpdateExpression).toContain('itemCount = :items, itemCountAt = :itemsAt');
    expect(state.UpdateExpression).toContain('lastItemCount = :items, itemCountAt = :itemsAt');
    expect(record.ExpressionAttributeValues).toMatchObject({ ':items': 7, ':itemsAt': '2026-11-24T01:00:00.000Z' });
  });

  it("writes the backup only while the claim is still the attempt's, and releases the cooldown's in-flight mark", async () => {
    // Prepare
    docMock.on(TransactWriteCommand).resolves({});
    // Act
    await new Ledger(new DynamoDBClient(clientConfig), 'ledger').recordBackup(job, created, ATTEMPT);
    // Assess
    expect(docMock).toHaveReceivedCommandTimes(TransactWriteCommand, 1);
    const [record, state] = updates();
    expect(record).toMatchObject({
      Key: { pk: 'TABLE#orders', sk: 'BACKUP#daily#s' },
      ConditionExpression: 'attemptId = :attempt',
      ExpressionAttributeValues: expect.objectContaining({ ':attempt': ATTEMPT, ':arn': 'arn:b', ':name': 'n', ':status': 'CREATING' }),
    });
    expect(state.UpdateExpression).toMatch(/REMOVE .*claimSlot, claimAt$/);
  });

  it('turns a lost attempt condition into ClaimLostError: the backup is not recorded as the service\'s', async () => {
    // Prepare
    docMock.on(TransactWriteCommand).rejects(
      new TransactionCanceledException({ message: 'Transaction cancelled', CancellationReasons: [{ Code: 'ConditionalCheckFailed' }, { Code: 'None' }], ...meta }),
    );
    // Act
    const err = await rejectionOf(new Ledger(new DynamoDBClient(clientConfig), 'ledger').recordBackup(job, created, ATTEMPT));
    // Assess
    expect(err).toBeInstanceOf(ClaimLostError);
    expect(err).toMatchObject({ table: 'orders', slot: 's' });
    expect(docMock).toHaveReceivedCommandTimes(TransactWriteCommand, 1);
  });

  it('records no item count when there is none, and drops the cached one so it is not reused as a fresh 0', async () => {
    // Prepare
    docMock.on(TransactWriteCommand).resolves({});
    // Act
    await new Ledger(new DynamoDBClient(clientConfig), 'ledger').recordBackup(job, created, ATTEMPT);
    // Assess
    const [record, state] = updates();
    expect(record.UpdateExpression).not.toContain('itemCount');
    expect(state.UpdateExpression).toContain('REMOVE lastError, lastItemCount, itemCountAt');
    expect(record.ExpressionAttributeValues).not.toHaveProperty(':items');
  });
});

describe('worker handler', () => {
  type HandlerModule = typeof import('../../lambda/handlers/worker.handler');
  let mod: HandlerModule;
  const savedEnv = { ...process.env };

  beforeAll(async () => {
    process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';
    process.env.AWS_ACCESS_KEY_ID = credentials.accessKeyId;
    process.env.AWS_SECRET_ACCESS_KEY = credentials.secretAccessKey;
    process.env.AWS_REGION = REGION;
    mod = await import('../../lambda/handlers/worker.handler');
  });

  afterAll(() => {
    process.env = savedEnv;
  });

  const LEDGER = 'ddb-backup-ledger';
  const TOPIC = `arn:aws:sns:${REGION}:123456789012:ddb-backup`;
  const NOW = new Date('2026-11-24T03:00:05.000Z');
  const clock: Clock = { now: () => NOW };
  const config: ServiceConfig = {
    ledgerTable: LEDGER,
    topicArn: TOPIC,
    jobQueueUrl: 'https://sqs.us-east-1.amazonaws.com/123456789012/ddb-backup-jobs.fifo',
    tagKey: DEFAULTS.TAG_KEY,
    policyPrefix: DEFAULTS.POLICY_PREFIX,
    tablePrefix: DEFAULTS.TABLE_OVERRIDE_PREFIX,
    cacheSeconds: 0,
    maxReceiveCount: 3,
  };
  const service = () => buildService(createClients({ region: REGION, endpoint: DEAD_END, maxAttempts: 1 }), config, clock);

  const job: BackupJob = {
    table: 'orders',
    policy: 'daily',
    trigger: 'schedule',
    slot: 'schedule:2026-11-24T03:00:00.000Z',
    requestedAt: '2026-11-24T03:00:00.000Z',
    runId: 'daily|schedule|schedule:2026-11-24T03:00:00.000Z',
  };
  const runKey = { pk: `RUN#${job.runId}`, sk: 'RUN' };

  function record(receiveCount: number, body: string = JSON.stringify(job), messageId = 'msg-1'): SQSRecord {
    return {
      messageId,
      receiptHandle: `rh-${messageId}`,
      body,
      attributes: {
        ApproximateReceiveCount: String(receiveCount),
        SentTimestamp: String(NOW.getTime()),
        SenderId: 'AIDAFAKE',
        ApproximateFirstReceiveTimestamp: String(NOW.getTime()),
        MessageGroupId: job.table,
        MessageDeduplicationId: dedupeId(job),
        SequenceNumber: '1',
      },
      messageAttributes: {},
      md5OfBody: 'd41d8cd98f00b204e9800998ecf8427e',
      eventSource: 'aws:sqs',
      eventSourceARN: `arn:aws:sqs:${REGION}:123456789012:ddb-backup-jobs.fifo`,
      awsRegion: REGION,
    };
  }
  const event = (...records: SQSRecord[]): SQSEvent => ({ Records: records });
  const context = {
    functionName: 'ddb-backup-worker',
    awsRequestId: 'req-1',
    getRemainingTimeInMillis: () => 60_000,
  } as unknown as Context;

  /** A ledger with no state, a run of one expected job, SSM with a valid policy, SNS up. */
  function happyWorld() {
    ssmMock.on(GetParameterCommand).resolves({ Parameter: { Name: `${DEFAULTS.POLICY_PREFIX}daily`, Value: '{"retention":{"keepLast":3}}' } });
    ssmMock.on(GetParametersByPathCommand).resolves({ Parameters: [] });
    docMock.on(GetCommand).resolves({});
    docMock.on(GetCommand, { Key: runKey }).resolves({
      Item: { ...runKey, runId: job.runId, policy: 'daily', trigger: 'schedule', startedAt: NOW.toISOString(), expected: 1, completed: 1, problems: [], notify: 'failures' },
    });
    docMock.on(PutCommand).resolves({});
    docMock.on(TransactWriteCommand).resolves({});
    docMock.on(UpdateCommand).resolves({});
    docMock.on(QueryCommand).resolves({ Items: [] });
    ddbMock.on(DescribeTableCommand).resolves({ Table: { TableName: 'orders', TableStatus: 'ACTIVE', TableSizeBytes: 10, ItemCount: 1 } });
    ddbMock.on(ListBackupsCommand).resolves({ BackupSummaries: [] });
    snsMock.on(PublishCommand).resolves({ MessageId: 'm-1' });
    asMock.on(DescribeScalableTargetsCommand).resolves({ ScalableTargets: [] });
  }

  /** Matches the run-result write: a Put of the job's RESULT row plus the run's counter. */
  const runResultWrite = (status: string) => ({
    TransactItems: expect.arrayContaining([
      expect.objectContaining({
        Put: expect.objectContaining({
          TableName: LEDGER,
          Item: expect.objectContaining({ pk: runKey.pk, sk: 'RESULT#orders#daily', status }),
        }),
      }),
    ]),
  });
  /** Matches the ledger's failure write for the job's slot. */
  const slotFailureWrite = {
    TransactItems: expect.arrayContaining([
      expect.objectContaining({
        Update: expect.objectContaining({
          Key: { pk: 'TABLE#orders', sk: `BACKUP#daily#${job.slot}` },
          ExpressionAttributeValues: expect.objectContaining({ ':failed': 'FAILED' }),
        }),
      }),
    ]),
  };

  it('backs up, records the result in the run and reports no batch item failure', async () => {
    // Prepare
    happyWorld();
    ddbMock.on(CreateBackupCommand).resolves({
      BackupDetails: { BackupArn: `${tableArn('orders')}/backup/01700000000000-abcdef`, BackupName: 'n', BackupStatus: 'CREATING', BackupCreationDateTime: NOW, BackupType: 'USER' },
    });
    // Act
    const response = await mod.workerHandler(event(record(1)), context, service());
    // Assess
    expect(response.batchItemFailures).toEqual([]);
    expect(ddbMock).toHaveReceivedCommandTimes(CreateBackupCommand, 1);
    // The name ends in the hash of the slot and the claim's attempt token; the claim recorded both first.
    const name = ddbMock.commandCalls(CreateBackupCommand)[0].args[0].input.BackupName;
    expect(name).toMatch(/^ddbbk\.daily\.schedule\.20261124T030005Z\.[0-9a-f]{12}$/);
    expect(ddbMock).toHaveReceivedCommandWith(CreateBackupCommand, { TableName: 'orders', BackupName: name });
    expect(docMock).toHaveReceivedCommandWith(PutCommand, { TableName: LEDGER, Item: expect.objectContaining({ status: 'CLAIMED', backupName: name, attemptId: expect.any(String) }) });
    const claimed = docMock.commandCalls(PutCommand).find((c) => c.args[0].input.Item?.status === 'CLAIMED')!.args[0].input.Item!;
    expect(docMock).toHaveReceivedCommandWith(TransactWriteCommand, {
      TransactItems: expect.arrayContaining([
        expect.objectContaining({
          Update: expect.objectContaining({ ConditionExpression: 'attemptId = :attempt', ExpressionAttributeValues: expect.objectContaining({ ':attempt': claimed.attemptId }) }),
        }),
      ]),
    });
    expect(docMock).toHaveReceivedCommandWith(TransactWriteCommand, runResultWrite('backed-up'));
    expect(snsMock).toHaveReceivedCommandTimes(PublishCommand, 0);
  });

  it('on a non-final receive, rethrows a retryable error so SQS redelivers (batchItemFailures), without touching the run', async () => {
    // Prepare
    happyWorld();
    ddbMock.on(CreateBackupCommand).rejects(new LimitExceededException({ message: 'Too many concurrent backups', ...meta }));
    // Act
    const response = await mod.workerHandler(event(record(1)), context, service());
    // Assess
    expect(response.batchItemFailures).toEqual([{ itemIdentifier: 'msg-1' }]);
    expect(docMock).toHaveReceivedCommandWith(TransactWriteCommand, slotFailureWrite);
    expect(docMock).not.toHaveReceivedCommandWith(TransactWriteCommand, runResultWrite('failed'));
    expect(docMock).toHaveReceivedCommandTimes(TransactWriteCommand, 1);
    expect(snsMock).toHaveReceivedCommandTimes(PublishCommand, 0);
  });

  it('handleRecord rethrows the RetryableError itself on a non-final receive', async () => {
    // Prepare
    happyWorld();
    ddbMock.on(CreateBackupCommand).rejects(new BackupInUseException({ message: 'Backup in progress', ...meta }));
    // Act
    const err = await rejectionOf(mod.handleRecord(record(2), service()));
    // Assess
    expect(err).toBeInstanceOf(RetryableError);
    expect((err as Error).message).toContain('BackupInUseException');
  });

  it('on the final receive, records the failure in the run, publishes the summary, and still rethrows (-> DLQ)', async () => {
    // Prepare
    happyWorld();
    ddbMock.on(CreateBackupCommand).rejects(new LimitExceededException({ message: 'Too many concurrent backups', ...meta }));
    const recorded: JobResult = {
      table: 'orders',
      policy: 'daily',
      status: 'failed',
      reason: 'RetryableError: CreateBackup orders: LimitExceededException: Too many concurrent backups (after 3 attempts; the job went to the dead-letter queue)',
    };
    docMock.on(QueryCommand).resolves({ Items: [{ pk: runKey.pk, sk: 'RESULT#orders#daily', ...recorded }] });
    // Act
    const response = await mod.workerHandler(event(record(3)), context, service());
    // Assess
    expect(response.batchItemFailures).toEqual([{ itemIdentifier: 'msg-1' }]);
    expect(docMock).toHaveReceivedCommandWith(TransactWriteCommand, runResultWrite('failed'));
    expect(docMock).toHaveReceivedCommandWith(TransactWriteCommand, {
      TransactItems: expect.arrayContaining([expect.objectContaining({ Put: expect.objectContaining({ Item: expect.objectContaining({ reason: recorded.reason }) }) })]),
    });
    expect(docMock).toHaveReceivedCommandWith(UpdateCommand, { Key: runKey, UpdateExpression: expect.stringMatching(/^SET notifiedAt = :now\b/) });
    expect(snsMock).toHaveReceivedCommandTimes(PublishCommand, 1);
    expect(snsMock).toHaveReceivedCommandWith(PublishCommand, {
      TopicArn: TOPIC,
      Subject: '[ddb-backup] FAILED: daily (schedule) - 0 backed up, 1 failed',
      Message: expect.stringContaining('the job went to the dead-letter queue'),
    });
  });

  it('on a receive beyond maxReceiveCount, records the failure too', async () => {
    // Prepare
    happyWorld();
    ssmMock.on(GetParameterCommand).rejects(new InternalServerError({ message: 'SSM is down', ...meta }));
    // Act
    const err = await rejectionOf(mod.handleRecord(record(5), service()));
    // Assess
    expect(err).toBeInstanceOf(RetryableError);
    expect(docMock).toHaveReceivedCommandWith(TransactWriteCommand, runResultWrite('failed'));
    expect(ddbMock).toHaveReceivedCommandTimes(CreateBackupCommand, 0);
  });

  it('records a table that is gone as failed at once, without a retry', async () => {
    // Prepare
    happyWorld();
    ddbMock.on(DescribeTableCommand).rejects(new ResourceNotFoundException({ message: 'Requested resource not found', ...meta }));
    // Act
    const response = await mod.workerHandler(event(record(1)), context, service());
    // Assess
    expect(response.batchItemFailures).toEqual([]);
    expect(docMock).toHaveReceivedCommandWith(TransactWriteCommand, slotFailureWrite);
    expect(docMock).toHaveReceivedCommandWith(TransactWriteCommand, runResultWrite('failed'));
    expect(ddbMock).toHaveReceivedCommandTimes(CreateBackupCommand, 0);
  });

  it('sends a malformed message to the DLQ path (batch item failure) without touching AWS', async () => {
    // Prepare
    happyWorld();
    // Act
    const response = await mod.workerHandler(event(record(1, '{"table":"orders"}', 'bad-1')), context, service());
    // Assess
    expect(response.batchItemFailures).toEqual([{ itemIdentifier: 'bad-1' }]);
    expect(ssmMock).toHaveReceivedCommandTimes(GetParameterCommand, 0);
    expect(docMock).toHaveReceivedCommandTimes(TransactWriteCommand, 0);
  });
});
