/* eslint-disable @typescript-eslint/no-require-imports -- Powertools batch and the stream adapters (and
   the SDK clients and lib-dynamodb they import) load on first use, not at cold start. */
import { Logger } from '@aws-lambda-powertools/logger';
import type { Context, DynamoDBBatchResponse, DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import { createClients } from '../aws/clients';
import { buildService, configFromEnv, intFrom, required, type Service } from '../aws/service';
import { countByTable, tableFromStreamArn } from '../core/changes';
import { errorMessage } from '../core/errors';
import { processTableBatch, type StreamTriggerDeps, type TableBatchOutcome } from '../core/stream-trigger';
import { ENV, STREAM_DEFAULTS, STREAM_ENV } from '../env';

/**
 * DynamoDB Streams -> change counters (issue #5).
 *
 * Per batch: count INSERT/MODIFY/REMOVE per table (pure), then ONE atomic ADD per table to its
 * counter item in the ledger, then thresholds and delete storms through the normal dispatch path.
 * Batch item failures are reported per table: when a table's counter write fails, all of that
 * table's records are reported (itemIdentifier = SequenceNumber) and the mapping retries them
 * (bisect on error, then the on-failure destination). Counting is at-least-once: a retry after a
 * write whose response was lost counts that batch twice, which can only make a backup come sooner.
 */

const logger = new Logger({ serviceName: 'ddb-backup-stream' });

export interface StreamHandlerDeps {
  readonly trigger: StreamTriggerDeps;
}

/** The composition of the stream handler over one Service. */
export function buildStreamDeps(svc: Service, env: NodeJS.ProcessEnv = process.env): StreamHandlerDeps {
  const ledgerTable = required(svc.config.ledgerTable, `ledger table (${ENV.LEDGER_TABLE})`);
  const { ChangeCounter } = require('../aws/change-counter') as typeof import('../aws/change-counter');
  const { ChangeTopicNotifier } = require('../aws/change-notifier') as typeof import('../aws/change-notifier');
  const { TablePolicyResolver } = require('../aws/table-policies') as typeof import('../aws/table-policies');
  return {
    trigger: {
      counter: new ChangeCounter(svc.clients.dynamodb, ledgerTable),
      tables: new TablePolicyResolver(
        svc.clients.dynamodb,
        svc.policies,
        svc.config.tagKey,
        intFrom(env[STREAM_ENV.TAG_CACHE_SECONDS], STREAM_DEFAULTS.TAG_CACHE_SECONDS, STREAM_ENV.TAG_CACHE_SECONDS),
      ),
      dispatch: { policies: svc.policies, runs: svc.ledger(), queue: svc.queue(), notifier: svc.notifier },
      notifier: new ChangeTopicNotifier(svc.clients.sns, svc.config.topicArn),
      clock: svc.clock,
      log: logger,
      rearmMinutes: intFrom(env[STREAM_ENV.REARM_MINUTES], STREAM_DEFAULTS.REARM_MINUTES, STREAM_ENV.REARM_MINUTES),
    },
  };
}

let deps: StreamHandlerDeps | undefined;
function getDeps(): StreamHandlerDeps {
  deps ??= buildStreamDeps(buildService(createClients(), configFromEnv()));
  return deps;
}

export interface StreamBatchResult {
  readonly response: DynamoDBBatchResponse;
  readonly tables: TableBatchOutcome[];
  /** Tables whose records were reported as failures, with the error. */
  readonly failed: { table: string; error: string }[];
}

/** Counts the batch per table (one write per table), then reports batch item failures per table. */
export async function processStreamBatch(event: DynamoDBStreamEvent, context: Context | undefined, d: StreamHandlerDeps): Promise<StreamBatchResult> {
  const records = event.Records ?? [];
  const { tables, unknown } = countByTable(records);
  if (unknown.length > 0) {
    logger.warn('stream records without a table or of an unknown event; not counted', { records: unknown.length });
  }

  // Tables in parallel: one counter write each.
  const settled = await Promise.allSettled(tables.map((t) => processTableBatch(d.trigger, t)));
  const outcomes: TableBatchOutcome[] = [];
  const failedTables = new Map<string, string>();
  settled.forEach((s, i) => {
    if (s.status === 'fulfilled') outcomes.push(s.value);
    else {
      failedTables.set(tables[i].table, errorMessage(s.reason));
      logger.error('could not count the batch of a table; its records are reported for retry', {
        table: tables[i].table,
        records: tables[i].sequenceNumbers.length,
        error: errorMessage(s.reason),
      });
    }
  });

  // Powertools reports each failed record by its SequenceNumber.
  const { BatchProcessor, EventType, processPartialResponse } = require('@aws-lambda-powertools/batch') as typeof import('@aws-lambda-powertools/batch');
  const processor = new BatchProcessor(EventType.DynamoDBStreams);
  const recordHandler = (record: DynamoDBRecord): Promise<void> => {
    const table = tableFromStreamArn(record.eventSourceARN);
    const error = table ? failedTables.get(table) : undefined;
    return error === undefined ? Promise.resolve() : Promise.reject(new Error(`counter write for table ${table} failed: ${error}`));
  };
  const response =
    records.length === 0
      ? { batchItemFailures: [] }
      : await processPartialResponse(event, recordHandler, processor, {
          ...(context ? { context } : {}),
          // A batch that failed as a whole throws: the mapping bisects it and retries.
          throwOnFullBatchFailure: true,
        });
  return { response, tables: outcomes, failed: [...failedTables].map(([table, error]) => ({ table, error })) };
}

export async function streamHandler(event: DynamoDBStreamEvent, context?: Context, d: StreamHandlerDeps = getDeps()): Promise<DynamoDBBatchResponse> {
  const result = await processStreamBatch(event, context, d);
  logger.info('stream batch counted', {
    records: event.Records?.length ?? 0,
    tables: result.tables.length,
    failedTables: result.failed.length,
    enqueued: result.tables.flatMap((t) => t.enqueued),
  });
  return result.response;
}

export const handler = (event: DynamoDBStreamEvent, context: Context): Promise<DynamoDBBatchResponse> => streamHandler(event, context);
