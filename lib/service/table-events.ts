import { Duration } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import { AUTOSCALING_SETTINGS_EVENTS, DELETE_BACKUP_EVENT, DYNAMODB_SETTINGS_EVENTS } from '../../lambda/core/events/table-events';
import { FEED_DEFAULTS, FEED_ENV } from '../../lambda/env';
import type { LogRetentionProps } from '../common-props';
import * as perms from '../perms';
import { acknowledgeWildcardAction, acknowledgeWildcardResource } from '../private/acknowledge';
import { kinesisStreamArn, tableArn } from '../private/arns';
import { handlerFunction } from '../private/handler-function';
import { serviceEnvironment, type ServiceEnvironmentProps } from './backup-functions';

/** The table-events function reads the ledger and takes one settings snapshot per event. */
const TABLE_EVENTS_TIMEOUT = Duration.minutes(1);

export interface TableEventsOptions {
  /**
   * Whether to keep the ledger current from CloudTrail management events (EventBridge rules to a
   * table-events function): a DeleteBackup made outside the service marks the ledger's record
   * VANISHED, and a settings change (UpdateTable, TagResource, UpdateTimeToLive, auto scaling, …)
   * takes a fresh settings snapshot at once. While those events arrive, the worker's prune needs
   * no confirming ListBackups and its settings upkeep is a slow refresh. Needs a CloudTrail trail
   * that logs management events in the account; without one, the worker lists and refreshes
   * daily, as with this off.
   *
   * @default true
   */
  readonly tableEvents?: boolean;

  /**
   * Days between safety refreshes of each table's settings snapshot and PITR check while the
   * CloudTrail feed is alive (each table on its own day of the cycle). Whole days, 1-365.
   *
   * @default 30 (FEED_DEFAULTS.SETTINGS_REFRESH_DAYS)
   */
  readonly settingsRefreshDays?: number;
}

export interface TableEventsProps extends Required<LogRetentionProps>, Omit<ServiceEnvironmentProps, 'maxReceiveCount'> {
  /** The worker: it learns the refresh period; it reads the feed's heartbeat from the ledger. */
  readonly worker: lambda.Function;
  /** Dead-letter queue of failed deliveries and failed asynchronous runs (the trigger DLQ). */
  readonly deadLetterQueue: sqs.IQueue;
  /** @default 30 (FEED_DEFAULTS.SETTINGS_REFRESH_DAYS) */
  readonly settingsRefreshDays?: number;
}

/**
 * The CloudTrail feed of DynamoDbBackupService: the `TableEvents` function and its two rules,
 * `TableEventsDynamoDb` (DeleteBackup and the DynamoDB settings calls) and
 * `TableEventsAutoScaling` (Application Auto Scaling calls on DynamoDB resources), each
 * delivering successful calls only, with 2 retries within 2 hours, then to the dead-letter queue.
 *
 * Built in the service's scope, like the service's other parts.
 */
export class TableEvents {
  public readonly fn: nodejs.NodejsFunction;
  public readonly logGroup: logs.ILogGroup;
  public readonly dynamoDbRule: events.Rule;
  public readonly autoScalingRule: events.Rule;

