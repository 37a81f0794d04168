import { ListBackupsCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { FEED_PK, HEARTBEAT_SK } from '../../lambda/aws/table-events';
import { CreateQueueCommand } from '@aws-sdk/client-sqs';
import { CallCounter } from '../../lambda/aws/limits';
import type { Service } from '../../lambda/aws/service';
import { parseSummaryJson } from '../../lambda/core/backup/summary';
import { plannerHandler } from '../../lambda/handlers/planner.handler';
import { workerHandler } from '../../lambda/handlers/worker.handler';
import { createTable, makeEnv, readNotifications, testClients, uniqueName, type TestEnv } from '../support/aws';
import { acknowledge, fakeContext, receiveAsEvent } from '../support/sqs-event';
import { startMoto, type MotoServer } from '../../demo/moto';

/**
 * A fleet of 210 tables through the deployed topology, against moto: a schedule tick plans one
 * tag page per invocation and hands the next page to the plan queue; the worker drains the job
 * queue. Two cycles under keepLast 1: the second is the steady state (one backup made, one
 * pruned, per table), whose AWS and ledger calls are counted with a middleware on the SDK clients.
 */

const TABLES = Number(process.env.FLEET_TABLES ?? 210);
const KEEP = 1;
/**
 * Ledger operations per table in the steady state: the live read, the claim, the record, the
 * deletion mark, the run result and the run header read (and the feed's heartbeat, once a minute).
 */
const LEDGER_OPS_PER_TABLE = 6.1;
/** The ledger's DynamoDB data-plane calls (everything else the clients send is an AWS control-plane call). */
const LEDGER_APIS = ['GetItem', 'PutItem', 'UpdateItem', 'DeleteItem', 'Query', 'Scan', 'TransactWriteItems', 'BatchGetItem', 'BatchWriteItem'];

interface Fleet {
  readonly env: TestEnv;
  readonly svc: Service;
  readonly counter: CallCounter;
  readonly jobQueueUrl: string;
  readonly planQueueUrl: string;
  readonly tables: string[];
}

async function fleet(): Promise<Fleet> {
  const env = await makeEnv('fleet');
  const jobs = await env.sqs.send(new CreateQueueCommand({ QueueName: `${uniqueName('jobs')}.fifo`, Attributes: { FifoQueue: 'true' } }));
  const plan = await env.sqs.send(new CreateQueueCommand({ QueueName: uniqueName('plan') }));
  const counter = new CallCounter();
  const svc = env.service({ jobQueueUrl: jobs.QueueUrl, planQueueUrl: plan.QueueUrl, pagesPerInvocation: 1, maxReceiveCount: 3 }, testClients(counter));
  await svc.policies.putPolicy('fleet', { schedule: 'rate(1 day)', retention: { keepLast: KEEP }, notify: 'all' });
  const tables: string[] = [];
  for (let i = 0; i < TABLES; i++) {
    const name = uniqueName(`f${String(i).padStart(3, '0')}`);
    await createTable(env, name, 'fleet', 1);
    tables.push(name);
  }
  return { env, svc, counter, jobQueueUrl: jobs.QueueUrl!, planQueueUrl: plan.QueueUrl!, tables };
}

/** One cycle as deployed: the tick, every plan queue page, then every job. Returns the planner invocations. */
async function cycle(f: Fleet, time: string): Promise<number> {
  let invocations = 1;
  await plannerHandler({ policy: 'fleet', trigger: 'schedule', time }, f.svc);
  for (;;) {
    const pages = await receiveAsEvent(f.env.sqs, f.planQueueUrl, 'arn:aws:sqs:us-east-1:123456789012:plan');
    if (pages.Records.length === 0) break;
    for (const record of pages.Records) {
      invocations += 1;
      await plannerHandler({ Records: [record] }, f.svc);
      await acknowledge(f.env.sqs, f.planQueueUrl, { Records: [record] }, { batchItemFailures: [] });
    }
  }
  for (;;) {
    const event = await receiveAsEvent(f.env.sqs, f.jobQueueUrl);
    if (event.Records.length === 0) break;
    const response = await workerHandler(event, fakeContext, f.svc);
    expect(response.batchItemFailures).toEqual([]);
    await acknowledge(f.env.sqs, f.jobQueueUrl, event, response);
  }
  return invocations;
}

const sum = (counts: Record<string, number>, apis: readonly string[]) => apis.reduce((n, api) => n + (counts[api] ?? 0), 0);

// The fleet gets a moto server of its own: 210 tables and their backups would slow every later
// test on the shared one (moto answers GetResources and ListBackups by scanning its whole state).
let own: MotoServer | undefined;
const shared = process.env.MOTO_ENDPOINT;
beforeAll(async () => {
  if (process.env.DDB_BACKUP_E2E === '1') return;
  own = await startMoto(process.env.MOTO_PYTHON ?? 'python3');
  process.env.MOTO_ENDPOINT = own.endpoint;
}, 90_000);
afterAll(async () => {
  if (shared === undefined) delete process.env.MOTO_ENDPOINT;
  else process.env.MOTO_ENDPOINT = shared;
  await own?.stop();
}, 30_000);

describe('a fleet of 210 tables through the fan-out, against moto', () => {
  it('plans one tag page per invocation, reaches the steady state of exactly keepLast backups, and counts its calls per table', async () => {
    // Prepare: a first cycle fills each table's retention (keepLast 1). The CloudTrail feed is
    // alive (its heartbeat is fresh), as in a deployment with a trail: prunes confirm from the ledger.
    const f = await fleet();
    await f.env.ddb.send(new PutItemCommand({ TableName: f.env.ledgerTable, Item: { pk: { S: FEED_PK }, sk: { S: HEARTBEAT_SK }, lastEventAt: { S: new Date().toISOString() } } }));
    const planners = await cycle(f, '2026-11-23T03:00:00Z');
    await readNotifications(f.env, { waitForAtLeast: 1 });

    // Act: the steady-state cycle, counted.
    const before = f.counter.snapshot();
    await cycle(f, '2026-11-24T03:00:00Z');
    const after = f.counter.snapshot();
    const calls = Object.fromEntries(Object.keys(after).map((k) => [k, after[k] - (before[k] ?? 0)]));

    // Assess: three planner invocations per cycle (pages of 100, 100, 10), one summary per cycle
    expect(planners).toBe(Math.ceil(TABLES / 100));
    const notes = await readNotifications(f.env, { waitForAtLeast: 1 });
    expect(notes).toHaveLength(1);
    const summary = parseSummaryJson(notes[0].message) as { counts: { backedUp: number; deleted: number; failed: number; warnings: number } };
    expect(summary.counts).toMatchObject({ backedUp: TABLES, deleted: TABLES, failed: 0 });
    // Assess: exactly keepLast backups per table
    for (const table of f.tables) {
      const listed = await f.env.ddb.send(new ListBackupsCommand({ TableName: table }));
      expect([table, listed.BackupSummaries?.length]).toEqual([table, KEEP]);
    }
    // Assess: the calls of the steady state, per table
    const perTable = (n: number) => n / TABLES;
    expect(calls.CreateBackup).toBe(TABLES);
    expect(calls.DeleteBackup).toBe(TABLES);
    expect(calls.GetResources).toBe(Math.ceil(TABLES / 100));
    expect(calls.DescribeTable ?? 0).toBe(0);
    const control = sum(calls, Object.keys(calls).filter((k) => !LEDGER_APIS.includes(k) && !['SendMessage', 'SendMessageBatch', 'GetParameter', 'GetParametersByPath', 'Publish'].includes(k)));
    const ledger = sum(calls, LEDGER_APIS);
    process.stdout.write(`fleet steady state: ${JSON.stringify(calls)}; AWS ${perTable(control).toFixed(3)}/table, ledger ${perTable(ledger).toFixed(3)}/table\n`);
    // Create, delete and tag paging only: no listing, no describe (the goal: <= 2.1).
    expect(calls.ListBackups ?? 0).toBe(0);
    expect(perTable(control)).toBeLessThanOrEqual(2.1);
    expect(perTable(ledger)).toBeLessThanOrEqual(LEDGER_OPS_PER_TABLE);
  }, 600_000);
});
