/**
 * The IAM actions of the service, as named lists. The grants (BackupServiceGrants, and the
 * triggers' and the state's own statements) build every statement from these lists; no action
 * string is written anywhere else in lib/. Each list is granted as one statement, in this order.
 */

// ---- policies and per-table overrides (SSM) -------------------------------------------------

/** Read the named policies and per-table overrides (every function of the service). */
export const POLICY_READ_ACTIONS: readonly string[] = ['ssm:GetParameter', 'ssm:GetParameters', 'ssm:GetParametersByPath'];

/** Manage the policies and overrides (`ddb-backup` operators). */
export const POLICY_WRITE_ACTIONS: readonly string[] = [
  'ssm:PutParameter',
  'ssm:DeleteParameter',
  'ssm:DeleteParameters',
  'ssm:AddTagsToResource',
];

// ---- notifications ----------------------------------------------------------------------------

/** Publish to the notification topic (the alarms' service principal, in the topic policy). */
export const TOPIC_PUBLISH_ACTIONS: readonly string[] = ['sns:Publish'];

/** Use the topic's key: SNS encrypts with it on the publisher's behalf. */
export const TOPIC_KEY_ACTIONS: readonly string[] = ['kms:Decrypt', 'kms:GenerateDataKey*'];

/**
 * Wildcard KMS actions that CDK's own grants (queues, tables with a customer managed key) add for
 * the service key; cdk-nag reports each, and the service acknowledges them by these names.
 */
export const KEY_DATA_KEY_WILDCARD_ACTIONS: readonly string[] = ['kms:GenerateDataKey*', 'kms:ReEncrypt*'];

// ---- job queue ------------------------------------------------------------------------------

/** What the job queue's policy denies to every principal it does not name (it also covers SendMessageBatch). */
export const JOB_SEND_ACTIONS: readonly string[] = ['sqs:SendMessage'];

// ---- planner --------------------------------------------------------------------------------

/**
 * Discover the tagged tables and list the account's backups once per run (prune sweeps, fleet
 * runs). Neither supports resource-level permissions.
 */
export const PLANNER_DISCOVERY_ACTIONS: readonly string[] = ['tag:GetResources', 'dynamodb:ListBackups'];

// ---- worker ---------------------------------------------------------------------------------

/** Take a backup of a table. */
export const BACKUP_CREATE_ACTIONS: readonly string[] = ['dynamodb:CreateBackup', 'dynamodb:DescribeTable'];

/**
 * The settings snapshot taken after a backup for restores (captureSettings in
 * lambda/aws/table-settings.ts), on the table.
 */
export const SETTINGS_SNAPSHOT_TABLE_ACTIONS: readonly string[] = [
  'dynamodb:ListTagsOfResource',
  'dynamodb:DescribeTimeToLive',
  'dynamodb:DescribeContinuousBackups',
  'dynamodb:GetResourcePolicy',
  'dynamodb:DescribeContributorInsights',
  'dynamodb:DescribeKinesisStreamingDestination',
];

/** The settings snapshot, on each global secondary index (Contributor Insights). */
export const SETTINGS_SNAPSHOT_INDEX_ACTIONS: readonly string[] = ['dynamodb:DescribeContributorInsights'];

/** The settings snapshot, on the Kinesis streaming destinations (DynamoDB describes them with the caller's permissions). */
export const SETTINGS_SNAPSHOT_STREAM_ACTIONS: readonly string[] = ['kinesis:DescribeStreamSummary', 'kinesis:DescribeStream'];

/** The settings snapshot, auto scaling; neither supports resource-level permissions. */
export const SETTINGS_SNAPSHOT_AUTOSCALING_ACTIONS: readonly string[] = [
  'application-autoscaling:DescribeScalableTargets',
  'application-autoscaling:DescribeScalingPolicies',
];

/** PITR per policy (ensurePitr in lambda/aws/pitr.ts: on, or a new recovery period; never off). */
export const PITR_UPDATE_ACTIONS: readonly string[] = ['dynamodb:UpdateContinuousBackups'];

/** Prune: describe a backup still CREATING, delete the service's own expired backups. */
export const BACKUP_PRUNE_ACTIONS: readonly string[] = ['dynamodb:DescribeBackup', 'dynamodb:DeleteBackup'];

// ---- coverage report (digest, `ddb-backup status`) ------------------------------------------

