import { Duration } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as iam from 'aws-cdk-lib/aws-iam';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import type * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import { DEFAULTS, ENV } from '../../lambda/env';
import type { BackupServiceGrants } from '../backup-service-grants';
import type { LogRetentionProps } from '../common-props';
import * as perms from '../perms';
import { acknowledgeWildcardAction, acknowledgeWildcardResource } from '../private/acknowledge';
import { kinesisStreamArn, policyParameterArn, tableArn } from '../private/arns';
import { handlerFunction } from '../private/handler-function';

/** Value of POWERTOOLS_SERVICE_NAME on the service's functions. */
export const SERVICE_NAME = 'ddb-backup';

/** Default of `workerConcurrency`: worker instances at once. */
export const DEFAULT_WORKER_CONCURRENCY = 10;

/** Timeout of the planner; the plan queue's visibility timeout follows it. */
export const PLANNER_TIMEOUT = Duration.minutes(5);
/** Timeout of the worker; the job queue's visibility timeout follows it. */
export const WORKER_TIMEOUT = Duration.minutes(2);

export interface BackupFunctionsOptions {
  /**
   * Most worker instances running at once (2-1000): the worker's reserved concurrency and the
   * maximum concurrency of its job queue event source. Every instance calls CreateBackup,
   * DeleteBackup and UpdateContinuousBackups, whose rate limits are per account and region, so
   * more instances bring throttling, not throughput. The reservation comes out of the account's
   * unreserved concurrency, of which Lambda keeps a minimum (100 in most accounts): the account's
   * concurrency limit must leave room for it.
   *
   * @default 10 (DEFAULT_WORKER_CONCURRENCY)
   */
  readonly workerConcurrency?: number;

  /**
   * How long the ledger keeps a record that left use (a deleted, vanished or failed backup)
   * before DynamoDB's TTL expires it: the audit period, and the evidence window of the report.
   * Whole days, 1 to 3650.
   *
   * @default Duration.days(400)
   */
  readonly auditPeriod?: Duration;
}

export interface ServiceEnvironmentProps {
  /** Ledger of backups (its name goes to the functions). */
  readonly ledgerTable: dynamodb.ITable;
  /** Notification topic (its ARN goes to the functions). */
  readonly topic: sns.ITopic;
  /** Tag key that opts a table in. */
  readonly tagKey: string;
  /**
   * Receives of a job before the DLQ: for the worker, and the planner, which enqueues the jobs.
   *
   * @default - no MAX_RECEIVE_COUNT variable (a function that consumes no job queue)
   */
  readonly maxReceiveCount?: number;
  /**
   * Days the ledger keeps records out of use.
   *
   * @default - no AUDIT_DAYS variable (the functions' default, 400 days)
   */
  readonly auditDays?: number;
}

/** The environment every function of the service gets (lambda/env.ts). */
export function serviceEnvironment(props: ServiceEnvironmentProps): Record<string, string> {
  return {
    [ENV.LEDGER_TABLE]: props.ledgerTable.tableName,
    [ENV.TOPIC_ARN]: props.topic.topicArn,
    [ENV.TAG_KEY]: props.tagKey,
    [ENV.POLICY_PREFIX]: DEFAULTS.POLICY_PREFIX,
    [ENV.TABLE_OVERRIDE_PREFIX]: DEFAULTS.TABLE_OVERRIDE_PREFIX,
    ...(props.maxReceiveCount === undefined ? {} : { [ENV.MAX_RECEIVE_COUNT]: String(props.maxReceiveCount) }),
    ...(props.auditDays === undefined ? {} : { [ENV.AUDIT_DAYS]: String(props.auditDays) }),
    POWERTOOLS_SERVICE_NAME: SERVICE_NAME,
  };
}

export interface BackupFunctionsProps
  extends Omit<Required<BackupFunctionsOptions>, 'auditPeriod' | 'workerConcurrency'>,
    Required<LogRetentionProps>,
    Required<Omit<ServiceEnvironmentProps, 'auditDays'>> {
  /** Days the ledger keeps records out of use (from `auditPeriod`). */
  readonly auditDays: number;
  readonly workerConcurrency: number;
  /** The job queue: the planner sends to it, the worker consumes it. */
  readonly jobQueue: sqs.IQueue;
  /** The plan queue of the fan-out: the planner sends the next tag page to it and consumes it. */
  readonly planQueue: sqs.IQueue;
  /** Dead-letter queue of failed asynchronous planner runs (the trigger DLQ). */
  readonly deadLetterQueue: sqs.IQueue;
  /** The service's permissions: the planner's and the worker's roles get theirs. */
  readonly grants: BackupServiceGrants;
}

/**
 * The planner (resolves tagged tables and policies, enqueues one job per due table) and the worker
 * (takes and prunes backups; the only code that creates or deletes them), the worker's job queue
 * event source, their permissions and the cdk-nag acknowledgements of their roles.
 *
 * Built in the service's scope, not as a child construct: the construct paths, and with them the
 * logical IDs of the deployed functions, log groups and event source mapping, stay as they are.
 */
export class BackupFunctions {
  public readonly planner: nodejs.NodejsFunction;
  public readonly plannerLogGroup: logs.ILogGroup;
  public readonly worker: nodejs.NodejsFunction;
  public readonly workerLogGroup: logs.ILogGroup;

