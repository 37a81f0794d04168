/**
 * One delivery of a job message (lambda/core/backup/delivery.ts): when a failure is left to the queue to
 * redeliver, when it is recorded in its run as final, and what a malformed message does. The
 * backup job itself is stubbed: these tests are about what happens around its result.
 */
import { RetryableError } from '../../lambda/core/errors';
import type { BackupJob, JobResult } from '../../lambda/core/jobs';
import type { Clock } from '../../lambda/core/ports';
import type { WorkerDeps } from '../../lambda/core/backup/worker';
import { MemoryNotifier, MemoryRunLedger, memoryLog } from '../support/run-fakes';

jest.mock('../../lambda/core/backup/worker', () => ({
  ...jest.requireActual<typeof import('../../lambda/core/backup/worker')>('../../lambda/core/backup/worker'),
  processJob: jest.fn(),
}));
// Imported after the mock above, so they see the stub.
import { deliverJob, willRedeliver, type DeliveryPorts } from '../../lambda/core/backup/delivery';
import { processJob } from '../../lambda/core/backup/worker';

const NOW = new Date('2026-11-24T03:00:05.000Z');
const clock: Clock = { now: () => NOW };
const SLOT = 'schedule:2026-11-24T03:00:00.000Z';
const RUN_ID = `daily|schedule|${SLOT}`;
const job: BackupJob = { table: 'orders', policy: 'daily', trigger: 'schedule', slot: SLOT, requestedAt: '2026-11-24T03:00:00.000Z', runId: RUN_ID };
const backedUp: JobResult = { table: 'orders', policy: 'daily', status: 'backed-up', backupArn: 'arn:aws:dynamodb:us-east-1:123456789012:table/orders/backup/01' };

async function world(expected = 1) {
  const runs = new MemoryRunLedger();
  await runs.startRun({ runId: RUN_ID, policy: 'daily', trigger: 'schedule', startedAt: NOW.toISOString(), expected, problems: [], notify: 'all' }, NOW);
  const notifier = new MemoryNotifier();
  const log = memoryLog();
  const worker = { clock, log } as unknown as WorkerDeps;
  const ports = { log, maxReceiveCount: 3, job: jest.fn(() => ({ worker, finish: { runs, notifier, clock, log } })) } satisfies DeliveryPorts;
  return { runs, notifier, log, worker, ports };
}

const delivery = (receiveCount: number, body = JSON.stringify(job)) => ({ messageId: 'msg-1', body, receiveCount });

async function rejectionOf(p: Promise<unknown>): Promise<unknown> {
  return p.then(
    () => undefined,
    (e: unknown) => e,
  );
}

beforeEach(() => {
  jest.mocked(processJob).mockReset();
});

describe('willRedeliver', () => {
  it.each([
    [1, 3, true],
    [2, 3, true],
    [3, 3, false],
    [4, 3, false],
    [Number.NaN, 3, false],
  ])('delivery %p of at most %p: redelivered after a failure = %p', (receiveCount, max, expected) => {
    // Act / Assess
    expect(willRedeliver(receiveCount, max)).toBe(expected);
  });
});

describe('deliverJob', () => {
  it('records the result in its run, which publishes the summary of a complete run', async () => {
    // Prepare
    const w = await world();
    jest.mocked(processJob).mockResolvedValue(backedUp);

    // Act
    const result = await deliverJob(w.ports, delivery(1));

    // Assess
    expect(result).toEqual(backedUp);
    expect(processJob).toHaveBeenCalledWith(w.worker, job);
    expect(await w.runs.listRunResults(RUN_ID)).toEqual([backedUp]);
    expect(w.notifier.published).toEqual([expect.objectContaining({ runId: RUN_ID, results: [backedUp] })]);
    expect(w.runs.headers.get(RUN_ID)).toMatchObject({ notifiedAt: NOW.toISOString(), notifyMessageId: 'message-1' });
  });

  it('a failure before the last delivery is thrown for the queue to redeliver; nothing is recorded', async () => {
    // Prepare
    const w = await world();
    const err = new RetryableError('ThrottlingException: slow down');
    jest.mocked(processJob).mockRejectedValue(err);

    // Act
    const thrown = await rejectionOf(deliverJob(w.ports, delivery(2)));

    // Assess
    expect(thrown).toBe(err);
    expect(await w.runs.listRunResults(RUN_ID)).toEqual([]);
    expect(w.log.lines).toEqual([
      ['warn', 'job failed; SQS will retry it', { table: 'orders', policy: 'daily', receiveCount: 2, error: 'RetryableError: ThrottlingException: slow down' }],
    ]);
  });

  it('a failure on the last delivery is recorded as failed (the run summary names it) and thrown again, for the DLQ', async () => {
    // Prepare
    const w = await world();
    const err = new RetryableError('ThrottlingException: slow down');
    jest.mocked(processJob).mockRejectedValue(err);

    // Act
    const thrown = await rejectionOf(deliverJob(w.ports, delivery(3)));

    // Assess
    const failed = {
      table: 'orders',
      policy: 'daily',
      status: 'failed',
      reason: 'RetryableError: ThrottlingException: slow down (after 3 attempts; the job went to the dead-letter queue)',
    };
    expect(thrown).toBe(err);
    expect(await w.runs.listRunResults(RUN_ID)).toEqual([failed]);
    expect(w.notifier.published).toEqual([expect.objectContaining({ results: [failed] })]);
    expect(w.log.lines).toEqual([['error', 'job failed for good', failed]]);
  });

  it('a delivery whose count is unknown is taken as the last', async () => {
    // Prepare
    const w = await world();
    jest.mocked(processJob).mockRejectedValue(new Error('boom'));

    // Act
    await rejectionOf(deliverJob(w.ports, delivery(Number.NaN)));

    // Assess
    expect(await w.runs.listRunResults(RUN_ID)).toEqual([expect.objectContaining({ status: 'failed' })]);
  });

  it('a message that is not a job is logged and thrown, before any port is asked for', async () => {
    // Prepare
    const w = await world();

    // Act
    const thrown = await rejectionOf(deliverJob(w.ports, delivery(1, '{"table":"orders"}')));

    // Assess
    expect((thrown as Error).message).toBe('job message lacks "policy"');
    expect(w.ports.job).not.toHaveBeenCalled();
    expect(processJob).not.toHaveBeenCalled();
    expect(w.log.lines).toEqual([['error', 'malformed job message; sending it to the DLQ', { messageId: 'msg-1', error: 'job message lacks "policy"' }]]);
  });

  it('a summary SNS refused fails the delivery once the result is recorded, so the redelivery publishes it', async () => {
    // Prepare
    const w = await world();
    jest.mocked(processJob).mockResolvedValue(backedUp);
    w.notifier.error = new Error('NotFoundException: Topic does not exist');

    // Act
    const first = await rejectionOf(deliverJob(w.ports, delivery(1)));
    w.notifier.error = undefined;
    const redelivered = await deliverJob(w.ports, delivery(2));

    // Assess
    expect((first as Error).message).toBe('NotFoundException: Topic does not exist');
    expect(redelivered).toEqual(backedUp);
    expect(await w.runs.listRunResults(RUN_ID)).toEqual([backedUp]);
    expect(w.notifier.published).toHaveLength(1);
  });
});
