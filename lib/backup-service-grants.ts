import { Stack } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type { IConstruct } from 'constructs';
import { LEDGER_INDEX } from '../lambda/env';
import * as perms from './perms';
import { kinesisStreamArn, kmsKeyArn, alarmArn, policyParameterArn, serviceLinkedRoleArn, tableArn } from './private/arns';
import type { QueueSenders } from './private/queue-senders';

/** Service name of Application Auto Scaling for DynamoDB (its service-linked role). */
const AUTOSCALING_SERVICE = 'dynamodb.application-autoscaling.amazonaws.com';
const AUTOSCALING_ROLE_NAME = 'AWSServiceRoleForApplicationAutoScaling_DynamoDBTable';

export interface BackupServiceGrantsProps {
  /** The construct in whose stack (account, region, partition) the granted ARNs are. */
  readonly scope: IConstruct;
  /** Ledger of backups (read and written by the planner and worker, read by the coverage report). */
  readonly ledgerTable: dynamodb.ITable;
  /** Notification topic (published to by the planner, worker and digest). */
  readonly topic: sns.ITopic;
  /** Key of the topic (and of the job queue): publishers get kms:Decrypt/GenerateDataKey* on it. */
  readonly encryptionKey: kms.IKey;
  /** SQS FIFO job queue (planner -> worker). */
  readonly jobQueue: sqs.IQueue;
  /** The principals the job queue's policy lets send: every grantee that may send is added. */
  readonly jobQueueSenders: QueueSenders;
  /** Tag key that opts a table in: the tag conditions name it. */
  readonly tagKey: string;
}

/**
 * The permissions of the service: its functions' (planner, worker, digest) and those of the
 * `ddb-backup` CLI (run, status, restore, operator). Every statement is built from the named
 * action lists of `perms.ts`; each method returns the Grant of all the statements it added.
 */
export class BackupServiceGrants {
  private readonly props: BackupServiceGrantsProps;

  constructor(props: BackupServiceGrantsProps) {
    this.props = props;
  }

  /**
   * What the planner does: discover tagged tables and list backups (on `*`), read the policies,
   * send jobs to the job queue (the grantee is added to the queue's allowed senders: give a role
   * or a user), publish run summaries and read and write the ledger. Never creates or deletes a
   * backup.
   */
  public planner(grantee: iam.IGrantable): iam.Grant {
    const { jobQueue, jobQueueSenders, ledgerTable } = this.props;
    // Neither supports resource-level permissions. ListBackups: the prune sweep (and fleet runs)
    // list the account's backups once and hand each job its table's slice.
    const grants = [
      this.allow(grantee, perms.PLANNER_DISCOVERY_ACTIONS, ['*']),
      this.policyRead(grantee),
      // The queue policy names every grantee that may send (and denies every other principal).
      jobQueue.grantSendMessages(grantee),
    ];
    jobQueueSenders.allow(grantee);
    grants.push(this.notify(grantee), ledgerTable.grantReadWriteData(grantee));
    return combine(grants);
  }

  /**
   * What the worker does: create backups, take the settings snapshot used by restores, turn PITR
   * on as the policy asks (tables carrying the opt-in tag only), describe and delete backups,
   * read the policies, publish run summaries and read and write the ledger (the change counter's
   * baseline and the settings snapshot included). No ListBackups: the planner lists; the worker
   * prunes from its job's listing slice, or from the ledger.
   */
  public worker(grantee: iam.IGrantable): iam.Grant {
    const tables = this.tableArn('*');
    return combine([
      this.allow(grantee, [...perms.BACKUP_CREATE_ACTIONS, ...perms.SETTINGS_SNAPSHOT_TABLE_ACTIONS], [tables]),
      // On opted-in tables only: those carrying the tag.
      this.allow(grantee, perms.PITR_UPDATE_ACTIONS, [tables], this.optedIn()),
      this.allow(grantee, perms.SETTINGS_SNAPSHOT_STREAM_ACTIONS, [kinesisStreamArn(this.props.scope)]),
      this.allow(grantee, perms.SETTINGS_SNAPSHOT_INDEX_ACTIONS, [this.tableArn('*/index/*')]),
      this.allow(grantee, perms.SETTINGS_SNAPSHOT_AUTOSCALING_ACTIONS, ['*']),
      this.allow(grantee, perms.BACKUP_PRUNE_ACTIONS, [this.tableArn('*/backup/*')]),
      this.policyRead(grantee),
      this.notify(grantee),
      this.props.ledgerTable.grantReadWriteData(grantee),
      // A job reads its policy's live records and state from the ledger's live index.
      this.allow(grantee, perms.LEDGER_LIVE_INDEX_ACTIONS, [`${this.props.ledgerTable.tableArn}/index/${LEDGER_INDEX.NAME}`]),
    ]);
  }

  /** What the coverage digest does: the coverage report (`status`), then publish it. */
  public digest(grantee: iam.IGrantable): iam.Grant {
    return this.status(grantee).combine(this.notify(grantee));
  }

  /**
   * What the `ddb-backup` CLI needs to run the planner and worker in-process (`ddb-backup run`):
   * everything both functions may do. The grantee may send to the job queue, like the planner:
   * give a role or a user (the queue policy names its senders by ARN).
   */
  public run(grantee: iam.IGrantable): iam.Grant {
    return this.planner(grantee).combine(this.worker(grantee));
  }

  /**
   * What the coverage report reads (`ddb-backup status`, the digest): every table of the account
   * (ListTables, DescribeTable, DescribeContinuousBackups, ListBackups), the opt-in tags, the
   * policies and the ledger. All read-only.
   */
  public status(grantee: iam.IGrantable): iam.Grant {
    return combine([
      // None supports resource-level permissions.
      this.allow(grantee, perms.COVERAGE_LIST_ACTIONS, ['*']),
      this.allow(grantee, perms.COVERAGE_DESCRIBE_ACTIONS, [this.tableArn('*')]),
      this.policyRead(grantee),
      this.props.ledgerTable.grantReadData(grantee),
    ]);
  }

