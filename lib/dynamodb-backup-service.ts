import { ArnFormat, Duration, Stack } from 'aws-cdk-lib';
import type { RemovalPolicy } from 'aws-cdk-lib';
import type * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import type * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import * as ssm from 'aws-cdk-lib/aws-ssm';
import { Construct } from 'constructs';
import { DEFAULTS, DIGEST_ENV, ENV, SIZE_DEFAULTS, SIZE_ENV } from '../lambda/env';
import { errorMessage } from '../lambda/core/errors';
import { DEFAULT_POLICIES, PolicySchema, assertPolicyName, parsePolicy, serialisePolicy } from '../lambda/core/policy';
import type { Policy, PolicyInput } from '../lambda/core/policy';
import { BackupState } from './backup-state';
import { ChangeTrigger } from './change-trigger';
import { SizeTrigger, type SizeAlarmTable } from './size-trigger';
import { acknowledgeWildcardAction, acknowledgeWildcardResource } from './private/acknowledge';
import { logMessageAlarm, queueMessagesAlarm } from './private/alarms';
import { handlerFunction } from './private/handler-function';
import { QueueSenders } from './private/queue-senders';
import { ssmScope } from './private/ssm';

/** Value of POWERTOOLS_SERVICE_NAME on both functions. */
export const SERVICE_NAME = 'ddb-backup';

/** Schedule of every policy's prune sweep: daily at 05:30 UTC. */
export const DEFAULT_PRUNE_SCHEDULE = 'cron(30 5 * * ? *)';

/** Schedule of the coverage digest: daily at 07:00 UTC. */
export const DEFAULT_DIGEST_SCHEDULE = 'cron(0 7 * * ? *)';

/** Schedule of the size probe (reconcile the size alarms, publish size metrics): hourly. */
export const DEFAULT_PROBE_SCHEDULE = 'rate(1 hour)';

/** Schedule of the stream mapping reconciler: every 15 minutes. */
export const DEFAULT_RECONCILE_SCHEDULE = 'rate(15 minutes)';

/** Default of `workerConcurrency`: worker instances at once. */
export const DEFAULT_WORKER_CONCURRENCY = 10;

/** CloudWatch namespace of the service's metrics (the size probe's too). */
export const METRIC_NAMESPACE = SIZE_DEFAULTS.METRIC_NAMESPACE;

/**
 * `message` of the JSON log line (Powertools Logger) the worker, planner and digest write when
 * the SNS publish of a run summary fails; counted into NOTIFY_FAILURES_METRIC.
 */
export const NOTIFY_FAILURE_MESSAGE = 'run summary not published';

/** Metric (in METRIC_NAMESPACE) of the run summaries that could not be published. */
export const NOTIFY_FAILURES_METRIC = 'NotifyFailures';

/** Service name of Application Auto Scaling for DynamoDB (its service-linked role). */
const AUTOSCALING_SERVICE = 'dynamodb.application-autoscaling.amazonaws.com';

/** Largest value of a standard-tier SSM parameter. */
const SSM_STANDARD_MAX_BYTES = 4096;

const PLANNER_TIMEOUT = Duration.minutes(5);
const WORKER_TIMEOUT = Duration.minutes(2);
/** The digest describes every table of the account (4 at a time); room for large accounts. */
const DIGEST_TIMEOUT = Duration.minutes(10);
/** AWS guidance for SQS event sources: visibility timeout at least 6x the function timeout. */
const VISIBILITY_TIMEOUT_FACTOR = 6;

export interface DynamoDbBackupServiceProps {
  /**
   * Named backup policies, deployed to SSM under `/dynamodb-backup/policies/<name>`; each policy
   * with a `schedule` gets an EventBridge schedule rule, and every policy gets a prune-sweep rule
   * (see `pruneSchedule`). They are merged over the built-in policies by name
   * (a policy named `daily` replaces the built-in `daily`). Each is validated at synth time.
   *
   * @default - the built-in policies (DEFAULT_POLICIES: hourly, daily, weekly)
   */
  readonly policies?: Record<string, PolicyInput>;

  /**
   * Whether the built-in policies (hourly, daily, weekly) are deployed alongside `policies`.
   *
   * @default true
   */
  readonly includeDefaultPolicies?: boolean;

  /**
   * Tag key that opts a table in; its value names one or more policies.
   *
   * @default 'backup:policy' (DEFAULTS.TAG_KEY)
   */
  readonly tagKey?: string;

  /**
   * Email addresses subscribed to the notification topic. Used only when the construct creates its
   * own topic (no `topic` given).
   *
   * @default - no subscriptions
   */
  readonly notificationEmails?: string[];

  /**
   * KMS key for the job queue and its DLQ (and for the ledger and topic when the construct creates
   * them).
   *
   * @default - the key of the BackupState created here, or a new key when `ledgerTable` and `topic` are given
   */
  readonly encryptionKey?: kms.IKey;

  /**
   * Removal policy of the ledger table. Used only when the construct creates its own ledger.
   *
   * @default RemovalPolicy.RETAIN
   */
  readonly ledgerRemovalPolicy?: RemovalPolicy;

  /**
   * Ledger table (partition key `pk`, sort key `sk`, both strings). Give it together with `topic`.
   * When the table is encrypted with a customer managed key, import it with that key
   * (`Table.fromTableAttributes({ ..., encryptionKey })`) so the grants cover the key.
   *
   * @default - a ledger created in a BackupState inside this construct
   */
  readonly ledgerTable?: dynamodb.ITable;

  /**
   * Notification topic. Give it together with `ledgerTable`. When the topic is encrypted, pass its
   * key as `encryptionKey`: the functions get kms:Decrypt/GenerateDataKey* on that key to publish.
   * The service's alarms publish to it: its policy (and its key's) must let
   * `cloudwatch.amazonaws.com` publish for the alarms of this account, as BackupState's does.
   *
   * @default - a topic created in a BackupState inside this construct
   */
  readonly topic?: sns.ITopic;

