import { Annotations, Lazy } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type { IConstruct } from 'constructs';
import { JOB_SEND_ACTIONS } from '../perms';

/** Sid of the queue policy statement that refuses messages from every other principal. */
export const ONLY_ALLOWED_SENDERS_SID = 'OnlyAllowedSendersMaySendMessages';

/**
 * The principals allowed to send to `queue`: the queue's policy denies `sqs:SendMessage` (which
 * also authorises SendMessageBatch) to every principal whose `aws:PrincipalArn` is not listed,
 * whatever its identity policy says. The list is read at synth time, so principals may be added
 * after construction.
 *
 * Only SendMessage is denied: CloudFormation (Create/SetQueueAttributes, TagQueue, DeleteQueue,
 * the queue policy itself) and the consumers (ReceiveMessage, DeleteMessage,
 * ChangeMessageVisibility) are not affected, and neither is the move of failed messages to the
 * dead-letter queue, which SQS does itself.
 */
export class QueueSenders {
  private readonly arns: string[] = [];

  constructor(
    private readonly scope: IConstruct,
    queue: sqs.Queue,
  ) {
    queue.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: ONLY_ALLOWED_SENDERS_SID,
        effect: iam.Effect.DENY,
        principals: [new iam.AnyPrincipal()],
        actions: [...JOB_SEND_ACTIONS],
        resources: [queue.queueArn],
        // A negated operator also matches a request without the key (anonymous or service
        // principals): those are denied too.
        conditions: {
          ArnNotEquals: { 'aws:PrincipalArn': Lazy.list({ produce: () => [...this.arns] }) },
        },
      }),
    );
  }

  /**
   * Lets `grantee` send: a role (its sessions carry the role ARN as `aws:PrincipalArn`) or a
   * user. Any other principal (a group, an account) cannot be named in `aws:PrincipalArn`; it
   * gets a synth warning, and its sends stay denied.
   */
  public allow(grantee: iam.IGrantable): void {
    const arn = principalArn(grantee.grantPrincipal);
    if (arn === undefined) {
      Annotations.of(this.scope).addWarningV2(
        'ddb-backup:job-queue-sender',
        `${describe(grantee)} is neither a role nor a user: the job queue's policy lets only the roles and users it names send messages, so its sqs:SendMessage is denied. Grant a role instead.`,
      );
      return;
    }
    if (!this.arns.includes(arn)) this.arns.push(arn);
  }
}

function principalArn(principal: iam.IPrincipal): string | undefined {
  const p = principal as Partial<iam.IRole & iam.IUser>;
  return p.roleArn ?? p.userArn;
}

function describe(grantee: iam.IGrantable): string {
  const node = (grantee as Partial<IConstruct>).node;
  return node ? node.path : String(grantee.grantPrincipal);
}
