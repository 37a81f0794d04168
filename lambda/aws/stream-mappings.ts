import { DescribeTableCommand, UpdateTableCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  CreateEventSourceMappingCommand,
  DeleteEventSourceMappingCommand,
  UpdateEventSourceMappingCommand,
  paginateListEventSourceMappings,
  type LambdaClient,
} from '@aws-sdk/client-lambda';
import { DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import { createHash } from 'node:crypto';
import { Logger } from '@aws-lambda-powertools/logger';
import { errorMessage } from '../core/errors';
import type { Log } from '../core/log';
import {
  filterPatterns,
  streamReportMessage,
  type ExistingMapping,
  type StreamFilter,
  type StreamInfo,
  type StreamMappingApi,
  type StreamReconcileReport,
  type StreamReportSink,
} from '../core/triggers/stream-reconcile';
import { STREAM_DEFAULTS } from '../env';
import type { ChangeTopicNotifier } from './change-notifier';
import { conditionHeld, isNotFound, isTableGone, retryableOr } from './errors';

export interface MappingSettings {
  /** Name or ARN of the stream handler. */
  readonly functionName: string;
  /** SQS queue ARN for records of batches that failed for good. */
  readonly onFailureArn?: string;
  readonly batchSize?: number;
  readonly maxBatchingWindowSeconds?: number;
  readonly maxRetryAttempts?: number;
}

/** The mapping settings the service uses for every table stream (see README, change trigger). */
export function mappingInput(settings: MappingSettings, streamArn: string, filter: StreamFilter) {
  const patterns = filterPatterns(filter);
  return {
    FunctionName: settings.functionName,
    EventSourceArn: streamArn,
    StartingPosition: 'LATEST' as const,
    BatchSize: settings.batchSize ?? STREAM_DEFAULTS.BATCH_SIZE,
    MaximumBatchingWindowInSeconds: settings.maxBatchingWindowSeconds ?? STREAM_DEFAULTS.MAX_BATCHING_WINDOW_SECONDS,
    BisectBatchOnFunctionError: true,
    MaximumRetryAttempts: settings.maxRetryAttempts ?? STREAM_DEFAULTS.MAX_RETRY_ATTEMPTS,
    FunctionResponseTypes: ['ReportBatchItemFailures' as const],
    ...(settings.onFailureArn ? { DestinationConfig: { OnFailure: { Destination: settings.onFailureArn } } } : {}),
    ...(patterns.length ? { FilterCriteria: { Filters: patterns.map((Pattern) => ({ Pattern })) } } : {}),
    Enabled: true,
  };
}

/** Event source mappings of the stream handler, and the tables' streams, over the SDK. */
export class StreamMappings implements StreamMappingApi {
  constructor(
    private readonly lambda: LambdaClient,
    private readonly ddb: DynamoDBClient,
    private readonly settings: MappingSettings,
  ) {}

  async describeStream(table: string): Promise<StreamInfo> {
    try {
      const out = await this.ddb.send(new DescribeTableCommand({ TableName: table }));
      const t = out.Table;
      const enabled = t?.StreamSpecification?.StreamEnabled === true && !!t.LatestStreamArn;
      return { table, exists: true, enabled, ...(enabled ? { streamArn: t!.LatestStreamArn } : {}) };
    } catch (err) {
      if (isTableGone(err)) return { table, exists: false, enabled: false };
      throw retryableOr(err, `DescribeTable ${table}`);
    }
  }

  async enableStream(table: string): Promise<void> {
    await this.ddb.send(
      new UpdateTableCommand({ TableName: table, StreamSpecification: { StreamEnabled: true, StreamViewType: 'KEYS_ONLY' } }),
    );
  }

  /** Every mapping of the function (every page); only DynamoDB stream sources. */
  async listMappings(): Promise<ExistingMapping[]> {
    const out: ExistingMapping[] = [];
    for await (const page of paginateListEventSourceMappings({ client: this.lambda }, { FunctionName: this.settings.functionName })) {
      for (const m of page.EventSourceMappings ?? []) {
        if (!m.UUID || !m.EventSourceArn || !/^arn:[^:]+:dynamodb:/.test(m.EventSourceArn)) continue;
        out.push({
          uuid: m.UUID,
          eventSourceArn: m.EventSourceArn,
          state: m.State,
          filterPatterns: (m.FilterCriteria?.Filters ?? []).map((f) => f.Pattern ?? '').filter((p) => p !== ''),
        });
      }
    }
    return out;
  }

  async createMapping(streamArn: string, filter: StreamFilter): Promise<string | undefined> {
    const out = await this.lambda.send(new CreateEventSourceMappingCommand(mappingInput(this.settings, streamArn, filter)));
    return out.UUID;
  }

  async updateMapping(uuid: string, filter: StreamFilter): Promise<void> {
    const patterns = filterPatterns(filter);
    await this.lambda.send(
      new UpdateEventSourceMappingCommand({ UUID: uuid, FilterCriteria: { Filters: patterns.map((Pattern) => ({ Pattern })) } }),
    );
  }

  async deleteMapping(uuid: string): Promise<void> {
    try {
      await this.lambda.send(new DeleteEventSourceMappingCommand({ UUID: uuid }));
    } catch (err) {
      if (!isNotFound(err, 'event-source-mapping')) throw err;
    }
  }
}

/** The reconciler's structured log (the handler loads this module on first use). */
const defaultLog: Log = new Logger({ serviceName: 'ddb-backup-stream-reconciler' });

/** A day: how often an unchanged report of missing streams is published again. */
const REPEAT_MS = 24 * 3_600_000;

/**
 * Publishes the reconciler's report on SNS when it changed since the last one or a day has
 * passed (the reconciler runs every 15 minutes: one message per change, not 96 a day). The last
 * report's digest lives in the ledger (pk=RECONCILE#streams sk=REPORT); without a ledger every
 * report is published.
 */
export class StreamReportPublisher implements StreamReportSink {
  private readonly doc?: DynamoDBDocumentClient;
  /** Failed publishes whose digest could not be forgotten (each logged). */
  digestResetFailures = 0;

  constructor(
    private readonly notifier: Pick<ChangeTopicNotifier, 'publish'>,
    ddb?: DynamoDBClient,
    private readonly ledgerTable?: string,
    private readonly now: () => Date = () => new Date(),
    private readonly log: Log = defaultLog,
  ) {
    if (ddb && ledgerTable) this.doc = DynamoDBDocumentClient.from(ddb);
  }

  async reportMissingStreams(report: StreamReconcileReport): Promise<boolean> {
    const { subject, message } = streamReportMessage(report);
    const digest = createHash('sha256')
      .update(JSON.stringify([report.plan.missingStream, report.plan.missingTable, report.errors.map((e) => [e.table, e.policy, e.message])]))
      .digest('hex')
      .slice(0, 16);
    if (this.doc && this.ledgerTable) {
      const now = this.now();
      const doc = this.doc;
      const fresh = await conditionHeld(() =>
        doc.send(
          new PutCommand({
            TableName: this.ledgerTable,
            Item: { pk: 'RECONCILE#streams', sk: 'REPORT', digest, reportedAt: now.toISOString() },
            ConditionExpression: 'attribute_not_exists(pk) OR #d <> :d OR #r < :old',
            ExpressionAttributeNames: { '#d': 'digest', '#r': 'reportedAt' },
            ExpressionAttributeValues: { ':d': digest, ':old': new Date(now.getTime() - REPEAT_MS).toISOString() },
          }),
        ),
      );
      if (!fresh) return false; // same report, recently sent
    }
    try {
      await this.notifier.publish(subject, message, 'stream-report');
    } catch (err) {
      // Not sent: forget the digest, so the next run tries again.
      if (this.doc && this.ledgerTable) {
        try {
          await this.doc.send(
            new PutCommand({ TableName: this.ledgerTable, Item: { pk: 'RECONCILE#streams', sk: 'REPORT', digest: '', reportedAt: new Date(0).toISOString() } }),
          );
        } catch (forgetErr) {
          // The digest stays: the same report is held back until it changes or a day passes.
          this.digestResetFailures++;
          this.log.error('stream report digest not reset after a failed publish', {
            ledgerTable: this.ledgerTable,
            digest,
            error: errorMessage(forgetErr),
            publishError: errorMessage(err),
          });
        }
      }
      throw err;
    }
    return true;
  }
}
