import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { DEFAULTS, ENV, STREAM_ENV } from '../lambda/env';
import type { LogRetentionProps, OptInTagProps } from './common-props';
import * as perms from './perms';
import { acknowledgeRule, acknowledgeWildcardAction, acknowledgeWildcardResource } from './private/acknowledge';
import { notifyTopic, queueMessagesAlarm } from './private/alarms';
import { policyParameterArn, tableArn } from './private/arns';
import { handlerFunction } from './private/handler-function';

const STREAM_HANDLER_TIMEOUT = Duration.minutes(1);
const RECONCILER_TIMEOUT = Duration.minutes(5);

export interface ChangeTriggerProps extends OptInTagProps, LogRetentionProps {
  /** SQS FIFO job queue of the service: the stream handler enqueues backup jobs there. */
  readonly jobQueue: sqs.IQueue;
  /** Ledger table (pk/sk): change counters, run headers, prune freezes. */
  readonly ledgerTable: dynamodb.ITable;
  /** Notification topic: delete storms, problems, tables without a stream, failed batches. */
  readonly topic: sns.ITopic;
  /**
   * Key of the job queue, the ledger and the topic; also encrypts the on-failure queue. The
   * functions get kms:Decrypt/GenerateDataKey* on it.
   */
  readonly encryptionKey: kms.IKey;
  /**
   * How often the reconciler brings the event source mappings in step with tags and policies.
   *
   * @default events.Schedule.rate(Duration.minutes(15))
   */
  readonly reconcileSchedule?: events.Schedule;
  /**
   * Dead-letter queue for failed deliveries of the reconcile schedule.
   *
   * @default - none (a failing reconciler raises the reconciler error alarm)
   */
  readonly scheduleDeadLetterQueue?: sqs.IQueue;
}

/**
 * Event-based backups from DynamoDB Streams (issue #5).
 *
 * - The stream handler counts INSERT/MODIFY/REMOVE per table with one atomic ADD per table per
 *   batch in the ledger, and enqueues a `changes` job when a policy's threshold is crossed; on a
 *   delete storm it also freezes pruning and notifies.
 * - The reconciler (scheduled) keeps one event source mapping per opted-in table stream, and
 *   reports tables without a stream (or enables a KEYS_ONLY stream where the policy allows).
 * - Records of batches that fail for good go to an encrypted SQS queue; an alarm watches it.
 */
export class ChangeTrigger extends Construct {
  public readonly streamHandler: nodejs.NodejsFunction;
  public readonly reconciler: nodejs.NodejsFunction;
  /** On-failure destination of every mapping. */
  public readonly failureQueue: sqs.Queue;
  public readonly reconcileRule: events.Rule;
  public readonly failureAlarm: cloudwatch.Alarm;
  public readonly reconcilerErrorAlarm: cloudwatch.Alarm;
  private readonly parameterArn: string;

