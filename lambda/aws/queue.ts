import { SendMessageBatchCommand, SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { PageSink, PlanPage } from '../core/backup/fanout';
import { errorMessage } from '../core/errors';
import { dedupeId, messageGroupId, type BackupJob } from '../core/jobs';
import type { JobSink } from '../core/ports';

/**
 * The SQS FIFO job queue. MessageGroupId is the table (hashed when over SQS's 128 characters), so
 * two backups of one table never run at once; MessageDeduplicationId is (table, policy, slot), so a trigger delivered twice gives one job.
 */
export class JobQueue implements JobSink {
  constructor(
    private readonly sqs: SQSClient,
    readonly queueUrl: string,
  ) {}

  async enqueue(jobs: readonly BackupJob[]): Promise<{ job: BackupJob; error: string }[]> {
    const failures: { job: BackupJob; error: string }[] = [];
    for (const batch of batchesOf(jobs)) {
      try {
        const out = await this.sqs.send(
          new SendMessageBatchCommand({
            QueueUrl: this.queueUrl,
            Entries: batch.map(({ job, body }, idx) => ({
              Id: String(idx),
              MessageBody: body,
              MessageGroupId: messageGroupId(job.table),
              MessageDeduplicationId: dedupeId(job),
            })),
          }),
        );
        for (const f of out.Failed ?? []) {
          const entry = batch[Number(f.Id)];
          if (entry) failures.push({ job: entry.job, error: `${f.Code ?? 'error'}: ${f.Message ?? ''}`.trim() });
        }
      } catch (err) {
        for (const { job } of batch) failures.push({ job, error: errorMessage(err) });
      }
    }
    return failures;
  }
}

/** The plan queue (SQS standard): the planner sends itself the next page of a fanned-out run. */
export class PlanQueue implements PageSink {
  constructor(
    private readonly sqs: SQSClient,
    readonly queueUrl: string,
  ) {}

  async sendPage(next: PlanPage): Promise<void> {
    await this.sqs.send(new SendMessageCommand({ QueueUrl: this.queueUrl, MessageBody: JSON.stringify(next) }));
  }
}

/** SQS takes at most 10 messages and 256 KiB (all bodies together) per SendMessageBatch. */
const MAX_BATCH_ENTRIES = 10;
const MAX_BATCH_BYTES = 250 * 1024;

/** Groups jobs into batches within both SQS limits (a job is a few hundred bytes). */
export function batchesOf(jobs: readonly BackupJob[]): { job: BackupJob; body: string }[][] {
  const batches: { job: BackupJob; body: string }[][] = [];
  let current: { job: BackupJob; body: string }[] = [];
  let bytes = 0;
  for (const job of jobs) {
    const body = JSON.stringify(job);
    const size = Buffer.byteLength(body);
    if (current.length > 0 && (current.length >= MAX_BATCH_ENTRIES || bytes + size > MAX_BATCH_BYTES)) {
      batches.push(current);
      current = [];
      bytes = 0;
    }
    current.push({ job, body });
    bytes += size;
  }
  if (current.length > 0) batches.push(current);
  return batches;
}
