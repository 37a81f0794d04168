import { errorMessage } from '../errors';
import { parseJob, type BackupJob, type JobResult } from '../jobs';
import type { Log } from '../log';
import { failedAfterRetries, finishJobResult, type FinishDeps } from './runs';
import { processJob, type WorkerDeps } from './worker';

/**
 * One delivery of a job message from the job queue (SQS FIFO, with a dead-letter queue after
 * `maxReceiveCount` deliveries) to the worker.
 */

export interface JobDelivery {
  readonly messageId: string;
  readonly body: string;
  /** How many times the queue has delivered this message, this delivery included (1 = first). */
  readonly receiveCount: number;
}

export interface DeliveryPorts {
  readonly log: Log;
  /** Deliveries after which the queue moves the message to the dead-letter queue. */
  readonly maxReceiveCount: number;
  /** The worker's ports and those of the job's run, asked for only once the message parsed. */
  job(): { readonly worker: WorkerDeps; readonly finish: FinishDeps };
}

/**
 * True when the queue delivers a message again after this delivery failed; false on the last
 * delivery (the message goes to the DLQ next), and when the count is unknown (NaN).
 */
export function willRedeliver(receiveCount: number, maxReceiveCount: number): boolean {
  return receiveCount < maxReceiveCount;
}

/**
 * One job message. A result that retrying cannot change is recorded in its run. A retryable
 * failure is thrown so the queue redelivers it; on the last delivery it is recorded as failed (so
 * the run summary names it) and thrown once more, which sends the message to the DLQ. A message
 * that is not a job is thrown at once. A run summary that SNS did not take is thrown too: the
 * redelivered job (a duplicate, its result already recorded) publishes it.
 */
export async function deliverJob(ports: DeliveryPorts, delivery: JobDelivery): Promise<JobResult> {
  const { log } = ports;
  let job: BackupJob;
  try {
    job = parseJob(delivery.body);
  } catch (err) {
    log.error('malformed job message; sending it to the DLQ', { messageId: delivery.messageId, error: errorMessage(err) });
    throw err;
  }
  const { worker, finish } = ports.job();
  let result: JobResult;
  try {
    result = await processJob(worker, job);
  } catch (err) {
    const { receiveCount } = delivery;
    if (willRedeliver(receiveCount, ports.maxReceiveCount)) {
      log.warn('job failed; SQS will retry it', { table: job.table, policy: job.policy, receiveCount, error: errorMessage(err) });
      throw err;
    }
    const failed = failedAfterRetries(job, err, receiveCount);
    log.error('job failed for good', { ...failed });
    await finishJobResult(finish, job.runId, failed);
    throw err;
  }
  await finishJobResult(finish, job.runId, result);
  return result;
}
