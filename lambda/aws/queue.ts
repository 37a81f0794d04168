import { SendMessageBatchCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { errorMessage } from '../core/errors';
import { dedupeId, type BackupJob } from '../core/jobs';
import type { JobSink } from '../core/ports';

/**
 * The SQS FIFO job queue. MessageGroupId is the table, so two backups of one table never run at
 * once; MessageDeduplicationId is (table, policy, slot), so a trigger delivered twice gives one job.
 */
export class JobQueue implements JobSink {
  constructor(
    private readonly sqs: SQSClient,
    readonly queueUrl: string,
  ) {}

  async enqueue(jobs: readonly BackupJob[]): Promise<{ job: BackupJob; error: string }[]> {
    const failures: { job: BackupJob; error: string }[] = [];
    for (let i = 0; i < jobs.length; i += 10) {
      const batch = jobs.slice(i, i + 10);
      try {
        const out = await this.sqs.send(
          new SendMessageBatchCommand({
            QueueUrl: this.queueUrl,
            Entries: batch.map((job, idx) => ({
              Id: String(idx),
              MessageBody: JSON.stringify(job),
              MessageGroupId: job.table,
              MessageDeduplicationId: dedupeId(job),
            })),
          }),
        );
        for (const f of out.Failed ?? []) {
          const job = batch[Number(f.Id)];
          if (job) failures.push({ job, error: `${f.Code ?? 'error'}: ${f.Message ?? ''}`.trim() });
        }
      } catch (err) {
        for (const job of batch) failures.push({ job, error: errorMessage(err) });
      }
    }
    return failures;
  }
}
