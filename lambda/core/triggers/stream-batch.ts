import { countByTable, tableFromStreamArn, type StreamRecordLike } from './changes';
import { errorMessage } from '../errors';
import { silentLog, type Log } from '../log';
import { processTableBatch, type StreamTriggerDeps, type TableBatchOutcome } from './stream-trigger';

/**
 * One batch of DynamoDB stream records (issue #5): counted per table (pure), then ONE atomic ADD
 * per table to its counter item, then thresholds and delete storms through the normal dispatch
 * path. A table whose count failed has all of its records reported as failures, and the mapping
 * retries them (bisect on error, then the on-failure destination). Counting is at-least-once: a
 * retry after a write whose response was lost counts that batch twice, which can only make a
 * backup come sooner.
 */

export interface StreamBatchCount {
  /** The tables counted, one counter write each. */
  readonly tables: TableBatchOutcome[];
  /** Tables whose records are reported as failures, with the error. */
  readonly failed: { table: string; error: string }[];
}

/** Counts a batch per table, the tables in parallel; a table that fails fails only its own records. */
export async function countStreamBatch(deps: StreamTriggerDeps, records: readonly StreamRecordLike[], log: Log = silentLog): Promise<StreamBatchCount> {
  const { tables, unknown } = countByTable(records);
  if (unknown.length > 0) {
    log.warn('stream records without a table or of an unknown event; not counted', { records: unknown.length });
  }
  const settled = await Promise.allSettled(tables.map((t) => processTableBatch(deps, t)));
  const counted: TableBatchOutcome[] = [];
  const failed: { table: string; error: string }[] = [];
  settled.forEach((s, i) => {
    if (s.status === 'fulfilled') counted.push(s.value);
    else {
      const { table, sequenceNumbers } = tables[i];
      failed.push({ table, error: errorMessage(s.reason) });
      log.error('could not count the batch of a table; its records are reported for retry', { table, records: sequenceNumbers.length, error: errorMessage(s.reason) });
    }
  });
  return { tables: counted, failed };
}

/** Why a record of a counted batch failed (its table's count did), or undefined when it did not. */
export function recordFailure(count: StreamBatchCount, record: StreamRecordLike): Error | undefined {
  const table = tableFromStreamArn(record.eventSourceARN);
  const failed = table ? count.failed.find((f) => f.table === table) : undefined;
  return failed && new Error(`counter write for table ${table} failed: ${failed.error}`);
}

/** A record of a counted batch as a batch item: rejected when it failed, so the mapping retries it. */
export function settleRecord(count: StreamBatchCount, record: StreamRecordLike): Promise<void> {
  const error = recordFailure(count, record);
  return error ? Promise.reject(error) : Promise.resolve();
}

/** The log line of a counted batch. */
export function streamBatchLog(records: readonly StreamRecordLike[], count: StreamBatchCount): Record<string, unknown> {
  return {
    records: records.length,
    tables: count.tables.length,
    failedTables: count.failed.length,
    enqueued: count.tables.flatMap((t) => t.enqueued),
  };
}
