import { PublishCommand, type SNSClient } from '@aws-sdk/client-sns';
import { countResults, outcomeOf, summaryMessage, summarySubject, type RunReport } from '../core/backup/summary';

/** SNS's message limit is 256 KiB; keep a margin for attributes. */
const MAX_MESSAGE_BYTES = 240 * 1024;

/**
 * The summary, within SNS's limit (in bytes): when too large, results are left out (failures
 * last) while counts, outcome and the JSON block stay whole and parseable.
 */
export function fitMessage(report: RunReport, maxBytes = MAX_MESSAGE_BYTES): string {
  let message = summaryMessage(report);
  let keep = report.results.length;
  while (Buffer.byteLength(message) > maxBytes && keep > 0) {
    keep = Math.floor(keep / 2);
    message = summaryMessage(report, { maxResults: keep });
  }
  return message;
}

/** Publishes run summaries to the service's SNS topic. */
export class Notifier {
  constructor(
    private readonly sns: SNSClient,
    readonly topicArn: string | undefined,
  ) {}

  async publishRun(report: RunReport): Promise<string | undefined> {
    if (!this.topicArn) return undefined;
    const message = fitMessage(report);
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
