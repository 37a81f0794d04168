import { Duration } from 'aws-cdk-lib';
import type * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import { queueMessagesAlarm } from '../private/alarms';
import { QueueSenders } from '../private/queue-senders';

/** AWS guidance for SQS event sources: visibility timeout at least 6x the function timeout. */
export const VISIBILITY_TIMEOUT_FACTOR = 6;

export interface JobQueuesOptions {
  /**
   * Receives of a job before it moves to the dead-letter queue (1-1000).
   *
   * @default 3 (DEFAULTS.MAX_RECEIVE_COUNT)
   */
  readonly maxReceiveCount?: number;
}

export interface JobQueuesProps extends Required<JobQueuesOptions> {
  /** Encrypts the job queue and its dead-letter queue. */
  readonly encryptionKey: kms.IKey;
  /** Timeout of the worker, the job queue's consumer (the visibility timeout is 6x this). */
  readonly workerTimeout: Duration;
  /** Timeout of the planner, the plan queue's consumer (the visibility timeout is 6x this). */
  readonly plannerTimeout: Duration;
  /** Where the alarms on both dead-letter queues go (ALARM and OK). */
  readonly topic: sns.ITopic;
}

/**
 * The queues of DynamoDbBackupService: the SQS FIFO job queue (planner -> worker, group = table,
 * dedupe = slot) with its FIFO dead-letter queue and the policy that lets only the named senders
 * send; the standard dead-letter queue of trigger deliveries (EventBridge, async planner runs);
 * one alarm on each dead-letter queue.
 *
 * Built in the service's scope, not as a child construct: the construct paths, and with them the
 * logical IDs of the deployed queues, stay as they are (a new logical ID replaces the queue).
 */
export class JobQueues {
  /** SQS FIFO queue of backup jobs (planner -> worker). */
  public readonly jobQueue: sqs.Queue;
  /** FIFO DLQ of the job queue. */
  public readonly deadLetterQueue: sqs.Queue;
  /** Standard DLQ for trigger deliveries: failed EventBridge deliveries and failed async planner runs. */
  public readonly triggerDeadLetterQueue: sqs.Queue;
  /** Who may send to the job queue: its policy denies sqs:SendMessage to every other principal. */
  public readonly senders: QueueSenders;
  /**
   * SQS standard queue of the planner's fan-out (planner -> planner): the next tag page of a
   * run. Its dead-letter queue is the trigger DLQ.
   */
  public readonly planQueue: sqs.Queue;
  /** Alarms as soon as a job reaches the job DLQ. */
  public readonly deadLetterAlarm: cloudwatch.Alarm;
  /** Alarms as soon as a trigger delivery or planner run reaches the trigger DLQ. */
  public readonly triggerDeadLetterAlarm: cloudwatch.Alarm;

  constructor(scope: Construct, props: JobQueuesProps) {
    this.deadLetterQueue = new sqs.Queue(scope, 'JobDeadLetterQueue', {
      fifo: true,
      retentionPeriod: Duration.days(14),
      encryption: sqs.QueueEncryption.KMS,
      encryptionMasterKey: props.encryptionKey,
      enforceSSL: true,
    });
    this.jobQueue = new sqs.Queue(scope, 'JobQueue', {
      fifo: true,
      contentBasedDeduplication: false,
      // High-throughput FIFO: deduplication and ordering per message group (= per table).
      deduplicationScope: sqs.DeduplicationScope.MESSAGE_GROUP,
      fifoThroughputLimit: sqs.FifoThroughputLimit.PER_MESSAGE_GROUP_ID,
      visibilityTimeout: Duration.seconds(props.workerTimeout.toSeconds() * VISIBILITY_TIMEOUT_FACTOR),
      retentionPeriod: Duration.days(4),
      encryption: sqs.QueueEncryption.KMS,
      encryptionMasterKey: props.encryptionKey,
      enforceSSL: true,
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount: props.maxReceiveCount },
    });
    // Only the roles that enqueue jobs may send (every other principal is denied, whatever its
    // identity policy allows): the planner's role, the grantees of grantRun/grantOperator and the
    // stream handler's role of the change trigger, each added by the service.
    this.senders = new QueueSenders(scope, this.jobQueue);
    // EventBridge and Lambda async invocations write here; SQS-managed encryption needs no key
    // policy for either service.
    this.triggerDeadLetterQueue = new sqs.Queue(scope, 'TriggerDeadLetterQueue', {
      retentionPeriod: Duration.days(14),
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
    });

    this.planQueue = new sqs.Queue(scope, 'PlanQueue', {
      visibilityTimeout: Duration.seconds(props.plannerTimeout.toSeconds() * VISIBILITY_TIMEOUT_FACTOR),
      retentionPeriod: Duration.days(1),
      encryption: sqs.QueueEncryption.KMS,
      encryptionMasterKey: props.encryptionKey,
      enforceSSL: true,
      deadLetterQueue: { queue: this.triggerDeadLetterQueue, maxReceiveCount: props.maxReceiveCount },
    });

    this.deadLetterAlarm = queueMessagesAlarm(
      scope,
      'JobDeadLetterAlarm',
      this.deadLetterQueue,
      'Backup jobs failed and reached the dead-letter queue',
      props.topic,
    );
    this.triggerDeadLetterAlarm = queueMessagesAlarm(
      scope,
      'TriggerDeadLetterAlarm',
      this.triggerDeadLetterQueue,
      'Backup triggers failed (schedule or prune-sweep delivery, or planner run) and reached the dead-letter queue',
      props.topic,
    );
  }
}
