import type * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import type * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import type * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { SIZE_DEFAULTS, SIZE_ENV } from '../lambda/env';
import type { Policy } from '../lambda/core/policy';
import { BackupServiceGrants } from './backup-service-grants';
import { BackupState } from './backup-state';
import type { BackupStateProps } from './backup-state';
import { ChangeTrigger } from './change-trigger';
import type { LogRetentionProps, OptInTagProps } from './common-props';
import { logMessageAlarm } from './private/alarms';
import { BackupFunctions, PLANNER_TIMEOUT, WORKER_TIMEOUT } from './service/backup-functions';
import type { BackupFunctionsOptions } from './service/backup-functions';
import { CoverageDigest } from './service/coverage-digest';
import type { CoverageDigestOptions } from './service/coverage-digest';
import { JobQueues } from './service/job-queues';
import { LongTaskWaiter } from './service/long-task-waiter';
import type { JobQueuesOptions } from './service/job-queues';
import { ServiceDashboard } from './service/dashboard';
import { resolveOptions } from './service/options';
import type { ChangeTriggerOptions, SizeTriggerOptions } from './service/options';
import { PlannerRules } from './service/planner-rules';
import type { PlannerRulesOptions } from './service/planner-rules';
import { PolicyParameters } from './service/policy-parameters';
import { RpoAlarms, applyMetricsContext } from './service/rpo-alarms';
import type { PolicyParametersProps } from './service/policy-parameters';
import { SizeTrigger } from './size-trigger';
import { TableEvents } from './service/table-events';
import type { TableEventsOptions } from './service/table-events';

export { DEFAULT_WORKER_CONCURRENCY, SERVICE_NAME } from './service/backup-functions';
export { DEFAULT_DIGEST_SCHEDULE } from './service/coverage-digest';
export { DEFAULT_PROBE_SCHEDULE, DEFAULT_RECONCILE_SCHEDULE } from './service/options';
export { DEFAULT_PRUNE_SCHEDULE } from './service/planner-rules';
export type {
  BackupFunctionsOptions,
  ChangeTriggerOptions,
  CoverageDigestOptions,
  JobQueuesOptions,
  PlannerRulesOptions,
  PolicyParametersProps,
  SizeTriggerOptions,
  TableEventsOptions,
};

/** CloudWatch namespace of the service's metrics (the size probe's too). */
export const METRIC_NAMESPACE = SIZE_DEFAULTS.METRIC_NAMESPACE;

/**
 * `message` of the JSON log line (Powertools Logger) the worker, planner and digest write when
 * the SNS publish of a run summary fails; counted into NOTIFY_FAILURES_METRIC.
 */
export const NOTIFY_FAILURE_MESSAGE = 'run summary not published';

/** Metric (in METRIC_NAMESPACE) of the run summaries that could not be published. */
export const NOTIFY_FAILURES_METRIC = 'NotifyFailures';

/** State the service writes to, when it lives elsewhere (e.g. BackupStateStack). */
export interface GivenStateProps {
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
}

/**
 * Props of DynamoDbBackupService: the props of each of its parts, declared there once.
 * `encryptionKey`, `ledgerRemovalPolicy` and `notificationEmails` are BackupState's: the last two
 * apply only when the service creates its own state (no `ledgerTable` and `topic`).
 */
