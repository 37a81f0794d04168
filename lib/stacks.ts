import { CfnOutput, Stack } from 'aws-cdk-lib';
import type { StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { ENV } from '../lambda/env';
import { BackupState } from './backup-state';
import type { BackupStateProps } from './backup-state';
import { DynamoDbBackupService } from './dynamodb-backup-service';
import type { DynamoDbBackupServiceProps } from './dynamodb-backup-service';

export interface BackupStateStackProps extends StackProps, BackupStateProps {}

/**
 * Stateful resources (key, ledger, topic). Termination protection is on by default: deleting this
 * stack must be a deliberate act.
 */
export class BackupStateStack extends Stack {
  public readonly state: BackupState;

  constructor(scope: Construct, id: string, props: BackupStateStackProps = {}) {
    super(scope, id, { ...props, terminationProtection: props.terminationProtection ?? true });
    this.state = new BackupState(this, 'State', props);

    // For operators: point the ddb-backup CLI at this deployment (no exports: nothing imports them).
    new CfnOutput(this, 'LedgerTableName', {
      description: `Ledger table of the DynamoDB backup service: ${ENV.LEDGER_TABLE} (or --ledger-table) for the ddb-backup CLI`,
      value: this.state.ledgerTable.tableName,
    });
    new CfnOutput(this, 'TopicArn', {
      description: `Notification topic of the DynamoDB backup service: ${ENV.TOPIC_ARN} (or --topic-arn) for the ddb-backup CLI`,
      value: this.state.topic.topicArn,
    });
  }
}

/**
 * The props of DynamoDbBackupService that the service stack passes on as given: all but the
 * state's, which come from `state`.
 */
export type BackupServiceOptions = Omit<DynamoDbBackupServiceProps, keyof BackupStateProps | 'ledgerTable' | 'topic'>;

export interface BackupServiceStackProps extends StackProps, BackupServiceOptions {
  /** The state (ledger, topic, key) the service writes to, usually `BackupStateStack.state`. */
  readonly state: BackupState;
}

/**
 * The stateless service: functions (planner, worker, size probe, stream handler and reconciler,
 * coverage digest), queues, schedules, prune sweeps, trigger rules, policies and alarms.
 */
export class BackupServiceStack extends Stack {
  public readonly service: DynamoDbBackupService;

  constructor(scope: Construct, id: string, props: BackupServiceStackProps) {
    super(scope, id, props);
    // The stack's own props (env, description, ...) are not the construct's: it ignores them.
    const { state, ...options } = props;
    this.service = new DynamoDbBackupService(this, 'Service', {
      ...options,
      ledgerTable: state.ledgerTable,
      topic: state.topic,
      encryptionKey: state.key,
    });

    // For operators: inspect the queues of this deployment (aws sqs ... --queue-url).
    new CfnOutput(this, 'JobQueueUrl', {
      description: `Backup job queue (SQS FIFO, planner -> worker; ${ENV.JOB_QUEUE_URL} of the planner)`,
      value: this.service.jobQueue.queueUrl,
    });
    new CfnOutput(this, 'JobDeadLetterQueueUrl', {
      description: 'Dead-letter queue of backup and prune jobs that failed on every attempt (inspect, then redrive or purge)',
      value: this.service.deadLetterQueue.queueUrl,
    });
    new CfnOutput(this, 'TriggerDeadLetterQueueUrl', {
      description: 'Dead-letter queue of failed trigger deliveries (schedule and prune-sweep rules) and failed planner runs',
      value: this.service.triggerDeadLetterQueue.queueUrl,
    });
    if (this.service.changeTrigger) {
      new CfnOutput(this, 'StreamFailureQueueUrl', {
        description: 'Records of DynamoDB stream batches that failed for good (change counts lost)',
        value: this.service.changeTrigger.failureQueue.queueUrl,
      });
    }
  }
}
