import { Logger } from '@aws-lambda-powertools/logger';
import type { Context, DynamoDBBatchResponse, DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import { lazy } from '../core/lazy';
import { countStreamBatch, settleRecord, streamBatchLog, type StreamBatchCount } from '../core/triggers/stream-batch';
import type { StreamTriggerDeps } from '../core/triggers/stream-trigger';

/**
 * DynamoDB Streams -> change counters (issue #5): the batch is counted per table by the core
 * (lambda/core/triggers/stream-batch.ts), then the records of a table whose count failed are reported as
 * batch item failures (itemIdentifier = SequenceNumber), which the mapping retries.
 */

const logger = new Logger({ serviceName: 'ddb-backup-stream' });
/** The composition over this function's environment: it and the SDK clients load on first use, not at cold start. */
const deps = lazy(async () => {
  const [{ serviceFromEnv }, { buildStreamDeps }] = await Promise.all([import('../aws/service'), import('./stream-deps')]);
  return buildStreamDeps(serviceFromEnv(), process.env, logger);
});

export interface StreamBatchResult extends StreamBatchCount {
  readonly response: DynamoDBBatchResponse;
}

/** Counts the batch per table (one write per table), then reports batch item failures per table. */
export async function processStreamBatch(event: DynamoDBStreamEvent, context: Context | undefined, d: StreamTriggerDeps): Promise<StreamBatchResult> {
  const records = event.Records ?? [];
  const { tables, failed } = await countStreamBatch(d, records, logger);
  if (records.length === 0) return { response: { batchItemFailures: [] }, tables, failed };
  const { BatchProcessor, EventType, processPartialResponse } = await import('@aws-lambda-powertools/batch');
  // A batch that failed as a whole throws: the mapping bisects it and retries.
  const settle = (record: DynamoDBRecord) => settleRecord({ tables, failed }, record);
  const response = await processPartialResponse(event, settle, new BatchProcessor(EventType.DynamoDBStreams), { ...(context ? { context } : {}), throwOnFullBatchFailure: true });
  return { response, tables, failed };
}

export async function streamHandler(event: DynamoDBStreamEvent, context?: Context, d?: StreamTriggerDeps): Promise<DynamoDBBatchResponse> {
  const result = await processStreamBatch(event, context, d ?? (await deps()));
  logger.info('stream batch counted', streamBatchLog(event.Records ?? [], result));
  return result.response;
}

export const handler = (event: DynamoDBStreamEvent, context: Context): Promise<DynamoDBBatchResponse> => streamHandler(event, context);
