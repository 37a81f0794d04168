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
} as const;

export const DEFAULTS = {
  TAG_KEY: 'backup:policy',
  POLICY_PREFIX: '/dynamodb-backup/policies/',
  TABLE_OVERRIDE_PREFIX: '/dynamodb-backup/tables/',
  POLICY_CACHE_SECONDS: 300,
  MAX_RECEIVE_COUNT: 3,
  /** Prefix of every backup name the service creates; marks the backup as the service's own. */
  BACKUP_NAME_PREFIX: 'ddbbk',
} as const;
