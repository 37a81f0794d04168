/**
 * The safety promises end to end on moto, through the real CLI and the real worker handler:
 * ownership comes from the ledger (never a name), retention counts only backups that exist,
 * a job message never decides a deletion, holds, and one backup per slot under concurrent runs.
 */
import { CreateBackupCommand, DeleteBackupCommand, ListBackupsCommand } from '@aws-sdk/client-dynamodb';
import { CreateQueueCommand, GetQueueAttributesCommand, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { JobQueue } from '../../lambda/aws/queue';
import { messageGroupId } from '../../lambda/core/jobs';
import { workerHandler } from '../../lambda/handlers/worker.handler';
import { createTable, makeEnv, putPolicyRaw, uniqueName, type TestEnv } from '../support/aws';
import { cli } from '../support/cli';
import type { SQSEvent } from 'aws-lambda';
import { fakeContext } from '../support/sqs-event';

interface RunJson {
  results: { table: string; status: string; backupArn?: string; deleted?: number; vanished?: number; reason?: string }[];
}

async function live(env: TestEnv, table: string) {
  const out = await env.ddb.send(new ListBackupsCommand({ TableName: table }));
  return (out.BackupSummaries ?? []).filter((b) => b.BackupStatus !== 'DELETED' && b.TableName === table);
}

/** A backup made by hand (or by an attacker) with a name of exactly the service's form. */
async function lookalike(env: TestEnv, table: string, policy: string, stamp = '20200101T000000Z'): Promise<string> {
  const out = await env.ddb.send(new CreateBackupCommand({ TableName: table, BackupName: `ddbbk.${policy}.schedule.${stamp}.abcdef` }));
  return out.BackupDetails!.BackupArn!;
}

const runJson = (r: { stdout: string }) => JSON.parse(r.stdout) as RunJson;

/** One SQS delivery of a job message body, shaped as the Lambda event source delivers it. */
function sqsEvent(body: unknown, table: string, id = 'm1'): SQSEvent {
  return {
    Records: [
      {
        messageId: id,
        receiptHandle: id,
        body: JSON.stringify(body),
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

describe('safety on moto', () => {
  let env: TestEnv;
  beforeAll(async () => {
    env = await makeEnv('safety');
    await putPolicyRaw(env, 'keep2', JSON.stringify({ retention: { keepLast: 2 } }));
    await putPolicyRaw(env, 'keep1', JSON.stringify({ retention: { keepLast: 1 } }));
    await putPolicyRaw(env, 'cool', JSON.stringify({ minIntervalMinutes: 60, retention: { keepLast: 5 } }));
  });

  it('a look-alike backup is never pruned by run (a fleet of 21 tables) nor by prune, and never counts', async () => {
    // Prepare: 21 tables (more than the old listing path's threshold), each with a look-alike backup
    const policy = `fleet${Date.now() % 100000}`;
    await putPolicyRaw(env, policy, JSON.stringify({ retention: { keepLast: 2 } }));
    const tables = Array.from({ length: 21 }, (_, i) => uniqueName(`fleet${i}`));
    const fakes = new Map<string, string>();
    for (const t of tables) {
      await createTable(env, t, policy, 1);
      fakes.set(t, await lookalike(env, t, policy));
    }

    // Act: three fleet runs, then the sweep
    const runs = [];
    for (let i = 0; i < 3; i++) runs.push(await cli(env, ['run', '--policy', policy, '--json', '--concurrency', '8']));
    const swept = await cli(env, ['prune', '--policy', policy, '--json']);

    // Assess
    for (const r of runs) expect(r.code).toBe(0);
    expect(swept.code).toBe(0);
    for (const t of tables) {
      const arns = (await live(env, t)).map((b) => b.BackupArn);
      expect(arns).toContain(fakes.get(t));
      expect(arns).toHaveLength(3); // the look-alike + keepLast 2 of the service's
    }
  }, 240_000);

  it('restore --latest never picks a look-alike; backups delete ignores it as "the newest" and refuses to delete it', async () => {
    // Prepare: one table with only a look-alike; one with two service backups and a newer look-alike
    const bare = uniqueName('bare');
    await createTable(env, bare, 'keep2', 1);
    await lookalike(env, bare, 'keep2');
    const table = uniqueName('newest');
    await createTable(env, table, 'keep2', 1);
    const first = runJson(await cli(env, ['run', '--policy', 'keep2', '--table', table, '--json'])).results[0].backupArn!;
    const second = runJson(await cli(env, ['run', '--policy', 'keep2', '--table', table, '--json'])).results[0].backupArn!;
    const fake = await lookalike(env, table, 'keep2', '20991231T235959Z');

    // Act
    const restore = await cli(env, ['restore', '--table', bare, '--target', uniqueName('restored'), '--latest', '--json']);
    const delNewest = await cli(env, ['backups', 'delete', '--backup-arn', second, '--yes', '--json']);
    const delFake = await cli(env, ['backups', 'delete', '--backup-arn', fake, '--yes', '--json']);
    const delOlder = await cli(env, ['backups', 'delete', '--backup-arn', first, '--yes', '--json']);

    // Assess
    expect(restore.code).toBe(1);
    expect(restore.stderr).toContain('no AVAILABLE backup of the service\'s own');
    expect(delNewest.code).toBe(1);
    expect(JSON.parse(delNewest.stdout)).toMatchObject({ deleted: false, refused: expect.stringContaining('newest AVAILABLE backup') });
    expect(delFake.code).toBe(1);
    expect(JSON.parse(delFake.stdout)).toMatchObject({ deleted: false, refused: expect.stringContaining('the ledger has no record of it') });
    expect(delOlder.code).toBe(0);
    expect((await live(env, table)).map((b) => b.BackupArn).sort()).toEqual([second, fake].sort());
  }, 120_000);

  it('a backup deleted by hand stops counting: keepLast 2 still leaves 2 real backups, and the run says one vanished', async () => {
    // Prepare
    const table = uniqueName('vanish');
    await createTable(env, table, 'keep2', 1);
    const b1 = runJson(await cli(env, ['run', '--policy', 'keep2', '--table', table, '--json'])).results[0].backupArn!;
    const b2 = runJson(await cli(env, ['run', '--policy', 'keep2', '--table', table, '--json'])).results[0].backupArn!;
    await env.ddb.send(new DeleteBackupCommand({ BackupArn: b2 })); // by hand, outside the service
    await new Promise((r) => setTimeout(r, 1100));

    // Act: b3 makes three ledger rows under keepLast 2; b2 is gone
    const third = await cli(env, ['run', '--policy', 'keep2', '--table', table, '--json']);
    const list = JSON.parse((await cli(env, ['backups', 'list', '--table', table, '--json'])).stdout) as { backups: { backupArn: string; status: string }[] };

    // Assess: b1 and b3 both remain (before: b1 was pruned, leaving 1 real backup)
    expect(third.code).toBe(0);
    const r = runJson(third).results[0];
    const arns = (await live(env, table)).map((b) => b.BackupArn);
    expect(arns.sort()).toEqual([b1, r.backupArn!].sort());
    expect(r.deleted ?? 0).toBe(0);
    expect(r.vanished).toBe(1);
    expect(r.reason).toContain('vanished outside the service');
    expect(list.backups.find((b) => b.backupArn === b2)?.status).toBe('VANISHED');
  }, 60_000);

  it('a prune job message naming a listing deletes only what the ledger owns', async () => {
    // Prepare: a table with three service backups under keepLast 1 and a look-alike
    const table = uniqueName('forged');
    await createTable(env, table, 'keep2', 1);
    await putPolicyRaw(env, 'keep2', JSON.stringify({ retention: { keepLast: 5 } }));
    for (let i = 0; i < 3; i++) await cli(env, ['run', '--policy', 'keep2', '--table', table]);
    const fake = await lookalike(env, table, 'keep2');
    await putPolicyRaw(env, 'keep2', JSON.stringify({ retention: { keepLast: 2 } }));
    const svc = env.service();
    const before = (await live(env, table)).map((b) => b.BackupArn!);
    const forged = {
      table,
      policy: 'keep2',
      trigger: 'prune',
      kind: 'prune',
      slot: 'prune:forged',
      requestedAt: new Date().toISOString(),
      runId: 'forged-run',
      // An attacker's listing: it names every backup, the look-alike first, as if nothing else existed.
      listing: [{ arn: fake, name: 'ddbbk.keep2.schedule.20200101T000000Z.abcdef', table, createdAt: '2020-01-01T00:00:00.000Z', status: 'AVAILABLE' }],
      listedAt: new Date().toISOString(),
    };
    const event = sqsEvent(forged, table);

    // Act
    const response = await workerHandler(event, fakeContext, svc);

    // Assess: the oldest service backup went (ledger plan, keepLast 2); the look-alike stayed
    expect(response.batchItemFailures).toEqual([]);
    const after = (await live(env, table)).map((b) => b.BackupArn!);
    expect(after).toContain(fake);
    expect(after).toHaveLength(3);
    expect(before.filter((a) => !after.includes(a))).toHaveLength(1);
  }, 60_000);

  it('a legal hold stops prune and backups delete --force until released; backups list shows it', async () => {
    // Prepare: two backups under keepLast 5, then keepLast 1
    const table = uniqueName('hold');
    await createTable(env, table, 'keep1', 1);
    await putPolicyRaw(env, 'keep1', JSON.stringify({ retention: { keepLast: 5 } }));
    const old = runJson(await cli(env, ['run', '--policy', 'keep1', '--table', table, '--json'])).results[0].backupArn!;
    await cli(env, ['run', '--policy', 'keep1', '--table', table]);
    await putPolicyRaw(env, 'keep1', JSON.stringify({ retention: { keepLast: 1 } }));

    // Act
    const hold = await cli(env, ['backups', 'hold', old, '--reason', 'litigation 7', '--by', 'alice', '--json']);
    const prune = await cli(env, ['prune', '--policy', 'keep1', '--table', table, '--json']);
    const forced = await cli(env, ['backups', 'delete', '--backup-arn', old, '--yes', '--force', '--json']);
    const listed = JSON.parse((await cli(env, ['backups', 'list', '--table', table, '--json'])).stdout) as { backups: { backupArn: string; hold?: { reason: string; by: string } }[] };
    const human = await cli(env, ['backups', 'list', '--table', table]);
    const foreign = await cli(env, ['backups', 'hold', await lookalike(env, table, 'keep1'), '--reason', 'x', '--json']);
    const stillThere = (await live(env, table)).map((b) => b.BackupArn);
    const release = await cli(env, ['backups', 'release', old, '--by', 'bob', '--json']);
    const prune2 = await cli(env, ['prune', '--policy', 'keep1', '--table', table, '--json']);
    const after = JSON.parse((await cli(env, ['backups', 'list', '--table', table, '--json'])).stdout) as {
      backups: { backupArn: string; status: string; holdHistory?: { reason: string; by: string; releasedBy: string }[] }[];
    };

    // Assess
    expect(hold.code).toBe(0);
    expect(JSON.parse(hold.stdout)).toMatchObject({ held: true, hold: { reason: 'litigation 7', by: 'alice' } });
    expect(prune.code).toBe(0);
    expect(forced.code).toBe(1);
    expect(JSON.parse(forced.stdout).refused).toContain('legal hold');
    expect(listed.backups.find((b) => b.backupArn === old)?.hold).toMatchObject({ reason: 'litigation 7', by: 'alice' });
    expect(stillThere).toContain(old);
    expect(human.stdout).toContain('held by alice: litigation 7');
    expect(foreign.code).toBe(1);
    expect(JSON.parse(foreign.stdout)).toMatchObject({ held: false, error: expect.stringContaining('is not in the ledger') });
    expect(release.code).toBe(0);
    expect(prune2.code).toBe(0);
    const remaining = (await live(env, table)).map((b) => b.BackupArn);
    expect(remaining).not.toContain(old);
    expect(remaining).toHaveLength(2); // the newest service backup and the look-alike
    const rec = after.backups.find((b) => b.backupArn === old)!;
    expect(rec.status).toBe('DELETED');
    expect(rec.holdHistory).toEqual([expect.objectContaining({ reason: 'litigation 7', by: 'alice', releasedBy: 'bob' })]);
  }, 90_000);

  it('two jobs of different slots at once make one backup (the cooldown is a conditional write), through the real worker handler', async () => {
    // Prepare: one table; the first job's CreateBackup waits until the second job has finished,
    // so the second runs wholly inside the first's window (before: both made a backup).
    const table = uniqueName('race');
    await createTable(env, table, 'cool', 1);
    const svc = env.service();
    const realCreate = svc.backups.createBackup.bind(svc.backups);
    let secondDone!: () => void;
    const second = new Promise<void>((r) => (secondDone = r));
    let calls = 0;
    svc.backups.createBackup = async (t: string, n: string) => {
      if (++calls === 1) await second;
      return realCreate(t, n);
    };
    const message = (slot: string, id: string) =>
      sqsEvent({ table, policy: 'cool', trigger: 'manual', slot, requestedAt: new Date().toISOString(), runId: `run-${id}` }, table, id);

    // Act
    const first = workerHandler(message('manual:a', 'a'), fakeContext, svc);
    await new Promise((r) => setTimeout(r, 300)); // the first job holds its claim and waits in CreateBackup
    const other = await workerHandler(message('manual:b', 'b'), fakeContext, svc);
    secondDone();
    const one = await first;

    // Assess
    expect(one.batchItemFailures).toEqual([]);
    expect(other.batchItemFailures).toEqual([]);
    expect(await live(env, table)).toHaveLength(1);
    const list = JSON.parse((await cli(env, ['backups', 'list', '--table', table, '--json'])).stdout) as { backups: { slot: string; status: string }[] };
    expect(list.backups.map((b) => b.slot)).toEqual(['manual:a']);
  }, 60_000);

  it('ledger init refuses an existing table whose key schema is not the ledger\'s, and leaves it untouched', async () => {
    // Prepare: a table named like a ledger, with another key schema and an item
    const name = uniqueName('not-a-ledger');
    await createTable(env, name, undefined, 2);

    // Act
    const init = await cli(env, ['ledger', 'init', '--ledger-table', name]);
    const { DescribeTableCommand, ScanCommand } = await import('@aws-sdk/client-dynamodb');
    const after = await env.ddb.send(new DescribeTableCommand({ TableName: name }));
    const items = await env.ddb.send(new ScanCommand({ TableName: name }));

    // Assess
    expect(init.code).toBe(1);
    expect(init.stderr).toContain(`table "${name}" exists but is not a ledger`);
    expect(init.stderr).toContain('pk HASH (S), sk RANGE (S)');
    expect(after.Table?.KeySchema).toEqual([{ AttributeName: 'pk', KeyType: 'HASH' }]);
    expect(items.Count).toBe(2);
  });

  it('a table name over 128 characters gets a hashed FIFO message group and its job is enqueued', async () => {
    // Prepare
    const long = `${'t'.repeat(200)}-${uniqueName('x')}`;
    const q = await env.sqs.send(new CreateQueueCommand({ QueueName: `${uniqueName('jobs')}.fifo`, Attributes: { FifoQueue: 'true' } }));
    const queue = new JobQueue(env.sqs, q.QueueUrl!);

    // Act
    const failures = await queue.enqueue([{ table: long, policy: 'keep2', trigger: 'manual', slot: 'manual:1', requestedAt: new Date().toISOString(), runId: 'r' }]);
    const got = await env.sqs.send(new ReceiveMessageCommand({ QueueUrl: q.QueueUrl, MessageSystemAttributeNames: ['MessageGroupId'] }));

    // Assess
    expect(failures).toEqual([]);
    expect(got.Messages?.[0].Attributes?.MessageGroupId).toBe(messageGroupId(long));
    expect(messageGroupId(long)).toHaveLength(64);
    expect(JSON.parse(got.Messages![0].Body!)).toMatchObject({ table: long });
    expect((await env.sqs.send(new GetQueueAttributesCommand({ QueueUrl: q.QueueUrl, AttributeNames: ['All'] }))).Attributes).toBeDefined();
  });
});