  /**
   * Retention of the functions' log groups.
   *
   * @default logs.RetentionDays.ONE_MONTH
   */
  readonly logRetention?: logs.RetentionDays;

  /**
   * Receives of a job before it moves to the dead-letter queue (1-1000).
   *
   * @default 3 (DEFAULTS.MAX_RECEIVE_COUNT)
   */
  readonly maxReceiveCount?: number;

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
   * EventBridge expression (`cron(...)` or `rate(...)`, UTC) of the prune sweep. Every policy, with
   * or without a `schedule`, gets one sweep rule on it: backups taken by size, change or manual
   * triggers need pruning too. Each sweep lists the account's backups once (ListBackups, paged)
   * and enqueues one prune job per tagged table. Validated like a policy's `schedule`.
   *
   * @default - 'cron(30 5 * * ? *)' (DEFAULT_PRUNE_SCHEDULE: daily at 05:30 UTC)
   */
  readonly pruneSchedule?: string;

  /**
   * Whether to deploy size-triggered backups (SizeTrigger): a scheduled probe publishes table size
   * and growth metrics and keeps one CloudWatch alarm per (table, policy) with a `size` trigger;
   * an EventBridge rule sends the alarms' ALARM state changes to the planner.
   *
   * @default true
   */
  readonly sizeTriggers?: boolean;

  /**
   * EventBridge expression (`cron(...)` or `rate(...)`, UTC) of the size probe. Used only with
   * `sizeTriggers`. Validated like a policy's `schedule`.
   *
   * @default - 'rate(1 hour)' (DEFAULT_PROBE_SCHEDULE)
   */
  readonly probeSchedule?: string;

  /**
   * Prefix of the size alarms the service owns (the probe deletes any alarm with it that no
   * table and policy wants). Give each deployment in an account its own prefix. Used only with
   * `sizeTriggers`.
   *
   * @default 'ddb-backup-size-' (SIZE_DEFAULTS.ALARM_PREFIX)
   */
  readonly sizeAlarmPrefix?: string;

  /**
   * Tables whose size alarm CDK creates at deploy time (one per entry; the policy must be one of
   * the deployed policies and have a `size` trigger). The size reconciler leaves these alarms
   * alone. The threshold is the policy's growthBytes if set, else growthPercent (no baseline at
   * synth); per-table overrides do not apply. The table must still be tagged with the policy.
   * Used only with `sizeTriggers`. See SizeTrigger's `sizeAlarmTables`.
   *
   * @default - none: the reconciler keeps every size alarm
   */
  readonly sizeAlarmTables?: readonly SizeAlarmTable[];

  /**
   * Whether to deploy change-triggered backups (ChangeTrigger): a stream handler counts the
   * changes of each opted-in table's DynamoDB stream and enqueues a job when a policy's `changes`
   * threshold is crossed; a scheduled reconciler keeps the event source mappings in step with
   * the tags.
   *
   * @default true
   */
  readonly changeTriggers?: boolean;

  /**
   * EventBridge expression (`cron(...)` or `rate(...)`, UTC) of the stream mapping reconciler.
   * Used only with `changeTriggers`. Validated like a policy's `schedule`.
   *
   * @default - 'rate(15 minutes)' (DEFAULT_RECONCILE_SCHEDULE)
   */
  readonly reconcileSchedule?: string;

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

/** A policy as deployed: validated, with its canonical SSM document. */
interface DeployedPolicy {
  readonly name: string;
  readonly policy: Policy;
  readonly document: string;
}

/**
 * Policy-driven DynamoDB backups.
 *
 * Tag a table `backup:policy = daily` and the service backs it up on the policy's schedule, prunes
 * old backups by its retention, records every backup in the ledger and reports failures on SNS.
 *
 * Data flow: EventBridge schedule (one rule per scheduled policy) and prune sweep (one rule per
 * policy) -> planner (resolves tags and policies; the sweep lists the account's backups) -> SQS
 * FIFO job queue (group = table, dedupe = slot) -> worker (the only code that creates or deletes
 * backups) -> ledger + topic. Failed jobs land in a DLQ watched by an alarm.
 */
export class DynamoDbBackupService extends Construct {
  /** Resolves tagged tables and policies; emits one job per due table. */
  public readonly planner: nodejs.NodejsFunction;
  /** Takes backups and prunes them; consumes the job queue. */
  public readonly worker: nodejs.NodejsFunction;
  /** SQS FIFO queue of backup jobs (planner -> worker). */
  public readonly jobQueue: sqs.Queue;
  /** FIFO DLQ of the job queue; an alarm notifies the topic when it holds a message. */
  public readonly deadLetterQueue: sqs.Queue;
  /** Standard DLQ for trigger deliveries: failed EventBridge deliveries and failed async planner runs. */
  public readonly triggerDeadLetterQueue: sqs.Queue;
  /** Ledger of backups. */
  public readonly ledgerTable: dynamodb.ITable;
  /** Notification topic. */
  public readonly topic: sns.ITopic;
  /** Key encrypting the job queues (and the ledger and topic when created here). */
  public readonly encryptionKey: kms.IKey;
  /** The state created here when no `ledgerTable`/`topic` was given. */
  public readonly state?: BackupState;
  /** Policies deployed by this construct, by name (valid ones only). */
  public readonly policies: Readonly<Record<string, Policy>>;
  /** Schedule rules, by policy name (policies with a `schedule` only). */
  public readonly scheduleRules: Readonly<Record<string, events.Rule>>;
  /** Prune-sweep rules, by policy name (every policy). */
  public readonly pruneRules: Readonly<Record<string, events.Rule>>;
  /** Expression of the prune-sweep rules. */
  public readonly pruneSchedule: string;
  /** Tag key that opts a table in. */
  public readonly tagKey: string;
  /** Size-triggered backups (probe, alarm rule); undefined when `sizeTriggers` is false. */
  public readonly sizeTrigger?: SizeTrigger;
  /** Change-triggered backups (stream handler, reconciler); undefined when `changeTriggers` is false. */
  public readonly changeTrigger?: ChangeTrigger;
  /** The coverage digest function; undefined when `coverageDigest` is false. */
  public readonly digest?: nodejs.NodejsFunction;
  /** The rule that runs the coverage digest; undefined when `coverageDigest` is false. */
  public readonly digestRule?: events.Rule;
  /** Alarms (to the topic) when a run summary could not be published (NOTIFY_FAILURES_METRIC). */
  public readonly notifyFailureAlarm: cloudwatch.Alarm;

