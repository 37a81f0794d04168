import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import { Construct } from 'constructs';
import { LEDGER_INDEX } from '../lambda/env';
import * as perms from './perms';
import { alarmArn } from './private/arns';

/** Attribute names of the ledger table. The Lambda side owns the item layout; these are the keys only. */
export const LEDGER_KEYS = {
  PARTITION_KEY: 'pk',
  SORT_KEY: 'sk',
  TTL_ATTRIBUTE: 'expiresAt',
} as const;

export interface BackupStateProps {
  /**
   * KMS key that encrypts the ledger table and the SNS topic (and, in DynamoDbBackupService, the job
   * queues). An imported key's policy cannot be changed by CDK: it must already allow
   * `cloudwatch.amazonaws.com` (for the alarms of this account) and `events.amazonaws.com` to call
   * `kms:Decrypt` and `kms:GenerateDataKey*`, or alarm notifications will not be delivered.
   *
   * In DynamoDbBackupService given a `ledgerTable` and a `topic`, it encrypts the job queue and its
   * DLQ, and it must be the topic's key when the topic is encrypted (the functions get
   * kms:Decrypt/GenerateDataKey* on it to publish).
   *
   * @default - a new customer managed key with rotation enabled (also in DynamoDbBackupService,
   * where the key of the state it creates encrypts the job queues too)
   */
  readonly encryptionKey?: kms.IKey;

  /**
   * What happens to the ledger table when it leaves the stack. With RETAIN (or SNAPSHOT) the table
   * also gets deletion protection. In DynamoDbBackupService, used only when it creates its own
   * ledger (no `ledgerTable`).
   *
   * @default RemovalPolicy.RETAIN
   */
  readonly ledgerRemovalPolicy?: RemovalPolicy;

  /**
   * Email addresses subscribed to the notification topic (each must confirm the subscription).
   * In DynamoDbBackupService, used only when it creates its own topic (no `topic`).
   *
   * @default - no subscriptions
   */
  readonly notificationEmails?: string[];
}

/**
 * The service's stateful resources: the KMS key, the ledger table and the notification topic.
 * Keep them in a stack of their own (see BackupStateStack) so that the stateless service can be
 * redeployed or torn down freely.
 */
export class BackupState extends Construct {
  /** Key encrypting the ledger, the topic and the queues. */
  public readonly key: kms.IKey;
  /** Ledger of every backup the service took (pk/sk, TTL `expiresAt`, PITR on). */
  public readonly ledgerTable: dynamodb.Table;
  /** Topic for failures and run digests. */
  public readonly topic: sns.Topic;

  constructor(scope: Construct, id: string, props: BackupStateProps = {}) {
    super(scope, id);

    this.key =
      props.encryptionKey ??
      new kms.Key(this, 'Key', {
        description: 'DynamoDB backup service: ledger, notifications and job queues',
        enableKeyRotation: true,
        removalPolicy: RemovalPolicy.RETAIN,
        pendingWindow: Duration.days(30),
      });

    // The alarms of this account (the service's: DLQs, reconciler errors, notification failures)
    // publish to the topic as cloudwatch.amazonaws.com. Scoped to alarms of this account and
    // region: the confused-deputy keys CloudWatch sets on its calls.
    const stack = Stack.of(this);
    const fromAlarmsOfThisAccount = {
      StringEquals: { 'aws:SourceAccount': stack.account },
      ArnLike: {
        'aws:SourceArn': alarmArn(this, '*'),
      },
    };

    // SNS encrypts with this key on the publisher's behalf, so CloudWatch (alarm actions) and
    // EventBridge (rules targeting the topic) need Decrypt and GenerateDataKey* in the key policy.
    // No-op (by design) for an imported key: see `encryptionKey`.
    this.key.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'AllowAlarmsToPublishToEncryptedTopic',
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: [...perms.TOPIC_KEY_ACTIONS],
        resources: ['*'],
        conditions: fromAlarmsOfThisAccount,
      }),
      true,
    );
    this.key.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'AllowEventsToPublishToEncryptedTopic',
        principals: [new iam.ServicePrincipal('events.amazonaws.com')],
        actions: [...perms.TOPIC_KEY_ACTIONS],
        resources: ['*'],
      }),
      true,
    );

    const removalPolicy = props.ledgerRemovalPolicy ?? RemovalPolicy.RETAIN;
    this.ledgerTable = new dynamodb.Table(this, 'Ledger', {
      partitionKey: { name: LEDGER_KEYS.PARTITION_KEY, type: dynamodb.AttributeType.STRING },
      sortKey: { name: LEDGER_KEYS.SORT_KEY, type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      timeToLiveAttribute: LEDGER_KEYS.TTL_ATTRIBUTE,
      encryption: dynamodb.TableEncryption.CUSTOMER_MANAGED,
      encryptionKey: this.key,
      deletionProtection: removalPolicy !== RemovalPolicy.DESTROY,
      removalPolicy,
    });
    // The live index (lambda/aws/ledger.ts): a job reads its policy's live records and state in
    // one query bounded by retention, not the table's history. Declared on the CloudFormation
    // resource, not with addGlobalSecondaryIndex: the table's grants then stay on the table
    // alone, and the one role that queries the index (the worker's) is granted that index by
    // name (BackupServiceGrants), never `index/*`.
    const cfnLedger = this.ledgerTable.node.defaultChild as dynamodb.CfnTable;
    cfnLedger.addPropertyOverride('AttributeDefinitions.2', { AttributeName: LEDGER_INDEX.PARTITION_KEY, AttributeType: 'S' });
    cfnLedger.addPropertyOverride('GlobalSecondaryIndexes', [
      {
        IndexName: LEDGER_INDEX.NAME,
        KeySchema: [
          { AttributeName: LEDGER_INDEX.PARTITION_KEY, KeyType: 'HASH' },
          { AttributeName: LEDGER_KEYS.SORT_KEY, KeyType: 'RANGE' },
        ],
        Projection: { ProjectionType: 'ALL' },
      },
    ]);

    this.topic = new sns.Topic(this, 'Topic', {
      displayName: 'DynamoDB backups',
      masterKey: this.key,
      enforceSSL: true,
    });
    // The topic policy (created for enforceSSL) replaces SNS's default policy, which let the
    // account publish: without this statement no alarm could reach the topic.
    this.topic.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'AllowAlarmsToPublish',
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: [...perms.TOPIC_PUBLISH_ACTIONS],
        resources: [this.topic.topicArn],
        conditions: fromAlarmsOfThisAccount,
      }),
    );
    for (const email of new Set(props.notificationEmails ?? [])) {
      this.topic.addSubscription(new subscriptions.EmailSubscription(email));
    }
  }
}
