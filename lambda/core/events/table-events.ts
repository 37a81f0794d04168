import { z } from 'zod';
import { TableNotFoundError, errorMessage } from '../errors';
import { silentLog, type Log } from '../log';
import { isLive, type Clock, type LedgerPort } from '../ports';

/**
 * CloudTrail management events (through EventBridge) that keep the ledger current, so the worker
 * need not poll: a DeleteBackup made outside the service marks the ledger's record VANISHED, and a
 * call that changes a table's settings takes a fresh settings snapshot at once. Every event also
 * beats the feed's heartbeat, which tells the worker that the feed is alive (./feed.ts).
 *
 * Safe by construction: an event only ever moves a live record (AVAILABLE or CREATING) of the
 * table named in the backup's ARN to VANISHED, never one the service marked DELETED, and never
 * adds a candidate for deletion. An event of an unknown shape is logged and ignored (never thrown:
 * a retry cannot make it readable).
 */

/** The DynamoDB calls that change what a settings snapshot holds. */
export const DYNAMODB_SETTINGS_EVENTS = [
  'UpdateTable',
  'TagResource',
  'UntagResource',
  'UpdateTimeToLive',
  'UpdateContinuousBackups',
  'PutResourcePolicy',
  'DeleteResourcePolicy',
  'UpdateContributorInsights',
  'EnableKinesisStreamingDestination',
  'DisableKinesisStreamingDestination',
  'UpdateKinesisStreamingDestination',
] as const;

/** The Application Auto Scaling calls that change a DynamoDB table's (or index's) auto scaling. */
export const AUTOSCALING_SETTINGS_EVENTS = ['RegisterScalableTarget', 'DeregisterScalableTarget', 'PutScalingPolicy', 'DeleteScalingPolicy'] as const;

/** The DynamoDB call whose event marks a backup deleted outside the service. */
export const DELETE_BACKUP_EVENT = 'DeleteBackup';

const CloudTrailEventSchema = z.object({
  source: z.string(),
  time: z.string().optional(),
  detail: z.object({
    eventName: z.string(),
    eventTime: z.string().optional(),
    errorCode: z.string().optional(),
    userIdentity: z.object({ arn: z.string().optional(), type: z.string().optional(), invokedBy: z.string().optional() }).optional(),
    requestParameters: z.record(z.string(), z.unknown()).nullish(),
  }),
});

export type TableEvent =
  | { readonly kind: 'backup-deleted'; readonly table: string; readonly backupArn: string; readonly by: string; readonly at: string }
  | {
      readonly kind: 'settings-changed';
      readonly table: string;
      readonly eventName: string;
      readonly by: string;
      readonly at: string;
      /** UpdateContinuousBackups: the next backup of every policy re-checks PITR. */
      readonly pitr: boolean;
      /** Tag keys the call adds (TagResource): a table that gains the opt-in tag is handled before the ledger knows it. */
      readonly tagsAdded: readonly string[];
    }
  /** `unreadable`: not a CloudTrail API call event at all (no heartbeat). */
  | { readonly kind: 'ignored'; readonly reason: string; readonly at?: string; readonly unreadable?: true };

const TABLE_ARN = /^arn:[^:]+:dynamodb:[^:]*:[^:]*:table\/([A-Za-z0-9_.-]{3,255})(?:\/.*)?$/;
const BACKUP_ARN = /^arn:[^:]+:dynamodb:[^:]*:[^:]*:table\/([A-Za-z0-9_.-]{3,255})\/backup\/[^/]+$/;
const SCALING_RESOURCE = /^table\/([A-Za-z0-9_.-]{3,255})(?:\/index\/[^/]+)?$/;
const TABLE_NAME = /^[A-Za-z0-9_.-]{3,255}$/;

const str = (v: unknown): string | undefined => (typeof v === 'string' && v.length > 0 ? v : undefined);

/** The table a backup ARN belongs to (`arn:...:table/<T>/backup/<id>`); undefined for anything else. */
export function tableOfBackupArn(arn: string): string | undefined {
  return BACKUP_ARN.exec(arn)?.[1];
}

