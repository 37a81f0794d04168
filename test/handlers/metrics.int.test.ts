/**
 * The handlers' EMF metrics on moto: a schedule tick through the planner and the worker, a prune
 * sweep, and the digest's hourly age tick. The documents are read from stdout, where Lambda
 * hands them to CloudWatch.
 */
import { CreateQueueCommand } from '@aws-sdk/client-sqs';
import { digestHandler } from '../../lambda/handlers/digest.handler';
import { plannerHandler } from '../../lambda/handlers/planner.handler';
import { workerHandler } from '../../lambda/handlers/worker.handler';
import { AGE_TICK_EVENT } from '../../lambda/env';
import { createTable, makeEnv, readNotifications, uniqueName } from '../support/aws';
import { acknowledge, fakeContext, receiveAsEvent } from '../support/sqs-event';

type Emf = Record<string, unknown> & { _aws: { CloudWatchMetrics: { Namespace: string }[] } };

async function emfOf<T>(fn: () => Promise<T>): Promise<{ value: T; docs: Emf[] }> {
  const lines: string[] = [];
  const write = process.stdout.write.bind(process.stdout);
  const spy = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array, ...rest: unknown[]) => {
    const text = String(chunk);
    if (text.includes('"_aws"')) lines.push(text);
    else write(text, ...(rest as []));
    return true;
  });
  try {
    const value = await fn();
    return { value, docs: lines.flatMap((l) => l.split('\n')).filter(Boolean).map((l) => JSON.parse(l) as Emf) };
  } finally {
    spy.mockRestore();
  }
}

const sum = (docs: Emf[], policy: string, name: string) => docs.filter((d) => d.Policy === policy).reduce((s, d) => s + (typeof d[name] === 'number' ? (d[name] as number) : 0), 0);

describe('handler metrics on moto', () => {
  it('schedule tick, worker, prune sweep and the hourly age tick emit the documented metrics per policy', async () => {
    // Prepare: one policy keeping 2 backups, two tables under it.
    const env = await makeEnv('metrics');
    const q = await env.sqs.send(new CreateQueueCommand({ QueueName: `${uniqueName('jobs')}.fifo`, Attributes: { FifoQueue: 'true' } }));
    const svc = env.service({ jobQueueUrl: q.QueueUrl, maxReceiveCount: 3 });
    const policy = uniqueName('mp').replace(/[^A-Za-z0-9_-]/g, '');
    await svc.policies.putPolicy(policy, { schedule: 'rate(1 hour)', retention: { keepLast: 2 } });
    const tables = [uniqueName('m-a'), uniqueName('m-b')];
    for (const t of tables) await createTable(env, t, policy);
    const deliver = async () => {
      const event = await receiveAsEvent(env.sqs, q.QueueUrl!);
      await acknowledge(env.sqs, q.QueueUrl!, event, await workerHandler(event, fakeContext, svc));
    };

    // Act: two ticks, then retention cut to 1 and a prune sweep, then the hourly age tick.
    const run1 = await emfOf(async () => {
      await plannerHandler({ policy, trigger: 'schedule', time: '2026-11-24T03:00:00Z' }, svc);
      await deliver();
    });
    const run2 = await emfOf(async () => {
      await plannerHandler({ policy, trigger: 'schedule', time: '2026-11-24T04:00:00Z' }, svc);
      await deliver();
    });
    await svc.policies.putPolicy(policy, { schedule: 'rate(1 hour)', retention: { keepLast: 1 } });
    const sweep = await emfOf(async () => {
      await plannerHandler({ policy, trigger: 'prune', time: '2026-11-24T05:00:00Z' }, svc);
      await deliver();
    });
    await readNotifications(env);
    const ages = await emfOf(() => digestHandler(AGE_TICK_EVENT, svc, {}));
    const after = await readNotifications(env, { timeoutMs: 1500 });

    // Assess
    expect(run1.docs.every((d) => d._aws.CloudWatchMetrics[0].Namespace === 'DynamoDBBackupService')).toBe(true);
    expect(sum(run1.docs, policy, 'BackupsCreated')).toBe(2);
    expect(sum(run1.docs, policy, 'BackupsFailed')).toBe(0);
    expect(run1.docs.some((d) => 'Table' in d)).toBe(false);
    expect(sum(run2.docs, policy, 'BackupsCreated')).toBe(2);
    expect(sum(run2.docs, policy, 'BackupsDeleted')).toBe(0);
    expect(sum(sweep.docs, policy, 'BackupsCreated')).toBe(0);
    expect(sum(sweep.docs, policy, 'BackupsDeleted')).toBe(2);
    const age = ages.docs.find((d) => d.Policy === policy);
    expect(age).toBeDefined();
    expect(age!.NewestBackupAgeSeconds as number).toBeGreaterThanOrEqual(0);
    expect(age!.NewestBackupAgeSeconds as number).toBeLessThan(600);
    expect(ages.value.messageId).toBeUndefined();
    expect(after).toEqual([]); // the age tick publishes no digest
  });

  it('the daily digest carries the evidence verdicts of its tables, or says how many fit the time budget', async () => {
    // Prepare: an untagged table makes the digest go out (UNPROTECTED).
    const env = await makeEnv('verdicts');
    const svc = env.service();
    const bare = uniqueName('v-bare');
    await createTable(env, bare);
    const { publishDigestWithVerdicts } = await import('../../lambda/aws/evidence');
    const { collectCoverage } = await import('../../lambda/aws/coverage');

    // Act
    await digestHandler({}, svc, {});
    const daily = await readNotifications(env, { waitForAtLeast: 1 });
    // The shared moto holds every other test's tables too: the verdict of `bare` is read from a
    // digest of that table alone (the daily one may list only those that fit its time budget).
    await publishDigestWithVerdicts(svc, await collectCoverage(svc, { only: [bare] }), ['UNPROTECTED']);
    const focused = await readNotifications(env, { waitForAtLeast: 1 });
    await publishDigestWithVerdicts(svc, await collectCoverage(svc, { only: [bare] }), ['UNPROTECTED'], 0);
    const rushed = await readNotifications(env, { waitForAtLeast: 1 });

    // Assess
    expect(daily).toHaveLength(1);
    expect(daily[0].message).toMatch(/Evidence verdicts since \S+: \d+ ok, \d+ at risk, \d+ unprotected \(full evidence: ddb-backup report --since 30d\)\./);
    expect(focused[0].message).toContain(`UNPROTECTED ${bare}: no backup policy tag`);
    expect(rushed[0].message).toContain('Verdicts of 0 of 1 tables (the rest did not fit the time budget).');
  });
});
