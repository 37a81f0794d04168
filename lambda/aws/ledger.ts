import {
  CreateTableCommand,
  DescribeTableCommand,
  UpdateTableCommand,
  UpdateContinuousBackupsCommand,
  UpdateTimeToLiveCommand,
  waitUntilTableExists,
  type DynamoDBClient,
} from '@aws-sdk/client-dynamodb';
import {
  DynamoDBDocumentClient,
  type UpdateCommandInput,
  GetCommand,
  PutCommand,
  TransactWriteCommand,
  UpdateCommand,
  paginateQuery,
  paginateScan,
} from '@aws-sdk/lib-dynamodb';
import { DEFAULTS, LEDGER_INDEX } from '../env';
import type { BackupJob } from '../core/jobs';
import { conditionFailedAt, conditionHeld, isConditionFailure, isMissingIndex, isNotFound } from './errors';
import { RunLedgerStore, ttl } from './run-ledger';
import { ClaimLostError, STALE_CLAIM_MS, cooldownReason } from '../core/backup/claim';
import type { BackupHold, ClaimOutcome, ClaimRequest, LedgerBackupRecord, LedgerPort, LedgerStatus, RecordedBackup, TableState } from '../core/ports';
import type { TableSettings } from '../core/restore/restore';

/**
 * The ledger: one DynamoDB table (pk, sk) holding
 *  - a backup record per (table, policy, slot)   pk=TABLE#<table>  sk=BACKUP#<policy>#<slot>
 *  - the latest state per (table, policy)        pk=TABLE#<table>  sk=STATE#<policy>
 *  - run headers and per-job run results          pk=RUN#<runId>    sk=RUN | RESULT#<table>#<policy>
 *    (run tracking lives in ./run-ledger.ts, the base class)
 * The backup record doubles as the durable idempotency key: it is claimed with a conditional put.
 *
 * Scale: a record is in the sparse `live` index (livePk = <table>#<policy>) while CLAIMED,
 * CREATING or AVAILABLE, and so is the state item; a job reads both with one query bounded by
 * what retention keeps. A record leaves the index when it fails, is deleted or vanishes, and then
 * expires (TTL `expiresAt`) after the audit period.
 */

/** A ledger backup record as stored, with its keys. */
export type BackupRecord = LedgerBackupRecord & { readonly pk: string; readonly sk: string; readonly livePk?: string; readonly expiresAt?: number };
type RecordKey = Pick<LedgerBackupRecord, 'table' | 'policy' | 'slot'>;
export type { LedgerStatus, TableState };

const tablePk = (table: string) => `TABLE#${table}`;
const backupSk = (policy: string, slot: string) => `BACKUP#${policy}#${slot}`;
const stateSk = (policy: string) => `STATE#${policy}`;
const liveKey = (table: string, policy: string) => `${table}#${policy}`;
const LIVE = LEDGER_INDEX.PARTITION_KEY;

/** The ledger table exists but is not a ledger (another key schema): it is left untouched. */
export class LedgerSchemaError extends Error {
  override readonly name = 'LedgerSchemaError';
}

/** The live index: records of one (table, policy) in use, and its state. */
const liveIndex = {
  IndexName: LEDGER_INDEX.NAME,
  KeySchema: [
    { AttributeName: LIVE, KeyType: 'HASH' as const },
    { AttributeName: 'sk', KeyType: 'RANGE' as const },
  ],
  Projection: { ProjectionType: 'ALL' as const },
};

export class Ledger extends RunLedgerStore implements LedgerPort {
  /** Days a record out of use (failed, deleted, vanished) is kept before TTL expires it. */
  readonly auditDays: number;

  constructor(
    private readonly ddb: DynamoDBClient,
    tableName: string,
    opts: { auditDays?: number } = {},
  ) {
    super(DynamoDBDocumentClient.from(ddb, { marshallOptions: { removeUndefinedValues: true } }), tableName);
    this.auditDays = opts.auditDays ?? DEFAULTS.AUDIT_DAYS;
  }

  /** When a record that left use at `at` expires (epoch seconds, the TTL attribute). */
  private expiry(at: string | Date): number {
    return ttl(new Date(at), this.auditDays);
  }

