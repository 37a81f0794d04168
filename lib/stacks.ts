import { Stack } from 'aws-cdk-lib';
import type { StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
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
    this.state = new BackupState(this, 'State', {
      encryptionKey: props.encryptionKey,
      ledgerRemovalPolicy: props.ledgerRemovalPolicy,
      notificationEmails: props.notificationEmails,
    });
  }
}

export interface BackupServiceStackProps
  extends StackProps,
    Pick<
      DynamoDbBackupServiceProps,
      'policies' | 'includeDefaultPolicies' | 'tagKey' | 'logRetention' | 'maxReceiveCount'
    > {
  /** The state (ledger, topic, key) the service writes to, usually `BackupStateStack.state`. */
  readonly state: BackupState;
}

/** The stateless service: functions, queues, schedules, policies and alarms. */
export class BackupServiceStack extends Stack {
  public readonly service: DynamoDbBackupService;

  constructor(scope: Construct, id: string, props: BackupServiceStackProps) {
    super(scope, id, props);
    this.service = new DynamoDbBackupService(this, 'Service', {
      policies: props.policies,
      includeDefaultPolicies: props.includeDefaultPolicies,
      tagKey: props.tagKey,
      logRetention: props.logRetention,
      maxReceiveCount: props.maxReceiveCount,
      ledgerTable: props.state.ledgerTable,
      topic: props.state.topic,
      encryptionKey: props.state.key,
    });
  }
}
