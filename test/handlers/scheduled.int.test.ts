import { ListBackupsCommand } from '@aws-sdk/client-dynamodb';
import { CreateQueueCommand } from '@aws-sdk/client-sqs';
import { plannerHandler } from '../../lambda/handlers/planner.handler';
import { workerHandler } from '../../lambda/handlers/worker.handler';
import { parseBackupName } from '../../lambda/core/naming';
import { parseSummaryJson } from '../../lambda/core/backup/summary';
import type { Service } from '../../lambda/aws/service';
import { createTable, deleteTable, makeEnv, putPolicyRaw, readNotifications, uniqueName, type TestEnv } from '../support/aws';
import { acknowledge, fakeContext, receiveAsEvent } from '../support/sqs-event';

interface SummaryJson {
  outcome: string;
  counts: { backedUp: number; skipped: number; failed: number; problems: number; warnings: number };
  results: { table: string; policy: string; status: string; backupArn?: string; reason?: string }[];
  problems: { kind: string; table?: string; message: string }[];
  warnings: { kind: string; table?: string; message: string }[];
}

async function backupsOf(env: TestEnv, table: string) {
  const out = await env.ddb.send(new ListBackupsCommand({ TableName: table }));
  return out.BackupSummaries ?? [];
}

/** One delivery of the job queue to the worker, acknowledged as the event source mapping would. */
async function deliver(env: TestEnv, svc: Service, queueUrl: string) {
  const event = await receiveAsEvent(env.sqs, queueUrl);
  const response = await workerHandler(event, fakeContext, svc);
  await acknowledge(env.sqs, queueUrl, event, response);
  return { event, response };
}

async function setup(name: string): Promise<{ env: TestEnv; svc: Service; queueUrl: string }> {
  const env = await makeEnv(name);
  const q = await env.sqs.send(
    new CreateQueueCommand({ QueueName: `${uniqueName('jobs')}.fifo`, Attributes: { FifoQueue: 'true' } }),
  );
  const svc = env.service({ jobQueueUrl: q.QueueUrl, maxReceiveCount: 3 });
  return { env, svc, queueUrl: q.QueueUrl! };
}

