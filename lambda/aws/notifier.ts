import { PublishCommand, type SNSClient } from '@aws-sdk/client-sns';
import { countResults, outcomeOf, summaryMessage, summarySubject, type RunReport } from '../core/summary';

/** SNS's message limit is 256 KiB; keep a margin for attributes. */
const MAX_MESSAGE_BYTES = 240 * 1024;

/** Publishes run summaries to the service's SNS topic. */
export class Notifier {
  constructor(
    private readonly sns: SNSClient,
    readonly topicArn: string | undefined,
  ) {}

  async publishRun(report: RunReport): Promise<string | undefined> {
    if (!this.topicArn) return undefined;
    let message = summaryMessage(report);
    if (Buffer.byteLength(message) > MAX_MESSAGE_BYTES) {
      // Very large fleets: keep every failure and problem; drop the per-table success rows.
      message = summaryMessage({ ...report, results: report.results.filter((r) => r.status === 'failed') });
      message = `(successful and skipped tables omitted: message too large for SNS)\n${message}`;
    }
    if (Buffer.byteLength(message) > MAX_MESSAGE_BYTES) {
      message = `${message.slice(0, MAX_MESSAGE_BYTES - 64)}\n... (truncated)`;
    }
    const out = await this.sns.send(
      new PublishCommand({
        TopicArn: this.topicArn,
        Subject: summarySubject(report),
        Message: message,
        MessageAttributes: {
          policy: { DataType: 'String', StringValue: report.policy },
          outcome: { DataType: 'String', StringValue: outcomeOf(countResults(report)) },
        },
      }),
    );
    return out.MessageId;
  }
}