  constructor(scope: Construct, props: TableEventsProps) {
    const days = props.settingsRefreshDays ?? FEED_DEFAULTS.SETTINGS_REFRESH_DAYS;
    if (!Number.isInteger(days) || days < 1 || days > 365) {
      scope.node.addValidation({ validate: () => [`settingsRefreshDays: must be an integer from 1 to 365, got ${days}`] });
    }
    const f = handlerFunction(scope, 'TableEvents', {
      handler: 'table-events',
      description: 'DynamoDB backups: keeps the ledger current from CloudTrail events (backups deleted by hand, settings changes)',
      timeout: TABLE_EVENTS_TIMEOUT,
      logRetention: props.logRetention,
      environment: serviceEnvironment({ ledgerTable: props.ledgerTable, topic: props.topic, tagKey: props.tagKey }),
      deadLetterQueue: props.deadLetterQueue,
    });
    this.fn = f.fn;
    this.logGroup = f.logGroup;
    grantTableEvents(scope, f.role, props);
    props.worker.addEnvironment(FEED_ENV.SETTINGS_REFRESH_DAYS, String(days));

    const target = new targets.LambdaFunction(this.fn, { retryAttempts: 2, maxEventAge: Duration.hours(2), deadLetterQueue: props.deadLetterQueue });
    // Successful calls only: a failed call changed nothing.
    const succeeded = { errorCode: events.Match.doesNotExist() };
    this.dynamoDbRule = new events.Rule(scope, 'TableEventsDynamoDb', {
      description: 'DynamoDB backups: CloudTrail DeleteBackup and table settings changes, to the ledger',
      eventPattern: {
        source: ['aws.dynamodb'],
        detailType: ['AWS API Call via CloudTrail'],
        detail: { eventSource: ['dynamodb.amazonaws.com'], eventName: [DELETE_BACKUP_EVENT, ...DYNAMODB_SETTINGS_EVENTS], ...succeeded },
      },
      targets: [target],
    });
    this.autoScalingRule = new events.Rule(scope, 'TableEventsAutoScaling', {
      description: 'DynamoDB backups: CloudTrail auto scaling changes of DynamoDB tables, to the ledger',
      eventPattern: {
        source: ['aws.application-autoscaling'],
        detailType: ['AWS API Call via CloudTrail'],
        detail: {
          eventSource: ['application-autoscaling.amazonaws.com'],
          eventName: [...AUTOSCALING_SETTINGS_EVENTS],
          requestParameters: { serviceNamespace: ['dynamodb'] },
          ...succeeded,
        },
      },
      targets: [target],
    });
  }
}

/** Read and write the ledger; the read-only calls of the settings snapshot, as the worker's. */
function grantTableEvents(scope: Construct, role: iam.IRole, props: TableEventsProps): void {
  const allow = (actions: readonly string[], resources: string[]) =>
    iam.Grant.addToPrincipal({ grantee: role, actions: [...actions], resourceArns: resources });
  props.ledgerTable.grantReadWriteData(role);
  allow([...perms.TABLE_DESCRIBE_ACTIONS, ...perms.SETTINGS_SNAPSHOT_TABLE_ACTIONS], [tableArn(scope, '*')]);
  allow(perms.SETTINGS_SNAPSHOT_INDEX_ACTIONS, [tableArn(scope, '*/index/*')]);
  allow(perms.SETTINGS_SNAPSHOT_STREAM_ACTIONS, [kinesisStreamArn(scope)]);
  allow(perms.SETTINGS_SNAPSHOT_AUTOSCALING_ACTIONS, ['*']);
  acknowledgeWildcardResource(
    role,
    tableArn(role, '*'),
    'DescribeTable and the read-only Describe*/ListTagsOfResource/GetResourcePolicy calls of the settings snapshot, on the table a CloudTrail event names (known at run time only). Tables of this account and region.',
  );
  acknowledgeWildcardResource(role, tableArn(role, '*/index/*'), 'DescribeContributorInsights (read-only) on the indexes of the table an event names, for the settings snapshot.');
  acknowledgeWildcardResource(
    role,
    kinesisStreamArn(role),
    'kinesis:DescribeStream and DescribeStreamSummary (read-only) on the Kinesis streaming destinations DynamoDB describes with the caller\'s permissions, for the settings snapshot.',
  );
  acknowledgeWildcardResource(role, '*', 'application-autoscaling:DescribeScalableTargets and DescribeScalingPolicies do not support resource-level permissions; read-only, for the settings snapshot.');
  for (const action of perms.KEY_DATA_KEY_WILDCARD_ACTIONS) {
    acknowledgeWildcardAction(role, action, 'KMS data-key actions granted by CDK for the service key that encrypts the ledger; the resource is that single key.');
  }
}
