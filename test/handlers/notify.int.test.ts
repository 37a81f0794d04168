/**
 * The run summary against moto, through the real planner and worker handlers: a Publish SNS
 * refuses leaves the run unnotified and fails the job's message; its redelivery publishes the
 * summary and marks the run (the ledger's own condition expressions, evaluated by moto).
 */
import { ChangeMessageVisibilityCommand, CreateQueueCommand } from '@aws-sdk/client-sqs';
import type { Service } from '../../lambda/aws/service';
import { plannerHandler } from '../../lambda/handlers/planner.handler';
import { workerHandler } from '../../lambda/handlers/worker.handler';
import { createTable, makeEnv, readNotifications, uniqueName, type TestEnv } from '../support/aws';
import { acknowledge, fakeContext, receiveAsEvent } from '../support/sqs-event';

async function setup(): Promise<{ env: TestEnv; svc: Service; broken: Service; queueUrl: string }> {
  const env = await makeEnv('notify');
  const q = await env.sqs.send(new CreateQueueCommand({ QueueName: `${uniqueName('jobs')}.fifo`, Attributes: { FifoQueue: 'true' } }));
  const svc = env.service({ jobQueueUrl: q.QueueUrl, maxReceiveCount: 3 });
  // The same service, but its topic does not exist: SNS answers Publish with NotFound.
  const broken = env.service({ jobQueueUrl: q.QueueUrl, maxReceiveCount: 3, topicArn: env.topicArn.replace(/:[^:]+$/, `:${uniqueName('gone')}`) });
  return { env, svc, broken, queueUrl: q.QueueUrl! };
}

describe('run summary: marked notified only after SNS accepted it (handlers against moto)', () => {
  it('a refused Publish fails the message and leaves the run unnotified; the redelivered job publishes once and marks it', async () => {
    // Prepare
    const { env, svc, broken, queueUrl } = await setup();
    await svc.policies.putPolicy('daily', { schedule: 'rate(1 day)', notify: 'all' });
    const table = uniqueName('orders');
    await createTable(env, table, 'daily');
    const outcome = await plannerHandler({ policy: 'daily', trigger: 'schedule', time: '2026-11-24T03:00:00Z' }, svc);
    const runId = outcome.plan.runId;

    // Act: the first delivery meets a topic SNS refuses
    const first = await receiveAsEvent(env.sqs, queueUrl);
    const failed = await workerHandler(first, fakeContext, broken);
    await acknowledge(env.sqs, queueUrl, first, failed);
    const afterFailure = await svc.ledger().getRun(runId);
    // ... the visibility timeout passes, and SQS delivers it again
    for (const r of first.Records) {
      await env.sqs.send(new ChangeMessageVisibilityCommand({ QueueUrl: queueUrl, ReceiptHandle: r.receiptHandle, VisibilityTimeout: 0 }));
    }
    const second = await receiveAsEvent(env.sqs, queueUrl);
    const redelivered = await workerHandler(second, fakeContext, svc);
    await acknowledge(env.sqs, queueUrl, second, redelivered);

    // Assess
    expect(first.Records).toHaveLength(1);
    expect(failed.batchItemFailures).toEqual([{ itemIdentifier: first.Records[0].messageId }]);
    expect(afterFailure).toMatchObject({ completed: 1, expected: 1 });
    expect(afterFailure?.notifiedAt).toBeUndefined();
    expect(afterFailure?.notifyClaimId).toBeUndefined();
    expect(second.Records).toHaveLength(1);
    expect(second.Records[0].attributes.ApproximateReceiveCount).toBe('2');
    expect(redelivered.batchItemFailures).toEqual([]);
    const run = await svc.ledger().getRun(runId);
    expect(run?.notifiedAt).toEqual(expect.any(String));
    expect(run?.notifyMessageId).toEqual(expect.any(String));
    const notes = await readNotifications(env, { waitForAtLeast: 1 });
    expect(notes).toHaveLength(1);
    expect(notes[0].subject).toContain('OK: daily (schedule) - 1 backed up');

    // Act: a third delivery of the same job changes nothing
    const third = await workerHandler(second, fakeContext, svc);

    // Assess
    expect(third.batchItemFailures).toEqual([]);
    expect(await readNotifications(env, { timeoutMs: 500 })).toHaveLength(0);
  });
});