  private readonly parameterArn: string;
  /** Who may send to the job queue: its policy denies sqs:SendMessage to everyone else. */
  private readonly jobSenders: QueueSenders;

  constructor(scope: Construct, id: string, props: DynamoDbBackupServiceProps = {}) {
    super(scope, id);

    const errors: string[] = [];
    this.node.addValidation({ validate: () => errors });

    this.tagKey = props.tagKey ?? DEFAULTS.TAG_KEY;
    errors.push(...validateTagKey(this.tagKey));
    let maxReceiveCount = props.maxReceiveCount ?? DEFAULTS.MAX_RECEIVE_COUNT;
    if (!Number.isInteger(maxReceiveCount) || maxReceiveCount < 1 || maxReceiveCount > 1000) {
      errors.push(`maxReceiveCount: must be an integer from 1 to 1000, got ${maxReceiveCount}`);
      // Keep building so every error is reported at synth; the synth fails anyway.
      maxReceiveCount = DEFAULTS.MAX_RECEIVE_COUNT;
    }
    let workerConcurrency = props.workerConcurrency ?? DEFAULT_WORKER_CONCURRENCY;
    // 2: the smallest maximum concurrency of an SQS event source.
    if (!Number.isInteger(workerConcurrency) || workerConcurrency < 2 || workerConcurrency > 1000) {
      errors.push(`workerConcurrency: must be an integer from 2 to 1000, got ${workerConcurrency}`);
      workerConcurrency = DEFAULT_WORKER_CONCURRENCY;
    }
    this.pruneSchedule = resolveSchedule('pruneSchedule', props.pruneSchedule, DEFAULT_PRUNE_SCHEDULE, errors);
    const probeSchedule = resolveSchedule('probeSchedule', props.probeSchedule, DEFAULT_PROBE_SCHEDULE, errors);
    const reconcileSchedule = resolveSchedule('reconcileSchedule', props.reconcileSchedule, DEFAULT_RECONCILE_SCHEDULE, errors);
    const digestSchedule = resolveSchedule('digestSchedule', props.digestSchedule, DEFAULT_DIGEST_SCHEDULE, errors);
    for (const pattern of props.digestIgnoreTables ?? []) {
      if (!/^[A-Za-z0-9_.-]{1,255}\*?$/.test(pattern) || pattern.includes(',')) {
        errors.push(`digestIgnoreTables: "${pattern}" is not a table name or a "prefix*" pattern`);
      }
    }

    // ---- state: given, or created here ----------------------------------------------------------
    if ((props.ledgerTable === undefined) !== (props.topic === undefined)) {
      throw new Error(`${this.node.path}: give both ledgerTable and topic, or neither`);
    }
    if (props.ledgerTable && props.topic) {
      this.ledgerTable = props.ledgerTable;
      this.topic = props.topic;
      this.encryptionKey =
        props.encryptionKey ??
        new kms.Key(this, 'Key', {
          description: 'DynamoDB backup service: job queues',
          enableKeyRotation: true,
        });
    } else {
      this.state = new BackupState(this, 'State', {
        encryptionKey: props.encryptionKey,
        ledgerRemovalPolicy: props.ledgerRemovalPolicy,
        notificationEmails: props.notificationEmails,
      });
      this.ledgerTable = this.state.ledgerTable;
      this.topic = this.state.topic;
      this.encryptionKey = this.state.key;
    }

    // ---- policies -------------------------------------------------------------------------------
    const deployed = resolvePolicies(props, errors);
    this.policies = Object.fromEntries(deployed.map((p) => [p.name, p.policy]));

    const stack = Stack.of(this);
    this.parameterArn = stack.formatArn({
      service: 'ssm',
      resource: 'parameter',
      resourceName: `${ssmScope()}*`,
      arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
    });

    for (const { name, policy, document } of deployed) {
      new ssm.StringParameter(this, `Policy-${name}`, {
        parameterName: `${DEFAULTS.POLICY_PREFIX}${name}`,
        stringValue: document,
        description: truncate(`DynamoDB backup policy "${name}"${policy.description ? `: ${policy.description}` : ''}`, 1024),
        tier: ssm.ParameterTier.STANDARD,
      });
    }

    // ---- queues ---------------------------------------------------------------------------------
    this.deadLetterQueue = new sqs.Queue(this, 'JobDeadLetterQueue', {
      fifo: true,
      retentionPeriod: Duration.days(14),
      encryption: sqs.QueueEncryption.KMS,
      encryptionMasterKey: this.encryptionKey,
      enforceSSL: true,
    });
    this.jobQueue = new sqs.Queue(this, 'JobQueue', {
      fifo: true,
      contentBasedDeduplication: false,
      // High-throughput FIFO: deduplication and ordering per message group (= per table).
      deduplicationScope: sqs.DeduplicationScope.MESSAGE_GROUP,
      fifoThroughputLimit: sqs.FifoThroughputLimit.PER_MESSAGE_GROUP_ID,
      visibilityTimeout: Duration.seconds(WORKER_TIMEOUT.toSeconds() * VISIBILITY_TIMEOUT_FACTOR),
      retentionPeriod: Duration.days(4),
      encryption: sqs.QueueEncryption.KMS,
      encryptionMasterKey: this.encryptionKey,
      enforceSSL: true,
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount },
    });
    // Only the roles that enqueue jobs may send (every other principal is denied, whatever its
    // identity policy allows): the planner's role and the grantees of grantRun/grantOperator
    // (grantPlanner), and the stream handler's role of the change trigger (below).
    this.jobSenders = new QueueSenders(this, this.jobQueue);
    // EventBridge and Lambda async invocations write here; SQS-managed encryption needs no key
    // policy for either service.
    this.triggerDeadLetterQueue = new sqs.Queue(this, 'TriggerDeadLetterQueue', {
      retentionPeriod: Duration.days(14),
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
    });