/** Every table of the account, its opt-in tags and its backups; none supports resource-level permissions. */
export const COVERAGE_LIST_ACTIONS: readonly string[] = ['dynamodb:ListTables', 'dynamodb:ListBackups', 'tag:GetResources'];

/** Each table's state and PITR. */
export const COVERAGE_DESCRIBE_ACTIONS: readonly string[] = ['dynamodb:DescribeTable', 'dynamodb:DescribeContinuousBackups'];

// ---- restore (`ddb-backup restore`) ---------------------------------------------------------

/** Restore a backup or a point in time into a new table. */
export const RESTORE_ACTIONS: readonly string[] = ['dynamodb:RestoreTableFromBackup', 'dynamodb:RestoreTableToPointInTime'];

/** Re-apply the source's settings to the restored table (applySettings in lambda/aws/table-settings.ts). */
export const SETTINGS_APPLY_ACTIONS: readonly string[] = [
  'dynamodb:TagResource',
  'dynamodb:UpdateTimeToLive',
  'dynamodb:UpdateContinuousBackups',
  'dynamodb:UpdateTable',
  'dynamodb:UpdateContributorInsights',
  'dynamodb:EnableKinesisStreamingDestination',
];

/** A restore writes the restored items into the new table with the caller's permissions. */
export const RESTORE_DATA_ACTIONS: readonly string[] = [
  'dynamodb:BatchWriteItem',
  'dynamodb:PutItem',
  'dynamodb:UpdateItem',
  'dynamodb:DeleteItem',
  'dynamodb:GetItem',
  'dynamodb:Query',
  'dynamodb:Scan',
];

/** Re-apply the source's resource policy (only on tables without the opt-in tag). */
export const RESOURCE_POLICY_APPLY_ACTIONS: readonly string[] = ['dynamodb:PutResourcePolicy'];

/** A restore with a customer managed key: DynamoDB describes the key and creates a grant on it. */
export const RESTORE_KEY_ACTIONS: readonly string[] = ['kms:DescribeKey', 'kms:CreateGrant'];

/** Re-enable a Kinesis streaming destination: DynamoDB checks the caller may describe and write to it. */
export const STREAMING_DESTINATION_ACTIONS: readonly string[] = [
  'kinesis:DescribeStream',
  'kinesis:DescribeStreamSummary',
  'kinesis:PutRecord',
  'kinesis:PutRecords',
];

/** Target tracking policies: Application Auto Scaling manages their alarms with the caller's permissions. */
export const TARGET_TRACKING_ALARM_ACTIONS: readonly string[] = [
  'cloudwatch:PutMetricAlarm',
  'cloudwatch:DescribeAlarms',
  'cloudwatch:DeleteAlarms',
];

/** Create Application Auto Scaling's service-linked role for DynamoDB (first scalable target of the account). */
export const SERVICE_LINKED_ROLE_ACTIONS: readonly string[] = ['iam:CreateServiceLinkedRole'];

/** Auto scaling targets and policies of the restored table and its indexes; no resource-level permissions. */
export const AUTOSCALING_APPLY_ACTIONS: readonly string[] = [
  'application-autoscaling:RegisterScalableTarget',
  'application-autoscaling:PutScalingPolicy',
];

// ---- size trigger (probe) -------------------------------------------------------------------

/** Publish the size metrics; no resource type (the namespace condition scopes it). */
export const SIZE_METRIC_ACTIONS: readonly string[] = ['cloudwatch:PutMetricData'];

/** Reconcile the size alarms with the service prefix. */
export const SIZE_ALARM_ACTIONS: readonly string[] = ['cloudwatch:DescribeAlarms', 'cloudwatch:PutMetricAlarm', 'cloudwatch:DeleteAlarms'];

/** Read a table's size, item count and latest stream (size probe, stream reconciler). */
export const TABLE_DESCRIBE_ACTIONS: readonly string[] = ['dynamodb:DescribeTable'];

/** Discover the tables carrying the opt-in tag; no resource-level permissions. */
export const TAG_DISCOVERY_ACTIONS: readonly string[] = ['tag:GetResources'];

// ---- change trigger (stream handler, reconciler) --------------------------------------------

/** Read a table stream (the event source mapping, with the function's role). */
export const STREAM_READ_ACTIONS: readonly string[] = ['dynamodb:DescribeStream', 'dynamodb:GetRecords', 'dynamodb:GetShardIterator'];

/** List the streams; no resource-level permissions. */
export const STREAM_LIST_ACTIONS: readonly string[] = ['dynamodb:ListStreams'];

