/**
 * The CloudTrail feed against moto, through the real table-events and worker handlers with real
 * SDK clients: synthetic CloudTrail events (as EventBridge delivers them) keep the ledger current,
 * and while the feed is alive the worker's prune makes no ListBackups. Calls are counted with a
 * middleware on the SDK clients.
 */
import { DeleteBackupCommand, DescribeTimeToLiveCommand, ListBackupsCommand, UpdateTimeToLiveCommand } from '@aws-sdk/client-dynamodb';
import type { SQSEvent } from 'aws-lambda';
import { CallCounter } from '../../lambda/aws/limits';
import type { Service } from '../../lambda/aws/service';
import { FEED_PK, HEARTBEAT_SK, TableFeedLedger } from '../../lambda/aws/table-events';
import { FEED_ALIVE_WINDOW_MS } from '../../lambda/core/events/feed';
import type { BackupJob } from '../../lambda/core/jobs';
import { tableEventsHandler } from '../../lambda/handlers/table-events.handler';
import { workerHandler } from '../../lambda/handlers/worker.handler';
import { createTable, makeEnv, putPolicyRaw, testClients, uniqueName, type TestEnv } from '../support/aws';
import { fakeContext } from '../support/sqs-event';

const CALLER = 'arn:aws:iam::123456789012:user/alice';

/** An EventBridge event of a CloudTrail-recorded DynamoDB call. */
function cloudTrail(eventName: string, requestParameters: Record<string, unknown>, eventTime = new Date()) {
  return {
    version: '0',
    id: uniqueName('event'),
    'detail-type': 'AWS API Call via CloudTrail',
    source: 'aws.dynamodb',
    account: '123456789012',
    time: eventTime.toISOString(),
    region: 'us-east-1',
    resources: [],
    detail: {
      eventVersion: '1.08',
      userIdentity: { type: 'IAMUser', arn: CALLER },
      eventTime: eventTime.toISOString().replace(/\.\d{3}Z$/, 'Z'),
      eventSource: 'dynamodb.amazonaws.com',
      eventName,
      requestParameters,
      responseElements: null,
    },
  };
}

/** One SQS delivery of a backup job, shaped as the Lambda event source delivers it. */
function jobEvent(table: string, policy: string, n: number): SQSEvent {
  const slot = `manual:${uniqueName(`slot${n}`)}`;
  const job: BackupJob = { table, policy, trigger: 'manual', slot, requestedAt: new Date().toISOString(), runId: `${policy}|manual|${slot}` };
  return {
    Records: [
      {
        messageId: `m${n}`,
        receiptHandle: `m${n}`,
        body: JSON.stringify(job),
        attributes: { ApproximateReceiveCount: '1', SentTimestamp: '0', SenderId: 'x', ApproximateFirstReceiveTimestamp: '0', MessageGroupId: table },
        messageAttributes: {},
        md5OfBody: '',
        eventSource: 'aws:sqs',
        eventSourceARN: 'arn:aws:sqs:us-east-1:123456789012:jobs.fifo',
        awsRegion: 'us-east-1',
      },
    ],
  };
}

/** A service of the test world whose SDK calls are counted. */
function countedService(env: TestEnv, counter: CallCounter): Service {
  return env.service({}, testClients(counter));
}

async function backUp(svc: Service, table: string, policy: string, n: number): Promise<void> {
  const out = await workerHandler(jobEvent(table, policy, n), fakeContext, svc);
  expect(out.batchItemFailures).toEqual([]);
}

async function liveBackups(env: TestEnv, table: string): Promise<string[]> {
  const out = await env.ddb.send(new ListBackupsCommand({ TableName: table }));
  return (out.BackupSummaries ?? []).filter((b) => b.BackupStatus !== 'DELETED').map((b) => b.BackupArn!).sort();
}

const pause = () => new Promise((r) => setTimeout(r, 1100));