describe('scheduled path: schedule tick -> planner -> SQS FIFO -> worker -> ledger + SNS', () => {
  it('backs up each tagged table once, records it, and publishes one summary', async () => {
    // Prepare
    const { env, svc, queueUrl } = await setup('sched');
    await svc.policies.putPolicy('daily', { schedule: 'cron(0 3 * * ? *)', retention: { keepLast: 3 }, notify: 'all' });
    const tagged = uniqueName('orders');
    const multi = uniqueName('users');
    const untagged = uniqueName('scratch');
    await createTable(env, tagged, 'daily');
    await createTable(env, multi, 'daily+nightly'); // "nightly" does not exist
    await createTable(env, untagged);
    const tick = { policy: 'daily', trigger: 'schedule', time: '2026-11-24T03:00:00Z' };
    const before = Math.floor(Date.now() / 1000) * 1000;

    // Act
    const outcome = await plannerHandler(tick, svc);
    const event = await receiveAsEvent(env.sqs, queueUrl);
    const response = await workerHandler(event, fakeContext, svc);

    // Assess: jobs, backups, names
    expect(outcome.plan.jobs.map((j) => j.table).sort()).toEqual([tagged, multi].sort());
    expect(event.Records).toHaveLength(2);
    expect(response.batchItemFailures).toEqual([]);
    for (const table of [tagged, multi]) {
      const backups = await backupsOf(env, table);
      expect(backups).toHaveLength(1);
      const parsed = parseBackupName(backups[0].BackupName);
      expect(parsed).toMatchObject({ policy: 'daily', trigger: 'schedule' });
      // The name carries the UTC time the backup was taken.
      expect(parsed!.time.getTime()).toBeGreaterThanOrEqual(before);
      expect(parsed!.time.getTime()).toBeLessThanOrEqual(Date.now());
    }
    expect(await backupsOf(env, untagged)).toHaveLength(0);

    // Assess: ledger
    const records = await svc.ledger().listBackupRecords(tagged);
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({
      table: tagged,
      policy: 'daily',
      trigger: 'schedule',
      slot: 'schedule:2026-11-24T03:00:00.000Z',
      requestedAt: '2026-11-24T03:00:00.000Z',
      status: 'AVAILABLE',
      itemCount: expect.any(Number),
      sizeBytes: expect.any(Number),
      policyHash: expect.stringMatching(/^[0-9a-f]{12}$/),
      backupArn: expect.stringContaining(`table/${tagged}/backup/`),
    });

    // Assess: exactly one SNS message for the run, with text and a JSON block
    const notes = await readNotifications(env, { waitForAtLeast: 1 });
    expect(notes).toHaveLength(1);
    // An unknown policy in another table's tag is a warning: the run is OK and the warning is listed.
    expect(notes[0].subject).toMatch(/^\[ddb-backup\] OK: daily \(schedule\) - 2 backed up, 1 warning$/);
    expect(notes[0].message).toContain('DynamoDB backup run OK');
    expect(notes[0].message).toContain(`Warnings:\n  - table ${multi}: tag names unknown policy "nightly"`);
    const summary = parseSummaryJson(notes[0].message) as SummaryJson;
    expect(summary.counts).toEqual({ backedUp: 2, skipped: 0, failed: 0, problems: 0, warnings: 1, deleted: 0, vanished: 0 });
    expect(summary.problems).toEqual([]);
    expect(summary.warnings).toEqual([
      expect.objectContaining({ kind: 'unknown-policy', table: multi, message: expect.stringContaining('"nightly"') }),
    ]);
  });

  it('is idempotent per (table, policy, slot): a repeated tick and a redelivered job give one backup', async () => {
    // Prepare
    const { env, svc, queueUrl } = await setup('dupe');
    await putPolicyRaw(env, 'daily', JSON.stringify({ schedule: 'rate(1 day)', notify: 'all' }));
    const table = uniqueName('orders');
    await createTable(env, table, 'daily');
    const tick = { policy: 'daily', trigger: 'schedule', time: '2026-11-24T03:00:00Z' };
    await plannerHandler(tick, svc);
    const first = await receiveAsEvent(env.sqs, queueUrl);

    // Act: the same tick again (FIFO dedupe), and the same message delivered twice (ledger claim)
    await plannerHandler(tick, svc);
    const second = await receiveAsEvent(env.sqs, queueUrl);
    await workerHandler(first, fakeContext, svc);
    const redelivered = await workerHandler(first, fakeContext, svc);

    // Assess
    expect(first.Records).toHaveLength(1);
    expect(second.Records).toHaveLength(0);
    expect(redelivered.batchItemFailures).toEqual([]);
    expect(await backupsOf(env, table)).toHaveLength(1);
    expect(await svc.ledger().listBackupRecords(table)).toHaveLength(1);
    const notes = await readNotifications(env, { waitForAtLeast: 1 });
    expect(notes).toHaveLength(1);
    expect(notes[0].subject).toContain('OK: daily (schedule) - 1 backed up');
  });

  it('honours minIntervalMinutes across slots', async () => {
    // Prepare
    const { env, svc, queueUrl } = await setup('cool');
    await svc.policies.putPolicy('daily', { schedule: 'rate(1 hour)', minIntervalMinutes: 120, notify: 'all' });
    const table = uniqueName('orders');
    await createTable(env, table, 'daily');
    await plannerHandler({ policy: 'daily', trigger: 'schedule', time: '2026-11-24T03:00:00Z' }, svc);
    await deliver(env, svc, queueUrl);
    await readNotifications(env, { waitForAtLeast: 1 });

    // Act: the next hourly tick, well inside the two-hour cooldown
    await plannerHandler({ policy: 'daily', trigger: 'schedule', time: '2026-11-24T04:00:00Z' }, svc);
    const { event } = await deliver(env, svc, queueUrl);

    // Assess
    expect(event.Records).toHaveLength(1);
    expect(await backupsOf(env, table)).toHaveLength(1);
    const [note] = await readNotifications(env, { waitForAtLeast: 1 });
    const summary = parseSummaryJson(note.message) as SummaryJson;
    expect(summary.results).toEqual([
      expect.objectContaining({ table, status: 'skipped', reason: expect.stringContaining('cooldown') }),
    ]);
  });
});