  constructor(scope: Construct, id: string, props: ChangeTriggerProps) {
    super(scope, id);
    const tagKey = props.tagKey ?? DEFAULTS.TAG_KEY;
    const logRetention = props.logRetention ?? logs.RetentionDays.ONE_MONTH;
    this.parameterArn = policyParameterArn(this);

    this.failureQueue = new sqs.Queue(this, 'StreamFailureQueue', {
      retentionPeriod: Duration.days(14),
      encryption: sqs.QueueEncryption.KMS,
      encryptionMasterKey: props.encryptionKey,
      enforceSSL: true,
    });
    acknowledgeRule(
      this.failureQueue,
      'AwsSolutions-SQS3',
      'This queue is itself the on-failure destination of the stream event source mappings (a dead-letter queue); an alarm watches it.',
    );

    const commonEnv: Record<string, string> = {
      [ENV.LEDGER_TABLE]: props.ledgerTable.tableName,
      [ENV.TOPIC_ARN]: props.topic.topicArn,
      [ENV.TAG_KEY]: tagKey,
      [ENV.POLICY_PREFIX]: DEFAULTS.POLICY_PREFIX,
      [ENV.TABLE_OVERRIDE_PREFIX]: DEFAULTS.TABLE_OVERRIDE_PREFIX,
      POWERTOOLS_SERVICE_NAME: 'ddb-backup',
    };

    const stream = handlerFunction(this, 'StreamHandler', {
      handler: 'stream',
      description: 'DynamoDB backups: counts stream changes per table, enqueues change-triggered backup jobs',
      timeout: STREAM_HANDLER_TIMEOUT,
      logRetention,
      environment: { ...commonEnv, [ENV.JOB_QUEUE_URL]: props.jobQueue.queueUrl },
    });
    this.streamHandler = stream.fn;

    const reconciler = handlerFunction(this, 'StreamReconciler', {
      handler: 'stream-reconciler',
      description: 'DynamoDB backups: keeps stream event source mappings in step with tags and policies',
      timeout: RECONCILER_TIMEOUT,
      logRetention,
      environment: {
        ...commonEnv,
        [STREAM_ENV.FUNCTION_NAME]: this.streamHandler.functionArn,
        [STREAM_ENV.ON_FAILURE_ARN]: this.failureQueue.queueArn,
      },
    });
    this.reconciler = reconciler.fn;

    // ---- stream handler permissions ---------------------------------------------------------------
    const streamArn = this.tableArn('*/stream/*');
    // Read by the event source mapping with the function's role.
    stream.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: [...perms.STREAM_READ_ACTIONS],
        resources: [streamArn],
      }),
    );
    stream.role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: [...perms.STREAM_LIST_ACTIONS], resources: ['*'] }));
    stream.role.addToPrincipalPolicy(
      new iam.PolicyStatement({ actions: [...perms.TABLE_TAGS_READ_ACTIONS], resources: [this.tableArn('*')] }),
    );
    // The mapping's on-failure destination is written with the function's role.
    this.failureQueue.grantSendMessages(stream.role);
    // The stream handler enqueues change-triggered jobs: the service's job queue names this role
    // among the principals its policy lets send (DynamoDbBackupService).
    props.jobQueue.grantSendMessages(stream.role);
    props.ledgerTable.grantReadWriteData(stream.role);
    this.grantCommon(stream.role, props);

    // ---- reconciler permissions -------------------------------------------------------------------
    reconciler.role.addToPrincipalPolicy(
      // GetResources and ListEventSourceMappings do not support resource-level permissions.
      new iam.PolicyStatement({ actions: [...perms.MAPPING_DISCOVERY_ACTIONS], resources: ['*'] }),
    );
    reconciler.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        // Event source mapping management is scoped by the function it targets.
        actions: [...perms.MAPPING_MANAGE_ACTIONS],
        resources: ['*'],
        conditions: { StringEquals: { 'lambda:FunctionArn': this.streamHandler.functionArn } },
      }),
    );
    // DescribeTable: LatestStreamArn.
    reconciler.role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: [...perms.TABLE_DESCRIBE_ACTIONS], resources: [this.tableArn('*')] }));
    reconciler.role.addToPrincipalPolicy(
      // UpdateTable: only to enable a KEYS_ONLY stream where a policy says `enableStream: true`
      // (IAM has no condition key for StreamSpecification), so only on opted-in tables: those
      // carrying the tag (any value).
      new iam.PolicyStatement({
        actions: [...perms.STREAM_ENABLE_ACTIONS],
        resources: [this.tableArn('*')],
        conditions: { StringLike: { [`aws:ResourceTag/${tagKey}`]: '*' } },
      }),
    );
    // CreateEventSourceMapping checks that the caller may read the stream.
    reconciler.role.addToPrincipalPolicy(
      new iam.PolicyStatement({ actions: [...perms.MAPPING_STREAM_CHECK_ACTIONS], resources: [streamArn] }),
    );
    props.ledgerTable.grantReadWriteData(reconciler.role);
    this.grantCommon(reconciler.role, props);

    // ---- schedule, alarms --------------------------------------------------------------------------
    this.reconcileRule = new events.Rule(this, 'ReconcileSchedule', {
      description: 'DynamoDB backups: reconcile the stream event source mappings',
      schedule: props.reconcileSchedule ?? events.Schedule.rate(Duration.minutes(15)),
      targets: [
        new targets.LambdaFunction(this.reconciler, {
          retryAttempts: 2,
          maxEventAge: Duration.hours(1),
          ...(props.scheduleDeadLetterQueue ? { deadLetterQueue: props.scheduleDeadLetterQueue } : {}),
        }),
      ],
    });

    this.failureAlarm = queueMessagesAlarm(
      this,
      'StreamFailureAlarm',
      this.failureQueue,
      'Stream batches failed for good (change counts lost); their records are in the on-failure queue',
      props.topic,
    );
    this.reconcilerErrorAlarm = new cloudwatch.Alarm(this, 'ReconcilerErrorAlarm', {
      alarmDescription: 'The stream mapping reconciler failed (mappings may be out of step with the tags)',
      metric: this.reconciler.metricErrors({ period: Duration.minutes(15), statistic: cloudwatch.Stats.SUM }),
      threshold: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 2,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    notifyTopic(this.reconcilerErrorAlarm, props.topic);

    this.acknowledge(stream.role, reconciler.role, streamArn);
  }

  private grantCommon(role: iam.IRole, props: ChangeTriggerProps): void {
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: [...perms.POLICY_READ_ACTIONS],
        resources: [this.parameterArn],
      }),
    );
    props.topic.grantPublish(role);
    props.encryptionKey.grant(role, ...perms.TOPIC_KEY_ACTIONS);
  }

  private acknowledge(streamRole: iam.IRole, reconcilerRole: iam.IRole, streamArn: string): void {
    const ssm =
      'Reads the named policies and per-table overrides under /dynamodb-backup/, which operators add at run time; GetParametersByPath needs the path itself.';
    for (const role of [streamRole, reconcilerRole]) {
      acknowledgeWildcardResource(role, this.parameterArn, ssm);
      for (const a of perms.KEY_DATA_KEY_WILDCARD_ACTIONS) {
        acknowledgeWildcardAction(role, a, 'KMS data-key actions for the single service key that encrypts the ledger, the queues and the topic.');
      }
    }
    acknowledgeWildcardResource(
      streamRole,
      streamArn,
      'The event source mappings read the streams of tables opted in by tag at run time; stream ARNs carry a creation timestamp, so they cannot be listed at deploy time.',
    );
    acknowledgeWildcardResource(
      streamRole,
      '*',
      'dynamodb:ListStreams does not support resource-level permissions; the event source mapping uses it with the function role.',
    );
    acknowledgeWildcardResource(
      streamRole,
      this.tableArn('*'),
      'ListTagsOfResource on the tables whose streams feed the handler (opted in by tag at run time) to resolve their policies.',
    );
    acknowledgeWildcardResource(
      reconcilerRole,
      '*',
      'tag:GetResources and lambda:ListEventSourceMappings do not support resource-level permissions; mapping changes are limited by a lambda:FunctionArn condition to the stream handler.',
    );
    acknowledgeWildcardResource(
      reconcilerRole,
      this.tableArn('*'),
      'DescribeTable (LatestStreamArn) and UpdateTable (enable a KEYS_ONLY stream when a policy allows it) on tables opted in by tag at run time; UpdateTable is limited by an aws:ResourceTag condition to tables carrying the opt-in tag.',
    );
    acknowledgeWildcardResource(
      reconcilerRole,
      streamArn,
      'CreateEventSourceMapping checks read access to the table streams, which are discovered at run time.',
    );
  }

  private tableArn(resourceName: string): string {
    return tableArn(this, resourceName);
  }
}