  constructor(scope: Construct, props: BackupFunctionsProps) {
    const environment = serviceEnvironment(props);
    const planner = handlerFunction(scope, 'Planner', {
      handler: 'planner',
      description: 'DynamoDB backups: resolves tagged tables and policies, enqueues backup jobs',
      timeout: PLANNER_TIMEOUT,
      logRetention: props.logRetention,
      environment: { ...environment, [ENV.JOB_QUEUE_URL]: props.jobQueue.queueUrl, [ENV.PLAN_QUEUE_URL]: props.planQueue.queueUrl },
      deadLetterQueue: props.deadLetterQueue,
    });
    const worker = handlerFunction(scope, 'Worker', {
      handler: 'worker',
      description: 'DynamoDB backups: creates, records and prunes backups (the only code that does)',
      timeout: WORKER_TIMEOUT,
      logRetention: props.logRetention,
      // Each of the workerConcurrency containers keeps to its share of the account's rates.
      environment: { ...environment, [ENV.RATE_SHARE]: String(props.workerConcurrency) },
      deadLetterQueue: undefined, // invoked by the SQS event source: failed jobs go to the job DLQ
      reservedConcurrentExecutions: props.workerConcurrency,
    });
    this.planner = planner.fn;
    this.plannerLogGroup = planner.logGroup;
    this.worker = worker.fn;
    this.workerLogGroup = worker.logGroup;

    props.grants.planner(planner.role);
    props.grants.worker(worker.role);

    // The fan-out: one plan queue message (the next tag pages of a run) per invocation.
    props.planQueue.grantSendMessages(planner.role);
    this.planner.addEventSource(new SqsEventSource(props.planQueue, { batchSize: 1 }));

    // maxConcurrency = reserved concurrency: the poller never invokes more instances than the
    // reservation allows, so no job is throttled back to the queue (and towards the DLQ).
    this.worker.addEventSource(
      new SqsEventSource(props.jobQueue, { batchSize: 10, reportBatchItemFailures: true, maxConcurrency: props.workerConcurrency }),
    );

    acknowledgePlannerFindings(planner.role);
    acknowledgeWorkerFindings(worker.role);
  }
}

/** The wildcard findings of the planner's role, each with the reason it is needed. */
function acknowledgePlannerFindings(role: iam.IRole): void {
  acknowledgeWildcardResource(
    role,
    '*',
    'tag:GetResources and dynamodb:ListBackups do not support resource-level permissions; the planner discovers tables by tag, and its prune sweep lists the account\'s backups once (paged) instead of once per table. It never creates or deletes backups.',
  );
  acknowledgeCommonFindings(role);
}

/** The wildcard findings of the worker's role, each with the reason it is needed. */
function acknowledgeWorkerFindings(role: iam.IRole): void {
  acknowledgeWildcardResource(
    role,
    tableArn(role, '*'),
    'CreateBackup and DescribeTable target the tables discovered at run time by tag, so they cannot be listed at deploy time; so do the read-only Describe*/ListTagsOfResource/GetResourcePolicy calls of the settings snapshot taken after a backup, and UpdateContinuousBackups, which only turns PITR on (or sets its recovery period) as the table\'s policy asks and is limited by an aws:ResourceTag condition to tables carrying the opt-in tag. Scoped to DynamoDB tables of this account and region.',
  );
  acknowledgeWildcardResource(
    role,
    kinesisStreamArn(role),
    'kinesis:DescribeStream and DescribeStreamSummary (read-only) on the Kinesis streaming destinations of the tables discovered at run time, which DynamoDB describes with the caller\'s permissions for the settings snapshot used by restores; streams of this account and region.',
  );
  acknowledgeWildcardResource(
    role,
    tableArn(role, '*/index/*'),
    'DescribeContributorInsights (read-only) on the global secondary indexes of tables discovered at run time, for the settings snapshot used by restores.',
  );
  acknowledgeWildcardResource(
    role,
    '*',
    'application-autoscaling:DescribeScalableTargets and DescribeScalingPolicies do not support resource-level permissions; read-only, for the settings snapshot used by restores.',
  );
  acknowledgeWildcardResource(
    role,
    tableArn(role, '*/backup/*'),
    'DescribeBackup and DeleteBackup act on backups of tables discovered at run time; backup ARNs carry a generated id. The worker only deletes backups whose name marks them as its own (enforced in code, tested).',
  );
  acknowledgeCommonFindings(role);
}

function acknowledgeCommonFindings(role: iam.IRole): void {
  acknowledgeWildcardResource(
    role,
    policyParameterArn(role),
    'Reads the named policies (/dynamodb-backup/policies/*) and per-table overrides (/dynamodb-backup/tables/*), which operators add at run time; GetParametersByPath needs the path itself, hence the common prefix.',
  );
  for (const action of perms.KEY_DATA_KEY_WILDCARD_ACTIONS) {
    acknowledgeWildcardAction(
      role,
      action,
      'KMS data-key actions granted by CDK for the service key that encrypts the ledger, the job queue and the topic; the resource is that single key.',
    );
  }
}