    // ---- functions ------------------------------------------------------------------------------
    const commonEnv: Record<string, string> = {
      [ENV.LEDGER_TABLE]: this.ledgerTable.tableName,
      [ENV.TOPIC_ARN]: this.topic.topicArn,
      [ENV.TAG_KEY]: this.tagKey,
      [ENV.POLICY_PREFIX]: DEFAULTS.POLICY_PREFIX,
      [ENV.TABLE_OVERRIDE_PREFIX]: DEFAULTS.TABLE_OVERRIDE_PREFIX,
      [ENV.MAX_RECEIVE_COUNT]: String(maxReceiveCount),
      POWERTOOLS_SERVICE_NAME: SERVICE_NAME,
    };
    const logRetention = props.logRetention ?? logs.RetentionDays.ONE_MONTH;

    const planner = handlerFunction(this, 'Planner', {
      handler: 'planner',
      description: 'DynamoDB backups: resolves tagged tables and policies, enqueues backup jobs',
      timeout: PLANNER_TIMEOUT,
      logRetention,
      environment: { ...commonEnv, [ENV.JOB_QUEUE_URL]: this.jobQueue.queueUrl },
      deadLetterQueue: this.triggerDeadLetterQueue,
    });
    const worker = handlerFunction(this, 'Worker', {
      handler: 'worker',
      description: 'DynamoDB backups: creates, records and prunes backups (the only code that does)',
      timeout: WORKER_TIMEOUT,
      logRetention,
      environment: commonEnv,
      deadLetterQueue: undefined, // invoked by the SQS event source: failed jobs go to the job DLQ
      reservedConcurrentExecutions: workerConcurrency,
    });

    this.planner = planner.fn;
    this.worker = worker.fn;

    // ---- permissions ----------------------------------------------------------------------------
    this.grantPlanner(planner.role);
    this.grantWorker(worker.role);

    // maxConcurrency = reserved concurrency: the poller never invokes more instances than the
    // reservation allows, so no job is throttled back to the queue (and towards the DLQ).
    this.worker.addEventSource(
      new SqsEventSource(this.jobQueue, { batchSize: 10, reportBatchItemFailures: true, maxConcurrency: workerConcurrency }),
    );

    // ---- schedules and prune sweeps -------------------------------------------------------------
    const scheduleRules: Record<string, events.Rule> = {};
    const pruneRules: Record<string, events.Rule> = {};
    for (const { name, policy } of deployed) {
      if (policy.schedule) {
        scheduleRules[name] = this.plannerRule(`Schedule-${name}`, {
          description: `DynamoDB backups: schedule of policy "${name}"`,
          expression: policy.schedule,
          policy: name,
          trigger: 'schedule',
        });
      }
      // Every policy: backups from size, change and manual triggers need pruning too.
      pruneRules[name] = this.plannerRule(`Prune-${name}`, {
        description: `DynamoDB backups: prune sweep of policy "${name}"`,
        expression: this.pruneSchedule,
        policy: name,
        trigger: 'prune',
      });
    }
    this.scheduleRules = scheduleRules;
    this.pruneRules = pruneRules;

    // ---- alarms ---------------------------------------------------------------------------------
    queueMessagesAlarm(this, 'JobDeadLetterAlarm', this.deadLetterQueue, 'Backup jobs failed and reached the dead-letter queue', this.topic);
    queueMessagesAlarm(
      this,
      'TriggerDeadLetterAlarm',
      this.triggerDeadLetterQueue,
      'Backup triggers failed (schedule or prune-sweep delivery, or planner run) and reached the dead-letter queue',
      this.topic,
    );

    // ---- size and change triggers ---------------------------------------------------------------
    if (props.sizeTriggers ?? true) {
      this.sizeTrigger = new SizeTrigger(this, 'SizeTrigger', {
        planner: this.planner,
        ledgerTable: this.ledgerTable,
        topic: this.topic,
        encryptionKey: this.encryptionKey,
        tagKey: this.tagKey,
        probeSchedule: events.Schedule.expression(probeSchedule),
        logRetention,
        alarmPrefix: props.sizeAlarmPrefix,
        policies: this.policies,
        sizeAlarmTables: props.sizeAlarmTables,
        deadLetterQueue: this.triggerDeadLetterQueue,
      });
      // The planner acts only on alarms with the prefix; it defaults to SIZE_DEFAULTS.ALARM_PREFIX.
      if (this.sizeTrigger.alarmPrefix !== SIZE_DEFAULTS.ALARM_PREFIX) {
        this.planner.addEnvironment(SIZE_ENV.ALARM_PREFIX, this.sizeTrigger.alarmPrefix);
      }
    } else if ((props.sizeAlarmTables ?? []).length > 0) {
      errors.push('sizeAlarmTables: needs sizeTriggers (the size alarms go to the planner through the SizeTrigger rule)');
    }
    if (props.changeTriggers ?? true) {
      this.changeTrigger = new ChangeTrigger(this, 'ChangeTrigger', {
        jobQueue: this.jobQueue,
        ledgerTable: this.ledgerTable,
        topic: this.topic,
        encryptionKey: this.encryptionKey,
        tagKey: this.tagKey,
        reconcileSchedule: events.Schedule.expression(reconcileSchedule),
        logRetention,
        scheduleDeadLetterQueue: this.triggerDeadLetterQueue,
      });
      // The stream handler enqueues change-triggered jobs.
      this.jobSenders.allow(this.changeTrigger.streamHandler.role!);
    }