/** The table a DynamoDB call acts on: `tableName`, or a table (index, stream) ARN in `resourceArn`. */
function tableOfRequest(params: Record<string, unknown>): string | undefined {
  const name = str(params.tableName);
  if (name) return TABLE_NAME.test(name) ? name : TABLE_ARN.exec(name)?.[1];
  const arn = str(params.resourceArn);
  return arn && !BACKUP_ARN.test(arn) ? TABLE_ARN.exec(arn)?.[1] : undefined;
}

function tagKeys(params: Record<string, unknown>): string[] {
  const tags = Array.isArray(params.tags) ? (params.tags as unknown[]) : [];
  return tags.map((t) => str((t as { key?: unknown; Key?: unknown } | null)?.key) ?? str((t as { Key?: unknown } | null)?.Key)).filter((k): k is string => !!k);
}

/** Reads one EventBridge event into what it means for the ledger. Never throws. */
export function readTableEvent(raw: unknown): TableEvent {
  const parsed = CloudTrailEventSchema.safeParse(raw);
  if (!parsed.success) return { kind: 'ignored', unreadable: true, reason: `not a CloudTrail API call event: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(event)'}: ${i.message}`).join('; ')}` };
  const { source, time, detail } = parsed.data;
  const at = detail.eventTime ?? time ?? '';
  const by = detail.userIdentity?.arn ?? detail.userIdentity?.invokedBy ?? detail.userIdentity?.type ?? 'an unknown caller';
  const ignored = (reason: string): TableEvent => ({ kind: 'ignored', reason, ...(at ? { at } : {}) });
  if (detail.errorCode) return ignored(`${detail.eventName} failed (${detail.errorCode}): nothing changed`);
  const params = detail.requestParameters ?? {};
  if (source === 'aws.dynamodb' && detail.eventName === DELETE_BACKUP_EVENT) {
    const backupArn = str(params.backupArn);
    const table = backupArn ? tableOfBackupArn(backupArn) : undefined;
    if (!backupArn || !table) return ignored(`DeleteBackup without a backup ARN of a table: ${JSON.stringify(params).slice(0, 300)}`);
    return { kind: 'backup-deleted', table, backupArn, by, at };
  }
  let table: string | undefined;
  if (source === 'aws.dynamodb' && (DYNAMODB_SETTINGS_EVENTS as readonly string[]).includes(detail.eventName)) {
    table = tableOfRequest(params);
  } else if (source === 'aws.application-autoscaling' && (AUTOSCALING_SETTINGS_EVENTS as readonly string[]).includes(detail.eventName)) {
    if (str(params.serviceNamespace) !== 'dynamodb') return ignored(`${detail.eventName} of another service's resource`);
    table = SCALING_RESOURCE.exec(str(params.resourceId) ?? '')?.[1];
  } else {
    return ignored(`${source} ${detail.eventName} does not concern the ledger`);
  }
  if (!table) return ignored(`${detail.eventName} names no table: ${JSON.stringify(params).slice(0, 300)}`);
  const pitr = detail.eventName === 'UpdateContinuousBackups';
  return { kind: 'settings-changed', table, eventName: detail.eventName, by, at, pitr, tagsAdded: detail.eventName === 'TagResource' ? tagKeys(params) : [] };
}

/** What the ledger knows of a table: the policies it keeps state for, and whether it holds a settings snapshot. */
export interface KnownTable {
  readonly policies: readonly string[];
  readonly snapshot: boolean;
}

/** The feed's own ledger items and the settings upkeep (lambda/aws/table-events.ts). */
export interface TableFeedStore {
  /** Notes that the feed delivered an event of `at` (at most about once a minute; never moves back). */
  beat(at: Date, now: Date): Promise<void>;
  knownTable(table: string): Promise<KnownTable>;
  /** Captures and stores the table's settings now: 'captured', or 'not-ready' (the table is being created or updated). */
  snapshot(table: string, now: Date): Promise<'captured' | 'not-ready'>;
  /**
   * Makes the next backup of each policy redo upkeep: take the settings snapshot (`settings`),
   * check PITR against the policy (`pitr`).
   */
  redoUpkeep(table: string, policies: readonly string[], what: { settings: boolean; pitr: boolean }): Promise<void>;
}

export interface TableEventPorts {
  readonly ledger: Pick<LedgerPort, 'listBackupRecords' | 'setBackupStatus'>;
  readonly feed: TableFeedStore;
  readonly clock: Clock;
  /** The opt-in tag key: a TagResource that adds it is handled even before the ledger knows the table. */
  readonly tagKey: string;
  readonly log?: Log;
}