export interface DynamoDbBackupServiceProps
  extends BackupStateProps,
    GivenStateProps,
    OptInTagProps,
    LogRetentionProps,
    PolicyParametersProps,
    JobQueuesOptions,
    BackupFunctionsOptions,
    PlannerRulesOptions,
    SizeTriggerOptions,
    ChangeTriggerOptions,
    CoverageDigestOptions,
    TableEventsOptions {}

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
 *
 * Its parts (lib/service/) build their resources directly in this construct's scope, so the
 * construct paths and logical IDs are those of the deployed stacks.
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
  /** The permissions of the service's functions and of the `ddb-backup` CLI. */
  public readonly grants: BackupServiceGrants;
  /** The CloudTrail feed that keeps the ledger current; undefined when `tableEvents` is false. */
  public readonly tableEvents?: TableEvents;
  /** RPO alarms (to the topic) on NewestBackupAgeSeconds, by policy; none without the coverage digest. */
  public readonly rpoAlarms: Readonly<Record<string, cloudwatch.Alarm>>;
  /** Backups, ages against RPO, queues, worker and triggers on one CloudWatch dashboard. */
  public readonly dashboard: cloudwatch.Dashboard;
  /** The long-task waiter (restore drills); created when a policy has `drill`. */
  public readonly waiter?: LongTaskWaiter;

  constructor(scope: Construct, id: string, props: DynamoDbBackupServiceProps = {}) {
    super(scope, id);
    const errors: string[] = [];
    this.node.addValidation({ validate: () => errors });
    const options = resolveOptions(props, errors);
    this.tagKey = options.tagKey;
    this.pruneSchedule = options.pruneSchedule;

    // ---- state: given, or created here ----------------------------------------------------------
    if ((props.ledgerTable === undefined) !== (props.topic === undefined)) {
      throw new Error(`${this.node.path}: give both ledgerTable and topic, or neither`);
    }
    if (props.ledgerTable && props.topic) {
      this.ledgerTable = props.ledgerTable;
      this.topic = props.topic;
      this.encryptionKey =
        props.encryptionKey ?? new kms.Key(this, 'Key', { description: 'DynamoDB backup service: job queues', enableKeyRotation: true });
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
    const { ledgerTable, topic, encryptionKey, tagKey } = this;

    // ---- policies, queues, permissions, functions, rules ----------------------------------------
    const policies = new PolicyParameters(this, props);
    this.policies = policies.policies;

    const queues = new JobQueues(this, { maxReceiveCount: options.maxReceiveCount, encryptionKey, workerTimeout: WORKER_TIMEOUT, plannerTimeout: PLANNER_TIMEOUT, topic });
    this.jobQueue = queues.jobQueue;
    this.deadLetterQueue = queues.deadLetterQueue;
    this.triggerDeadLetterQueue = queues.triggerDeadLetterQueue;

    this.grants = new BackupServiceGrants({
      scope: this,
      ledgerTable,
      topic,
      encryptionKey,
      jobQueue: this.jobQueue,
      jobQueueSenders: queues.senders,
      tagKey,
    });

    const functions = new BackupFunctions(this, {
      ledgerTable,
      topic,
      tagKey,
      maxReceiveCount: options.maxReceiveCount,
      logRetention: options.logRetention,
      workerConcurrency: options.workerConcurrency,
      auditDays: options.auditDays,
      jobQueue: this.jobQueue,
      planQueue: queues.planQueue,
      deadLetterQueue: this.triggerDeadLetterQueue,
      grants: this.grants,
    });
    this.planner = functions.planner;
    this.worker = functions.worker;

    const rules = new PlannerRules(this, {
      pruneSchedule: options.pruneSchedule,
      planner: this.planner,
      policies: policies.deployed,
      deadLetterQueue: this.triggerDeadLetterQueue,
    });
    this.scheduleRules = rules.scheduleRules;
    this.pruneRules = rules.pruneRules;

    // ---- size and change triggers ---------------------------------------------------------------
    if (props.sizeTriggers ?? true) {
      this.sizeTrigger = new SizeTrigger(this, 'SizeTrigger', {
        planner: this.planner,
        ledgerTable,
        topic,
        encryptionKey,
        tagKey,
        probeSchedule: events.Schedule.expression(options.probeSchedule),
        logRetention: options.logRetention,
        alarmPrefix: props.sizeAlarmPrefix,
        policies: this.policies,
        sizeAlarmTables: props.sizeAlarmTables,
        deadLetterQueue: this.triggerDeadLetterQueue,
      });
      // The planner acts only on alarms with the prefix; it defaults to SIZE_DEFAULTS.ALARM_PREFIX.
      if (this.sizeTrigger.alarmPrefix !== SIZE_DEFAULTS.ALARM_PREFIX) {
        this.planner.addEnvironment(SIZE_ENV.ALARM_PREFIX, this.sizeTrigger.alarmPrefix);
      }
    }
    if (props.changeTriggers ?? true) {
      this.changeTrigger = new ChangeTrigger(this, 'ChangeTrigger', {
        jobQueue: this.jobQueue,
        ledgerTable,
        topic,
        encryptionKey,
        tagKey,
        reconcileSchedule: events.Schedule.expression(options.reconcileSchedule),
        logRetention: options.logRetention,
        scheduleDeadLetterQueue: this.triggerDeadLetterQueue,
      });
      // The stream handler enqueues change-triggered jobs.
      queues.senders.allow(this.changeTrigger.streamHandler.role!);
    }

    if (props.tableEvents ?? true) {
      const feed = { ledgerTable, topic, tagKey, logRetention: options.logRetention, worker: this.worker };
      this.tableEvents = new TableEvents(this, { ...feed, deadLetterQueue: this.triggerDeadLetterQueue, settingsRefreshDays: props.settingsRefreshDays });
    }

    // ---- coverage digest ------------------------------------------------------------------------
    let digest: CoverageDigest | undefined;
    if (props.coverageDigest ?? true) {
      digest = new CoverageDigest(this, {
        ledgerTable,
        topic,
        tagKey,
        logRetention: options.logRetention,
        digestSchedule: options.digestSchedule,
        digestIgnoreTables: props.digestIgnoreTables,
        deadLetterQueue: this.triggerDeadLetterQueue,
        grants: this.grants,
      });
      this.digest = digest.fn;
      this.digestRule = digest.rule;
    }

    // ---- restore drills: the long-task waiter and one schedule per policy with `drill` -----------
    const drills = policies.deployed.filter((p) => p.policy.drill);
    if (drills.length > 0) {
      const { logRetention } = options;
      this.waiter = new LongTaskWaiter(this, 'LongTaskWaiter', { ledgerTable, topic, encryptionKey, tagKey, logRetention, grants: this.grants });
      for (const { name, policy } of drills) this.waiter.addDrillSchedule(name, policy.drill!.schedule);
    }

    // ---- notification failures ------------------------------------------------------------------
    // The functions that publish run summaries log NOTIFY_FAILURE_MESSAGE when a publish fails.
    // The alarm's own notification goes to the same topic: it reaches someone when the publish
    // failed for a passing reason (throttling, a function's own permissions).
    this.notifyFailureAlarm = logMessageAlarm(this, 'NotifyFailureAlarm', {
      logGroups: {
        Planner: functions.plannerLogGroup,
        Worker: functions.workerLogGroup,
        ...(digest ? { Digest: digest.logGroup } : {}),
      },
      message: NOTIFY_FAILURE_MESSAGE,
      namespace: METRIC_NAMESPACE,
      metricName: NOTIFY_FAILURES_METRIC,
      description: `Run summaries could not be published to the notification topic (log lines "${NOTIFY_FAILURE_MESSAGE}" of the planner, worker or digest)`,
      topic,
    });
    // ---- observability: RPO alarms (ages come from the digest), dashboard, per-table metrics -----
    const rpo = digest && new RpoAlarms(this, { policies: this.policies, namespace: METRIC_NAMESPACE, topic, ageFunction: digest.fn, deadLetterQueue: this.triggerDeadLetterQueue });
    this.rpoAlarms = rpo ? rpo.alarms : {};
    this.dashboard = new ServiceDashboard(this, { namespace: METRIC_NAMESPACE, sources: this, rpoAlarms: this.rpoAlarms }).dashboard;
    applyMetricsContext(this, [this.planner, this.worker, this.digest]);
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
    return this.grants.run(grantee);
  }

  /**
   * Grants what `ddb-backup status` (the coverage report) reads: every table of the account
   * (ListTables, DescribeTable, DescribeContinuousBackups, ListBackups), the opt-in tags, the
   * policies and the ledger.
   */
  public grantStatus(grantee: iam.IGrantable): iam.Grant {
    return this.grants.status(grantee);
  }

  /**
   * Grants what `ddb-backup restore` needs: restore a backup or a point in time into a NEW table,
   * then re-apply the source's settings to it. See BackupServiceGrants.restore.
   */
  public grantRestore(grantee: iam.IGrantable): iam.Grant {
    return this.grants.restore(grantee);
  }

  /**
   * Grants an operator what the `ddb-backup` CLI needs: run the service in-process, report
   * coverage (`status`), manage policies and overrides in SSM, delete a backup
   * (`backups delete`, part of `grantRun`) and restore backups into new tables (`grantRestore`).
   */
  public grantOperator(grantee: iam.IGrantable): iam.Grant {
    return this.grants.operator(grantee);
  }
}