    // ---- coverage digest ------------------------------------------------------------------------
    let digestLogGroup: logs.ILogGroup | undefined;
    if (props.coverageDigest ?? true) {
      // The digest consumes no queue: no MAX_RECEIVE_COUNT.
      const digestEnv = Object.fromEntries(Object.entries(commonEnv).filter(([k]) => k !== ENV.MAX_RECEIVE_COUNT));
      const ignore = props.digestIgnoreTables ?? [];
      const digest = handlerFunction(this, 'Digest', {
        handler: 'digest',
        description: 'DynamoDB backups: daily coverage digest (unprotected, stale, failing and drifted tables) to SNS',
        timeout: DIGEST_TIMEOUT,
        logRetention,
        environment: { ...digestEnv, ...(ignore.length > 0 ? { [DIGEST_ENV.IGNORE_TABLES]: ignore.join(',') } : {}) },
        deadLetterQueue: this.triggerDeadLetterQueue,
      });
      this.digest = digest.fn;
      digestLogGroup = digest.logGroup;
      this.grantCoverageRead(digest.role);
      this.grantNotify(digest.role);
      this.digestRule = new events.Rule(this, 'DigestSchedule', {
        description: 'DynamoDB backups: daily coverage digest',
        schedule: events.Schedule.expression(digestSchedule),
        targets: [
          new targets.LambdaFunction(this.digest, {
            retryAttempts: 2,
            maxEventAge: Duration.hours(2),
            deadLetterQueue: this.triggerDeadLetterQueue,
          }),
        ],
      });
      this.acknowledgeDigestFindings(digest.role);
    }

    // ---- notification failures ------------------------------------------------------------------
    // The functions that publish run summaries log NOTIFY_FAILURE_MESSAGE when a publish fails.
    // The alarm's own notification goes to the same topic: it reaches someone when the publish
    // failed for a passing reason (throttling, a function's own permissions).
    this.notifyFailureAlarm = logMessageAlarm(this, 'NotifyFailureAlarm', {
      logGroups: { Planner: planner.logGroup, Worker: worker.logGroup, ...(digestLogGroup ? { Digest: digestLogGroup } : {}) },
      message: NOTIFY_FAILURE_MESSAGE,
      namespace: METRIC_NAMESPACE,
      metricName: NOTIFY_FAILURES_METRIC,
      description: `Run summaries could not be published to the notification topic (log lines "${NOTIFY_FAILURE_MESSAGE}" of the planner, worker or digest)`,
      topic: this.topic,
    });

    // ---- cdk-nag acknowledgements (each with its reason) ----------------------------------------
    this.acknowledgeRoleFindings(planner.role, 'planner');
    this.acknowledgeRoleFindings(worker.role, 'worker');
    // No AwsSolutions-SQS3 acknowledgement is needed for the trigger DLQ: cdk-nag sees that it is
    // the planner's dead-letter queue.
  }

  /**
   * Grants what the `ddb-backup` CLI needs to run the planner and worker in-process
   * (`ddb-backup run`): everything both functions may do, the worker's post-backup upkeep
   * (settings snapshot, PITR) included. The grantee may send to the job queue, like the planner:
   * give a role or a user (the queue policy names its senders by ARN).
   */
  public grantRun(grantee: iam.IGrantable): iam.Grant {
    this.grantPlanner(grantee);
    return this.grantWorker(grantee);
  }

  /**
   * Grants what `ddb-backup status` (the coverage report) reads: every table of the account
   * (ListTables, DescribeTable, DescribeContinuousBackups, ListBackups), the opt-in tags, the
   * policies and the ledger.
   */
  public grantStatus(grantee: iam.IGrantable): iam.Grant {
    return this.grantCoverageRead(grantee);
  }

