/**
 * "No notice is lost": fault paths of the run summary over SDK clients mocked with
 * aws-sdk-client-mock. The ledger's run items live in a small in-memory table behind the mocked
 * document client, which evaluates the adapter's own condition and update expressions, so a lease
 * that is taken twice, or a run marked notified before SNS took the summary, shows. The backup job
 * itself is stubbed: these tests are about what happens after its result.
 */
import { ConditionalCheckFailedException, DynamoDBClient, TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { GetParameterCommand, GetParametersByPathCommand, ParameterNotFound, SSMClient } from '@aws-sdk/client-ssm';
import { GetResourcesCommand, ResourceGroupsTaggingAPIClient } from '@aws-sdk/client-resource-groups-tagging-api';
import { NotFoundException, PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { DynamoDBDocumentClient, GetCommand, PutCommand, QueryCommand, TransactWriteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { Logger } from '@aws-lambda-powertools/logger';
import type { Context, SQSRecord } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { createClients } from '../../lambda/aws/clients';
import { Notifier } from '../../lambda/aws/notifier';
import { RunLedgerStore } from '../../lambda/aws/run-ledger';
import { buildService, type ServiceConfig } from '../../lambda/aws/service';
import { StreamReportPublisher } from '../../lambda/aws/stream-mappings';
import { COVERAGE_FLAGS, type CoverageReport } from '../../lambda/core/coverage/coverage';
import { RetryableError } from '../../lambda/core/errors';
import type { BackupJob, JobResult } from '../../lambda/core/jobs';
import type { Clock } from '../../lambda/core/ports';
import { parsePolicy } from '../../lambda/core/policy';
import { NOTIFY_LEASE_MS, finishJobResult, type RunStart } from '../../lambda/core/backup/runs';
import type { StreamReconcileReport } from '../../lambda/core/triggers/stream-reconcile';
import { processTableBatch, type StreamTriggerDeps } from '../../lambda/core/triggers/stream-trigger';
import { DEFAULTS } from '../../lambda/env';

jest.mock('../../lambda/core/backup/worker', () => ({
  ...jest.requireActual<typeof import('../../lambda/core/backup/worker')>('../../lambda/core/backup/worker'),
  processJob: jest.fn(),
}));
jest.mock('../../lambda/aws/coverage', () => ({
  ...jest.requireActual<typeof import('../../lambda/aws/coverage')>('../../lambda/aws/coverage'),
  collectCoverage: jest.fn(),
}));
// Imported after the mocks above, so they see the stubs.
import { collectCoverage } from '../../lambda/aws/coverage';
import { processJob } from '../../lambda/core/backup/worker';
import { digestHandler } from '../../lambda/handlers/digest.handler';
import { plannerHandler } from '../../lambda/handlers/planner.handler';
import { handleRecord, workerHandler } from '../../lambda/handlers/worker.handler';

const REGION = 'us-east-1';
const credentials = { accessKeyId: 'AKIAFAKEFAKEFAKE', secretAccessKey: 'fake-secret' };
/** Nothing listens here: a call that escapes the mocks fails at once, locally. */
const DEAD_END = 'http://127.0.0.1:9';
const LEDGER = 'ddb-backup-ledger';
const TOPIC = `arn:aws:sns:${REGION}:123456789012:ddb-backup`;
const NOT_PUBLISHED = 'run summary not published';
const meta = { $metadata: {} };

const docMock = mockClient(DynamoDBDocumentClient);
const snsMock = mockClient(SNSClient);
const ssmMock = mockClient(SSMClient);
const taggingMock = mockClient(ResourceGroupsTaggingAPIClient);

// ---------------------------------------------------------------------------------------------
// The ledger table, in memory: conditions and updates evaluated as DynamoDB would (the subset
// the run ledger uses: comparisons, attribute_(not_)exists, begins_with, AND/OR/NOT, SET/REMOVE/ADD)
// ---------------------------------------------------------------------------------------------

type Item = Record<string, unknown>;
type Names = Record<string, string> | undefined;
type Values = Record<string, unknown> | undefined;

function tokens(expr: string): string[] {
  return expr.match(/<>|<=|>=|[=<>(),]|[#:]?[A-Za-z_][A-Za-z0-9_]*/g) ?? [];
}

function condition(expr: string | undefined, item: Item | undefined, names: Names, values: Values): boolean {
  if (!expr) return true;
  const t = tokens(expr);
  let i = 0;
  const take = (want?: string) => {
    const tok = t[i++];
    if (tok === undefined || (want && tok !== want)) throw new Error(`cannot read condition "${expr}" at ${i}`);
    return tok;
  };
  const name = (tok: string) => (tok.startsWith('#') ? names![tok] : tok);
  const operand = (tok: string): unknown => (tok.startsWith(':') ? values![tok] : item?.[name(tok)]);
  const primary = (): boolean => {
    const tok = take();
    if (tok === 'NOT') return !primary();
    if (tok === '(') {
      const v = or();
      take(')');
      return v;
    }
    if (tok === 'attribute_exists' || tok === 'attribute_not_exists') {
      take('(');
      const path = name(take());
      take(')');
      const has = item?.[path] !== undefined;
      return tok === 'attribute_exists' ? has : !has;
    }
    if (tok === 'begins_with') {
      take('(');
      const a = operand(take());
      take(',');
      const b = operand(take());
      take(')');
      return typeof a === 'string' && typeof b === 'string' && a.startsWith(b);
    }
    const a = operand(tok);
    const op = take();
    const b = operand(take());
    if (a === undefined || b === undefined) return op === '<>';
    const [x, y] = [a as string | number, b as string | number];
    return { '=': x === y, '<>': x !== y, '<': x < y, '<=': x <= y, '>': x > y, '>=': x >= y }[op] ?? false;
  };
  const and = (): boolean => {
    let v = primary();
    while (t[i] === 'AND') {
      i++;
      v = primary() && v;
    }
    return v;
  };
  const or = (): boolean => {
    let v = and();
    while (t[i] === 'OR') {
      i++;
      v = and() || v;
    }
    return v;
  };
  const v = or();
  if (i !== t.length) throw new Error(`cannot read condition "${expr}"`);
  return v;
}

function update(expr: string, item: Item, names: Names, values: Values): Item {
  const out = { ...item };
  const name = (s: string) => (s.startsWith('#') ? names![s] : s);
  for (const [, action, body] of expr.matchAll(/(SET|REMOVE|ADD)\s+(.*?)(?=\s+(?:SET|REMOVE|ADD)\s|$)/g)) {
    for (const part of body.split(',').map((s) => s.trim())) {
      if (action === 'SET') {
        const [path, value] = part.split('=').map((s) => s.trim());
        out[name(path)] = values![value];
      } else if (action === 'REMOVE') {
        delete out[name(part)];
      } else {
        const [path, value] = part.split(/\s+/);
        out[name(path)] = ((out[name(path)] as number | undefined) ?? 0) + (values![value] as number);
      }
    }
  }
  return out;
}

class LedgerTable {
  readonly items = new Map<string, Item>();
  /** Runs before a read of a run header: lets a test hold readers until all have arrived. */
  beforeRunRead?: () => Promise<void>;

  private key(k: Item): string {
    return `${String(k.pk)}|${String(k.sk)}`;
  }
  run(runId: string): Item | undefined {
    return this.items.get(`RUN#${runId}|RUN`);
  }
  private conditionFailed(): Error {
    return new ConditionalCheckFailedException({ message: 'The conditional request failed', ...meta });
  }

  install(): void {
    docMock.on(GetCommand).callsFake(async (input: { Key: Item }) => {
      if (input.Key.sk === 'RUN') await this.beforeRunRead?.();
      const item = this.items.get(this.key(input.Key));
      return item ? { Item: { ...item } } : {};
    });
    docMock.on(PutCommand).callsFake(async (input: { Item: Item; ConditionExpression?: string; ExpressionAttributeNames?: Names; ExpressionAttributeValues?: Values }) => {
      const k = this.key(input.Item);
      if (!condition(input.ConditionExpression, this.items.get(k), input.ExpressionAttributeNames, input.ExpressionAttributeValues)) throw this.conditionFailed();
      this.items.set(k, { ...input.Item });
      return {};
    });
    docMock.on(UpdateCommand).callsFake(async (input: { Key: Item; UpdateExpression: string; ConditionExpression?: string; ExpressionAttributeNames?: Names; ExpressionAttributeValues?: Values }) => {
      const k = this.key(input.Key);
      const item = this.items.get(k);
      if (!condition(input.ConditionExpression, item, input.ExpressionAttributeNames, input.ExpressionAttributeValues)) throw this.conditionFailed();
      this.items.set(k, update(input.UpdateExpression, item ?? { ...input.Key }, input.ExpressionAttributeNames, input.ExpressionAttributeValues));
      return {};
    });
    docMock.on(TransactWriteCommand).callsFake(async (input: { TransactItems: { Put?: Item; Update?: Item }[] }) => {
      const ops = input.TransactItems.map((op) => (op.Put ? { put: op.Put as never as { Item: Item } & Item } : { upd: op.Update as Item }));
      const reasons = ops.map((op) => {
        const o = (op.put ?? op.upd) as { Item?: Item; Key?: Item; ConditionExpression?: string; ExpressionAttributeNames?: Names; ExpressionAttributeValues?: Values };
        const held = condition(o.ConditionExpression, this.items.get(this.key(o.Item ?? o.Key!)), o.ExpressionAttributeNames, o.ExpressionAttributeValues);
        return { Code: held ? 'None' : 'ConditionalCheckFailed' };
      });
      if (reasons.some((r) => r.Code !== 'None')) {
        throw new TransactionCanceledException({ message: 'Transaction cancelled', CancellationReasons: reasons, ...meta });
      }
      for (const op of ops) {
        if (op.put) this.items.set(this.key(op.put.Item), { ...op.put.Item });
        else {
          const u = op.upd as { Key: Item; UpdateExpression: string; ExpressionAttributeNames?: Names; ExpressionAttributeValues?: Values };
          const k = this.key(u.Key);
          this.items.set(k, update(u.UpdateExpression, this.items.get(k) ?? { ...u.Key }, u.ExpressionAttributeNames, u.ExpressionAttributeValues));
        }
      }
      return {};
    });
    docMock.on(QueryCommand).callsFake(async (input: { KeyConditionExpression: string; ExpressionAttributeNames?: Names; ExpressionAttributeValues?: Values }) => ({
      Items: [...this.items.values()].filter((item) => condition(input.KeyConditionExpression, item, input.ExpressionAttributeNames, input.ExpressionAttributeValues)),
    }));
  }
}

// ---------------------------------------------------------------------------------------------
// The world: one run in the ledger, the worker handler over mocked clients
// ---------------------------------------------------------------------------------------------

const T0 = new Date('2026-11-24T03:00:05.000Z');
let now = T0;
const clock: Clock = { now: () => now };
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
const context = { functionName: 'ddb-backup-worker', awsRequestId: 'req-1', getRemainingTimeInMillis: () => 60_000 } as unknown as Context;

const SLOT = 'schedule:2026-11-24T03:00:00.000Z';
const RUN_ID = `daily|schedule|${SLOT}`;
const job = (table: string): BackupJob => ({ table, policy: 'daily', trigger: 'schedule', slot: SLOT, requestedAt: '2026-11-24T03:00:00.000Z', runId: RUN_ID });
const backedUp = (table: string): JobResult => ({ table, policy: 'daily', status: 'backed-up', backupArn: `arn:aws:dynamodb:${REGION}:123456789012:table/${table}/backup/01` });

function record(table: string, receiveCount: number, messageId = `msg-${table}`): SQSRecord {
  return {
    messageId,
    receiptHandle: `rh-${messageId}`,
    body: JSON.stringify(job(table)),
    attributes: {
      ApproximateReceiveCount: String(receiveCount),
      SentTimestamp: String(T0.getTime()),
      SenderId: 'AIDAFAKE',
      ApproximateFirstReceiveTimestamp: String(T0.getTime()),
      MessageGroupId: table,
      MessageDeduplicationId: `dedupe-${table}`,
      SequenceNumber: '1',
    },
    messageAttributes: {},
    md5OfBody: 'd41d8cd98f00b204e9800998ecf8427e',
    eventSource: 'aws:sqs',
    eventSourceARN: `arn:aws:sqs:${REGION}:123456789012:ddb-backup-jobs.fifo`,
    awsRegion: REGION,
  };
}

let table: LedgerTable;
let errorLog: jest.SpyInstance;
const notPublishedLines = () => errorLog.mock.calls.filter(([message]) => message === NOT_PUBLISHED);

async function startRun(expected: number, notify: 'failures' | 'all' = 'all'): Promise<void> {
  const header: RunStart = { runId: RUN_ID, policy: 'daily', trigger: 'schedule', startedAt: T0.toISOString(), expected, problems: [], notify };
  await new RunLedgerStore(DynamoDBDocumentClient.from(new DynamoDBClient({ region: REGION, credentials, endpoint: DEAD_END })), LEDGER).startRun(header, T0);
}

beforeAll(() => {
  process.env.AWS_ACCESS_KEY_ID = credentials.accessKeyId;
  process.env.AWS_SECRET_ACCESS_KEY = credentials.secretAccessKey;
  process.env.AWS_REGION = REGION;
});

beforeEach(() => {
  for (const m of [docMock, snsMock, ssmMock, taggingMock]) m.reset();
  now = T0;
  table = new LedgerTable();
  table.install();
  // The job is done; what it did is what the run records (a redelivery finds its slot taken).
  jest.mocked(processJob).mockReset().mockImplementation(async (_deps, j) => backedUp(j.table));
  errorLog = jest.spyOn(Logger.prototype, 'error');
});

afterEach(() => {
  errorLog.mockRestore();
});

afterAll(() => {
  for (const m of [docMock, snsMock, ssmMock, taggingMock]) m.restore();
});

// ---------------------------------------------------------------------------------------------
// The worker: a publish SNS refused is published by the redelivered job
// ---------------------------------------------------------------------------------------------

describe('worker: the run summary is marked notified only after SNS accepted it', () => {
  it('Publish rejects once: the run stays unnotified and the message fails; its redelivery publishes and marks the run', async () => {
    // Prepare
    await startRun(1);
    snsMock.on(PublishCommand).rejectsOnce(new NotFoundException({ message: 'Topic does not exist', ...meta })).resolves({ MessageId: 'm-2' });

    // Act
    const first = await workerHandler({ Records: [record('orders', 1)] }, context, service());
    const afterFailure = { ...table.run(RUN_ID) };
    const redelivered = await workerHandler({ Records: [record('orders', 2)] }, context, service());

    // Assess: the first delivery failed for SQS to redeliver, and left the run unnotified and unclaimed
    expect(first.batchItemFailures).toEqual([{ itemIdentifier: 'msg-orders' }]);
    expect(afterFailure).toMatchObject({ completed: 1, expected: 1 });
    expect(afterFailure).not.toHaveProperty('notifiedAt');
    expect(afterFailure).not.toHaveProperty('notifyClaimId');
    // Assess: the duplicate (its result already recorded) published and marked the run
    expect(redelivered.batchItemFailures).toEqual([]);
    expect(snsMock).toHaveReceivedCommandTimes(PublishCommand, 2);
    expect(snsMock).toHaveReceivedCommandWith(PublishCommand, { TopicArn: TOPIC, Subject: '[ddb-backup] OK: daily (schedule) - 1 backed up' });
    expect(table.run(RUN_ID)).toMatchObject({ completed: 1, notifiedAt: T0.toISOString(), notifyMessageId: 'm-2' });
    // Assess: one line for the metric filter, with what an operator needs
    expect(notPublishedLines()).toEqual([
      [NOT_PUBLISHED, expect.objectContaining({ runId: RUN_ID, policy: 'daily', error: 'NotFoundException: Topic does not exist' })],
    ]);
  });

  it('handleRecord rethrows the Publish error itself', async () => {
    // Prepare
    await startRun(1);
    snsMock.on(PublishCommand).rejects(new NotFoundException({ message: 'Topic does not exist', ...meta }));

    // Act
    const err = await handleRecord(record('orders', 1), service()).then(
      () => undefined,
      (e: unknown) => e,
    );

    // Assess
    expect(err).toBeInstanceOf(NotFoundException);
    expect(table.run(RUN_ID)).not.toHaveProperty('notifiedAt');
  });

  it('the run is not marked notified while Publish is in flight, and the MessageId is recorded after', async () => {
    // Prepare
    await startRun(1);
    const seen: (Item | undefined)[] = [];
    snsMock.on(PublishCommand).callsFake(async () => {
      seen.push({ ...table.run(RUN_ID) });
      return { MessageId: 'm-1' };
    });

    // Act
    await workerHandler({ Records: [record('orders', 1)] }, context, service());

    // Assess
    expect(seen).toHaveLength(1);
    expect(seen[0]).not.toHaveProperty('notifiedAt');
    expect(seen[0]).toHaveProperty('notifyClaimId');
    expect(table.run(RUN_ID)).toMatchObject({ notifiedAt: T0.toISOString(), notifyMessageId: 'm-1' });
  });

  it('two workers finishing the last results at once publish once', async () => {
    // Prepare: both read the complete run before either claims it
    await startRun(2);
    snsMock.on(PublishCommand).resolves({ MessageId: 'm-1' });
    let waiting = 0;
    let open: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (open = resolve));
    table.beforeRunRead = async () => {
      if (++waiting === 2) open();
      await gate;
    };
    const svc = service();

    // Act
    const results = await Promise.all([handleRecord(record('orders', 1), svc), handleRecord(record('users', 1), svc)]);

    // Assess
    expect(results.map((r) => r.table).sort()).toEqual(['orders', 'users']);
    expect(snsMock).toHaveReceivedCommandTimes(PublishCommand, 1);
    expect(table.run(RUN_ID)).toMatchObject({ completed: 2, notifiedAt: T0.toISOString(), notifyMessageId: 'm-1' });
    expect(notPublishedLines()).toEqual([]);
  });

  it('when the lease cannot be given back either, the redelivery waits for the lease to expire, then publishes', async () => {
    // Prepare: SNS refuses once; the ledger refuses the release once
    await startRun(1);
    snsMock.on(PublishCommand).rejectsOnce(new Error('InternalErrorException: SNS is down')).resolves({ MessageId: 'm-3' });
    const ledger = new RunLedgerStore(DynamoDBDocumentClient.from(new DynamoDBClient({ region: REGION, credentials, endpoint: DEAD_END })), LEDGER);
    jest.spyOn(ledger, 'releaseRunNotification').mockRejectedValueOnce(new Error('ProvisionedThroughputExceededException: slow down'));
    const notifier = new Notifier(new SNSClient({ region: REGION, credentials, endpoint: DEAD_END, maxAttempts: 1 }), TOPIC);
    const log = { info: jest.fn(), warn: jest.fn(), error: jest.fn() };
    const deps = { runs: ledger, notifier, clock, log };

    // Act
    const first = await finishJobResult(deps, RUN_ID, backedUp('orders')).then(() => undefined, (e: unknown) => e);
    now = new Date(T0.getTime() + 60_000);
    const tooSoon = await finishJobResult(deps, RUN_ID, backedUp('orders')).then(() => undefined, (e: unknown) => e);
    now = new Date(T0.getTime() + NOTIFY_LEASE_MS + 1000);
    const later = await finishJobResult(deps, RUN_ID, backedUp('orders'));

    // Assess
    expect((first as Error).message).toContain('SNS is down');
    expect(log.error.mock.calls.filter(([m]) => m === NOT_PUBLISHED)).toEqual([
      [NOT_PUBLISHED, expect.objectContaining({ runId: RUN_ID, error: 'InternalErrorException: SNS is down', releaseError: expect.stringContaining('slow down') })],
    ]);
    expect(tooSoon).toBeInstanceOf(RetryableError);
    expect(later).toBe(true);
    expect(snsMock).toHaveReceivedCommandTimes(PublishCommand, 2);
    expect(table.run(RUN_ID)).toMatchObject({ notifiedAt: now.toISOString(), notifyMessageId: 'm-3' });
  });

  it('a run that needs no message (all backed up, notify "failures") is settled without a Publish', async () => {
    // Prepare
    await startRun(1, 'failures');

    // Act
    const response = await workerHandler({ Records: [record('orders', 1)] }, context, service());

    // Assess
    expect(response.batchItemFailures).toEqual([]);
    expect(snsMock).toHaveReceivedCommandTimes(PublishCommand, 0);
    expect(table.run(RUN_ID)).toMatchObject({ notifiedAt: T0.toISOString() });
    expect(table.run(RUN_ID)).not.toHaveProperty('notifyMessageId');
  });
});

// ---------------------------------------------------------------------------------------------
// The planner and the digest publish themselves: a failure fails the invocation
// ---------------------------------------------------------------------------------------------

describe('planner and digest: a summary SNS refused fails the invocation, with the same log line', () => {
  it('planner: a plan without jobs whose Publish fails logs the line and rejects', async () => {
    // Prepare: the policy does not exist, so the planner reports the problem itself
    ssmMock.on(GetParameterCommand).rejects(new ParameterNotFound({ message: 'Parameter not found', ...meta }));
    ssmMock.on(GetParametersByPathCommand).resolves({ Parameters: [] });
    taggingMock.on(GetResourcesCommand).resolves({ ResourceTagMappingList: [] });
    snsMock.on(PublishCommand).rejects(new NotFoundException({ message: 'Topic does not exist', ...meta }));

    // Act
    const err = await plannerHandler({ policy: 'daily', trigger: 'schedule', time: '2026-11-24T03:00:00Z' }, service()).then(
      () => undefined,
      (e: unknown) => e,
    );

    // Assess
    expect(err).toBeInstanceOf(NotFoundException);
    expect(snsMock).toHaveReceivedCommandTimes(PublishCommand, 1);
    expect(notPublishedLines()).toEqual([
      [NOT_PUBLISHED, expect.objectContaining({ runId: RUN_ID, policy: 'daily', error: 'NotFoundException: Topic does not exist' })],
    ]);
  });

  it('digest: a Publish that fails logs the line and rejects', async () => {
    // Prepare: one unprotected table, so there is something to send
    const counts = Object.fromEntries(COVERAGE_FLAGS.map((f) => [f, 0])) as Record<string, number>;
    const report: CoverageReport = {
      generatedAt: T0.toISOString(),
      tables: [{ table: 'orders', flags: ['UNPROTECTED'], reasons: ['no backup policy'], policies: [] }],
      counts: { ...counts, UNPROTECTED: 1, tables: 1, ok: 0 } as CoverageReport['counts'],
    };
    jest.mocked(collectCoverage).mockResolvedValue(report);
    snsMock.on(PublishCommand).rejects(new NotFoundException({ message: 'Topic does not exist', ...meta }));

    // Act
    const err = await digestHandler({}, service(), {}).then(
      () => undefined,
      (e: unknown) => e,
    );

    // Assess
    expect(err).toBeInstanceOf(NotFoundException);
    expect(notPublishedLines()).toEqual([[NOT_PUBLISHED, expect.objectContaining({ flagged: 1, error: 'NotFoundException: Topic does not exist' })]]);
  });
});

// ---------------------------------------------------------------------------------------------
// Errors that are not rethrown are logged once and counted
// ---------------------------------------------------------------------------------------------

describe('swallowed errors are logged and counted', () => {
  it('stream report: a digest that cannot be forgotten after a failed publish is logged and counted; the publish error is thrown', async () => {
    // Prepare: the digest write passes, SNS fails, the reset of the digest fails
    docMock.on(PutCommand).resolvesOnce({}).rejects(new Error('ProvisionedThroughputExceededException: slow down'));
    const log = { info: jest.fn(), warn: jest.fn(), error: jest.fn() };
    const notifier = { publish: jest.fn().mockRejectedValue(new Error('SNS is down')) };
    const publisher = new StreamReportPublisher(notifier, new DynamoDBClient({ region: REGION, credentials, endpoint: DEAD_END }), LEDGER, () => T0, log);
    const report: StreamReconcileReport = {
      plan: { create: [], update: [], delete: [], enableStream: [], missingStream: [{ table: 'orders', policies: ['busy'] }], missingTable: [], unchanged: 0 },
      created: [],
      updated: [],
      deleted: [],
      streamsEnabled: [],
      errors: [],
      notified: false,
    } as unknown as StreamReconcileReport;

    // Act
    const err = await publisher.reportMissingStreams(report).then(
      () => undefined,
      (e: unknown) => e,
    );

    // Assess
    expect((err as Error).message).toBe('SNS is down');
    expect(publisher.digestResetFailures).toBe(1);
    expect(log.error).toHaveBeenCalledTimes(1);
    expect(log.error).toHaveBeenCalledWith(
      'stream report digest not reset after a failed publish',
      expect.objectContaining({ ledgerTable: LEDGER, error: expect.stringContaining('slow down'), publishError: 'SNS is down' }),
    );
  });

  it('change trigger: a storm claim that cannot be given back is logged, counted and reported', async () => {
    // Prepare: a storm on a table whose handling fails (the freeze), and whose release fails too
    const policy = parsePolicy({ changes: { deleteStorm: 10, windowMinutes: 5 } });
    const log = { info: jest.fn(), warn: jest.fn(), error: jest.fn() };
    const notifier = { publishStorm: jest.fn(), publishProblem: jest.fn() };
    const deps: StreamTriggerDeps = {
      counter: {
        add: jest.fn(async () => ({
          totals: { inserts: 0, modifies: 0, removes: 50 },
          baseline: { inserts: 0, modifies: 0, removes: 0 },
          enqueued: {},
          storm: { 5: { current: 50, previous: 0 } },
        })),
        markEnqueued: jest.fn(),
        claimStorm: jest.fn(async () => true),
        releaseStorm: jest.fn().mockRejectedValue(new Error('ProvisionedThroughputExceededException: slow down')),
        freezePruning: jest.fn().mockRejectedValue(new Error('InternalServerError: try again')),
      },
      tables: { policiesOf: async () => ({ tagged: ['busy'], effective: [{ name: 'busy', policy, hash: 'h', overridden: false }], problems: [] }) },
      dispatch: {} as StreamTriggerDeps['dispatch'],
      notifier,
      clock: { now: () => T0 },
      log,
    };

    // Act
    const outcome = await processTableBatch(deps, {
      table: 'orders',
      tableArn: `arn:aws:dynamodb:${REGION}:123456789012:table/orders`,
      counts: { inserts: 0, modifies: 0, removes: 50 },
      sequenceNumbers: ['1'],
    });

    // Assess
    expect(outcome.stormReleaseFailures).toBe(1);
    const releaseLines = log.error.mock.calls.filter(([m]) => m === 'change trigger: could not release the storm claim');
    expect(releaseLines).toEqual([
      ['change trigger: could not release the storm claim', expect.objectContaining({ table: 'orders', windowMinutes: 5, error: expect.stringContaining('slow down') })],
    ]);
    expect(outcome.problems).toEqual(expect.arrayContaining([expect.stringContaining('could not be released'), expect.stringContaining('delete storm handling failed')]));
    expect(notifier.publishProblem).toHaveBeenCalledWith('orders', expect.stringContaining('could not be released'));
  });
});