  /**
   * What `ddb-backup restore` needs: restore a backup or a point in time into a NEW table
   * (restore never overwrites or deletes an existing table; that is enforced by the CLI, not by
   * IAM), then re-apply the source's settings to it (tags, TTL, PITR, stream, table class,
   * deletion protection, resource policy, Contributor Insights, Kinesis destinations, auto
   * scaling). The resource policy can only be put on tables without the opt-in tag. Reading the
   * source's settings and backups is part of `run`.
   */
  public restore(grantee: iam.IGrantable): iam.Grant {
    const { scope } = this.props;
    const stack = Stack.of(scope);
    return combine([
      this.allow(
        grantee,
        [...perms.RESTORE_ACTIONS, ...perms.SETTINGS_APPLY_ACTIONS, ...perms.RESTORE_DATA_ACTIONS],
        [this.tableArn('*'), this.tableArn('*/backup/*'), this.tableArn('*/index/*')],
      ),
      // The source's resource policy, re-applied to the restored table. IAM cannot tell a table
      // this restore created from any other, and a restore carries no request tags, so the grant
      // is scoped the other way round: never on a table carrying the opt-in tag. The tables the
      // service protects keep the resource policy their owners gave them, while a restored table
      // gets it (the restore drops the opt-in tag unless --keep-policy-tag; with it, the tag is
      // re-applied first and the resource policy is refused: restore without it, then
      // `restore-settings --only tags --keep-policy-tag`).
      this.allow(grantee, perms.RESOURCE_POLICY_APPLY_ACTIONS, [this.tableArn('*')], { Null: { [this.tagCondition()]: 'true' } }),
      // A restore with --sse KMS --kms-key: DynamoDB describes the key and creates a grant on it
      // with the caller's permissions; only through DynamoDB, on keys of this account.
      this.allow(grantee, perms.RESTORE_KEY_ACTIONS, [kmsKeyArn(scope)], {
        StringEquals: { 'kms:ViaService': `dynamodb.${stack.region}.amazonaws.com` },
      }),
      // Re-enabling a Kinesis streaming destination (streams of this account and region).
      this.allow(grantee, perms.STREAMING_DESTINATION_ACTIONS, [kinesisStreamArn(scope)]),
      // Target tracking policies: Application Auto Scaling names their alarms
      // `TargetTracking-table/<table>...`. Not the account's other alarms (the service's own among them).
      this.allow(grantee, perms.TARGET_TRACKING_ALARM_ACTIONS, [alarmArn(scope, 'TargetTracking-table/*')]),
      // Application Auto Scaling's service-linked role for DynamoDB; that role only.
      this.allow(grantee, perms.SERVICE_LINKED_ROLE_ACTIONS, [serviceLinkedRoleArn(scope, AUTOSCALING_SERVICE, AUTOSCALING_ROLE_NAME)], {
        StringEquals: { 'iam:AWSServiceName': AUTOSCALING_SERVICE },
      }),
      // Neither supports resource-level permissions for DynamoDB targets.
      this.allow(grantee, perms.AUTOSCALING_APPLY_ACTIONS, ['*']),
    ]);
  }

  /**
   * What an operator of the `ddb-backup` CLI needs: run the service in-process (`run`), report
   * coverage (`status`), manage policies and overrides in SSM (`policyWrite`), delete a backup
   * (`backups delete`, part of `run`) and restore backups into new tables (`restore`).
   */
  public operator(grantee: iam.IGrantable): iam.Grant {
    return combine([this.run(grantee), this.status(grantee), this.policyWrite(grantee), this.restore(grantee)]);
  }

  /** Read the named policies and per-table overrides in SSM. */
  public policyRead(grantee: iam.IGrantable): iam.Grant {
    return this.allow(grantee, perms.POLICY_READ_ACTIONS, [policyParameterArn(this.props.scope)]);
  }

  /** Write and delete the named policies and per-table overrides in SSM. */
  public policyWrite(grantee: iam.IGrantable): iam.Grant {
    return this.allow(grantee, perms.POLICY_WRITE_ACTIONS, [policyParameterArn(this.props.scope)]);
  }

  /**
   * Publish to the topic. SNS encrypts with the topic's key on the publisher's behalf:
   * `grantPublish` covers a Topic created with `masterKey`; the key grant also covers a topic
   * passed in as ITopic.
   */
  public notify(grantee: iam.IGrantable): iam.Grant {
    return this.props.topic.grantPublish(grantee).combine(this.props.encryptionKey.grant(grantee, ...perms.TOPIC_KEY_ACTIONS));
  }

  private allow(
    grantee: iam.IGrantable,
    actions: readonly string[],
    resourceArns: string[],
    conditions?: Record<string, Record<string, unknown>>,
  ): iam.Grant {
    return iam.Grant.addToPrincipal({ grantee, actions: [...actions], resourceArns, ...(conditions ? { conditions } : {}) });
  }

  private tableArn(resourceName: string): string {
    return tableArn(this.props.scope, resourceName);
  }

  /** The condition key of the opt-in tag on the resource acted on. */
  private tagCondition(): string {
    return `aws:ResourceTag/${this.props.tagKey}`;
  }

  /** Condition: the table carries the opt-in tag (any value). */
  private optedIn(): Record<string, Record<string, unknown>> {
    return { StringLike: { [this.tagCondition()]: '*' } };
  }
}

function combine(grants: iam.Grant[]): iam.Grant {
  return grants.reduce((all, grant) => all.combine(grant));
}