describe('table events on moto (real handlers, real SDK clients)', () => {
  let env: TestEnv;
  beforeAll(async () => {
    env = await makeEnv('events');
    await putPolicyRaw(env, 'keep2', JSON.stringify({ retention: { keepLast: 2 } }));
  });

  it('a hand DeleteBackup marks the ledger record VANISHED, and later prunes keep keepLast real backups without one ListBackups', async () => {
    // Prepare: b1, b2 under keepLast 2; b2 is deleted by hand and its CloudTrail event arrives
    const table = uniqueName('vanish');
    await createTable(env, table, 'keep2', 1);
    const prep = env.service();
    await backUp(prep, table, 'keep2', 1);
    await pause();
    await backUp(prep, table, 'keep2', 2);
    const [b1, b2] = (await prep.ledger().listBackupRecords(table)).sort((a, b) => a.createdAt!.localeCompare(b.createdAt!)).map((r) => r.backupArn!);
    await env.ddb.send(new DeleteBackupCommand({ BackupArn: b2 }));

    // Act: the event, then two more backups through the worker with counted clients
    const marked = await tableEventsHandler(cloudTrail('DeleteBackup', { backupArn: b2 }), env.service());
    const counter = new CallCounter();
    const svc = countedService(env, counter);
    await pause();
    await backUp(svc, table, 'keep2', 3);
    await pause();
    await backUp(svc, table, 'keep2', 4);

    // Assess
    expect(marked).toMatchObject({ action: 'vanished', table });
    const records = await prep.ledger().listBackupRecords(table);
    expect(records.find((r) => r.backupArn === b2)).toMatchObject({ status: 'VANISHED', deleteReason: expect.stringContaining(CALLER) });
    expect(records.find((r) => r.backupArn === b1)?.status).toBe('DELETED');
    const live = records.filter((r) => r.status === 'AVAILABLE').map((r) => r.backupArn!).sort();
    expect(live).toHaveLength(2);
    expect(await liveBackups(env, table)).toEqual(live);
    expect(counter.get('ListBackups')).toBe(0);
    expect(counter.get('DescribeBackup')).toBe(0);
    expect(counter.get('DeleteBackup')).toBe(1);
    expect(counter.get('CreateBackup')).toBe(2);
  }, 60_000);

  it('an UpdateTimeToLive takes a fresh settings snapshot with the new TTL at once', async () => {
    // Prepare: a backed-up table (its snapshot has no TTL), then TTL turned on by hand
    const table = uniqueName('ttl');
    await createTable(env, table, 'keep2', 1);
    const svc = env.service();
    await backUp(svc, table, 'keep2', 1);
    const before = await svc.ledger().getSettingsSnapshot(table);
    await env.ddb.send(new UpdateTimeToLiveCommand({ TableName: table, TimeToLiveSpecification: { Enabled: true, AttributeName: 'expiresAt' } }));
    const ttl = await env.ddb.send(new DescribeTimeToLiveCommand({ TableName: table }));

    const counter = new CallCounter();

    // Act
    const out = await tableEventsHandler(
      cloudTrail('UpdateTimeToLive', { tableName: table, timeToLiveSpecification: { enabled: true, attributeName: 'expiresAt' } }),
      countedService(env, counter),
    );

    // Assess
    expect(ttl.TimeToLiveDescription?.TimeToLiveStatus).toMatch(/ENABL/);
    expect(before?.settings.ttl).toBeNull();
    expect(out).toMatchObject({ action: 'snapshot', table });
    const after = await svc.ledger().getSettingsSnapshot(table);
    expect(after?.settings.ttl).toEqual({ attributeName: 'expiresAt' });
    expect(after!.capturedAt > before!.capturedAt).toBe(true);
    // The snapshot's reads of DynamoDB (auto scaling has its own client), and the ledger's: knownTable, the snapshot, the heartbeat.
    expect(counter.snapshot()).toEqual({
      DescribeContinuousBackups: 1,
      DescribeContributorInsights: 1,
      DescribeKinesisStreamingDestination: 1,
      DescribeTable: 1,
      DescribeTimeToLive: 1,
      GetResourcePolicy: 1,
      ListTagsOfResource: 1,
      PutItem: 1,
      Query: 1,
      UpdateItem: 1,
    });
  }, 60_000);

  it('an UpdateContinuousBackups makes the next backup of every policy re-check PITR; an unknown table is ignored', async () => {
    // Prepare
    const table = uniqueName('pitr');
    await createTable(env, table, 'keep2', 1);
    const svc = env.service();
    await backUp(svc, table, 'keep2', 1);
    await svc.ledger().markPitrChecked(table, 'keep2', 'hash-1', new Date());

    // Act
    const out = await tableEventsHandler(cloudTrail('UpdateContinuousBackups', { tableName: table }), svc);
    const stranger = await tableEventsHandler(cloudTrail('UpdateContinuousBackups', { tableName: uniqueName('stranger') }), svc);

    // Assess
    expect(out.action).toBe('snapshot');
    const state = await svc.ledger().getState(table, 'keep2');
    expect(state?.pitrCheckedAt).toEqual(expect.any(String));
    expect(state?.pitrCheckedHash).toBeUndefined();
    expect(stranger).toMatchObject({ action: 'ignored', reason: 'a table the service does not back up' });
  }, 60_000);

  it('a feed that is not alive (a heartbeat older than the window) leaves the prune listing as before', async () => {
    // Prepare: a world of its own whose heartbeat is stale; b1, b2 under keepLast 2
    const stale = await makeEnv('stale');
    await putPolicyRaw(stale, 'keep2', JSON.stringify({ retention: { keepLast: 2 } }));
    await new TableFeedLedger(stale.service()).beat(new Date(Date.now() - FEED_ALIVE_WINDOW_MS - 60_000), new Date());
    const table = uniqueName('stale');
    await createTable(stale, table, 'keep2', 1);
    const prep = stale.service();
    await backUp(prep, table, 'keep2', 1);
    await pause();
    await backUp(prep, table, 'keep2', 2);
    const counter = new CallCounter();
    const svc = countedService(stale, counter);
    await pause();

    // Act: a third backup: the prune deletes b1, confirming by listing first
    await backUp(svc, table, 'keep2', 3);

    // Assess
    expect(counter.get('ListBackups')).toBe(1);
    expect(counter.get('DeleteBackup')).toBe(1);
    expect(await liveBackups(stale, table)).toHaveLength(2);
  }, 60_000);

  it('beats the heartbeat at most once a minute, and never back in time', async () => {
    // Prepare
    const svc = env.service();
    const read = () => new TableFeedLedger(svc).lastEventAt();
    const t = new Date(Date.now() + 10 * 60_000);

    // Act
    await new TableFeedLedger(svc).beat(t, new Date());
    const first = await read();
    await new TableFeedLedger(svc).beat(new Date(t.getTime() + 30_000), new Date());
    const within = await read();
    await new TableFeedLedger(svc).beat(new Date(t.getTime() - 10 * 60_000), new Date());
    const back = await read();
    await new TableFeedLedger(svc).beat(new Date(t.getTime() + 61_000), new Date());
    const later = await read();

    // Assess
    expect(FEED_PK).toBe('FEED#cloudtrail');
    expect(HEARTBEAT_SK).toBe('HEARTBEAT');
    expect([first, within, back]).toEqual([t.toISOString(), t.toISOString(), t.toISOString()]);
    expect(later).toBe(new Date(t.getTime() + 61_000).toISOString());
  }, 30_000);
});
