/**
 * A batch of stream records through the stream trigger's core (lambda/core/triggers/stream-batch.ts): one
 * count per table, the tables in parallel, and which records fail when a table's count fails.
 */
import type { ChangeCounts, CounterSnapshot } from '../../lambda/core/triggers/changes';
import { RetryableError } from '../../lambda/core/errors';
import { countStreamBatch, recordFailure, settleRecord, streamBatchLog, type StreamBatchCount } from '../../lambda/core/triggers/stream-batch';
import type { ChangeCounterPort, StreamTriggerDeps, TableBatchOutcome, TablePolicySource } from '../../lambda/core/triggers/stream-trigger';
import { MemoryNotifier, MemoryQueue, MemoryRunLedger, memoryLog } from '../support/run-fakes';
import { streamArn, streamBatch } from '../support/stream-event';

const NOW = new Date('2026-11-24T03:00:00.000Z');
const ZERO: ChangeCounts = { inserts: 0, modifies: 0, removes: 0 };

function deps(opts: { failing?: Record<string, Error> } = {}) {
  const added: { table: string; counts: ChangeCounts }[] = [];
  const counter: ChangeCounterPort = {
    add: async (table, counts): Promise<CounterSnapshot> => {
      const err = opts.failing?.[table];
      if (err) throw err;
      added.push({ table, counts });
      return { totals: counts, baseline: ZERO, enqueued: {}, storm: {} };
    },
    markEnqueued: async () => undefined,
    claimStorm: async () => false,
    releaseStorm: async () => undefined,
    freezePruning: async () => undefined,
  };
  // Tagged, but with no policy that counts changes: counting is all a batch does.
  const tables: TablePolicySource = { policiesOf: async () => ({ tagged: ['busy'], effective: [], problems: [] }) };
  const log = memoryLog();
  const d: StreamTriggerDeps = {
    counter,
    tables,
    dispatch: {
      policies: { listNames: async () => new Set(), getPolicy: () => Promise.reject(new Error('unused')), getEffective: () => Promise.reject(new Error('unused')) },
      runs: new MemoryRunLedger(),
      queue: new MemoryQueue(),
      notifier: new MemoryNotifier(),
    },
    notifier: { publishStorm: async () => undefined, publishProblem: async () => undefined },
    clock: { now: () => NOW },
    log,
  };
  return { d, added, log };
}

const outcome = (table: string, enqueued: string[] = []): TableBatchOutcome => ({ table, counts: ZERO, enqueued, pending: [], problems: [] });

describe('countStreamBatch', () => {
  it('counts each table once: INSERT, MODIFY and REMOVE of its records', async () => {
    // Prepare
    const { d, added } = deps();
    const event = streamBatch(['orders', 'users'], 4);

    // Act
    const count = await countStreamBatch(d, event.Records);

    // Assess
    expect(added).toEqual([
      { table: 'orders', counts: { inserts: 2, modifies: 1, removes: 1 } },
      { table: 'users', counts: { inserts: 2, modifies: 1, removes: 1 } },
    ]);
    expect(count.tables.map((t) => t.table)).toEqual(['orders', 'users']);
    expect(count.failed).toEqual([]);
  });

  it('a table whose count fails is reported with its error and logged; the other tables are counted', async () => {
    // Prepare
    const { d, added, log } = deps({ failing: { broken: new RetryableError('ProvisionedThroughputExceededException: slow down') } });
    const event = streamBatch(['ok', 'broken'], 3);

    // Act
    const count = await countStreamBatch(d, event.Records, log);

    // Assess
    const error = 'RetryableError: ProvisionedThroughputExceededException: slow down';
    expect(added.map((a) => a.table)).toEqual(['ok']);
    expect(count.failed).toEqual([{ table: 'broken', error }]);
    expect(log.lines).toContainEqual(['error', 'could not count the batch of a table; its records are reported for retry', { table: 'broken', records: 3, error }]);
  });

  it('records without a table or of another event are not counted, and are logged as such', async () => {
    // Prepare
    const { d, added, log } = deps();
    const records = [
      { eventName: 'INSERT', eventSourceARN: 'not-an-arn', dynamodb: { SequenceNumber: '1' } },
      { eventName: 'SOMETHING', eventSourceARN: streamArn('orders'), dynamodb: { SequenceNumber: '2' } },
      { eventName: 'REMOVE', eventSourceARN: streamArn('orders'), dynamodb: { SequenceNumber: '3' } },
    ];

    // Act
    const count = await countStreamBatch(d, records, log);

    // Assess
    expect(added).toEqual([{ table: 'orders', counts: { inserts: 0, modifies: 0, removes: 1 } }]);
    expect(count.failed).toEqual([]);
    expect(log.lines).toContainEqual(['warn', 'stream records without a table or of an unknown event; not counted', { records: 2 }]);
  });

  it('an empty batch counts nothing', async () => {
    // Prepare
    const { d, added } = deps();

    // Act
    const count = await countStreamBatch(d, []);

    // Assess
    expect(count).toEqual({ tables: [], failed: [] });
    expect(added).toEqual([]);
  });
});

describe('recordFailure and settleRecord: the records of a failed table fail, and only those', () => {
  const count: StreamBatchCount = { tables: [outcome('ok')], failed: [{ table: 'broken', error: 'ThrottlingException: slow down' }] };
  const record = (table: string) => ({ eventName: 'INSERT', eventSourceARN: streamArn(table), dynamodb: { SequenceNumber: '7' } });

  it('names the table and its error for a record of a failed table', async () => {
    // Act
    const failure = recordFailure(count, record('broken'));
    const settled = await settleRecord(count, record('broken')).then(
      () => 'ok',
      (e: unknown) => (e as Error).message,
    );

    // Assess
    expect(failure?.message).toBe('counter write for table broken failed: ThrottlingException: slow down');
    expect(settled).toBe('counter write for table broken failed: ThrottlingException: slow down');
  });

  it('passes a record of a counted table, and a record without a table', async () => {
    // Act / Assess
    expect(recordFailure(count, record('ok'))).toBeUndefined();
    expect(recordFailure(count, { eventSourceARN: undefined })).toBeUndefined();
    await expect(settleRecord(count, record('ok'))).resolves.toBeUndefined();
  });
});

describe('streamBatchLog', () => {
  it('counts records, tables and failed tables, and lists the crossings enqueued', () => {
    // Prepare
    const count: StreamBatchCount = {
      tables: [outcome('a', ['busy@changes:x']), outcome('b'), outcome('c', ['guard@storm:y'])],
      failed: [{ table: 'd', error: 'e' }],
    };

    // Act
    const line = streamBatchLog(streamBatch(['a', 'b', 'c', 'd'], 2).Records, count);

    // Assess
    expect(line).toEqual({ records: 8, tables: 3, failedTables: 1, enqueued: ['busy@changes:x', 'guard@storm:y'] });
  });
});
