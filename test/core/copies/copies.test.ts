import fc from 'fast-check';
import { countResults, hasFailures, outcomeOf, summaryMessage } from '../../../lambda/core/backup/summary';
import {
  COPY_STUCK_AFTER_HOURS,
  copyDue,
  copyIfDue,
  copyPrefix,
  newCopyId,
  parseDestination,
  type CopyApi,
  type CopyKey,
  type CopyLedgerPort,
  type CopyRecord,
  type ExportState,
} from '../../../lambda/core/copies/copies';
import { copyPollSeconds, copyTask, copyTaskState } from '../../../lambda/core/copies/copy-task';
import { runLongTask } from '../../../lambda/core/long-task';
import { resolveEffectivePolicy } from '../../../lambda/core/policy';

const HOUR = 3_600_000;
const NOW = new Date('2026-12-02T12:00:00.000Z');
const ago = (hours: number) => new Date(NOW.getTime() - hours * HOUR).toISOString();

class MemoryCopyLedger implements CopyLedgerPort {
  readonly records: CopyRecord[] = [];
  async putCopy(record: CopyRecord): Promise<void> {
    this.records.push(record);
  }
  async listCopies(table: string): Promise<CopyRecord[]> {
    return this.records.filter((r) => r.table === table).sort((a, b) => b.requestedAt.localeCompare(a.requestedAt));
  }
  async finishCopy(key: CopyKey, state: ExportState): Promise<boolean> {
    const i = this.records.findIndex((r) => r.table === key.table && r.copyId === key.copyId && r.requestedAt === key.requestedAt);
    if (i < 0 || this.records[i].status !== 'IN_PROGRESS') return false;
    this.records[i] = { ...this.records[i], ...state };
    return true;
  }
}

function fakeApi(opts: { pitr?: boolean; exports?: Record<string, ExportState>; started?: ExportState } = {}): CopyApi & { started: string[] } {
  const started: string[] = [];
  return {
    started,
    async describeSource(table) {
      return {
        tableArn: `arn:aws:dynamodb:us-east-1:111122223333:table/${table}`,
        schema: { keySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }], attributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }] },
        pitrEnabled: opts.pitr ?? true,
      };
    },
    async startExport(req) {
      started.push(req.prefix);
      return { exportArn: `${req.tableArn}/export/${req.clientToken}`, state: opts.started ?? { status: 'IN_PROGRESS' } };
    },
    async describeExport(arn) {
      return opts.exports?.[arn] ?? { status: 'IN_PROGRESS' };
    },
  };
}

const policy = (copy: Record<string, unknown> = {}) =>
  resolveEffectivePolicy('daily', { schedule: 'rate(1 day)', pointInTimeRecovery: { enabled: true }, copy: { to: 's3://vault-bucket/copies', ...copy } });

const record = (over: Partial<CopyRecord>): CopyRecord => ({
  table: 'orders',
  policy: 'daily',
  copyId: 'c1',
  bucket: 'vault-bucket',
  prefix: 'copies/orders/c1',
  status: 'COMPLETED',
  requestedAt: ago(1),
  keepDays: 35,
  ...over,
});

describe('copy naming', () => {
  it('splits s3://BUCKET/PREFIX and builds one prefix per copy', () => {
    // Act
    const dest = parseDestination('s3://vault-bucket/off/site');
    const bare = parseDestination('s3://vault-bucket');
    // Assess
    expect(dest).toEqual({ bucket: 'vault-bucket', prefix: 'off/site' });
    expect(copyPrefix(dest.prefix, 'orders', 'c1')).toBe('off/site/orders/c1');
    expect(copyPrefix(bare.prefix, 'orders', 'c1')).toBe('orders/c1');
  });

  it('makes unique copy ids that sort by time', () => {
    // Act
    const a = newCopyId(new Date('2026-01-01T00:00:00Z'));
    const b = newCopyId(new Date('2026-01-01T00:00:01Z'));
    // Assess
    expect(a).toMatch(/^20260101T000000Z-[0-9a-f]{8}$/);
    expect(a < b).toBe(true);
    expect(newCopyId(NOW)).not.toBe(newCopyId(NOW));
  });
});