  /**
   * Creates the ledger table where no CDK stack did (`ddb-backup ledger init`). Idempotent; an
   * existing table whose key schema is not the ledger's (pk HASH, sk RANGE, both strings) is
   * refused and left untouched.
   */
  async init(): Promise<'created' | 'exists'> {
    let existing;
    try {
      existing = (await this.ddb.send(new DescribeTableCommand({ TableName: this.tableName }))).Table;
    } catch (err) {
      if (!isNotFound(err, 'table')) throw err;
    }
    if (existing) {
      const keys = (existing.KeySchema ?? []).map((k) => `${k.AttributeName}:${k.KeyType}`).sort().join(',');
      const types = new Map((existing.AttributeDefinitions ?? []).map((a) => [a.AttributeName, a.AttributeType]));
      if (keys !== 'pk:HASH,sk:RANGE' || types.get('pk') !== 'S' || types.get('sk') !== 'S') {
        const schema = (existing.KeySchema ?? []).map((k) => `${k.AttributeName} ${k.KeyType} (${types.get(k.AttributeName) ?? '?'})`).join(', ');
        throw new LedgerSchemaError(
          `table "${this.tableName}" exists but is not a ledger: its key schema is ${schema || 'unknown'}, a ledger needs pk HASH (S), sk RANGE (S); it was left untouched (choose another --ledger-table)`,
        );
      }
      if (!(existing.GlobalSecondaryIndexes ?? []).some((i) => i.IndexName === LEDGER_INDEX.NAME)) {
        // A ledger made before the live index: add it (until it is ACTIVE, jobs read the table's history).
        await this.ddb.send(
          new UpdateTableCommand({
            TableName: this.tableName,
            AttributeDefinitions: [
              { AttributeName: LIVE, AttributeType: 'S' },
              { AttributeName: 'sk', AttributeType: 'S' },
            ],
            GlobalSecondaryIndexUpdates: [{ Create: liveIndex }],
          }),
        );
      }
      return 'exists';
    }
    await this.ddb.send(
      new CreateTableCommand({
        TableName: this.tableName,
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: [
          { AttributeName: 'pk', AttributeType: 'S' },
          { AttributeName: 'sk', AttributeType: 'S' },
          { AttributeName: LIVE, AttributeType: 'S' },
        ],
        KeySchema: [
          { AttributeName: 'pk', KeyType: 'HASH' },
          { AttributeName: 'sk', KeyType: 'RANGE' },
        ],
        GlobalSecondaryIndexes: [liveIndex],
        SSESpecification: { Enabled: true },
      }),
    );
    await waitUntilTableExists({ client: this.ddb, maxWaitTime: 120, minDelay: 1, maxDelay: 5 }, { TableName: this.tableName });
    await this.ddb.send(
      new UpdateTimeToLiveCommand({
        TableName: this.tableName,
        TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
      }),
    );
    await this.ddb.send(
      new UpdateContinuousBackupsCommand({
        TableName: this.tableName,
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      }),
    );
    return 'created';
  }

