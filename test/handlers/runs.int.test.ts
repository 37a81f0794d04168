/**
 * The deployed path (planner -> SQS FIFO -> worker) on moto, over three scheduled runs: the SNS
 * summary counts what retention deleted and what vanished outside the service, and
 * `ddb-backup runs` reports each run from the ledger.
 */
import { DeleteBackupCommand, ListBackupsCommand } from '@aws-sdk/client-dynamodb';
import { CreateQueueCommand } from '@aws-sdk/client-sqs';
import { parseSummaryJson } from '../../lambda/core/backup/summary';
import { plannerHandler } from '../../lambda/handlers/planner.handler';
import { workerHandler } from '../../lambda/handlers/worker.handler';
import { createTable, makeEnv, putPolicyRaw, readNotifications, uniqueName } from '../support/aws';
import { cli } from '../support/cli';
import { acknowledge, fakeContext, receiveAsEvent } from '../support/sqs-event';

interface Counts {
  counts: { backedUp: number; deleted: number; vanished: number };
}

describe('scheduled runs on moto: summaries count deletions and vanished backups; runs lists them', () => {
  it('three ticks: a backup, a pruning run, and a run that notices a backup deleted by hand', async () => {
    // Prepare
    const env = await makeEnv('runs');
    const q = await env.sqs.send(new CreateQueueCommand({ QueueName: `${uniqueName('jobs')}.fifo`, Attributes: { FifoQueue: 'true' } }));
    const svc = env.service({ jobQueueUrl: q.QueueUrl, maxReceiveCount: 3 });
    await putPolicyRaw(env, 'keep1', JSON.stringify({ schedule: 'rate(1 hour)', retention: { keepLast: 1 }, notify: 'all' }));
    const table = uniqueName('runs');
    await createTable(env, table, 'keep1', 1);
    const tick = async (time: string) => {
      await plannerHandler({ policy: 'keep1', trigger: 'schedule', time }, svc);
      const event = await receiveAsEvent(env.sqs, q.QueueUrl!);
      const response = await workerHandler(event, fakeContext, svc);
      await acknowledge(env.sqs, q.QueueUrl!, event, response);
      const [note] = await readNotifications(env, { waitForAtLeast: 1 });
      return { note, summary: parseSummaryJson(note.message) as Counts };
    };

    // Act
    const first = await tick('2026-11-24T01:00:00Z');
    const second = await tick('2026-11-24T02:00:00Z');
    const live = (await env.ddb.send(new ListBackupsCommand({ TableName: table }))).BackupSummaries ?? [];
    await env.ddb.send(new DeleteBackupCommand({ BackupArn: live.find((b) => b.BackupStatus !== 'DELETED')!.BackupArn! }));
    const third = await tick('2026-11-24T03:00:00Z');
    const runs = await cli(env, ['runs', '--policy', 'keep1', '--json']);

    // Assess: the summaries carry the counts the worker recorded
    expect(first.summary.counts).toMatchObject({ backedUp: 1, deleted: 0, vanished: 0 });
    expect(second.summary.counts).toMatchObject({ backedUp: 1, deleted: 1, vanished: 0 });
    expect(third.summary.counts).toMatchObject({ backedUp: 1, deleted: 0, vanished: 1 });
    expect(third.note.subject).toContain('1 vanished');
    expect(third.note.message).toContain('vanished outside the service: 1 backup(s)');
    // ... and runs reports them, newest first, with their notices sent
    expect(runs.code).toBe(0);
    const listed = (JSON.parse(runs.stdout) as { runs: { startedAt: string; outcome: string; notified: boolean; counts: { deleted: number; vanished: number } }[] }).runs;
    expect(listed).toHaveLength(3);
    expect(listed.map((r) => r.startedAt)).toEqual([...listed.map((r) => r.startedAt)].sort().reverse());
    expect(listed.every((r) => r.notified && r.outcome === 'OK')).toBe(true);
    expect(listed.map((r) => [r.counts.deleted, r.counts.vanished])).toEqual([
      [0, 1],
      [1, 0],
      [0, 0],
    ]);
  }, 120_000);
});