describe('scheduled path: bad input gets a clear error, the others are served, nothing is deleted', () => {
  it('malformed policy JSON in SSM: no jobs, a failure notification naming the policy', async () => {
    // Prepare
    const { env, svc, queueUrl } = await setup('badjson');
    await putPolicyRaw(env, 'daily', '{"schedule": "rate(1 day)", "retention": {"keepLast": 3}'); // truncated
    const table = uniqueName('orders');
    await createTable(env, table, 'daily');

    // Act
    const outcome = await plannerHandler({ policy: 'daily', trigger: 'schedule', time: '2026-11-24T03:00:00Z' }, svc);

    // Assess
    expect(outcome.plan.jobs).toHaveLength(0);
    expect((await receiveAsEvent(env.sqs, queueUrl)).Records).toHaveLength(0);
    expect(await backupsOf(env, table)).toHaveLength(0);
    const notes = await readNotifications(env, { waitForAtLeast: 1 });
    expect(notes).toHaveLength(1);
    expect(notes[0].subject).toContain('FAILED: daily');
    const summary = parseSummaryJson(notes[0].message) as SummaryJson;
    expect(summary.problems[0]).toMatchObject({ kind: 'invalid-policy', message: expect.stringContaining('(json)') });
  });

  it('a policy that fails the schema names the field at fault', async () => {
    // Prepare
    const { env, svc } = await setup('badfield');
    await putPolicyRaw(env, 'daily', JSON.stringify({ schedule: 'rate(1 day)', retention: { keepLast: -2 } }));
    await createTable(env, uniqueName('orders'), 'daily');

    // Act
    await plannerHandler({ policy: 'daily', trigger: 'schedule', time: '2026-11-24T03:00:00Z' }, svc);

    // Assess
    const [note] = await readNotifications(env, { waitForAtLeast: 1 });
    expect(note.message).toContain('retention.keepLast');
  });

  it('a table deleted between discovery and backup fails alone; the others are backed up', async () => {
    // Prepare
    const { env, svc, queueUrl } = await setup('gone');
    await svc.policies.putPolicy('daily', { schedule: 'rate(1 day)' });
    const doomed = uniqueName('doomed');
    const healthy = uniqueName('healthy');
    await createTable(env, doomed, 'daily');
    await createTable(env, healthy, 'daily');
    await plannerHandler({ policy: 'daily', trigger: 'schedule', time: '2026-11-24T03:00:00Z' }, svc);
    const event = await receiveAsEvent(env.sqs, queueUrl);

    // Act
    await deleteTable(env, doomed);
    const response = await workerHandler(event, fakeContext, svc);

    // Assess
    expect(response.batchItemFailures).toEqual([]);
    expect(await backupsOf(env, healthy)).toHaveLength(1);
    const notes = await readNotifications(env, { waitForAtLeast: 1 });
    expect(notes).toHaveLength(1);
    const summary = parseSummaryJson(notes[0].message) as SummaryJson;
    expect(summary.outcome).toBe('PARTIAL');
    expect(summary.results).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ table: doomed, status: 'failed', reason: expect.stringContaining('does not exist') }),
        expect.objectContaining({ table: healthy, status: 'backed-up' }),
      ]),
    );
    const state = await svc.ledger().getState(doomed, 'daily');
    expect(state).toMatchObject({ lastAttemptStatus: 'failed' });
  });
});