  /**
   * Claims (table, policy, slot) for one attempt, with the cooldown in the same conditional write:
   *  - a new slot is claimed with a put that holds only if the slot has no record;
   *  - `takeOver` re-claims a FAILED or stale CLAIMED record of that earlier attempt (the worker
   *    first looked for the backup its name promised);
   *  - with a cooldown, the (table, policy) state is updated in the same transaction, on the
   *    condition that the last backup is old enough and no other slot's claim is live; two runs
   *    started at once make one backup.
   * A condition that fails because this attempt's own earlier write landed (an SDK retry after a
   * timeout) is recognised by the attempt token and counts as claimed.
   */
  async claim(job: BackupJob, req: ClaimRequest): Promise<ClaimOutcome> {
    const now = req.now;
    const item: BackupRecord = {
      pk: tablePk(job.table),
      sk: backupSk(job.policy, job.slot),
      table: job.table,
      policy: job.policy,
      slot: job.slot,
      trigger: job.trigger,
      runId: job.runId,
      requestedAt: job.requestedAt,
      status: 'CLAIMED',
      claimedAt: now.toISOString(),
      policyHash: req.policyHash,
      attemptId: req.attemptId,
      backupName: req.backupName,
      [LIVE]: liveKey(job.table, job.policy),
    };
    const takeOver = req.takeOver !== undefined;
    const slotCondition = takeOver
      ? {
          ConditionExpression: req.takeOver
            ? 'attemptId = :old AND (#s = :failed OR (#s = :claimed AND claimedAt < :stale))'
            : 'attribute_not_exists(attemptId) AND #s = :failed',
          ExpressionAttributeNames: { '#s': 'status' },
          ExpressionAttributeValues: {
            ':failed': 'FAILED',
            ...(req.takeOver
              ? { ':old': req.takeOver, ':claimed': 'CLAIMED', ':stale': new Date(now.getTime() - STALE_CLAIM_MS).toISOString() }
              : {}),
          },
        }
      : { ConditionExpression: 'attribute_not_exists(pk)' };
    const cooldownMs = (req.minIntervalMinutes ?? 0) * 60_000;
    try {
      if (cooldownMs <= 0) {
        await this.call(() => this.doc.send(new PutCommand({ TableName: this.tableName, Item: item, ...slotCondition })));
      } else {
        await this.call(() =>
          this.doc.send(
            new TransactWriteCommand({
              TransactItems: [
                { Put: { TableName: this.tableName, Item: item, ...slotCondition } },
                {
                  Update: {
                    TableName: this.tableName,
                    Key: { pk: tablePk(job.table), sk: stateSk(job.policy) },
                    UpdateExpression: 'SET #t = :table, policy = :policy, claimSlot = :slot, claimAt = :now, #live = :live',
                    ConditionExpression:
                      '(attribute_not_exists(lastBackupAt) OR lastBackupAt <= :cutoff) AND (attribute_not_exists(claimSlot) OR claimSlot = :slot OR claimAt < :stale)',
                    ExpressionAttributeNames: { '#t': 'table', '#live': LIVE },
                    ExpressionAttributeValues: {
                      ':live': liveKey(job.table, job.policy),
                      ':table': job.table,
                      ':policy': job.policy,
                      ':slot': job.slot,
                      ':now': now.toISOString(),
                      ':cutoff': new Date(now.getTime() - cooldownMs).toISOString(),
                      ':stale': new Date(now.getTime() - STALE_CLAIM_MS).toISOString(),
                    },
                  },
                },
              ],
            }),
          ),
        );
      }
      return { claimed: true };
    } catch (err) {
      if (!isConditionFailure(err)) throw err;
      const existing = await this.getBackupRecord(job.table, job.policy, job.slot);
      // This attempt's own write landed before a retry of it failed: the claim is ours.
      if (existing?.attemptId === req.attemptId && existing.status === 'CLAIMED') return { claimed: true };
      if (cooldownMs > 0 && conditionFailedAt(err, 1) && !conditionFailedAt(err, 0)) {
        const state = await this.getState(job.table, job.policy);
        return { claimed: false, cooldown: cooldownReason(state, req.minIntervalMinutes ?? 0, now) };
      }
      if (!existing) throw err;
      return { claimed: false, existing };
    }
  }

  /** One conditional update of a backup record: true when written, false when its condition did not hold. */
  private updateRecord(record: RecordKey, update: Omit<UpdateCommandInput, 'TableName' | 'Key'>): Promise<boolean> {
    return conditionHeld(() =>
      this.call(() => this.doc.send(new UpdateCommand({ TableName: this.tableName, Key: { pk: tablePk(record.table), sk: backupSk(record.policy, record.slot) }, ...update }))),
    );
  }

  async getBackupRecord(table: string, policy: string, slot: string): Promise<BackupRecord | undefined> {
    const out = await this.call(() => this.doc.send(
      new GetCommand({ TableName: this.tableName, Key: { pk: tablePk(table), sk: backupSk(policy, slot) }, ConsistentRead: true }),
    ));
    return out.Item as BackupRecord | undefined;
  }

