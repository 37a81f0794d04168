/**
 * Pruning over the real adapters (BackupsAdapter, Ledger, PolicyStore) with SDK clients mocked by
 * aws-sdk-client-mock: ListBackups paging, DeleteBackup/DescribeBackup error mapping, deferral of a
 * backup in use, and the call budget of one worker job. Every client points at a closed local port
 * with one attempt, so a call that escapes the mocks fails fast instead of reaching a network.
 */
import {
  BackupInUseException,
  BackupNotFoundException,
  ConditionalCheckFailedException,
  CreateBackupCommand,
  DeleteBackupCommand,
  DescribeBackupCommand,
  DescribeTableCommand,
  DynamoDBClient,
  LimitExceededException,
  ListBackupsCommand,
  ThrottlingException,
  type BackupSummary,
  type ListBackupsCommandInput,
  type ListBackupsCommandOutput,
} from '@aws-sdk/client-dynamodb';
import { GetParameterCommand, GetParametersByPathCommand, SSMClient } from '@aws-sdk/client-ssm';
import { DynamoDBDocumentClient, GetCommand, PutCommand, QueryCommand, TransactWriteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { BackupsAdapter } from '../../lambda/aws/backups';
import { Ledger } from '../../lambda/aws/ledger';
import { PolicyStore } from '../../lambda/aws/policy-store';
import { RetryableError } from '../../lambda/core/errors';
import type { BackupJob } from '../../lambda/core/jobs';
import { backupName } from '../../lambda/core/naming';
import type { Clock, LedgerBackupRecord, TableDiscovery } from '../../lambda/core/ports';
import { pruneTable } from '../../lambda/core/retention/prune';
import { planSweep } from '../../lambda/core/retention/sweep';
import { processJob } from '../../lambda/core/backup/worker';
import { DEFAULTS } from '../../lambda/env';

const REGION = 'us-east-1';
const credentials = { accessKeyId: 'AKIAFAKEFAKEFAKE', secretAccessKey: 'fake-secret' };
/** Nothing listens here: a call that escapes the mocks fails at once, locally. */
const DEAD_END = 'http://127.0.0.1:9';
const clientConfig = { region: REGION, credentials, endpoint: DEAD_END, maxAttempts: 1 };

const ddbMock = mockClient(DynamoDBClient);
const docMock = mockClient(DynamoDBDocumentClient);
const ssmMock = mockClient(SSMClient);

const meta = { $metadata: {} };
const LEDGER = 'ddb-backup-ledger';
const NOW = new Date('2026-11-24T03:00:05.000Z');
const clock: Clock = { now: () => NOW };
const DAY = 86_400_000;

beforeEach(() => {
  ddbMock.reset();
  docMock.reset();
  ssmMock.reset();
});

afterAll(() => {
  ddbMock.restore();
  docMock.restore();
  ssmMock.restore();
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
const backupArn = (table: string, id: string) => `${tableArn(table)}/backup/${id}`;
const adapter = () => new BackupsAdapter(new DynamoDBClient(clientConfig));

/** A summary as ListBackups returns it. */
const summary = (table: string, id: string, created = new Date('2026-11-20T03:00:00Z')): BackupSummary => ({
  TableName: table,
  TableArn: tableArn(table),
  BackupArn: backupArn(table, id),
  BackupName: backupName('daily', 'schedule', created, `schedule:${created.toISOString()}`),
  BackupCreationDateTime: created,
  BackupStatus: 'AVAILABLE',
  BackupType: 'USER',
  BackupSizeBytes: 123,
});

/** A ledger item (with its keys) of one of the service's daily backups of `orders`. */
function ledgerItem(createdAt: Date, status: LedgerBackupRecord['status'] = 'AVAILABLE', id = String(createdAt.getTime())) {
  const slot = `schedule:${createdAt.toISOString()}`;
  return {
    pk: 'TABLE#orders',
    sk: `BACKUP#daily#${slot}`,
    table: 'orders',
    policy: 'daily',
    slot,
    trigger: 'schedule',
    runId: `daily|schedule|${slot}`,
    requestedAt: createdAt.toISOString(),
    status,
    claimedAt: createdAt.toISOString(),
    backupArn: backupArn('orders', id),
    backupName: backupName('daily', 'schedule', createdAt, slot),
    createdAt: createdAt.toISOString(),
  };
}

// ---------------------------------------------------------------------------------------------
// BackupsAdapter.listBackups
// ---------------------------------------------------------------------------------------------

describe('BackupsAdapter.listBackups', () => {
  /** Serves pages keyed by the cursor sent; records a copy of every input as it was sent. */
  function servePages(pages: Record<string, Omit<ListBackupsCommandOutput, '$metadata'>>) {
    const inputs: ListBackupsCommandInput[] = [];
    ddbMock.on(ListBackupsCommand).callsFake((input: ListBackupsCommandInput) => {
      inputs.push({ ...input });
      const page = pages[input.ExclusiveStartBackupArn ?? 'first'];
      if (!page) throw new Error(`test: no page for cursor ${input.ExclusiveStartBackupArn}`);
      return page;
    });
    return inputs;
  }

  it('follows LastEvaluatedBackupArn through 3 pages of the account, always USER and Limit 100, and stops when the cursor is absent', async () => {
    // Prepare
    const c1 = backupArn('orders', 'b1');
    const c2 = backupArn('users', 'b2');
    const inputs = servePages({
      first: { BackupSummaries: [summary('orders', 'b0'), summary('orders', 'b1')], LastEvaluatedBackupArn: c1 },
      [c1]: { BackupSummaries: [summary('users', 'b2')], LastEvaluatedBackupArn: c2 },
      [c2]: { BackupSummaries: [summary('carts', 'b3')] },
    });
    // Act
    const listing = await adapter().listBackups();
    // Assess
    expect(listing.map((b) => b.arn)).toEqual([backupArn('orders', 'b0'), backupArn('orders', 'b1'), backupArn('users', 'b2'), backupArn('carts', 'b3')]);
    expect(ddbMock).toHaveReceivedCommandTimes(ListBackupsCommand, 3);
    expect(ddbMock).toHaveReceivedNthCommandWith(1, ListBackupsCommand, { BackupType: 'USER', Limit: 100 });
    expect(ddbMock).toHaveReceivedNthCommandWith(2, ListBackupsCommand, { BackupType: 'USER', Limit: 100, ExclusiveStartBackupArn: c1 });
    expect(ddbMock).toHaveReceivedNthCommandWith(3, ListBackupsCommand, { BackupType: 'USER', Limit: 100, ExclusiveStartBackupArn: c2 });
    expect(ddbMock).not.toHaveReceivedCommandWith(ListBackupsCommand, { TableName: expect.anything() });
    expect(inputs).toEqual([
      { BackupType: 'USER', Limit: 100 },
      { BackupType: 'USER', Limit: 100, ExclusiveStartBackupArn: c1 },
      { BackupType: 'USER', Limit: 100, ExclusiveStartBackupArn: c2 },
    ]);
  });

  it('sends TableName on every page when listing one table', async () => {
    // Prepare
    const c1 = backupArn('orders', 'b1');
    const c2 = backupArn('orders', 'b2');
    const c3 = backupArn('orders', 'b3');
    const inputs = servePages({
      first: { BackupSummaries: [summary('orders', 'b1')], LastEvaluatedBackupArn: c1 },
      [c1]: { BackupSummaries: [summary('orders', 'b2')], LastEvaluatedBackupArn: c2 },
      [c2]: { BackupSummaries: [summary('orders', 'b3')], LastEvaluatedBackupArn: c3 },
      [c3]: { BackupSummaries: [] },
    });
    // Act
    const listing = await adapter().listBackups('orders');
    // Assess
    expect(listing).toHaveLength(3);
    expect(ddbMock).toHaveReceivedCommandTimes(ListBackupsCommand, 4);
    expect(ddbMock).toHaveReceivedNthCommandWith(1, ListBackupsCommand, { TableName: 'orders', BackupType: 'USER', Limit: 100 });
    for (const [n, cursor] of [[2, c1], [3, c2], [4, c3]] as const) {
      expect(ddbMock).toHaveReceivedNthCommandWith(n, ListBackupsCommand, { TableName: 'orders', BackupType: 'USER', Limit: 100, ExclusiveStartBackupArn: cursor });
    }
    expect(inputs[0]).not.toHaveProperty('ExclusiveStartBackupArn');
  });

  it('abandons a listing on a repeated cursor instead of looping forever or passing off a partial list', async () => {
    // Prepare
    const c1 = backupArn('orders', 'b1');
    servePages({
      first: { BackupSummaries: [summary('orders', 'b1')], LastEvaluatedBackupArn: c1 },
      [c1]: { BackupSummaries: [summary('orders', 'b2')], LastEvaluatedBackupArn: c1 },
    });
    // Act
    const act = adapter().listBackups('orders');
    // Assess
    await expect(act).rejects.toBeInstanceOf(RetryableError);
    expect(ddbMock).toHaveReceivedCommandTimes(ListBackupsCommand, 2);
  });

  it('abandons a listing whose cursor cycles back to an earlier page (A -> B -> A) with a RetryableError', async () => {
    // Prepare
    const a = backupArn('orders', 'a');
    const b = backupArn('orders', 'b');
    let calls = 0;
    ddbMock.on(ListBackupsCommand).callsFake((input: ListBackupsCommandInput) => {
      if (++calls > 10) throw new Error('test: ListBackups called more than 10 times (cursor cycle)');
      return input.ExclusiveStartBackupArn === a
        ? { BackupSummaries: [summary('orders', 'b')], LastEvaluatedBackupArn: b }
        : { BackupSummaries: [summary('orders', 'a')], LastEvaluatedBackupArn: a };
    });
    // Act
    const act = adapter().listBackups('orders');
    // Assess: a partial listing must never pass for the truth
    await expect(act).rejects.toBeInstanceOf(RetryableError);
    expect(ddbMock).toHaveReceivedCommandTimes(ListBackupsCommand, 3);
  });

  it('maps summaries, skipping entries without an ARN, a table or any creation time, defaulting status', async () => {
    // Prepare
    const created = new Date('2026-11-20T03:00:00Z');
    ddbMock.on(ListBackupsCommand).resolves({
      BackupSummaries: [
        summary('orders', 'b1', created),
        { TableName: 'orders' },
        { BackupArn: backupArn('x', 'no-table') },
        { TableName: 'users', BackupArn: backupArn('users', 'bare') },
      ],
    });
    // Act
    const listing = await adapter().listBackups();
    // Assess
    expect(listing).toEqual([
      {
        arn: backupArn('orders', 'b1'),
        name: backupName('daily', 'schedule', created, `schedule:${created.toISOString()}`),
        table: 'orders',
        createdAt: created.toISOString(),
        status: 'AVAILABLE',
        sizeBytes: 123,
      },
    ]);
    expect(ddbMock).toHaveReceivedCommandTimes(ListBackupsCommand, 1);
  });

  it.each([
    [undefined, /^ListBackups \(account\): ThrottlingException: /],
    ['orders', /^ListBackups orders: ThrottlingException: /],
  ])('turns a ThrottlingException on a later page into a RetryableError (table %s), never a partial list', async (table, message) => {
    // Prepare
    const throttled = new ThrottlingException({ message: 'Rate of requests exceeds the allowed throughput', ...meta });
    ddbMock
      .on(ListBackupsCommand)
      .resolvesOnce({ BackupSummaries: [summary('orders', 'b1')], LastEvaluatedBackupArn: backupArn('orders', 'b1') })
      .rejectsOnce(throttled);
    // Act
    const err = await rejectionOf(adapter().listBackups(table));
    // Assess
    expect(err).toBeInstanceOf(RetryableError);
    expect((err as Error).message).toMatch(message);
    expect((err as Error).cause).toBe(throttled);
    expect(ddbMock).toHaveReceivedCommandTimes(ListBackupsCommand, 2);
  });
});

// ---------------------------------------------------------------------------------------------
// BackupsAdapter.deleteBackup and describeBackupStatus
// ---------------------------------------------------------------------------------------------

describe('BackupsAdapter.deleteBackup', () => {
  const ARN = backupArn('orders', '01700000000000-abcdef');

  it('deletes a backup by ARN', async () => {
    // Prepare
    ddbMock.on(DeleteBackupCommand).resolves({});
    // Act
    const result = await adapter().deleteBackup(ARN);
    // Assess
    expect(result).toBe('deleted');
    expect(ddbMock).toHaveReceivedCommandTimes(DeleteBackupCommand, 1);
    expect(ddbMock).toHaveReceivedCommandWith(DeleteBackupCommand, { BackupArn: ARN });
  });

  it('answers "gone" for BackupNotFoundException', async () => {
    // Prepare
    ddbMock.on(DeleteBackupCommand).rejects(new BackupNotFoundException({ message: 'Backup not found', ...meta }));
    // Act
    const result = await adapter().deleteBackup(ARN);
    // Assess
    expect(result).toBe('gone');
    expect(ddbMock).toHaveReceivedCommandWith(DeleteBackupCommand, { BackupArn: ARN });
  });

  it.each([
    ['BackupInUseException', () => new BackupInUseException({ message: 'Backup is being created', ...meta })],
    ['LimitExceededException', () => new LimitExceededException({ message: 'Too many concurrent operations', ...meta })],
    ['ThrottlingException', () => new ThrottlingException({ message: 'Rate exceeded', ...meta })],
  ])('turns %s into a RetryableError naming the call and the backup', async (name, make) => {
    // Prepare
    const sdkError = make();
    ddbMock.on(DeleteBackupCommand).rejects(sdkError);
    // Act
    const err = await rejectionOf(adapter().deleteBackup(ARN));
    // Assess
    expect(err).toBeInstanceOf(RetryableError);
    expect((err as Error).message).toBe(`DeleteBackup ${ARN}: ${name}: ${sdkError.message}`);
    expect((err as Error).cause).toBe(sdkError);
    expect(ddbMock).toHaveReceivedCommandTimes(DeleteBackupCommand, 1);
  });

  it('passes a non-retryable error through unchanged', async () => {
    // Prepare
    const denied = Object.assign(new Error('not authorized'), { name: 'AccessDeniedException', $metadata: { httpStatusCode: 400 } });
    ddbMock.on(DeleteBackupCommand).rejects(denied);
    // Act
    const err = await rejectionOf(adapter().deleteBackup(ARN));
    // Assess
    expect(err).toBe(denied);
  });
});

describe('BackupsAdapter.describeBackupStatus', () => {
  const ARN = backupArn('orders', '01700000000000-abcdef');

  it('reads the backup status', async () => {
    // Prepare
    ddbMock.on(DescribeBackupCommand).resolves({ BackupDescription: { BackupDetails: { BackupArn: ARN, BackupName: 'n', BackupSizeBytes: 1, BackupStatus: 'AVAILABLE', BackupType: 'USER', BackupCreationDateTime: NOW } } });
    // Act
    const status = await adapter().describeBackupStatus(ARN);
    // Assess
    expect(status).toBe('AVAILABLE');
    expect(ddbMock).toHaveReceivedCommandWith(DescribeBackupCommand, { BackupArn: ARN });
  });

  it('answers undefined for BackupNotFoundException', async () => {
    // Prepare
    ddbMock.on(DescribeBackupCommand).rejects(new BackupNotFoundException({ message: 'Backup not found', ...meta }));
    // Act
    const status = await adapter().describeBackupStatus(ARN);
    // Assess
    expect(status).toBeUndefined();
    expect(ddbMock).toHaveReceivedCommandTimes(DescribeBackupCommand, 1);
  });

  it('turns throttling into a RetryableError', async () => {
    // Prepare
    ddbMock.on(DescribeBackupCommand).rejects(new ThrottlingException({ message: 'Rate exceeded', ...meta }));
    // Act
    const err = await rejectionOf(adapter().describeBackupStatus(ARN));
    // Assess
    expect(err).toBeInstanceOf(RetryableError);
    expect((err as Error).message).toMatch(/^DescribeBackup arn:.*: ThrottlingException: Rate exceeded$/);
  });
});

// ---------------------------------------------------------------------------------------------
// pruneTable and planSweep over the real adapters
// ---------------------------------------------------------------------------------------------

/** A ledger item as ListBackups shows its backup. */
const listedAs = (item: { backupArn: string; backupName: string; createdAt: string }, status = 'AVAILABLE'): BackupSummary => ({
  TableName: 'orders',
  TableArn: tableArn('orders'),
  BackupArn: item.backupArn,
  BackupName: item.backupName,
  BackupCreationDateTime: new Date(item.createdAt),
  BackupStatus: status as BackupSummary['BackupStatus'],
  BackupType: 'USER',
  BackupSizeBytes: 123,
});

/** The ledger's read of one policy's records of `orders`. */
const policyQuery = { KeyConditionExpression: 'pk = :pk AND begins_with(sk, :b)', ExpressionAttributeValues: { ':pk': 'TABLE#orders', ':b': 'BACKUP#daily#' } };

/** Matches the conditional write that marks the slot of `item` DELETED before its backup is deleted. */
const markWrite = (item: { sk: string }) => ({
  TableName: LEDGER,
  Key: { pk: 'TABLE#orders', sk: item.sk },
  // Out of the live index, and expiring after the audit period.
  UpdateExpression: 'SET #s = :deleted, deletedAt = :at, deleteReason = :why, deletedFrom = #s, expiresAt = :exp REMOVE #live',
  ConditionExpression: 'attribute_not_exists(#h) AND #s IN (:available, :creating)',
  ExpressionAttributeValues: expect.objectContaining({ ':deleted': 'DELETED', ':at': NOW.toISOString(), ':why': expect.stringMatching(/^pruned: /) }),
});

describe('pruning over the real adapters', () => {
  const items = Array.from({ length: 6 }, (_, i) => ledgerItem(new Date(NOW.getTime() - (i + 1) * DAY)));

  function ledgerWith(records: object[], state: object = { pk: 'TABLE#orders', sk: 'STATE#daily', table: 'orders', policy: 'daily', lastAttemptStatus: 'succeeded', lastAttemptAt: items[0].createdAt }) {
    docMock.on(QueryCommand).resolves({ Items: records });
    docMock.on(GetCommand, { Key: { pk: 'TABLE#orders', sk: 'STATE#daily' } }).resolves({ Item: state });
    docMock.on(UpdateCommand).resolves({});
    return new Ledger(new DynamoDBClient(clientConfig), LEDGER);
  }

  /** ListBackups of `orders` shows these backups (one page). */
  const listing = (...summaries: BackupSummary[]) => ddbMock.on(ListBackupsCommand, { TableName: 'orders' }).resolves({ BackupSummaries: summaries });

  it('lists the table once, then defers one BackupInUseException (its mark undone) while it marks and deletes the others, and throws nothing', async () => {
    // Prepare
    const ledger = ledgerWith(items);
    listing(...items.map((i) => listedAs(i)));
    const [keep0, keep1, keep2, del3, inUse, del5] = items;
    ddbMock.on(DeleteBackupCommand).resolves({});
    ddbMock.on(DeleteBackupCommand, { BackupArn: inUse.backupArn }).rejects(new BackupInUseException({ message: 'Backup is being deleted', ...meta }));
    // Act
    const outcome = await pruneTable({ backups: adapter(), ledger, clock }, { table: 'orders', policy: 'daily', retention: { keepLast: 3 } });
    // Assess
    expect(outcome.deleted).toEqual([del3.backupArn, del5.backupArn]);
    expect(outcome.deferred).toEqual([{ arn: inUse.backupArn, reason: expect.stringContaining('BackupInUseException') }]);
    expect(outcome.failed).toEqual([]);
    expect(docMock).toHaveReceivedCommandTimes(QueryCommand, 1);
    expect(docMock).toHaveReceivedCommandWith(QueryCommand, policyQuery);
    expect(ddbMock).toHaveReceivedCommandTimes(ListBackupsCommand, 1);
    expect(ddbMock).toHaveReceivedCommandWith(ListBackupsCommand, { TableName: 'orders', BackupType: 'USER' });
    expect(ddbMock).toHaveReceivedCommandTimes(DescribeBackupCommand, 0);
    expect(ddbMock).toHaveReceivedCommandTimes(DeleteBackupCommand, 3);
    for (const kept of [keep0, keep1, keep2]) expect(ddbMock).not.toHaveReceivedCommandWith(DeleteBackupCommand, { BackupArn: kept.backupArn });
    // Three marks, and the undo of the one deferred.
    expect(docMock).toHaveReceivedCommandTimes(UpdateCommand, 4);
    for (const target of [del3, inUse, del5]) expect(docMock).toHaveReceivedCommandWith(UpdateCommand, markWrite(target));
    expect(docMock).toHaveReceivedCommandWith(UpdateCommand, {
      Key: { pk: 'TABLE#orders', sk: inUse.sk },
      UpdateExpression: 'SET #s = deletedFrom, #live = :live REMOVE deletedAt, deleteReason, deletedFrom, expiresAt',
      ConditionExpression: '#s = :deleted AND attribute_exists(deletedFrom)',
    });
  });

  it('does not delete a backup whose mark meets a hold (the condition fails): no DeleteBackup for it', async () => {
    // Prepare
    const ledger = ledgerWith(items.slice(0, 4));
    listing(...items.slice(0, 4).map((i) => listedAs(i)));
    const target = items[3];
    docMock
      .on(UpdateCommand, { Key: { pk: 'TABLE#orders', sk: target.sk } })
      .rejects(new ConditionalCheckFailedException({ message: 'The conditional request failed', ...meta }));
    docMock.on(GetCommand, { Key: { pk: 'TABLE#orders', sk: target.sk } }).resolves({ Item: { ...target, hold: { reason: 'legal', by: 'counsel', at: NOW.toISOString() } } });
    ddbMock.on(DeleteBackupCommand).resolves({});
    // Act
    const outcome = await pruneTable({ backups: adapter(), ledger, clock }, { table: 'orders', policy: 'daily', retention: { keepLast: 3 } });
    // Assess
    expect(docMock).toHaveReceivedCommandWith(UpdateCommand, markWrite(target));
    expect(docMock).toHaveReceivedCommandWith(GetCommand, { Key: { pk: 'TABLE#orders', sk: target.sk }, ConsistentRead: true });
    expect(outcome.deleted).toEqual([]);
    expect(ddbMock).toHaveReceivedCommandTimes(DeleteBackupCommand, 0);
  });

  it('never deletes a listed backup the ledger does not hold, even one named exactly like the service\'s', async () => {
    // Prepare
    const ledger = ledgerWith(items.slice(0, 4));
    const lookalike = summary('orders', 'not-ours', new Date(NOW.getTime() - 400 * DAY));
    listing(...items.slice(0, 4).map((i) => listedAs(i)), lookalike);
    ddbMock.on(DeleteBackupCommand).resolves({});
    // Act
    const outcome = await pruneTable({ backups: adapter(), ledger, clock }, { table: 'orders', policy: 'daily', retention: { keepLast: 3 } });
    // Assess
    expect(outcome.deleted).toEqual([items[3].backupArn]);
    expect(ddbMock).toHaveReceivedCommandTimes(DeleteBackupCommand, 1);
    expect(ddbMock).not.toHaveReceivedCommandWith(DeleteBackupCommand, { BackupArn: lookalike.BackupArn });
  });

  it('a dry run lists the table but sends no DeleteBackup and no ledger write', async () => {
    // Prepare
    const ledger = ledgerWith(items);
    listing(...items.map((i) => listedAs(i)));
    // Act
    const outcome = await pruneTable({ backups: adapter(), ledger, clock }, { table: 'orders', policy: 'daily', retention: { keepLast: 3 }, dryRun: true });
    // Assess
    expect(outcome.plan.delete).toHaveLength(3);
    expect(ddbMock).toHaveReceivedCommandTimes(ListBackupsCommand, 1);
    expect(ddbMock).toHaveReceivedCommandTimes(DeleteBackupCommand, 0);
    expect(docMock).toHaveReceivedCommandTimes(UpdateCommand, 0);
  });

  it('a failed latest attempt blocks every deletion, and nothing is listed', async () => {
    // Prepare
    const ledger = ledgerWith(items, { pk: 'TABLE#orders', sk: 'STATE#daily', table: 'orders', policy: 'daily', lastAttemptStatus: 'failed', lastAttemptAt: NOW.toISOString() });
    // Act
    const outcome = await pruneTable({ backups: adapter(), ledger, clock }, { table: 'orders', policy: 'daily', retention: { keepLast: 3 } });
    // Assess
    expect(outcome.plan.blocked).toMatch(/^latest backup attempt failed/);
    expect(ddbMock).toHaveReceivedCommandTimes(ListBackupsCommand, 0);
    expect(ddbMock).toHaveReceivedCommandTimes(DeleteBackupCommand, 0);
    expect(docMock).toHaveReceivedCommandTimes(UpdateCommand, 0);
  });

  it('a plan that deletes nothing costs one ledger query and no DynamoDB call', async () => {
    // Prepare
    const ledger = ledgerWith(items.slice(0, 3));
    // Act
    const outcome = await pruneTable({ backups: adapter(), ledger, clock }, { table: 'orders', policy: 'daily', retention: { keepLast: 3 } });
    // Assess
    expect(outcome).toMatchObject({ deleted: [], confirmed: false });
    expect(ddbMock.calls()).toHaveLength(0);
    expect(docMock).toHaveReceivedCommandTimes(QueryCommand, 1);
    expect(docMock).toHaveReceivedCommandTimes(UpdateCommand, 0);
  });

  it('a record CREATING for over 5 minutes is settled from the listing with a conditional update, and no DescribeBackup', async () => {
    // Prepare
    const creating = ledgerItem(new Date(NOW.getTime() - 6 * 60_000), 'CREATING');
    const ledger = ledgerWith([...items.slice(0, 3), creating]);
    listing(listedAs(creating), ...items.slice(0, 3).map((i) => listedAs(i)));
    ddbMock.on(DeleteBackupCommand).resolves({});
    // Act
    const outcome = await pruneTable({ backups: adapter(), ledger, clock }, { table: 'orders', policy: 'daily', retention: { keepLast: 3 } });
    // Assess
    expect(ddbMock).toHaveReceivedCommandTimes(DescribeBackupCommand, 0);
    expect(outcome.reconciled).toBe(1);
    expect(docMock).toHaveReceivedCommandWith(UpdateCommand, {
      Key: { pk: 'TABLE#orders', sk: creating.sk },
      UpdateExpression: 'SET #s = :s, #live = :live REMOVE deletedAt, deleteReason, expiresAt',
      ConditionExpression: 'attribute_exists(pk) AND #s IN (:f0)',
      ExpressionAttributeValues: { ':s': 'AVAILABLE', ':f0': 'CREATING', ':live': 'orders#daily' },
    });
    expect(outcome.deleted).toEqual([items[2].backupArn]);
    expect(docMock).toHaveReceivedCommandWith(UpdateCommand, markWrite(items[2]));
  });

  it('a ledger backup missing from the listing is described once and, not found, marked VANISHED under a condition; it no longer counts', async () => {
    // Prepare
    const ledger = ledgerWith(items);
    const gone = items[1];
    listing(...items.filter((i) => i !== gone).map((i) => listedAs(i)));
    ddbMock.on(DescribeBackupCommand).rejects(new BackupNotFoundException({ message: 'Backup not found', ...meta }));
    ddbMock.on(DeleteBackupCommand).resolves({});
    // Act
    const outcome = await pruneTable({ backups: adapter(), ledger, clock }, { table: 'orders', policy: 'daily', retention: { keepLast: 3 } });
    // Assess
    expect(outcome.vanished).toBe(1);
    expect(ddbMock).toHaveReceivedCommandTimes(DescribeBackupCommand, 1);
    expect(ddbMock).toHaveReceivedCommandWith(DescribeBackupCommand, { BackupArn: gone.backupArn });
    expect(docMock).toHaveReceivedCommandWith(UpdateCommand, {
      Key: { pk: 'TABLE#orders', sk: gone.sk },
      UpdateExpression: 'SET #s = :s, expiresAt = :exp, deletedAt = :at, deleteReason = :why REMOVE #live',
      ConditionExpression: 'attribute_exists(pk) AND #s IN (:f0, :f1)',
      ExpressionAttributeValues: expect.objectContaining({ ':s': 'VANISHED', ':f0': 'CREATING', ':f1': 'AVAILABLE', ':at': NOW.toISOString() }),
    });
    // keepLast 3 keeps items 0, 2 and 3: the two oldest go, never the vanished one.
    expect(outcome.deleted).toEqual([items[4].backupArn, items[5].backupArn]);
    expect(ddbMock).not.toHaveReceivedCommandWith(DeleteBackupCommand, { BackupArn: gone.backupArn });
  });

  it('planSweep lists the whole account once (every page, no TableName) for many tagged tables, and its jobs carry no listing', async () => {
    // Prepare
    const tables = Array.from({ length: 12 }, (_, i) => `t${String(i).padStart(2, '0')}`);
    const discovery: TableDiscovery = { discover: async () => tables.map((table) => ({ table, arn: tableArn(table), policies: ['daily'] })) };
    const cursor = backupArn('t05', 'b5');
    ddbMock
      .on(ListBackupsCommand)
      .resolvesOnce({ BackupSummaries: tables.slice(0, 6).map((t, i) => summary(t, `b${i}`)), LastEvaluatedBackupArn: cursor })
      .resolvesOnce({ BackupSummaries: tables.slice(6).map((t, i) => summary(t, `b${i + 6}`)) });
    ssmMock.on(GetParameterCommand).resolves({ Parameter: { Name: `${DEFAULTS.POLICY_PREFIX}daily`, Value: '{"retention":{"keepLast":3}}' } });
    const policies = new PolicyStore(new SSMClient(clientConfig), { cacheSeconds: 0 });
    // Act
    const plan = await planSweep({ policies, discovery, backups: adapter(), clock }, { policy: 'daily', time: NOW.toISOString(), slot: `prune:${NOW.toISOString()}` });
    // Assess
    expect(plan.jobs.map((j) => j.table)).toEqual(tables);
    for (const j of plan.jobs) {
      expect(j).toEqual({ table: j.table, policy: 'daily', trigger: 'prune', kind: 'prune', slot: `prune:${NOW.toISOString()}`, requestedAt: NOW.toISOString(), runId: plan.runId });
      expect(j).not.toHaveProperty('listing');
    }
    expect(ddbMock).toHaveReceivedCommandTimes(ListBackupsCommand, 2);
    expect(ddbMock).toHaveReceivedNthCommandWith(2, ListBackupsCommand, { BackupType: 'USER', Limit: 100, ExclusiveStartBackupArn: cursor });
    expect(ddbMock).not.toHaveReceivedCommandWith(ListBackupsCommand, { TableName: expect.anything() });
  });
});

// ---------------------------------------------------------------------------------------------
// The call budget of one worker backup job: ListBackups only when the ledger plan deletes
// ---------------------------------------------------------------------------------------------

describe('worker call budget', () => {
  const job: BackupJob = {
    table: 'orders',
    policy: 'daily',
    trigger: 'schedule',
    slot: 'schedule:2026-11-24T03:00:00.000Z',
    requestedAt: '2026-11-24T03:00:00.000Z',
    runId: 'daily|schedule|schedule:2026-11-24T03:00:00.000Z',
  };
  const newArn = backupArn('orders', 'new');
  const newName = backupName('daily', 'schedule', NOW, job.slot, 'attempt-of-this-job');

  /** A backup job over `history` (newest first), keepLast 5; the ledger read after recordBackup includes this job's backup, CREATING. */
  function budgetWorld(history: ReturnType<typeof ledgerItem>[]) {
    const justCreated = { ...ledgerItem(NOW, 'CREATING', 'new'), sk: `BACKUP#daily#${job.slot}`, slot: job.slot, backupName: newName };
    ssmMock.on(GetParameterCommand).resolves({ Parameter: { Name: `${DEFAULTS.POLICY_PREFIX}daily`, Value: '{"minIntervalMinutes":60,"retention":{"keepLast":5}}' } });
    ssmMock.on(GetParametersByPathCommand).resolves({ Parameters: [] });
    docMock.on(GetCommand).resolves({});
    docMock.on(GetCommand, { Key: { pk: 'TABLE#orders', sk: 'STATE#daily' } }).resolves({
      Item: { table: 'orders', policy: 'daily', lastBackupAt: history[0].createdAt, lastAttemptAt: history[0].createdAt, lastAttemptStatus: 'succeeded' },
    });
    docMock.on(PutCommand).resolves({});
    docMock.on(TransactWriteCommand).resolves({});
    docMock.on(QueryCommand).resolves({ Items: [justCreated, ...history] });
    docMock.on(UpdateCommand).resolves({});
    ddbMock.on(DescribeTableCommand).resolves({ Table: { TableName: 'orders', TableStatus: 'ACTIVE', TableSizeBytes: 2048, ItemCount: 7 } });
    ddbMock.on(CreateBackupCommand).resolves({
      BackupDetails: { BackupArn: newArn, BackupName: newName, BackupStatus: 'CREATING', BackupCreationDateTime: NOW, BackupType: 'USER', BackupSizeBytes: 0 },
    });
    ddbMock.on(ListBackupsCommand, { TableName: 'orders' }).resolves({ BackupSummaries: [listedAs(justCreated, 'CREATING'), ...history.map((h) => listedAs(h))] });
    ddbMock.on(DeleteBackupCommand).resolves({});
    return {
      policies: new PolicyStore(new SSMClient(clientConfig), { cacheSeconds: 0 }),
      backups: adapter(),
      ledger: new Ledger(new DynamoDBClient(clientConfig), LEDGER),
      clock,
    };
  }

  it('a steady-state table whose new backup pushes one out (5 AVAILABLE, keepLast 5) costs exactly 1 ListBackups of the table, 1 CreateBackup, 1 DescribeTable, 1 DeleteBackup', async () => {
    // Prepare
    const history = Array.from({ length: 5 }, (_, i) => ledgerItem(new Date(NOW.getTime() - (i + 1) * DAY)));
    const deps = budgetWorld(history);
    // Act
    const result = await processJob(deps, job);
    // Assess
    expect(result).toEqual({ table: 'orders', policy: 'daily', status: 'backed-up', backupArn: newArn, deleted: 1 });
    expect(ddbMock).toHaveReceivedCommandTimes(ListBackupsCommand, 1);
    expect(ddbMock).toHaveReceivedCommandWith(ListBackupsCommand, { TableName: 'orders' });
    expect(ddbMock).toHaveReceivedCommandTimes(CreateBackupCommand, 1);
    expect(ddbMock).toHaveReceivedCommandTimes(DescribeTableCommand, 1);
    expect(ddbMock).toHaveReceivedCommandTimes(DeleteBackupCommand, 1);
    expect(ddbMock).toHaveReceivedCommandTimes(DescribeBackupCommand, 0);
    expect(ddbMock).toHaveReceivedCommandWith(DeleteBackupCommand, { BackupArn: history[4].backupArn });
    // One read of the live index (state and live records); with no CloudTrail feed, the deletion
    // is confirmed against the policy's whole history too (it may revive a VANISHED record).
    expect(docMock).toHaveReceivedCommandTimes(QueryCommand, 2);
    expect(docMock).toHaveReceivedCommandWith(QueryCommand, { IndexName: 'live', ExpressionAttributeValues: { ':live': 'orders#daily' } });
    expect(docMock).toHaveReceivedCommandWith(QueryCommand, policyQuery);
    expect(docMock).toHaveReceivedCommandTimes(GetCommand, 0);
    expect(docMock).toHaveReceivedCommandTimes(UpdateCommand, 1);
    expect(docMock).toHaveReceivedCommandWith(UpdateCommand, markWrite(history[4]));
  });

  it('a steady-state table whose plan deletes nothing (4 AVAILABLE, keepLast 5) costs no ListBackups and no DeleteBackup', async () => {
    // Prepare
    const history = Array.from({ length: 4 }, (_, i) => ledgerItem(new Date(NOW.getTime() - (i + 1) * DAY)));
    const deps = budgetWorld(history);
    // Act
    const result = await processJob(deps, job);
    // Assess
    expect(result).toEqual({ table: 'orders', policy: 'daily', status: 'backed-up', backupArn: newArn, deleted: 0 });
    expect(ddbMock).toHaveReceivedCommandTimes(ListBackupsCommand, 0);
    expect(ddbMock).toHaveReceivedCommandTimes(CreateBackupCommand, 1);
    expect(ddbMock).toHaveReceivedCommandTimes(DescribeTableCommand, 1);
    expect(ddbMock).toHaveReceivedCommandTimes(DeleteBackupCommand, 0);
    expect(ddbMock).toHaveReceivedCommandTimes(DescribeBackupCommand, 0);
    expect(docMock).toHaveReceivedCommandTimes(UpdateCommand, 0);
  });
});
