import { DescribeAlarmsCommand, DeleteAlarmsCommand } from '@aws-sdk/client-cloudwatch';
import { ListBackupsCommand } from '@aws-sdk/client-dynamodb';
import { CreateQueueCommand } from '@aws-sdk/client-sqs';
import type { Service } from '../../lambda/aws/service';
import type { SizeConfig } from '../../lambda/aws/size-service';
import { parseBackupName } from '../../lambda/core/naming';
import { sizeAlarmName } from '../../lambda/core/triggers/size-alarms';
import { plannerHandler } from '../../lambda/handlers/planner.handler';
import { probeHandler } from '../../lambda/handlers/probe.handler';
import { workerHandler } from '../../lambda/handlers/worker.handler';
import { createTable, makeEnv, uniqueName, type TestEnv } from '../support/aws';
import { acknowledge, fakeContext, receiveAsEvent } from '../support/sqs-event';

/**
 * Size trigger against moto: the real planner handler takes the EventBridge `CloudWatch Alarm
 * State Change` event (fed directly: moto does not fire alarm actions or EventBridge events),
 * enqueues on a real FIFO queue, and the real worker backs up.
 */

async function setup(name: string): Promise<{ env: TestEnv; svc: Service; queueUrl: string; prefix: string }> {
  const env = await makeEnv(name);
  const q = await env.sqs.send(new CreateQueueCommand({ QueueName: `${uniqueName('jobs')}.fifo`, Attributes: { FifoQueue: 'true' } }));
  const svc = env.service({ jobQueueUrl: q.QueueUrl, maxReceiveCount: 3 });
  // Each test world owns its alarm prefix, as each deployment would.
  return { env, svc, queueUrl: q.QueueUrl!, prefix: `${uniqueName('sz')}-` };
}

function alarmEvent(prefix: string, policy: string, table: string, stateTime: string, state = 'ALARM') {
  return {
    version: '0',
    id: uniqueName('evt'),
    'detail-type': 'CloudWatch Alarm State Change',
    source: 'aws.cloudwatch',
    account: '123456789012',
    time: stateTime.replace(/\.\d{3}\+0000$/, 'Z'),
    region: 'us-east-1',
    resources: [`arn:aws:cloudwatch:us-east-1:123456789012:alarm:${sizeAlarmName(prefix, policy, table)}`],
    detail: {
      alarmName: sizeAlarmName(prefix, policy, table),
      state: { value: state, reason: 'Threshold Crossed: 1 datapoint [5.0E9] was >= the threshold (1.0E9).', timestamp: stateTime },
      previousState: { value: 'OK', timestamp: '2026-11-24T04:00:00.000+0000' },
      configuration: {
        metrics: [
          {
            id: 'm1',
            metricStat: {
              metric: { namespace: 'DynamoDBBackupService', name: 'GrowthSinceLastBackupBytes', dimensions: { TableName: table, Policy: policy } },
              period: 3600,
              stat: 'Maximum',
            },
            returnData: true,
          },
        ],
      },
    },
  };
}

async function backupsOf(env: TestEnv, table: string) {
  return (await env.ddb.send(new ListBackupsCommand({ TableName: table }))).BackupSummaries ?? [];
}