  /**
   * Records a created backup and moves the (table, policy) state forward, atomically, while the
   * claim is still `attemptId`'s (the attempt that made the backup, or whose backup is adopted).
   */
  async recordBackup(job: BackupJob, backup: RecordedBackup, attemptId: string): Promise<void> {
    const status: LedgerStatus = backup.status === 'AVAILABLE' ? 'AVAILABLE' : 'CREATING';
    // The item count, with when DynamoDB reported it, only when there is one: a missing count
    // must not pass for a fresh 0 that the worker would reuse for a day.
    const counted = backup.itemCount !== undefined;
    const items = counted ? { ':items': backup.itemCount, ':itemsAt': backup.itemCountAt ?? backup.createdAt } : {};
    await this.call(() => this.doc.send(
      new TransactWriteCommand({
        TransactItems: [
          {
            Update: {
              TableName: this.tableName,
              Key: { pk: tablePk(job.table), sk: backupSk(job.policy, job.slot) },
              UpdateExpression: `SET #s = :status, backupArn = :arn, backupName = :name, createdAt = :created, sizeBytes = :size, #live = :live${counted ? ', itemCount = :items, itemCountAt = :itemsAt' : ''} REMOVE #e, expiresAt`,
              ConditionExpression: 'attemptId = :attempt',
              ExpressionAttributeNames: { '#s': 'status', '#e': 'error', '#live': LIVE },
              ExpressionAttributeValues: {
                ':live': liveKey(job.table, job.policy),
                ':attempt': attemptId,
                ':status': status,
                ':arn': backup.backupArn,
                ':name': backup.backupName,
                ':created': backup.createdAt,
                ':size': backup.sizeBytes ?? 0,
                ...items,
              },
            },
          },
          {
            Update: {
              TableName: this.tableName,
              Key: { pk: tablePk(job.table), sk: stateSk(job.policy) },
              UpdateExpression:
                'SET #t = :table, policy = :policy, #live = :live, lastBackupAt = :created, lastBackupArn = :arn, lastSizeBytes = :size, lastAttemptAt = :created, lastAttemptStatus = :ok' +
                (counted ? ', lastItemCount = :items, itemCountAt = :itemsAt REMOVE lastError, claimSlot, claimAt' : ' REMOVE lastError, lastItemCount, itemCountAt, claimSlot, claimAt'),
              ExpressionAttributeNames: { '#t': 'table', '#live': LIVE },
              ExpressionAttributeValues: {
                ':live': liveKey(job.table, job.policy),
                ':table': job.table,
                ':policy': job.policy,
                ':created': backup.createdAt,
                ':arn': backup.backupArn,
                ':size': backup.sizeBytes ?? 0,
                ':ok': 'succeeded',
                ...items,
              },
            },
          },
        ],
      }),
    )).catch((err: unknown) => {
      if (isConditionFailure(err)) throw new ClaimLostError(job.table, job.slot, { cause: err });
      throw err;
    });
  }