  /**
   * Grants what `ddb-backup restore` needs: restore a backup or a point in time into a NEW table
   * (restore never overwrites or deletes an existing table; that is enforced by the CLI, not by
   * IAM), then re-apply the source's settings to it (tags, TTL, PITR, stream, table class,
   * deletion protection, resource policy, Contributor Insights, Kinesis destinations, auto scaling).
   * The resource policy can only be put on tables without the opt-in tag. Reading the source's
   * settings and backups is part of `grantRun`.
   */
  public grantRestore(grantee: iam.IGrantable): iam.Grant {
    iam.Grant.addToPrincipal({
      grantee,
      actions: [
        'dynamodb:RestoreTableFromBackup',
        'dynamodb:RestoreTableToPointInTime',
        // Settings re-applied to the restored table (lambda/aws/table-settings.ts applySettings).
        'dynamodb:TagResource',
        'dynamodb:UpdateTimeToLive',
        'dynamodb:UpdateContinuousBackups',
        'dynamodb:UpdateTable',
        'dynamodb:UpdateContributorInsights',
        'dynamodb:EnableKinesisStreamingDestination',
        // A restore writes the restored items into the new table with the caller's permissions.
        'dynamodb:BatchWriteItem',
        'dynamodb:PutItem',
        'dynamodb:UpdateItem',
        'dynamodb:DeleteItem',
        'dynamodb:GetItem',
        'dynamodb:Query',
        'dynamodb:Scan',
      ],
      resourceArns: [this.tableArn('*'), this.tableArn('*/backup/*'), this.tableArn('*/index/*')],
    });
    // The source's resource policy, re-applied to the restored table. IAM cannot tell a table
    // this restore created from any other, and a restore carries no request tags, so the grant
    // is scoped the other way round: never on a table carrying the opt-in tag. The tables the
    // service protects keep the resource policy their owners gave them, while a restored table
    // gets it (the restore drops the opt-in tag unless --keep-policy-tag; with it, the tag is
    // re-applied first and the resource policy is refused: restore without it, then
    // `restore-settings --only tags --keep-policy-tag`).
    iam.Grant.addToPrincipal({
      grantee,
      actions: ['dynamodb:PutResourcePolicy'],
      resourceArns: [this.tableArn('*')],
      conditions: { Null: { [this.tagCondition()]: 'true' } },
    });
    const stack = Stack.of(this);
    // A restore with --sse KMS --kms-key: DynamoDB describes the key and creates a grant on it
    // with the caller's permissions; only through DynamoDB, on keys of this account.
    iam.Grant.addToPrincipal({
      grantee,
      actions: ['kms:DescribeKey', 'kms:CreateGrant'],
      resourceArns: [stack.formatArn({ service: 'kms', resource: 'key', resourceName: '*', arnFormat: ArnFormat.SLASH_RESOURCE_NAME })],
      conditions: { StringEquals: { 'kms:ViaService': `dynamodb.${stack.region}.amazonaws.com` } },
    });
    // Re-enabling a Kinesis streaming destination: DynamoDB checks that the caller may describe
    // and write to the stream (streams of this account and region).
    iam.Grant.addToPrincipal({
      grantee,
      actions: ['kinesis:DescribeStream', 'kinesis:DescribeStreamSummary', 'kinesis:PutRecord', 'kinesis:PutRecords'],
      resourceArns: [this.kinesisStreamArn()],
    });
    // Target tracking policies: Application Auto Scaling creates and deletes their alarms, which
    // it names `TargetTracking-table/<table>...`, and checks that the caller may do so. Not the
    // account's other alarms (the service's own among them).
    iam.Grant.addToPrincipal({
      grantee,
      actions: ['cloudwatch:PutMetricAlarm', 'cloudwatch:DescribeAlarms', 'cloudwatch:DeleteAlarms'],
      resourceArns: [
        stack.formatArn({ service: 'cloudwatch', resource: 'alarm', resourceName: 'TargetTracking-table/*', arnFormat: ArnFormat.COLON_RESOURCE_NAME }),
      ],
    });
    // The first scalable DynamoDB target of the account creates Application Auto Scaling's
    // service-linked role for DynamoDB; that role only.
    iam.Grant.addToPrincipal({
      grantee,
      actions: ['iam:CreateServiceLinkedRole'],
      resourceArns: [
        stack.formatArn({
          service: 'iam',
          region: '',
          resource: 'role',
          resourceName: `aws-service-role/${AUTOSCALING_SERVICE}/AWSServiceRoleForApplicationAutoScaling_DynamoDBTable`,
          arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
        }),
      ],
      conditions: { StringEquals: { 'iam:AWSServiceName': AUTOSCALING_SERVICE } },
    });
    // Auto scaling targets and policies of the restored table and its indexes. Neither action
    // supports resource-level permissions for DynamoDB targets.
    return iam.Grant.addToPrincipal({
      grantee,
      actions: ['application-autoscaling:RegisterScalableTarget', 'application-autoscaling:PutScalingPolicy'],
      resourceArns: ['*'],
    });
  }

  /**
   * Grants an operator what the `ddb-backup` CLI needs: run the service in-process, report
   * coverage (`status`), manage policies and overrides in SSM, delete a backup
   * (`backups delete`, part of `grantRun`) and restore backups into new tables (`grantRestore`).
   */
  public grantOperator(grantee: iam.IGrantable): iam.Grant {
    this.grantRun(grantee);
    this.grantStatus(grantee);
    iam.Grant.addToPrincipal({
      grantee,
      actions: ['ssm:PutParameter', 'ssm:DeleteParameter', 'ssm:DeleteParameters', 'ssm:AddTagsToResource'],
      resourceArns: [this.parameterArn],
    });
    return this.grantRestore(grantee);
  }

  private grantPlanner(grantee: iam.IGrantable): iam.Grant {
    iam.Grant.addToPrincipal({
      grantee,
      // Neither supports resource-level permissions. ListBackups: the prune sweep (and fleet runs)
      // list the account's backups once and hand each job its table's slice.
      actions: ['tag:GetResources', 'dynamodb:ListBackups'],
      resourceArns: ['*'],
    });
    this.grantPolicyRead(grantee);
    // The planner's role, and every grantee of grantRun/grantOperator: each gets SendMessage
    // here, so the queue policy names it too (and denies every other principal).
    this.jobQueue.grantSendMessages(grantee);
    this.jobSenders.allow(grantee);
    this.grantNotify(grantee);
    return this.ledgerTable.grantReadWriteData(grantee);
  }