describe('copyDue (invariants)', () => {
  const arb = fc.array(
    fc.record({ status: fc.constantFrom('IN_PROGRESS' as const, 'COMPLETED' as const, 'FAILED' as const), hoursAgo: fc.integer({ min: 0, max: 24 * 60 }) }),
    { maxLength: 12 },
  );

  it('is due exactly when no COMPLETED or live IN_PROGRESS copy is younger than minIntervalHours', () => {
    fc.assert(
      fc.property(arb, fc.integer({ min: 1, max: 240 }), (rows, interval) => {
        // Prepare
        const records = rows.map((r, i) => ({ status: r.status, requestedAt: ago(r.hoursAgo), copyId: `c${i}` }));
        // Act
        const due = copyDue(records, interval, NOW);
        // Assess
        const blocking = rows.some(
          (r) => r.hoursAgo < interval && (r.status === 'COMPLETED' || (r.status === 'IN_PROGRESS' && r.hoursAgo <= COPY_STUCK_AFTER_HOURS)),
        );
        return due.due === !blocking;
      }),
    );
  });

  it('never lets FAILED copies hold the next copy back', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 1000 })), (hours) => {
        // Act
        const due = copyDue(hours.map((h, i) => ({ status: 'FAILED' as const, requestedAt: ago(h), copyId: `f${i}` })), 24, NOW);
        // Assess
        return due.due;
      }),
    );
  });
});

describe('copyIfDue', () => {
  it('makes a copy when none is recent, recorded IN_PROGRESS under its own prefix', async () => {
    // Prepare
    const ledger = new MemoryCopyLedger();
    const api = fakeApi();
    // Act
    const result = await copyIfDue({ api, ledger }, 'orders', policy(), NOW);
    // Assess
    expect(result).toMatchObject({ status: 'started', copyId: expect.any(String) });
    expect(ledger.records).toHaveLength(1);
    expect(ledger.records[0]).toMatchObject({ table: 'orders', policy: 'daily', status: 'IN_PROGRESS', bucket: 'vault-bucket', keepDays: 35 });
    expect(api.started).toEqual([`copies/orders/${result!.copyId}`]);
  });

  it('makes no copy inside minIntervalHours', async () => {
    // Prepare
    const ledger = new MemoryCopyLedger();
    await ledger.putCopy(record({ requestedAt: ago(5) }));
    const api = fakeApi();
    // Act
    const result = await copyIfDue({ api, ledger }, 'orders', policy({ minIntervalHours: 6 }), NOW);
    // Assess
    expect(result).toMatchObject({ status: 'not-due' });
    expect(api.started).toEqual([]);
  });

  it('reports PITR off as a failure naming PITR, and exports nothing', async () => {
    // Prepare
    const api = fakeApi({ pitr: false });
    // Act
    const result = await copyIfDue({ api, ledger: new MemoryCopyLedger() }, 'orders', policy(), NOW);
    // Assess
    expect(result).toMatchObject({ status: 'failed', reason: expect.stringContaining('point-in-time recovery (PITR) is off') });
    expect(api.started).toEqual([]);
  });

  it('moves an earlier IN_PROGRESS copy forward and alerts once on FAILED', async () => {
    // Prepare
    const ledger = new MemoryCopyLedger();
    await ledger.putCopy(record({ copyId: 'old', status: 'IN_PROGRESS', exportArn: 'arn:x/export/old', requestedAt: ago(30) }));
    const api = fakeApi({ exports: { 'arn:x/export/old': { status: 'FAILED', error: 'S3NoSuchBucket: gone' } } });
    // Act
    const first = await copyIfDue({ api, ledger }, 'orders', policy(), NOW);
    const second = await copyIfDue({ api, ledger }, 'orders', policy({ minIntervalHours: 1 }), new Date(NOW.getTime() + 2 * HOUR));
    // Assess
    expect(first).toMatchObject({ status: 'started', alerts: ['copy old of orders FAILED: S3NoSuchBucket: gone'] });
    expect(ledger.records.find((r) => r.copyId === 'old')?.status).toBe('FAILED');
    expect(second).toMatchObject({ status: 'started' });
    expect(second?.alerts).toBeUndefined();
  });

  it('records COMPLETED with item count and bytes when the export has finished', async () => {
    // Prepare
    const ledger = new MemoryCopyLedger();
    await ledger.putCopy(record({ copyId: 'old', status: 'IN_PROGRESS', exportArn: 'arn:x/export/old', requestedAt: ago(2) }));
    const api = fakeApi({ exports: { 'arn:x/export/old': { status: 'COMPLETED', itemCount: 7, billedSizeBytes: 700, completedAt: ago(1) } } });
    // Act
    const result = await copyIfDue({ api, ledger }, 'orders', policy(), NOW);
    // Assess
    expect(result).toMatchObject({ status: 'not-due' });
    expect(ledger.records[0]).toMatchObject({ status: 'COMPLETED', itemCount: 7, billedSizeBytes: 700 });
  });

  it('alerts on a copy stuck IN_PROGRESS past the limit, and copies again', async () => {
    // Prepare
    const ledger = new MemoryCopyLedger();
    await ledger.putCopy(record({ copyId: 'slow', status: 'IN_PROGRESS', exportArn: 'arn:x/export/slow', requestedAt: ago(COPY_STUCK_AFTER_HOURS + 1) }));
    // Act
    const result = await copyIfDue({ api: fakeApi(), ledger }, 'orders', policy({ minIntervalHours: 48 }), NOW);
    // Assess
    expect(result).toMatchObject({ status: 'started', alerts: [expect.stringMatching(/copy slow of orders is stuck/)] });
  });

  it('does nothing for a policy without copy', async () => {
    // Act
    const result = await copyIfDue({ api: fakeApi(), ledger: new MemoryCopyLedger() }, 'orders', resolveEffectivePolicy('daily', { schedule: 'rate(1 day)' }), NOW);
    // Assess
    expect(result).toBeUndefined();
  });
});

