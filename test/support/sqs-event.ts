import { DeleteMessageBatchCommand, ReceiveMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';

/** Receives everything visible on a queue and shapes it as the Lambda SQS event source would. */
export async function receiveAsEvent(sqs: SQSClient, queueUrl: string, queueArn = 'arn:aws:sqs:us-east-1:123456789012:jobs.fifo'): Promise<SQSEvent> {
  const records: SQSRecord[] = [];
  for (;;) {
    const res = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: 10,
        WaitTimeSeconds: 0,
        VisibilityTimeout: 60,
        MessageSystemAttributeNames: ['All'],
      }),
    );
    const msgs = res.Messages ?? [];
    if (msgs.length === 0) break;
    for (const m of msgs) {
      const a = m.Attributes ?? {};
      records.push({
        messageId: m.MessageId!,
        receiptHandle: m.ReceiptHandle!,
        body: m.Body ?? '',
        attributes: {
          ApproximateReceiveCount: a.ApproximateReceiveCount ?? '1',
          SentTimestamp: a.SentTimestamp ?? String(Date.now()),
          SenderId: a.SenderId ?? 'test',
          ApproximateFirstReceiveTimestamp: a.ApproximateFirstReceiveTimestamp ?? String(Date.now()),
          MessageGroupId: a.MessageGroupId,
          MessageDeduplicationId: a.MessageDeduplicationId,
          SequenceNumber: a.SequenceNumber,
        },
        messageAttributes: {},
        md5OfBody: m.MD5OfBody ?? '',
        eventSource: 'aws:sqs',
        eventSourceARN: queueArn,
        awsRegion: 'us-east-1',
      });
    }
  }
  return { Records: records };
}

export const fakeContext = {
  functionName: 'worker',
  awsRequestId: 'test-request',
  getRemainingTimeInMillis: () => 60_000,
} as unknown as Context;

/**
 * Acknowledges what the Lambda event source mapping would: deletes every record not listed in
 * batchItemFailures (FIFO queues hold back a message group while a message of it is in flight).
 */
export async function acknowledge(sqs: SQSClient, queueUrl: string, event: SQSEvent, response: SQSBatchResponse): Promise<void> {
  const failed = new Set(response.batchItemFailures.map((f) => f.itemIdentifier));
  const done = event.Records.filter((r) => !failed.has(r.messageId));
  for (let i = 0; i < done.length; i += 10) {
    await sqs.send(
      new DeleteMessageBatchCommand({
        QueueUrl: queueUrl,
        Entries: done.slice(i, i + 10).map((r, idx) => ({ Id: String(idx), ReceiptHandle: r.receiptHandle })),
      }),
    );
  }
}