  private grantWorker(grantee: iam.IGrantable): iam.Grant {
    iam.Grant.addToPrincipal({
      grantee,
      actions: [
        'dynamodb:CreateBackup',
        'dynamodb:DescribeTable',
        // Post-backup upkeep (lambda/aws/upkeep.ts): the settings snapshot for restores
        // (captureSettings in lambda/aws/table-settings.ts) ...
        'dynamodb:ListTagsOfResource',
        'dynamodb:DescribeTimeToLive',
        'dynamodb:DescribeContinuousBackups',
        'dynamodb:GetResourcePolicy',
        'dynamodb:DescribeContributorInsights',
        'dynamodb:DescribeKinesisStreamingDestination',
      ],
      resourceArns: [this.tableArn('*')],
    });
    iam.Grant.addToPrincipal({
      grantee,
      // ... and PITR per policy (ensurePitr in lambda/aws/pitr.ts: on, or a new recovery period;
      // never off), on opted-in tables only: those carrying the tag.
      actions: ['dynamodb:UpdateContinuousBackups'],
      resourceArns: [this.tableArn('*')],
      conditions: this.optedIn(),
    });
    iam.Grant.addToPrincipal({
      grantee,
      // The settings snapshot reads the table's Kinesis streaming destinations; DynamoDB
      // describes each destination stream with the caller's permissions.
      actions: ['kinesis:DescribeStreamSummary', 'kinesis:DescribeStream'],
      resourceArns: [this.kinesisStreamArn()],
    });
    iam.Grant.addToPrincipal({
      grantee,
      // captureSettings asks for the Contributor Insights of each global secondary index too.
      actions: ['dynamodb:DescribeContributorInsights'],
      resourceArns: [this.tableArn('*/index/*')],
    });
    iam.Grant.addToPrincipal({
      grantee,
      // The settings snapshot records the table's auto scaling; neither action supports
      // resource-level permissions.
      actions: ['application-autoscaling:DescribeScalableTargets', 'application-autoscaling:DescribeScalingPolicies'],
      resourceArns: ['*'],
    });
    iam.Grant.addToPrincipal({
      grantee,
      actions: ['dynamodb:DescribeBackup', 'dynamodb:DeleteBackup'],
      resourceArns: [this.tableArn('*/backup/*')],
    });
    // No ListBackups: the planner lists; the worker prunes from the listing slice in its job, or
    // from the ledger (plus one DescribeBackup per backup still CREATING).
    this.grantPolicyRead(grantee);
    this.grantNotify(grantee);
    // Ledger writes include the change counter's baseline and the settings snapshot.
    return this.ledgerTable.grantReadWriteData(grantee);
  }

  /** What the coverage report reads (the digest function and `ddb-backup status`). */
  private grantCoverageRead(grantee: iam.IGrantable): iam.Grant {
    iam.Grant.addToPrincipal({
      grantee,
      // None supports resource-level permissions: the report covers every table of the account
      // (ListTables), their opt-in tags (GetResources) and their backups (ListBackups).
      actions: ['dynamodb:ListTables', 'dynamodb:ListBackups', 'tag:GetResources'],
      resourceArns: ['*'],
    });
    iam.Grant.addToPrincipal({
      grantee,
      actions: ['dynamodb:DescribeTable', 'dynamodb:DescribeContinuousBackups'],
      resourceArns: [this.tableArn('*')],
    });
    this.grantPolicyRead(grantee);
    return this.ledgerTable.grantReadData(grantee);
  }

  private grantPolicyRead(grantee: iam.IGrantable): void {
    iam.Grant.addToPrincipal({
      grantee,
      actions: ['ssm:GetParameter', 'ssm:GetParameters', 'ssm:GetParametersByPath'],
      resourceArns: [this.parameterArn],
    });
  }

  private grantNotify(grantee: iam.IGrantable): void {
    this.topic.grantPublish(grantee);
    // SNS encrypts with the topic's key on the publisher's behalf. grantPublish covers a Topic
    // created with `masterKey`; this also covers a topic passed in as ITopic.
    this.encryptionKey.grant(grantee, 'kms:Decrypt', 'kms:GenerateDataKey*');
  }

  /** Acknowledges the wildcard findings of a function role, each with the reason it is needed. */
  private acknowledgeRoleFindings(role: iam.IRole, fn: 'planner' | 'worker'): void {
    if (fn === 'planner') {
      acknowledgeWildcardResource(
        role,
        '*',
        'tag:GetResources and dynamodb:ListBackups do not support resource-level permissions; the planner discovers tables by tag, and its prune sweep lists the account\'s backups once (paged) instead of once per table. It never creates or deletes backups.',
      );
    } else {
      acknowledgeWildcardResource(
        role,
        this.tableArn('*'),
        'CreateBackup and DescribeTable target the tables discovered at run time by tag, so they cannot be listed at deploy time; so do the read-only Describe*/ListTagsOfResource/GetResourcePolicy calls of the settings snapshot taken after a backup, and UpdateContinuousBackups, which only turns PITR on (or sets its recovery period) as the table\'s policy asks and is limited by an aws:ResourceTag condition to tables carrying the opt-in tag. Scoped to DynamoDB tables of this account and region.',
      );
      acknowledgeWildcardResource(
        role,
        this.kinesisStreamArn(),
        'kinesis:DescribeStream and DescribeStreamSummary (read-only) on the Kinesis streaming destinations of the tables discovered at run time, which DynamoDB describes with the caller\'s permissions for the settings snapshot used by restores; streams of this account and region.',
      );
      acknowledgeWildcardResource(
        role,
        this.tableArn('*/index/*'),
        'DescribeContributorInsights (read-only) on the global secondary indexes of tables discovered at run time, for the settings snapshot used by restores.',
      );
      acknowledgeWildcardResource(
        role,
        '*',
        'application-autoscaling:DescribeScalableTargets and DescribeScalingPolicies do not support resource-level permissions; read-only, for the settings snapshot used by restores.',
      );
      acknowledgeWildcardResource(
        role,
        this.tableArn('*/backup/*'),
        'DescribeBackup and DeleteBackup act on backups of tables discovered at run time; backup ARNs carry a generated id. The worker only deletes backups whose name marks them as its own (enforced in code, tested).',
      );
    }
    acknowledgeWildcardResource(
      role,
      this.parameterArn,
      'Reads the named policies (/dynamodb-backup/policies/*) and per-table overrides (/dynamodb-backup/tables/*), which operators add at run time; GetParametersByPath needs the path itself, hence the common prefix.',
    );
    for (const action of ['kms:GenerateDataKey*', 'kms:ReEncrypt*']) {
      acknowledgeWildcardAction(
        role,
        action,
        'KMS data-key actions granted by CDK for the service key that encrypts the ledger, the job queue and the topic; the resource is that single key.',
      );
    }
  }