export interface TableEventOutcome {
  readonly action: 'vanished' | 'not-live' | 'not-recorded' | 'snapshot' | 'redo-upkeep' | 'ignored';
  readonly table?: string;
  readonly reason?: string;
}

/**
 * Carries one event into the ledger. Ledger errors are thrown (EventBridge retries the delivery,
 * then dead-letters it); a failed settings snapshot falls back to having the next backup take it.
 */
export async function handleTableEvent(ports: TableEventPorts, raw: unknown): Promise<TableEventOutcome> {
  const log = ports.log ?? silentLog;
  const now = ports.clock.now();
  const ev = readTableEvent(raw);
  if (ev.kind === 'ignored' && ev.unreadable) {
    log.warn('table event ignored', { reason: ev.reason });
    return { action: 'ignored', reason: ev.reason };
  }
  const at = ev.at ? new Date(ev.at) : now;
  try {
    await ports.feed.beat(Number.isNaN(at.getTime()) ? now : at, now);
  } catch (err) {
    // A missed beat only lets the feed look dead sooner: the worker then lists, as without it.
    log.warn('feed heartbeat not written', { error: errorMessage(err) });
  }
  if (ev.kind === 'ignored') {
    log.info('table event ignored', { reason: ev.reason });
    return { action: 'ignored', reason: ev.reason };
  }
  if (ev.kind === 'backup-deleted') return markVanished(ports, ev, log);
  return refreshSettings(ports, ev, now, log);
}

async function markVanished(ports: TableEventPorts, ev: Extract<TableEvent, { kind: 'backup-deleted' }>, log: Log): Promise<TableEventOutcome> {
  const record = (await ports.ledger.listBackupRecords(ev.table)).find((r) => r.table === ev.table && r.backupArn === ev.backupArn);
  if (!record) return { action: 'not-recorded', table: ev.table, reason: 'not a backup of the ledger' };
  // A record the service marked DELETED (its own deletion) or already VANISHED is left alone.
  if (!isLive(record)) return { action: 'not-live', table: ev.table, reason: `ledger status ${record.status}` };
  const reason = `deleted outside the service by ${ev.by} (CloudTrail DeleteBackup${ev.at ? ` at ${ev.at}` : ''})`;
  const moved = await ports.ledger.setBackupStatus(record, 'VANISHED', { at: ev.at || ports.clock.now().toISOString(), reason }, ['AVAILABLE', 'CREATING']);
  if (!moved) return { action: 'not-live', table: ev.table, reason: 'no longer live when marked' };
  log.warn('backup vanished outside the service', { table: ev.table, policy: record.policy, backupArn: ev.backupArn, by: ev.by });
  return { action: 'vanished', table: ev.table, reason };
}

async function refreshSettings(
  ports: TableEventPorts,
  ev: Extract<TableEvent, { kind: 'settings-changed' }>,
  now: Date,
  log: Log,
): Promise<TableEventOutcome> {
  const known = await ports.feed.knownTable(ev.table);
  if (known.policies.length === 0 && !known.snapshot && !ev.tagsAdded.includes(ports.tagKey)) {
    return { action: 'ignored', table: ev.table, reason: 'a table the service does not back up' };
  }
  let captured: 'captured' | 'not-ready' | 'failed';
  try {
    captured = await ports.feed.snapshot(ev.table, now);
  } catch (err) {
    if (err instanceof TableNotFoundError) return { action: 'ignored', table: ev.table, reason: 'the table is gone' };
    log.warn('settings snapshot after a table event failed; the next backup takes it', { table: ev.table, event: ev.eventName, error: errorMessage(err) });
    captured = 'failed';
  }
  const redo = { settings: captured !== 'captured', pitr: ev.pitr };
  if (redo.settings || redo.pitr) await ports.feed.redoUpkeep(ev.table, known.policies, redo);
  log.info('settings changed', { table: ev.table, event: ev.eventName, by: ev.by, snapshot: captured, pitrRecheck: ev.pitr });
  return { action: captured === 'captured' ? 'snapshot' : 'redo-upkeep', table: ev.table, reason: `${ev.eventName} by ${ev.by}` };
}
