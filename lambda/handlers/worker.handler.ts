import { SqsFifoPartialProcessorAsync, processPartialResponse } from '@aws-lambda-powertools/batch';
import { Logger } from '@aws-lambda-powertools/logger';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import type { Service } from '../aws/service';
import { deliverJob } from '../core/backup/delivery';
import type { JobResult } from '../core/jobs';
import { lazy } from '../core/lazy';
import { metered, serviceMetrics } from '../aws/metrics';

const logger = new Logger({ serviceName: 'ddb-backup-worker' });
const metrics = serviceMetrics('ddb-backup-worker');
/** The service over this function's environment: it and its SDK clients load on first use, not at cold start. */
const service = lazy(async () => (await import('../aws/service')).serviceFromEnv());

/** One job message through the worker core (lambda/core/backup/delivery.ts: retry, DLQ and run-summary decisions). */
export async function handleRecord(record: SQSRecord, svc: Service): Promise<JobResult> {
  const { tableUpkeep } = await import('../aws/upkeep');
  const { existenceFeed } = await import('../aws/table-events');
  const { serviceCopyPort } = await import('../aws/copies');
  const existence = existenceFeed(svc);
  const job = () => ({
    worker: { policies: svc.policies, backups: svc.backups, ledger: svc.ledger(), clock: svc.clock, log: logger, upkeep: tableUpkeep(svc), existence, copies: serviceCopyPort(svc) },
    finish: { ...metered(svc.ledger(), svc.notifier, metrics), clock: svc.clock, log: logger },
  });
  const receiveCount = Number(record.attributes?.ApproximateReceiveCount ?? '1');
  return deliverJob({ log: logger, maxReceiveCount: svc.config.maxReceiveCount, job }, { messageId: record.messageId, body: record.body, receiveCount });
}

/** SQS FIFO batch -> worker core, reporting batch item failures per message group. */
export async function workerHandler(event: SQSEvent, context: Context, svc?: Service): Promise<SQSBatchResponse> {
  const s = svc ?? (await service());
  return processPartialResponse(event, (record: SQSRecord) => handleRecord(record, s), new SqsFifoPartialProcessorAsync(), {
    context,
    skipGroupOnError: true,
    throwOnFullBatchFailure: false,
  });
}

export const handler = (event: SQSEvent, context: Context): Promise<SQSBatchResponse> => workerHandler(event, context);
