import { PublishCommand, type SNSClient } from '@aws-sdk/client-sns';
import { stormMessage, stormSubject, type ChangeNotifier, type StormAlert } from '../core/triggers/stream-trigger';

const MAX_SUBJECT = 100;

function subject(s: string): string {
  // SNS subjects: printable ASCII, no newlines, at most 100 characters.
  const ascii = s.replace(/[^\x20-\x7e]/g, '?');
  return ascii.length <= MAX_SUBJECT ? ascii : `${ascii.slice(0, MAX_SUBJECT - 3)}...`;
}

/** Delete storm alerts and change trigger problems on the service's SNS topic. */
export class ChangeTopicNotifier implements ChangeNotifier {
  constructor(
    private readonly sns: SNSClient,
    readonly topicArn: string | undefined,
  ) {}

  async publishStorm(alert: StormAlert): Promise<string | undefined> {
    return this.publish(stormSubject(alert), stormMessage(alert), 'delete-storm', alert.table);
  }

  async publishProblem(table: string, message: string): Promise<string | undefined> {
    return this.publish(
      `[ddb-backup] CHANGE TRIGGER PROBLEM: ${table}`,
      `The change trigger of DynamoDB table ${table} hit a problem after counting a stream batch:\n\n${message}\n\nThe counters are kept; the next batch of the table tries again.`,
      'change-trigger-problem',
      table,
    );
  }

  /** A plain message (the stream reconciler's report). */
  async publish(subj: string, message: string, kind: string, table?: string): Promise<string | undefined> {
    if (!this.topicArn) return undefined;
    const out = await this.sns.send(
      new PublishCommand({
        TopicArn: this.topicArn,
        Subject: subject(subj),
        Message: message,
        MessageAttributes: {
          kind: { DataType: 'String', StringValue: kind },
          ...(table ? { table: { DataType: 'String', StringValue: table } } : {}),
        },
      }),
    );
    return out.MessageId;
  }
}