  /** Acknowledges the wildcard findings of the digest role, each with the reason it is needed. */
  private acknowledgeDigestFindings(role: iam.IRole): void {
    acknowledgeWildcardResource(
      role,
      '*',
      'dynamodb:ListTables, dynamodb:ListBackups and tag:GetResources do not support resource-level permissions; the digest reports on every table of the account (ListTables), its opt-in tags and its newest backup. All read-only.',
    );
    acknowledgeWildcardResource(
      role,
      this.tableArn('*'),
      'DescribeTable and DescribeContinuousBackups (read-only) on every table of the account: the digest exists to find the tables that are NOT opted in, so they cannot be listed at deploy time.',
    );
    acknowledgeWildcardResource(
      role,
      this.parameterArn,
      'Reads the named policies (/dynamodb-backup/policies/*) and per-table overrides (/dynamodb-backup/tables/*), which operators add at run time; GetParametersByPath needs the path itself, hence the common prefix.',
    );
    acknowledgeWildcardAction(
      role,
      'kms:GenerateDataKey*',
      'KMS data-key actions for the single service key that encrypts the topic (publish) and the ledger (read).',
    );
  }

  /** An EventBridge rule that invokes the planner with `{policy, trigger, time}`. */
  private plannerRule(
    id: string,
    opts: { description: string; expression: string; policy: string; trigger: 'schedule' | 'prune' },
  ): events.Rule {
    return new events.Rule(this, id, {
      description: opts.description,
      schedule: events.Schedule.expression(opts.expression),
      targets: [
        new targets.LambdaFunction(this.planner, {
          event: events.RuleTargetInput.fromObject({
            policy: opts.policy,
            trigger: opts.trigger,
            time: events.EventField.time,
          }),
          retryAttempts: 2,
          maxEventAge: Duration.hours(2),
          deadLetterQueue: this.triggerDeadLetterQueue,
        }),
      ],
    });
  }

  private tableArn(resourceName: string): string {
    return Stack.of(this).formatArn({
      service: 'dynamodb',
      resource: 'table',
      resourceName,
      arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
    });
  }

  /** Kinesis data streams of this account and region. */
  private kinesisStreamArn(): string {
    return Stack.of(this).formatArn({ service: 'kinesis', resource: 'stream', resourceName: '*', arnFormat: ArnFormat.SLASH_RESOURCE_NAME });
  }

  /** The condition key of the opt-in tag on the resource acted on. */
  private tagCondition(): string {
    return `aws:ResourceTag/${this.tagKey}`;
  }

  /** Condition: the table carries the opt-in tag (any value). */
  private optedIn(): Record<string, Record<string, unknown>> {
    return { StringLike: { [this.tagCondition()]: '*' } };
  }
}

/** Merges user policies over the defaults and validates each; collects errors instead of throwing. */
function resolvePolicies(props: DynamoDbBackupServiceProps, errors: string[]): DeployedPolicy[] {
  const inputs: Record<string, PolicyInput> = {
    ...(props.includeDefaultPolicies === false ? {} : DEFAULT_POLICIES),
    ...(props.policies ?? {}),
  };
  if (Object.keys(inputs).length === 0) {
    errors.push('policies: no policy to deploy (includeDefaultPolicies is false and policies is empty)');
  }
  const out: DeployedPolicy[] = [];
  for (const [name, input] of Object.entries(inputs)) {
    try {
      assertPolicyName(name);
      const policy = parsePolicy(input, `"${name}"`);
      const document = serialisePolicy(policy);
      if (Buffer.byteLength(document, 'utf8') > SSM_STANDARD_MAX_BYTES) {
        errors.push(`invalid policy "${name}": (policy): serialised document exceeds ${SSM_STANDARD_MAX_BYTES} bytes`);
        continue;
      }
      out.push({ name, policy, document });
    } catch (err) {
      errors.push(errorMessage(err).replace(/^PolicyValidationError: /, ''));
    }
  }
  return out;
}

/** A schedule expression (trimmed), validated like a policy's `schedule`; errors name the prop. */
function resolveSchedule(prop: string, value: string | undefined, fallback: string, errors: string[]): string {
  if (value === undefined) return fallback;
  const result = PolicySchema.shape.schedule.safeParse(value);
  if (!result.success || result.data === undefined) {
    const message = result.error?.issues.map((i) => i.message).join('; ') ?? 'must be an EventBridge expression';
    errors.push(`${prop}: ${message}, got "${value}"`);
    return fallback;
  }
  return result.data;
}

function validateTagKey(tagKey: string): string[] {
  if (tagKey.length < 1 || tagKey.length > 128) return [`tagKey: must be 1-128 characters, got "${tagKey}"`];
  if (tagKey.toLowerCase().startsWith('aws:')) return [`tagKey: the "aws:" prefix is reserved, got "${tagKey}"`];
  return [];
}

function truncate(s: string, max: number): string {
  return s.length <= max ? s : `${s.slice(0, max - 1)}…`;
}