describe('run summary with copies', () => {
  const base = { runId: 'r', policy: 'daily', trigger: 'schedule', startedAt: ago(1), finishedAt: ago(0), problems: [] };

  it('counts a failed copy against the run, while the backup still counts as made', () => {
    // Prepare
    const report = {
      ...base,
      results: [{ table: 'orders', policy: 'daily', status: 'backed-up' as const, backupArn: 'arn:b', copy: { status: 'failed' as const, reason: 'no copy of orders: point-in-time recovery (PITR) is off' } }],
    };
    // Act
    const counts = countResults(report);
    const message = summaryMessage(report);
    // Assess
    expect(counts).toMatchObject({ backedUp: 1, failed: 0, copyFailed: 1 });
    expect(outcomeOf(counts)).toBe('PARTIAL');
    expect(hasFailures(report)).toBe(true);
    expect(message).toContain('Copies failed:\n  - orders [daily]: no copy of orders: point-in-time recovery (PITR) is off');
  });

  it('leaves counts unchanged when copies are fine', () => {
    // Act
    const counts = countResults({ ...base, results: [{ table: 'orders', policy: 'daily', status: 'backed-up', copy: { status: 'started', copyId: 'c' } }] });
    // Assess
    expect(counts).toEqual({ backedUp: 1, skipped: 0, failed: 0, problems: 0, warnings: 0, deleted: 0, vanished: 0 });
  });
});

describe('copyTask', () => {
  it('waits while the export runs, then records COMPLETED', async () => {
    // Prepare
    const ledger = new MemoryCopyLedger();
    const rec = record({ copyId: 'c9', status: 'IN_PROGRESS', exportArn: 'arn:x/export/c9', requestedAt: NOW.toISOString() });
    await ledger.putCopy(rec);
    let calls = 0;
    const api = {
      describeExport: async (): Promise<ExportState> => (++calls < 3 ? { status: 'IN_PROGRESS' } : { status: 'COMPLETED', itemCount: 3, billedSizeBytes: 90 }),
    };
    const slept: number[] = [];
    let clock = NOW.getTime();
    // Act
    const done = await runLongTask(copyTask, { api, ledger }, copyTaskState(rec), {
      now: () => new Date(clock),
      sleep: async (ms) => {
        slept.push(ms);
        clock += ms;
      },
    });
    // Assess
    expect(done).toMatchObject({ passed: true, summary: 'copy c9 of orders COMPLETED: 3 items, 90 bytes' });
    expect(slept).toEqual([20_000, 20_000]);
    expect(ledger.records[0]).toMatchObject({ status: 'COMPLETED', itemCount: 3 });
  });

  it('ends failed on a FAILED export, and when stuck past the limit', async () => {
    // Prepare
    const ledger = new MemoryCopyLedger();
    const rec = record({ copyId: 'c8', status: 'IN_PROGRESS', exportArn: 'arn:x/export/c8', requestedAt: ago(COPY_STUCK_AFTER_HOURS + 2) });
    await ledger.putCopy(rec);
    const failedApi = { describeExport: async (): Promise<ExportState> => ({ status: 'FAILED', error: 'UNKNOWN: boom' }) };
    const slowApi = { describeExport: async (): Promise<ExportState> => ({ status: 'IN_PROGRESS' }) };
    // Act
    const stuck = await copyTask.step({ api: slowApi, ledger }, copyTaskState(rec), NOW);
    const failed = await copyTask.step({ api: failedApi, ledger }, copyTaskState(rec), NOW);
    // Assess
    expect(stuck).toMatchObject({ next: 'done', passed: false, summary: expect.stringContaining('stuck') });
    expect(failed).toMatchObject({ next: 'done', passed: false, summary: 'copy c8 of orders FAILED: UNKNOWN: boom' });
    expect(ledger.records[0].status).toBe('FAILED');
  });

  it('polls more slowly as the export goes on, within the waiter bounds', () => {
    // Act
    const waits = [1, 9, 10, 39, 40, 1000].map(copyPollSeconds);
    // Assess
    expect(waits).toEqual([20, 20, 120, 120, 300, 300]);
  });
});
