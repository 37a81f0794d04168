/**
 * The EMF writer and the metered run ledger / notifier: what lands on stdout, as CloudWatch reads it.
 */
import { metered, serviceMetrics, writePoints, isAgeTick } from '../../lambda/aws/metrics';
import type { RunReport } from '../../lambda/core/backup/summary';
import { AGE_TICK_EVENT } from '../../lambda/env';

interface Emf {
  _aws: { CloudWatchMetrics: { Namespace: string; Dimensions: string[][]; Metrics: { Name: string; Unit: string }[] }[] };
  [k: string]: unknown;
}

/** Captures the EMF documents written while `fn` runs. */
async function emfOf(fn: () => unknown): Promise<Emf[]> {
  const lines: string[] = [];
  const spy = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    lines.push(String(chunk));
    return true;
  });
  try {
    await fn();
  } finally {
    spy.mockRestore();
  }
  return lines.flatMap((l) => l.split('\n')).filter((l) => l.includes('"_aws"')).map((l) => JSON.parse(l) as Emf);
}

const report = { runId: 'r1', policy: 'daily', trigger: 'schedule', startedAt: 'x', finishedAt: 'y', results: [], problems: [] } as unknown as RunReport;

describe('EMF metrics', () => {
  it('writes one document per policy, in the service namespace, with dimension Policy', async () => {
    // Prepare
    const metrics = serviceMetrics('test', {});
    // Act
    const docs = await emfOf(() =>
      writePoints(metrics, [
        { name: 'BackupsCreated', unit: 'Count', value: 1, policy: 'daily' },
        { name: 'BackupsDeleted', unit: 'Count', value: 3, policy: 'daily' },
        { name: 'NewestBackupAgeSeconds', unit: 'Seconds', value: 60, policy: 'hourly' },
      ]),
    );
    // Assess
    expect(docs).toHaveLength(2);
    expect(docs[0]._aws.CloudWatchMetrics[0]).toMatchObject({ Namespace: 'DynamoDBBackupService', Dimensions: [['Policy']] });
    expect(docs[0]).toMatchObject({ Policy: 'daily', BackupsCreated: 1, BackupsDeleted: 3 });
    expect(docs[1]).toMatchObject({ Policy: 'hourly', NewestBackupAgeSeconds: 60 });
    expect(docs[1]._aws.CloudWatchMetrics[0].Metrics).toEqual([{ Name: 'NewestBackupAgeSeconds', Unit: 'Seconds' }]);
  });

  it('adds a Table dimension set, next to Policy, only for points that carry a table', async () => {
    const docs = await emfOf(() => writePoints(serviceMetrics('test', {}), [{ name: 'BackupsCreated', unit: 'Count', value: 1, policy: 'daily', table: 'orders' }]));
    expect(docs[0]).toMatchObject({ Policy: 'daily', Table: 'orders' });
    expect(docs[0]._aws.CloudWatchMetrics[0].Dimensions).toEqual([['Policy'], ['Table']]);
  });
});

describe('metered run ledger and notifier', () => {
  it('a result recorded for the first time becomes points; a redelivered one does not', async () => {
    // Prepare
    const recordRunResult = jest.fn().mockResolvedValueOnce(true).mockResolvedValueOnce(false);
    const runs = { recordRunResult, listRunResults: jest.fn().mockResolvedValue(['kept']) };
    const { runs: m } = metered(runs, { publishRun: jest.fn() }, serviceMetrics('test', {}), false);
    const result = { table: 't', policy: 'daily', status: 'backed-up' as const };
    // Act
    const first = await emfOf(() => m.recordRunResult('r1', result, new Date()));
    const again = await emfOf(() => m.recordRunResult('r1', result, new Date()));
    // Assess
    expect(first).toHaveLength(1);
    expect(first[0]).toMatchObject({ Policy: 'daily', BackupsCreated: 1, BackupsFailed: 0 });
    expect(again).toEqual([]);
    await expect(m.listRunResults('r1')).resolves.toEqual(['kept']);
  });

  it('a summary SNS refuses is a NotifyFailures point, and the error still goes up', async () => {
    // Prepare
    const { notifier } = metered({ recordRunResult: jest.fn() }, { publishRun: jest.fn().mockRejectedValue(new Error('throttled')) }, serviceMetrics('test', {}));
    let thrown: unknown;
    // Act
    const docs = await emfOf(() => notifier.publishRun(report).catch((e: unknown) => (thrown = e)));
    // Assess
    expect((thrown as Error).message).toBe('throttled');
    expect(docs[0]).toMatchObject({ Policy: 'daily', NotifyFailures: 1 });
  });

  it('the hourly age tick is recognised by its event alone', () => {
    expect(isAgeTick(AGE_TICK_EVENT)).toBe(true);
    expect(isAgeTick({})).toBe(false);
    expect(isAgeTick(undefined)).toBe(false);
  });
});
