import * as logs from 'aws-cdk-lib/aws-logs';
import { DEFAULTS } from '../../lambda/env';
import { PolicySchema } from '../../lambda/core/policy';
import type { DynamoDbBackupServiceProps } from '../dynamodb-backup-service';
import type { SizeTriggerProps } from '../size-trigger';
import { DEFAULT_WORKER_CONCURRENCY } from './backup-functions';
import { DEFAULT_DIGEST_SCHEDULE, IGNORE_PATTERN } from './coverage-digest';
import { DEFAULT_PRUNE_SCHEDULE } from './planner-rules';

/** Schedule of the size probe (reconcile the size alarms, publish size metrics): hourly. */
export const DEFAULT_PROBE_SCHEDULE = 'rate(1 hour)';

/** Schedule of the stream mapping reconciler: every 15 minutes. */
export const DEFAULT_RECONCILE_SCHEDULE = 'rate(15 minutes)';

/** How DynamoDbBackupService deploys its SizeTrigger. */
export interface SizeTriggerOptions extends Pick<SizeTriggerProps, 'sizeAlarmTables'> {
  /**
   * Whether to deploy size-triggered backups (SizeTrigger): a scheduled probe publishes table size
   * and growth metrics and keeps one CloudWatch alarm per (table, policy) with a `size` trigger;
   * an EventBridge rule sends the alarms' ALARM state changes to the planner. `sizeAlarmTables`
   * needs it.
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
}

/** How DynamoDbBackupService deploys its ChangeTrigger. */
export interface ChangeTriggerOptions {
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
}

/** The service's props with their defaults applied; every one valid. */
export interface ResolvedOptions {
  readonly tagKey: string;
  readonly maxReceiveCount: number;
  readonly workerConcurrency: number;
  /** `auditPeriod` in whole days. */
  readonly auditDays: number;
  readonly logRetention: logs.RetentionDays;
  readonly pruneSchedule: string;
  readonly probeSchedule: string;
  readonly reconcileSchedule: string;
  readonly digestSchedule: string;
}

/**
 * Applies the defaults to the service's props and checks them, whether the feature they configure
 * is deployed or not. A problem goes to `errors` (reported at synth, all at once) and the default
 * is used instead, so that the construct tree is built in full.
 */
export function resolveOptions(props: DynamoDbBackupServiceProps, errors: string[]): ResolvedOptions {
  const tagKey = props.tagKey ?? DEFAULTS.TAG_KEY;
  errors.push(...validateTagKey(tagKey));
  const maxReceiveCount = resolveInteger('maxReceiveCount', props.maxReceiveCount, DEFAULTS.MAX_RECEIVE_COUNT, 1, 1000, errors);
  // 2: the smallest maximum concurrency of an SQS event source.
  const workerConcurrency = resolveInteger('workerConcurrency', props.workerConcurrency, DEFAULT_WORKER_CONCURRENCY, 2, 1000, errors);
  const resolved: ResolvedOptions = {
    tagKey,
    maxReceiveCount,
    workerConcurrency,
    auditDays: resolveInteger('auditPeriod (days)', props.auditPeriod?.toDays(), DEFAULTS.AUDIT_DAYS, 1, 3650, errors),
    logRetention: props.logRetention ?? logs.RetentionDays.ONE_MONTH,
    pruneSchedule: resolveSchedule('pruneSchedule', props.pruneSchedule, DEFAULT_PRUNE_SCHEDULE, errors),
    probeSchedule: resolveSchedule('probeSchedule', props.probeSchedule, DEFAULT_PROBE_SCHEDULE, errors),
    reconcileSchedule: resolveSchedule('reconcileSchedule', props.reconcileSchedule, DEFAULT_RECONCILE_SCHEDULE, errors),
    digestSchedule: resolveSchedule('digestSchedule', props.digestSchedule, DEFAULT_DIGEST_SCHEDULE, errors),
  };
  for (const pattern of props.digestIgnoreTables ?? []) {
    if (!IGNORE_PATTERN.test(pattern) || pattern.includes(',')) {
      errors.push(`digestIgnoreTables: "${pattern}" is not a table name or a "prefix*" pattern`);
    }
  }
  if (!(props.sizeTriggers ?? true) && (props.sizeAlarmTables ?? []).length > 0) {
    errors.push('sizeAlarmTables: needs sizeTriggers (the size alarms go to the planner through the SizeTrigger rule)');
  }
  return resolved;
}

/** A whole number from `min` to `max`; errors name the prop. */
function resolveInteger(prop: string, value: number | undefined, fallback: number, min: number, max: number, errors: string[]): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < min || value > max) {
    errors.push(`${prop}: must be an integer from ${min} to ${max}, got ${value}`);
    return fallback;
  }
  return value;
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
