/**
 * Environment variable names and fixed defaults shared by the CDK constructs (lib/) and the
 * Lambda/CLI code (lambda/). This module must stay import-free so that neither side drags the
 * other into its bundle.
 */
export const ENV = {
  /** Name of the ledger DynamoDB table. */
  LEDGER_TABLE: 'DDB_BACKUP_LEDGER_TABLE',
  /** ARN of the SNS topic for run summaries and failures. */
  TOPIC_ARN: 'DDB_BACKUP_TOPIC_ARN',
  /** URL of the SQS FIFO job queue (planner -> worker). */
  JOB_QUEUE_URL: 'DDB_BACKUP_JOB_QUEUE_URL',
  /** URL of the SQS plan queue (planner -> planner: the next tag pages of a fanned-out run). */
  PLAN_QUEUE_URL: 'DDB_BACKUP_PLAN_QUEUE_URL',
  /** How many containers of this function share the account's API rates (the worker: its concurrency); each gets 1/N of them. */
  RATE_SHARE: 'DDB_BACKUP_RATE_SHARE',
  /** Tag pages (of 100 tables) one planner invocation plans before it hands the rest to the plan queue. */
  PAGES_PER_INVOCATION: 'DDB_BACKUP_PAGES_PER_INVOCATION',
  /** Tag key that opts a table in. */
  TAG_KEY: 'DDB_BACKUP_TAG_KEY',
  /** SSM path prefix of named policies. */
  POLICY_PREFIX: 'DDB_BACKUP_POLICY_PREFIX',
  /** SSM path prefix of per-table overrides. */
  TABLE_OVERRIDE_PREFIX: 'DDB_BACKUP_TABLE_PREFIX',
  /** Seconds a policy read from SSM is cached. */
  POLICY_CACHE_SECONDS: 'DDB_BACKUP_POLICY_CACHE_SECONDS',
  /** Receive count at which a job is on its last attempt before the DLQ. */
  MAX_RECEIVE_COUNT: 'DDB_BACKUP_MAX_RECEIVE_COUNT',
  /** Days a deleted, vanished or failed backup record stays in the ledger (the audit period) before TTL expires it. */
  AUDIT_DAYS: 'DDB_BACKUP_AUDIT_DAYS',
} as const;

/**
 * The ledger's sparse index of live records: a backup record is in it while CLAIMED, CREATING or
 * AVAILABLE, and the (table, policy) state always, under `<table>#<policy>`; a job reads its
 * policy's live records and state with one query, not the table's whole history.
 */
export const LEDGER_INDEX = {
  NAME: 'live',
  PARTITION_KEY: 'livePk',
} as const;

export const DEFAULTS = {
  TAG_KEY: 'backup:policy',
  POLICY_PREFIX: '/dynamodb-backup/policies/',
  TABLE_OVERRIDE_PREFIX: '/dynamodb-backup/tables/',
  POLICY_CACHE_SECONDS: 300,
  MAX_RECEIVE_COUNT: 3,
  /** Prefix of every backup name the service creates; marks the backup as the service's own. */
  BACKUP_NAME_PREFIX: 'ddbbk',
  /** The audit period: the evidence window of the compliance report. */
  AUDIT_DAYS: 400,
} as const;

/** Size trigger (issue #4): the probe, the alarm reconciler and the planner's alarm path. */
export const SIZE_ENV = {
  /** Prefix of the per-(table, policy) growth alarms; the planner acts only on alarms with it. */
  ALARM_PREFIX: 'DDB_BACKUP_SIZE_ALARM_PREFIX',
  /** CloudWatch namespace of the size metrics the probe publishes. */
  METRIC_NAMESPACE: 'DDB_BACKUP_METRIC_NAMESPACE',
  /** Most PutMetricAlarm/DeleteAlarms calls one reconcile makes (the rest follow next run). */
  MAX_ALARM_WRITES: 'DDB_BACKUP_SIZE_MAX_ALARM_WRITES',
  /**
   * Comma-separated `<policy>.<table>` whose alarms CloudFormation owns (`sizeAlarmTables`): the
   * reconciler never creates, updates or deletes them.
   */
  STATIC_ALARMS: 'DDB_BACKUP_SIZE_STATIC_ALARMS',
} as const;

export const SIZE_DEFAULTS = {
  ALARM_PREFIX: 'ddb-backup-size-',
  METRIC_NAMESPACE: 'DynamoDBBackupService',
  /** PutMetricAlarm defaults to 3 calls/s per account: 500 writes take about 3 minutes. */
  MAX_ALARM_WRITES: 500,
} as const;

/** Change trigger (issue #5): the stream handler and the event source mapping reconciler. */
export const STREAM_ENV = {
  /** Name or ARN of the stream handler function; the reconciler maps table streams to it. */
  FUNCTION_NAME: 'DDB_BACKUP_STREAM_FUNCTION',
  /** ARN of the SQS queue that receives the records of stream batches that failed for good. */
  ON_FAILURE_ARN: 'DDB_BACKUP_STREAM_ON_FAILURE_ARN',
  /** Minutes after which a crossing whose job is still not backed up is enqueued again. */
  REARM_MINUTES: 'DDB_BACKUP_CHANGES_REARM_MINUTES',
  /** Seconds a table's tags are cached by the stream handler. */
  TAG_CACHE_SECONDS: 'DDB_BACKUP_TAG_CACHE_SECONDS',
} as const;

export const STREAM_DEFAULTS = {
  /** Event source mapping settings. */
  BATCH_SIZE: 1000,
  MAX_BATCHING_WINDOW_SECONDS: 5,
  MAX_RETRY_ATTEMPTS: 5,
  /** `changes.windowMinutes` when a policy sets deleteStorm without it. */
  WINDOW_MINUTES: 5,
  /** `changes.pruneFreezeHours` default. */
  PRUNE_FREEZE_HOURS: 24,
  /** SQS FIFO deduplicates for 5 minutes; a pending crossing is re-sent at most this often. */
  REARM_MINUTES: 15,
  TAG_CACHE_SECONDS: 300,
} as const;

/** Coverage digest (issue #6): the daily Lambda that reports unprotected, stale and failing tables. */
export const DIGEST_ENV = {
  /** Comma-separated table names or `prefix*` patterns left out of the coverage digest. */
  IGNORE_TABLES: 'DDB_BACKUP_DIGEST_IGNORE_TABLES',
} as const;

/** CloudTrail feed (issue #14): table events keep the ledger current instead of polling. */
export const FEED_ENV = {
  /**
   * Days between safety refreshes of a table's settings snapshot and PITR check while the
   * CloudTrail feed is alive (each table on its own day of the cycle); daily while it is not.
   */
  SETTINGS_REFRESH_DAYS: 'DDB_BACKUP_SETTINGS_REFRESH_DAYS',
} as const;

export const FEED_DEFAULTS = {
  SETTINGS_REFRESH_DAYS: 30,
} as const;

/** Metrics (issue #18): the EMF metrics of the worker, planner and digest. */
export const METRICS_ENV = {
  /** `true`: add a `Table` dimension set next to `Policy` (one metric per table: costs more). */
  PER_TABLE: 'DDB_BACKUP_METRICS_PER_TABLE',
} as const;

/** The digest's hourly event: publish the recovery-point age metrics only (no SNS digest). */
export const AGE_TICK_EVENT = { metricsOnly: true } as const;