/** Read a table's tags (the stream handler resolves the table's policies). */
export const TABLE_TAGS_READ_ACTIONS: readonly string[] = ['dynamodb:ListTagsOfResource'];

/** Discover the opted-in tables and the existing mappings; no resource-level permissions. */
export const MAPPING_DISCOVERY_ACTIONS: readonly string[] = ['tag:GetResources', 'lambda:ListEventSourceMappings'];

/** Manage the event source mappings of the stream handler (a lambda:FunctionArn condition scopes them). */
export const MAPPING_MANAGE_ACTIONS: readonly string[] = [
  'lambda:CreateEventSourceMapping',
  'lambda:UpdateEventSourceMapping',
  'lambda:DeleteEventSourceMapping',
  'lambda:GetEventSourceMapping',
];

/** Enable a KEYS_ONLY stream where a policy says `enableStream: true` (opted-in tables only). */
export const STREAM_ENABLE_ACTIONS: readonly string[] = ['dynamodb:UpdateTable'];

/** CreateEventSourceMapping checks that the caller may read the stream. */
export const MAPPING_STREAM_CHECK_ACTIONS: readonly string[] = ['dynamodb:DescribeStream', 'dynamodb:ListStreams'];

/** The worker's one read of a (table, policy): its live records and state, from the ledger's live index. */
export const LEDGER_LIVE_INDEX_ACTIONS: readonly string[] = ['dynamodb:Query'];

// ---- restore drills and other long tasks (the waiter's step function) ------------------------

/** Read what a backup held and what its source table is (DescribeBackup, DescribeTable). */
export const DRILL_READ_ACTIONS: readonly string[] = ['dynamodb:DescribeBackup', 'dynamodb:DescribeTable'];

/** Delete a drill's scratch table: only tables named `<table>-drill-<stamp>`. */
export const DRILL_CLEANUP_ACTIONS: readonly string[] = ['dynamodb:DeleteTable'];

// ---- off-site copies (exports to the vault, restore from them) --------------------------------

/** Make a copy: export a table to S3 (on the table; DynamoDB refuses it without PITR). */
export const COPY_EXPORT_ACTIONS: readonly string[] = ['dynamodb:ExportTableToPointInTime'];

/**
 * Follow a copy: DescribeExport (on `<table arn>/export/*`) and ListExports (no resource-level
 * permission). The 'copy' long task (the waiter) needs DescribeExport and the ledger.
 */
export const COPY_DESCRIBE_ACTIONS: readonly string[] = ['dynamodb:DescribeExport'];
export const COPY_LIST_ACTIONS: readonly string[] = ['dynamodb:ListExports'];

/** What an export needs on the vault's objects: write, never delete (copies expire by lifecycle only). */
export const COPY_VAULT_WRITE_ACTIONS: readonly string[] = ['s3:PutObject', 's3:AbortMultipartUpload', 's3:PutObjectAcl'];

/** What a restore from a copy reads in the vault: a copy's objects (on `bucket/*`) and the listing of its prefix (on the bucket). */
export const COPY_VAULT_READ_ACTIONS: readonly string[] = ['s3:GetObject'];
export const COPY_VAULT_LIST_ACTIONS: readonly string[] = ['s3:ListBucket'];

/** The vault key through S3: exports write SSE-KMS objects, imports read them. */
export const COPY_VAULT_KEY_ACTIONS: readonly string[] = ['kms:GenerateDataKey', 'kms:Encrypt', 'kms:Decrypt', 'kms:DescribeKey'];

/** Restore from a copy: ImportTable creates the new table (on it) and logs to CloudWatch Logs. */
export const COPY_IMPORT_ACTIONS: readonly string[] = ['dynamodb:ImportTable', 'dynamodb:DescribeImport'];
export const COPY_IMPORT_LOG_ACTIONS: readonly string[] = [
  'logs:CreateLogGroup',
  'logs:CreateLogStream',
  'logs:DescribeLogGroups',
  'logs:DescribeLogStreams',
  'logs:PutLogEvents',
  'logs:PutRetentionPolicy',
];

/** What the vault's bucket policy denies to every principal of the source accounts. */
export const COPY_VAULT_DENIED_ACTIONS: readonly string[] = ['s3:DeleteObject', 's3:DeleteObjectVersion', 's3:PutObjectRetention', 's3:PutObjectLegalHold', 's3:BypassGovernanceRetention'];