describe('size path: alarm state change -> planner -> SQS FIFO -> worker', () => {
  it('backs up exactly the alarm\'s table, once, with trigger "size" and the state-change slot', async () => {
    // Prepare
    const { env, svc, queueUrl, prefix } = await setup('size');
    await svc.policies.putPolicy('daily', { schedule: 'rate(1 day)', size: { growthBytes: 1_000_000_000 }, notify: 'all' });
    const orders = uniqueName('orders');
    const users = uniqueName('users');
    await createTable(env, orders, 'daily');
    await createTable(env, users, 'daily');
    const event = alarmEvent(prefix, 'daily', orders, '2026-11-24T05:00:40.123+0000');

    // Act
    const outcome = await plannerHandler(event, svc, { alarmPrefix: prefix });
    const delivery = await receiveAsEvent(env.sqs, queueUrl);
    const response = await workerHandler(delivery, fakeContext, svc);
    await acknowledge(env.sqs, queueUrl, delivery, response);

    // Assess
    expect(outcome.plan.jobs).toEqual([
      expect.objectContaining({ table: orders, policy: 'daily', trigger: 'size', slot: 'size:2026-11-24T05:00:40.123Z', requestedAt: '2026-11-24T05:00:40.123Z' }),
    ]);
    expect(outcome.plan.runId).toBe(`daily|size|size:2026-11-24T05:00:40.123Z|${orders}`);
    expect(delivery.Records).toHaveLength(1);
    expect(response.batchItemFailures).toEqual([]);
    const backups = await backupsOf(env, orders);
    expect(backups).toHaveLength(1);
    expect(parseBackupName(backups[0].BackupName)).toMatchObject({ policy: 'daily', trigger: 'size' });
    expect(await backupsOf(env, users)).toHaveLength(0);
    // The new baseline: the size recorded with this backup.
    expect(await svc.ledger().getState(orders, 'daily')).toMatchObject({ lastBackupArn: backups[0].BackupArn, lastSizeBytes: expect.any(Number) });
  });

  it('the same state change delivered twice gives one backup (FIFO dedupe, then the ledger claim)', async () => {
    // Prepare
    const { env, svc, queueUrl, prefix } = await setup('size-dup');
    await svc.policies.putPolicy('daily', { size: { growthPercent: 50 } });
    const table = uniqueName('orders');
    await createTable(env, table, 'daily');
    const event = alarmEvent(prefix, 'daily', table, '2026-11-24T06:00:00.000+0000');

    // Act: EventBridge delivers at least once: twice before the worker runs (FIFO dedupe), once
    // more after it (beyond the dedupe window in AWS; moto forgets deleted messages at once), and
    // SQS redelivers the first message (the ledger claim).
    await plannerHandler(event, svc, { alarmPrefix: prefix });
    await plannerHandler(event, svc, { alarmPrefix: prefix });
    const first = await receiveAsEvent(env.sqs, queueUrl);
    await acknowledge(env.sqs, queueUrl, first, await workerHandler(first, fakeContext, svc));
    await plannerHandler(event, svc, { alarmPrefix: prefix });
    const late = await receiveAsEvent(env.sqs, queueUrl);
    const lateResponse = await workerHandler(late, fakeContext, svc);
    const redelivered = await workerHandler(first, fakeContext, svc);

    // Assess
    expect(first.Records).toHaveLength(1);
    expect(lateResponse.batchItemFailures).toEqual([]);
    expect(redelivered.batchItemFailures).toEqual([]);
    expect(await backupsOf(env, table)).toHaveLength(1);
    expect(await svc.ledger().listBackupRecords(table)).toEqual([expect.objectContaining({ trigger: 'size', slot: 'size:2026-11-24T06:00:00.000Z' })]);
  });

  it('ignores OK transitions and alarms outside the prefix: no job, no backup', async () => {
    // Prepare
    const { env, svc, queueUrl, prefix } = await setup('size-ign');
    await svc.policies.putPolicy('daily', { size: { growthBytes: 1 } });
    const table = uniqueName('orders');
    await createTable(env, table, 'daily');

    // Act
    const ok = await plannerHandler(alarmEvent(prefix, 'daily', table, '2026-11-24T07:00:00.000+0000', 'OK'), svc, { alarmPrefix: prefix });
    const foreign = await plannerHandler(alarmEvent('someone-else-', 'daily', table, '2026-11-24T07:00:00.000+0000'), svc, { alarmPrefix: prefix });

    // Assess
    expect(ok.ignored).toMatch(/went to OK/);
    expect(foreign.ignored).toMatch(/not a size alarm/);
    expect((await receiveAsEvent(env.sqs, queueUrl)).Records).toHaveLength(0);
    expect(await backupsOf(env, table)).toHaveLength(0);
  });

  it('an alarm for a table no longer tagged with the policy backs up nothing and reports it', async () => {
    // Prepare
    const { env, svc, queueUrl, prefix } = await setup('size-untag');
    await svc.policies.putPolicy('daily', { size: { growthBytes: 1 } });
    const table = uniqueName('orders');
    await createTable(env, table); // untagged

    // Act
    const outcome = await plannerHandler(alarmEvent(prefix, 'daily', table, '2026-11-24T08:00:00.000+0000'), svc, { alarmPrefix: prefix });

    // Assess
    expect(outcome.plan.jobs).toEqual([]);
    expect(outcome.plan.results).toEqual([expect.objectContaining({ table, status: 'failed', reason: expect.stringContaining('not tagged') })]);
    expect((await receiveAsEvent(env.sqs, queueUrl)).Records).toHaveLength(0);
  });
});

describe('size probe against moto: the reconciler creates, keeps and deletes real alarms', () => {
  it('creates one alarm per (table, size policy), is idempotent, and deletes it when the tag goes', async () => {
    // Prepare
    const { env, svc, prefix } = await setup('probe');
    const cfg: SizeConfig = { alarmPrefix: prefix, namespace: 'DynamoDBBackupServiceTest', maxAlarmWrites: 500 };
    await svc.policies.putPolicy('daily', { size: { growthBytes: 1_000_000 } });
    await svc.policies.putPolicy('plain', { schedule: 'rate(1 day)' });
    const sized = uniqueName('orders');
    const plain = uniqueName('users');
    await createTable(env, sized, 'daily');
    await createTable(env, plain, 'plain');
    const list = async () =>
      ((await svc.clients.cloudwatch.send(new DescribeAlarmsCommand({ AlarmNamePrefix: prefix }))).MetricAlarms ?? []).map((a) => a.AlarmName);

    try {
      // Act
      const first = await probeHandler({}, svc, cfg);
      const second = await probeHandler({}, svc, cfg);

      // Assess
      expect(await list()).toEqual([sizeAlarmName(prefix, 'daily', sized)]);
      expect(first.alarms).toMatchObject({ created: 1, deleted: 0 });
      expect(second.alarms).toMatchObject({ created: 0, updated: 0, deleted: 0, unchanged: 1 });
      expect(first).toMatchObject({ points: 4, putMetricDataCalls: 1 });

      // Act: the policy loses its size trigger
      await svc.policies.putPolicy('daily', { schedule: 'rate(1 day)' });
      const third = await probeHandler({}, svc, cfg);

      // Assess
      expect(third.alarms).toMatchObject({ deleted: 1 });
      expect(await list()).toEqual([]);
    } finally {
      const left = await list();
      if (left.length) await svc.clients.cloudwatch.send(new DeleteAlarmsCommand({ AlarmNames: left as string[] }));
    }
  });
});
