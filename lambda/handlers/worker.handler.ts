import { SqsFifoPartialProcessorAsync, processPartialResponse } from '@aws-lambda-powertools/batch';
import { Logger } from '@aws-lambda-powertools/logger';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { createClients } from '../aws/clients';
import { buildService, configFromEnv, type Service } from '../aws/service';
import { tableUpkeep } from '../aws/upkeep';
import { errorMessage } from '../core/errors';
import { parseJob, type JobResult } from '../core/jobs';
import { failedAfterRetries, finishJobResult, type FinishDeps } from '../core/runs';
import { processJob } from '../core/worker';

const logger = new Logger({ serviceName: 'ddb-backup-worker' });
let service: Service | undefined;

function getService(): Service {
  service ??= buildService(createClients(), configFromEnv());
  return service;
}

/**
 * One job message. A result that retrying cannot change is recorded in its run. A retryable
 * failure is thrown so SQS redelivers it; on the last delivery it is recorded as failed (so the
 * run summary names it) and thrown once more, which sends the message to the DLQ. A run summary
 * that SNS did not take is thrown too: the redelivered job (a duplicate, its result already
 * recorded) publishes it.
 */
export async function handleRecord(record: SQSRecord, svc: Service): Promise<JobResult> {
  let job;
  try {
    job = parseJob(record.body);
  } catch (err) {
    logger.error('malformed job message; sending it to the DLQ', { messageId: record.messageId, error: errorMessage(err) });
    throw err;
  }
  const deps = { policies: svc.policies, backups: svc.backups, ledger: svc.ledger(), clock: svc.clock, log: logger, upkeep: tableUpkeep(svc) };
  const finish: FinishDeps = { runs: svc.ledger(), notifier: svc.notifier, clock: svc.clock, log: logger };
  let result: JobResult;
  try {
    result = await processJob(deps, job);
  } catch (err) {
    const receiveCount = Number(record.attributes?.ApproximateReceiveCount ?? '1');
    if (receiveCount < svc.config.maxReceiveCount) {
      logger.warn('job failed; SQS will retry it', { table: job.table, policy: job.policy, receiveCount, error: errorMessage(err) });
      throw err;
    }
    const failed = failedAfterRetries(job, err, receiveCount);
    logger.error('job failed for good', { ...failed });
    await finishJobResult(finish, job.runId, failed);
    throw err;
  }
  await finishJobResult(finish, job.runId, result);
  return result;
}

/** Thin adapter: SQS FIFO batch -> worker core, reporting batch item failures per message group. */
export async function workerHandler(event: SQSEvent, context: Context, svc: Service = getService()): Promise<SQSBatchResponse> {
  const processor = new SqsFifoPartialProcessorAsync();
  return processPartialResponse(event, (record: SQSRecord) => handleRecord(record, svc), processor, {
    context,
    skipGroupOnError: true,
    throwOnFullBatchFailure: false,
  });
}

export const handler = (event: SQSEvent, context: Context): Promise<SQSBatchResponse> => workerHandler(event, context);
