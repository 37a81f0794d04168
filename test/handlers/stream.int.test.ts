import { ListBackupsCommand } from '@aws-sdk/client-dynamodb';
import { CreateQueueCommand } from '@aws-sdk/client-sqs';
import type { DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import { ChangeCounter } from '../../lambda/aws/change-counter';
import type { Service } from '../../lambda/aws/service';
import { parseJob } from '../../lambda/core/jobs';
import { pruneTable } from '../../lambda/core/retention/prune';
import { plannerHandler } from '../../lambda/handlers/planner.handler';
import { buildStreamDeps } from '../../lambda/handlers/stream-deps';
import { processStreamBatch } from '../../lambda/handlers/stream.handler';
import { workerHandler } from '../../lambda/handlers/worker.handler';
import { createTable, makeEnv, readNotifications, uniqueName, type TestEnv } from '../support/aws';
import { acknowledge, fakeContext, receiveAsEvent } from '../support/sqs-event';

let seq = 1;

function events(tableArn: string, counts: { inserts?: number; modifies?: number; removes?: number }): DynamoDBStreamEvent {
  const Records: DynamoDBRecord[] = [];
  const push = (eventName: 'INSERT' | 'MODIFY' | 'REMOVE', n = 0) => {
    for (let i = 0; i < n; i++) {
      const s = String(seq++).padStart(21, '0');
      Records.push({
        eventID: s,
        eventName,
        eventSource: 'aws:dynamodb',
        eventSourceARN: `${tableArn}/stream/2026-11-24T00:00:00.000`,
        awsRegion: 'us-east-1',
        dynamodb: { SequenceNumber: s, Keys: { pk: { S: `k${s}` } }, StreamViewType: 'KEYS_ONLY' },
      });
    }
  };
  push('INSERT', counts.inserts);
  push('MODIFY', counts.modifies);
  push('REMOVE', counts.removes);
  return { Records };
}

async function setup(name: string): Promise<{ env: TestEnv; svc: Service; queueUrl: string; counter: ChangeCounter }> {
  const env = await makeEnv(name);
  const q = await env.sqs.send(new CreateQueueCommand({ QueueName: `${uniqueName('jobs')}.fifo`, Attributes: { FifoQueue: 'true' } }));
  const svc = env.service({ jobQueueUrl: q.QueueUrl, maxReceiveCount: 3 });
  return { env, svc, queueUrl: q.QueueUrl!, counter: new ChangeCounter(env.ddb, env.ledgerTable) };
}

async function count(_env: TestEnv, svc: Service, tableArn: string, c: Parameters<typeof events>[1]) {
  const result = await processStreamBatch(events(tableArn, c), fakeContext, buildStreamDeps(svc, {}));
  expect(result.response.batchItemFailures).toEqual([]);
  return result;
}

async function backupsOf(env: TestEnv, table: string) {
  return (await env.ddb.send(new ListBackupsCommand({ TableName: table }))).BackupSummaries ?? [];
}

describe('stream trigger against moto: counters, thresholds, baseline, delete storms', () => {
  it('two concurrent batches of one table add up exactly', async () => {
    // Prepare
    const { env, svc, counter } = await setup('sum');
    await svc.policies.putPolicy('busy', { changes: { writes: 1_000_000 } });
    const table = uniqueName('orders');
    const arn = await createTable(env, table, 'busy', 0);

    // The table's first batch creates its counter item. (moto, unlike DynamoDB, can lose one of two
    // UpdateItems that race to create an item; on an existing item its ADD is atomic, as in AWS.)
    await count(env, svc, arn, { inserts: 1 });

    // Act
    await Promise.all([
      count(env, svc, arn, { inserts: 120, modifies: 80, removes: 7 }),
      count(env, svc, arn, { inserts: 30, modifies: 45, removes: 13 }),
    ]);

    // Assess
    const snap = await counter.snapshot(table);
    expect(snap.totals).toEqual({ inserts: 151, modifies: 125, removes: 20 });
  });

  it('enqueues exactly one job when the threshold is crossed; the counter resets only when the backup is recorded', async () => {
    // Prepare
    const { env, svc, queueUrl, counter } = await setup('cross');
    await svc.policies.putPolicy('busy', { changes: { writes: 100 }, retention: { keepLast: 5 } });
    const table = uniqueName('orders');
    const arn = await createTable(env, table, 'busy', 0);

    // Act: below, then across the threshold, then more changes while the job is pending
    const below = await count(env, svc, arn, { inserts: 60 });
    const across = await count(env, svc, arn, { modifies: 30, removes: 15 });
    const pending = await count(env, svc, arn, { inserts: 40 });
    const jobs = await receiveAsEvent(env.sqs, queueUrl);

    // Assess: one job, and the later changes still counted
    expect(below.tables[0].enqueued).toEqual([]);
    expect(across.tables[0].enqueued).toHaveLength(1);
    expect(pending.tables[0].enqueued).toEqual([]);
    expect(pending.tables[0].pending).toHaveLength(1);
    expect(jobs.Records).toHaveLength(1);
    const job = parseJob(jobs.Records[0].body);
    const created = (await counter.snapshot(table)).createdAt!;
    expect(job).toMatchObject({ table, policy: 'busy', trigger: 'changes', slot: `changes:${created}` });
    expect((await counter.snapshot(table)).totals).toEqual({ inserts: 100, modifies: 30, removes: 15 });

    // Act: the worker takes the backup
    const response = await workerHandler(jobs, fakeContext, svc);
    await acknowledge(env.sqs, queueUrl, jobs, response);
    // The worker recorded the baseline right after recording the backup: the count starts again.
    const baselineAfterBackup = (await counter.snapshot(table)).baselineAt;
    const afterBaseline = await count(env, svc, arn, { inserts: 99 });
    const crossAgain = await count(env, svc, arn, { removes: 1 });
    const second = await receiveAsEvent(env.sqs, queueUrl);

    // Assess
    expect(response.batchItemFailures).toEqual([]);
    expect(await backupsOf(env, table)).toHaveLength(1);
    expect(baselineAfterBackup).toEqual(expect.any(String));
    expect(baselineAfterBackup).not.toBe(created);
    expect(afterBaseline.tables[0].since).toEqual({ writes: 99, deletes: 0 });
    expect(afterBaseline.tables[0].enqueued).toEqual([]);
    expect(crossAgain.tables[0].enqueued).toHaveLength(1);
    expect(second.Records).toHaveLength(1);
    const snap = await counter.snapshot(table);
    expect(parseJob(second.Records[0].body).slot).toBe(`changes:${snap.baselineAt}`);
    expect(snap.baselineAt).not.toBe(created);
  });

  it('a delete storm takes a backup, freezes pruning and notifies; pruning then deletes nothing', async () => {
    // Prepare: two scheduled backups under a generous retention
    const { env, svc, queueUrl } = await setup('storm');
    await svc.policies.putPolicy('guard', { schedule: 'rate(1 day)', retention: { keepLast: 5 } });
    const table = uniqueName('orders');
    const arn = await createTable(env, table, 'guard', 0);
    for (const time of ['2026-11-22T03:00:00Z', '2026-11-23T03:00:00Z']) {
      await plannerHandler({ policy: 'guard', trigger: 'schedule', time }, svc);
      const ev = await receiveAsEvent(env.sqs, queueUrl);
      await acknowledge(env.sqs, queueUrl, ev, await workerHandler(ev, fakeContext, svc));
    }
    expect(await backupsOf(env, table)).toHaveLength(2);
    await readNotifications(env);
    // Now a policy that keeps one backup and watches for delete storms
    await svc.policies.putPolicy('guard', {
      schedule: 'rate(1 day)',
      retention: { keepLast: 1 },
      changes: { deleteStorm: 50, windowMinutes: 5, pruneFreezeHours: 12 },
    });

    // Act: 30 + 30 deletes in one window
    const first = await count(env, svc, arn, { removes: 30 });
    const second = await count(env, svc, arn, { removes: 30, inserts: 3 });
    const third = await count(env, svc, arn, { removes: 30 });
    const stormJobs = await receiveAsEvent(env.sqs, queueUrl);

    // Assess: one storm, handled once
    expect(first.tables[0].storm).toBeUndefined();
    expect(second.tables[0].storm).toMatchObject({ table, removes: 60, frozenPolicies: ['guard'] });
    expect(third.tables[0].storm).toBeUndefined();
    expect(stormJobs.Records).toHaveLength(1);
    expect(parseJob(stormJobs.Records[0].body)).toMatchObject({ trigger: 'changes', slot: expect.stringMatching(/^storm:/) });
    const state = await svc.ledger().getState(table, 'guard');
    expect(Date.parse(state!.pruneFrozenUntil!)).toBeGreaterThan(Date.now() + 11 * 3_600_000);
    const notes = await readNotifications(env, { waitForAtLeast: 1 });
    expect(notes.filter((n) => n.subject.startsWith(`[ddb-backup] DELETE STORM: ${table}`))).toHaveLength(1);
    expect(notes.find((n) => n.subject.includes('DELETE STORM'))!.message).toContain('REMOVE events in the last 5 minutes (sliding, estimated): 60');

    // Act: the storm backup runs (and prunes), then a direct prune
    await acknowledge(env.sqs, queueUrl, stormJobs, await workerHandler(stormJobs, fakeContext, svc));
    const outcome = await pruneTable(
      { backups: svc.backups, ledger: svc.ledger(), clock: svc.clock },
      { table, policy: 'guard', retention: { keepLast: 1 } },
    );

    // Assess: nothing deleted while frozen
    expect(outcome.deleted).toEqual([]);
    expect((await backupsOf(env, table)).filter((b) => b.BackupStatus !== 'DELETED')).toHaveLength(3);
  });
});
