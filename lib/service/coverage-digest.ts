import { Duration } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import type * as iam from 'aws-cdk-lib/aws-iam';
import type * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import { DIGEST_ENV } from '../../lambda/env';
import type { BackupServiceGrants } from '../backup-service-grants';
import type { LogRetentionProps } from '../common-props';
import * as perms from '../perms';
import { acknowledgeWildcardAction, acknowledgeWildcardResource } from '../private/acknowledge';
import { policyParameterArn, tableArn } from '../private/arns';
import { handlerFunction } from '../private/handler-function';
import { serviceEnvironment, type ServiceEnvironmentProps } from './backup-functions';

/** Schedule of the coverage digest: daily at 07:00 UTC. */
export const DEFAULT_DIGEST_SCHEDULE = 'cron(0 7 * * ? *)';

/** The digest describes every table of the account (4 at a time); room for large accounts. */
const DIGEST_TIMEOUT = Duration.minutes(10);

/** A table name or a `prefix*` pattern (no comma: the list travels comma-separated). */
export const IGNORE_PATTERN = /^[A-Za-z0-9_.-]{1,255}\*?$/;

export interface CoverageDigestOptions {
  /**
   * Whether to deploy the coverage digest: a function on a daily rule that lists every table of
   * the account and region and publishes one SNS message naming the unprotected, stale, failing,
   * PITR-drifted and misconfigured ones (nothing is sent when every table is fine).
   *
   * @default true
   */
  readonly coverageDigest?: boolean;

  /**
   * EventBridge expression (`cron(...)` or `rate(...)`, UTC) of the coverage digest. Used only
   * with `coverageDigest`. Validated like a policy's `schedule`.
   *
   * @default - 'cron(0 7 * * ? *)' (DEFAULT_DIGEST_SCHEDULE: daily at 07:00 UTC)
   */
  readonly digestSchedule?: string;

  /**
   * Tables left out of the coverage digest: names or `prefix*` patterns. The ledger is always
   * left out. Used only with `coverageDigest`.
   *
   * @default - every table of the account and region except the ledger
   */
  readonly digestIgnoreTables?: string[];
}

export interface CoverageDigestProps
  extends Required<Pick<CoverageDigestOptions, 'digestSchedule'>>,
    Pick<CoverageDigestOptions, 'digestIgnoreTables'>,
    Required<LogRetentionProps>,
    Omit<ServiceEnvironmentProps, 'maxReceiveCount'> {
  /** Dead-letter queue of failed rule deliveries and failed asynchronous runs (the trigger DLQ). */
  readonly deadLetterQueue: sqs.IQueue;
  /** The service's permissions: the digest's role gets the coverage report's and publish. */
  readonly grants: BackupServiceGrants;
}

/**
 * The coverage digest of DynamoDbBackupService: its function (`Digest`), read-only over every
 * table of the account, and the rule that runs it (`DigestSchedule`).
 *
 * Built in the service's scope, not as a child construct: the construct paths, and with them the
 * logical IDs of the deployed function, log group and rule, stay as they are.
 */
export class CoverageDigest {
  public readonly fn: nodejs.NodejsFunction;
  public readonly logGroup: logs.ILogGroup;
  public readonly rule: events.Rule;

  constructor(scope: Construct, props: CoverageDigestProps) {
    // The digest consumes no queue: no MAX_RECEIVE_COUNT.
    const ignore = props.digestIgnoreTables ?? [];
    const digest = handlerFunction(scope, 'Digest', {
      handler: 'digest',
      description: 'DynamoDB backups: daily coverage digest (unprotected, stale, failing and drifted tables) to SNS',
      timeout: DIGEST_TIMEOUT,
      logRetention: props.logRetention,
      environment: {
        ...serviceEnvironment({ ledgerTable: props.ledgerTable, topic: props.topic, tagKey: props.tagKey }),
        ...(ignore.length > 0 ? { [DIGEST_ENV.IGNORE_TABLES]: ignore.join(',') } : {}),
      },
      deadLetterQueue: props.deadLetterQueue,
    });
    this.fn = digest.fn;
    this.logGroup = digest.logGroup;
    props.grants.digest(digest.role);
    this.rule = new events.Rule(scope, 'DigestSchedule', {
      description: 'DynamoDB backups: daily coverage digest',
      schedule: events.Schedule.expression(props.digestSchedule),
      targets: [
        new targets.LambdaFunction(this.fn, {
          retryAttempts: 2,
          maxEventAge: Duration.hours(2),
          deadLetterQueue: props.deadLetterQueue,
        }),
      ],
    });
    acknowledgeDigestFindings(digest.role);
  }
}

/** The wildcard findings of the digest's role, each with the reason it is needed. */
function acknowledgeDigestFindings(role: iam.IRole): void {
  acknowledgeWildcardResource(
    role,
    '*',
    'dynamodb:ListTables, dynamodb:ListBackups and tag:GetResources do not support resource-level permissions; the digest reports on every table of the account (ListTables), its opt-in tags and its newest backup. All read-only.',
  );
  acknowledgeWildcardResource(
    role,
    tableArn(role, '*'),
    'DescribeTable and DescribeContinuousBackups (read-only) on every table of the account: the digest exists to find the tables that are NOT opted in, so they cannot be listed at deploy time.',
  );
  acknowledgeWildcardResource(
    role,
    policyParameterArn(role),
    'Reads the named policies (/dynamodb-backup/policies/*) and per-table overrides (/dynamodb-backup/tables/*), which operators add at run time; GetParametersByPath needs the path itself, hence the common prefix.',
  );
  // The ledger is only read: the wildcards are those of publishing (the topic's key).
  for (const action of perms.TOPIC_KEY_ACTIONS.filter((a) => a.endsWith('*'))) {
    acknowledgeWildcardAction(
      role,
      action,
      'KMS data-key actions for the single service key that encrypts the topic (publish) and the ledger (read).',
    );
  }
}