  /** Records a failed attempt: the slot may be claimed again, and pruning stays blocked. */
  async recordFailure(job: BackupJob, error: string, now: Date): Promise<void> {
    const at = now.toISOString();
    await this.call(() => this.doc.send(
      new TransactWriteCommand({
        TransactItems: [
          {
            Update: {
              TableName: this.tableName,
              Key: { pk: tablePk(job.table), sk: backupSk(job.policy, job.slot) },
              UpdateExpression:
                'SET #s = :failed, #e = :error, #t = :table, policy = :policy, slot = :slot, #tr = :trigger, runId = :run, requestedAt = :req, claimedAt = if_not_exists(claimedAt, :at), expiresAt = :exp REMOVE #live',
              ExpressionAttributeNames: { '#s': 'status', '#e': 'error', '#t': 'table', '#tr': 'trigger', '#live': LIVE },
              ExpressionAttributeValues: {
                ':exp': this.expiry(now),
                ':failed': 'FAILED',
                ':error': error.slice(0, 2000),
                ':table': job.table,
                ':policy': job.policy,
                ':slot': job.slot,
                ':trigger': job.trigger,
                ':run': job.runId,
                ':req': job.requestedAt,
                ':at': at,
              },
            },
          },
          {
            Update: {
              TableName: this.tableName,
              Key: { pk: tablePk(job.table), sk: stateSk(job.policy) },
              UpdateExpression: 'SET #t = :table, policy = :policy, #live = :live, lastAttemptAt = :at, lastAttemptStatus = :failed, lastError = :error',
              ExpressionAttributeNames: { '#t': 'table', '#live': LIVE },
              ExpressionAttributeValues: {
                ':live': liveKey(job.table, job.policy),
                ':table': job.table,
                ':policy': job.policy,
                ':at': at,
                ':failed': 'failed',
                ':error': error.slice(0, 2000),
              },
            },
          },
        ],
      }),
    ));
    // The cooldown's in-flight mark, when this slot holds it: another slot may go ahead now.
    await conditionHeld(() => this.call(() => this.doc.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: { pk: tablePk(job.table), sk: stateSk(job.policy) },
        UpdateExpression: 'REMOVE claimSlot, claimAt',
        ConditionExpression: 'claimSlot = :slot',
        ExpressionAttributeValues: { ':slot': job.slot },
      }),
    )));
  }

  /**
   * Moves a record's status. With `from`, only while its status is one of those (a record the
   * service already marked DELETED never becomes VANISHED, nor the other way round); returns
   * false when that condition did not hold.
   */
  async setBackupStatus(
    record: RecordKey,
    status: LedgerStatus,
    deletion?: { at: string; reason: string },
    from?: readonly LedgerStatus[],
  ): Promise<boolean> {
    const fromValues = Object.fromEntries((from ?? []).map((f, i) => [`:f${i}`, f]));
    // A record out of use leaves the live index and expires after the audit period; a live one
    // (a revived backup) comes back and drops the deletion fields a VANISHED record carried.
    const gone = status === 'DELETED' || status === 'VANISHED' || status === 'FAILED';
    const set = gone ? 'SET #s = :s, expiresAt = :exp' : 'SET #s = :s, #live = :live';
    const deletionSet = deletion ? ', deletedAt = :at, deleteReason = :why' : '';
    const remove = gone ? ' REMOVE #live' : deletion ? ' REMOVE expiresAt' : ' REMOVE deletedAt, deleteReason, expiresAt';
    return this.updateRecord(record, {
      UpdateExpression: `${set}${deletionSet}${remove}`,
      ConditionExpression: from?.length ? `attribute_exists(pk) AND #s IN (${Object.keys(fromValues).join(', ')})` : 'attribute_exists(pk)',
      ExpressionAttributeNames: { '#s': 'status', '#live': LIVE },
      ExpressionAttributeValues: {
        ':s': status,
        ...(gone ? { ':exp': this.expiry(deletion?.at ?? new Date()) } : { ':live': liveKey(record.table, record.policy) }),
        ...fromValues,
        ...(deletion ? { ':at': deletion.at, ':why': deletion.reason.slice(0, 1000) } : {}),
      },
    });
  }

  /**
   * Marks a live, unheld record DELETED before its backup is deleted, in one conditional write,
   * so a hold placed at any moment wins: 'held' or 'not-live' means do not delete.
   */
  async markDeleting(record: RecordKey, deletion: { at: string; reason: string }): Promise<'marked' | 'held' | 'not-live'> {
    const marked = await this.updateRecord(record, {
      UpdateExpression: 'SET #s = :deleted, deletedAt = :at, deleteReason = :why, deletedFrom = #s, expiresAt = :exp REMOVE #live',
      ConditionExpression: 'attribute_not_exists(#h) AND #s IN (:available, :creating)',
      ExpressionAttributeNames: { '#s': 'status', '#h': 'hold', '#live': LIVE },
      ExpressionAttributeValues: {
        ':exp': this.expiry(deletion.at),
        ':deleted': 'DELETED',
        ':available': 'AVAILABLE',
        ':creating': 'CREATING',
        ':at': deletion.at,
        ':why': deletion.reason.slice(0, 1000),
      },
    });
    if (marked) return 'marked';
    const now = await this.getBackupRecord(record.table, record.policy, record.slot);
    return now?.hold ? 'held' : 'not-live';
  }

  /** Undoes markDeleting when the deletion did not happen (in use, throttled, failed). */
  async unmarkDeleting(record: RecordKey): Promise<void> {
    await this.updateRecord(record, {
      UpdateExpression: 'SET #s = deletedFrom, #live = :live REMOVE deletedAt, deleteReason, deletedFrom, expiresAt',
      ConditionExpression: '#s = :deleted AND attribute_exists(deletedFrom)',
      ExpressionAttributeNames: { '#s': 'status', '#live': LIVE },
      ExpressionAttributeValues: { ':deleted': 'DELETED', ':live': liveKey(record.table, record.policy) },
    });
  }

  /** Places a legal hold on a live record; false when the record is not live or already held. */
  async placeHold(record: RecordKey, hold: BackupHold): Promise<boolean> {
    return this.updateRecord(record, {
      UpdateExpression: 'SET #h = :hold',
      ConditionExpression: 'attribute_not_exists(#h) AND #s IN (:available, :creating)',
      ExpressionAttributeNames: { '#s': 'status', '#h': 'hold' },
      ExpressionAttributeValues: { ':hold': hold, ':available': 'AVAILABLE', ':creating': 'CREATING' },
    });
  }

  /** Releases a hold, keeping it in the record's history with who released it and when. */
  async releaseHold(record: RecordKey, by: string, at: Date): Promise<BackupHold | undefined> {
    const current = await this.getBackupRecord(record.table, record.policy, record.slot);
    const hold = current?.hold;
    if (!hold) return undefined;
    const entry = { ...hold, releasedBy: by, releasedAt: at.toISOString() };
    const released = await this.updateRecord(record, {
      UpdateExpression: 'SET holdHistory = list_append(if_not_exists(holdHistory, :empty), :entry) REMOVE #h',
      ConditionExpression: '#h.#at = :heldAt',
      ExpressionAttributeNames: { '#h': 'hold', '#at': 'at' },
      ExpressionAttributeValues: { ':empty': [], ':entry': [entry], ':heldAt': hold.at },
    });
    return released ? hold : undefined;
  }

  async getState(table: string, policy: string): Promise<TableState | undefined> {
    const out = await this.call(() => this.doc.send(
      new GetCommand({ TableName: this.tableName, Key: { pk: tablePk(table), sk: stateSk(policy) }, ConsistentRead: true }),
    ));
    return out.Item as TableState | undefined;
  }

  /**
   * The state and live records of (table, policy) from the live index, every page; a ledger
   * without the index (made before it, or while it builds) answers from the table itself.
   */
  async readLive(table: string, policy: string): Promise<{ state?: TableState; records: BackupRecord[] }> {
    const items: Record<string, unknown>[] = [];
    try {
      await this.call(async () => {
        const pages = paginateQuery(
          { client: this.doc },
          { TableName: this.tableName, IndexName: LEDGER_INDEX.NAME, KeyConditionExpression: '#live = :live', ExpressionAttributeNames: { '#live': LIVE }, ExpressionAttributeValues: { ':live': liveKey(table, policy) } },
        );
        for await (const page of pages) items.push(...(page.Items ?? []));
      });
    } catch (err) {
      if (!isMissingIndex(err)) throw err;
      const [state, records] = await Promise.all([this.getState(table, policy), this.listBackupRecords(table, policy)]);
      return { state, records: records.filter((r) => r.status === 'CLAIMED' || r.status === 'CREATING' || r.status === 'AVAILABLE') };
    }
    const state = items.find((i) => i.sk === stateSk(policy)) as unknown as TableState | undefined;
    const records = items.filter((i) => typeof i.sk === 'string' && i.sk.startsWith('BACKUP#')) as unknown as BackupRecord[];
    return { state, records };
  }

  /**
   * Backup records of one table (of one policy, or every policy), or of every table with a
   * paginated scan.
   */
  async listBackupRecords(table?: string, policy?: string): Promise<BackupRecord[]> {
    return this.call(async () => {
      const out: BackupRecord[] = [];
      if (table) {
        const pages = paginateQuery(
          { client: this.doc },
          {
            TableName: this.tableName,
            KeyConditionExpression: 'pk = :pk AND begins_with(sk, :b)',
            ExpressionAttributeValues: { ':pk': tablePk(table), ':b': policy ? `BACKUP#${policy}#` : 'BACKUP#' },
            ConsistentRead: true,
          },
        );
        for await (const page of pages) out.push(...((page.Items ?? []) as BackupRecord[]));
      } else {
        const pages = paginateScan(
          { client: this.doc },
          {
            TableName: this.tableName,
            FilterExpression: 'begins_with(pk, :t) AND begins_with(sk, :b)',
            ExpressionAttributeValues: { ':t': 'TABLE#', ':b': 'BACKUP#' },
          },
        );
        for await (const page of pages) out.push(...((page.Items ?? []) as BackupRecord[]));
      }
      return out;
    });
  }

  // ---- table settings snapshots (restore fidelity when the source table is gone) ----

  /** Stores the latest settings snapshot of a table: pk=TABLE#<table> sk=SETTINGS (one per table, overwritten). */
  async putSettingsSnapshot(table: string, settings: TableSettings, at: Date): Promise<void> {
    await this.call(() => this.doc.send(
      new PutCommand({
        TableName: this.tableName,
        Item: { pk: tablePk(table), sk: 'SETTINGS', table, capturedAt: at.toISOString(), settings },
      }),
    ));
  }

  /** The latest settings snapshot of a table, with when it was captured; undefined when none was stored. */
  async getSettingsSnapshot(table: string): Promise<{ settings: TableSettings; capturedAt: string } | undefined> {
    const out = await this.call(() => this.doc.send(
      new GetCommand({ TableName: this.tableName, Key: { pk: tablePk(table), sk: 'SETTINGS' }, ConsistentRead: true }),
    ));
    const item = out.Item as { settings?: TableSettings; capturedAt?: string } | undefined;
    return item?.settings ? { settings: item.settings, capturedAt: item.capturedAt ?? item.settings.capturedAt } : undefined;
  }

  /** Notes on the (table, policy) state that PITR was checked against the policy with this hash. */
  async markPitrChecked(table: string, policy: string, policyHash: string, at: Date): Promise<void> {
    await this.call(() =>
      this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { pk: tablePk(table), sk: stateSk(policy) },
          UpdateExpression: 'SET pitrCheckedAt = :at, pitrCheckedHash = :hash',
          ExpressionAttributeValues: { ':at': at.toISOString(), ':hash': policyHash },
        }),
      ),
    );
  }

  /** Notes on the (table, policy) state when the settings were captured, so it happens daily at most. */
  async markSettingsCaptured(table: string, policy: string, at: Date): Promise<void> {
    await this.call(() =>
      this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { pk: tablePk(table), sk: stateSk(policy) },
          UpdateExpression: 'SET settingsCapturedAt = :at',
          ExpressionAttributeValues: { ':at': at.toISOString() },
        }),
      ),
    );
  }

  // ---- change trigger: the baseline of the change counter ----

  /**
   * Resets the table's change counter "since the last backup": sets the baseline to the cumulative
   * counts at this moment, in one UpdateItem on pk=TABLE#<table> sk=CHANGES. Call it right after
   * recordBackup (any trigger): changes counted before it are covered by the backup, later ones
   * count toward the next. A table without a counter item (no stream counting) is left alone.
   */
  async markChangesBaseline(table: string, now: Date): Promise<'marked' | 'no-counter'> {
    const marked = await conditionHeld(() => this.call(() => this.doc.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: { pk: tablePk(table), sk: 'CHANGES' },
        UpdateExpression:
          'SET baselineInserts = if_not_exists(#i, :zero), baselineModifies = if_not_exists(#m, :zero), baselineRemoves = if_not_exists(#r, :zero), baselineAt = :now',
        ConditionExpression: 'attribute_exists(pk)',
        ExpressionAttributeNames: { '#i': 'inserts', '#m': 'modifies', '#r': 'removes' },
        ExpressionAttributeValues: { ':zero': 0, ':now': now.toISOString() },
      }),
    )));
    return marked ? 'marked' : 'no-counter';
  }

}
