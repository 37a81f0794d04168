import {
  CreateTableCommand,
  DescribeTableCommand,
  UpdateContinuousBackupsCommand,
  UpdateTimeToLiveCommand,
  waitUntilTableExists,
  type DynamoDBClient,
} from '@aws-sdk/client-dynamodb';
import {
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  TransactWriteCommand,
  UpdateCommand,
  paginateQuery,
  paginateScan,
} from '@aws-sdk/lib-dynamodb';
import type { BackupJob } from '../core/jobs';
import { conditionHeld, isConditionFailure } from './errors';
import { RunLedgerStore } from './run-ledger';
import type { LedgerBackupRecord, LedgerPort, LedgerStatus, RecordedBackup, TableState } from '../core/ports';
import type { TableSettings } from '../core/restore';

/**
 * The ledger: one DynamoDB table (pk, sk) holding
 *  - a backup record per (table, policy, slot)   pk=TABLE#<table>  sk=BACKUP#<policy>#<slot>
 *  - the latest state per (table, policy)        pk=TABLE#<table>  sk=STATE#<policy>
 *  - run headers and per-job run results          pk=RUN#<runId>    sk=RUN | RESULT#<table>#<policy>
 *    (run tracking lives in ./run-ledger.ts, the base class)
 * The backup record doubles as the durable idempotency key: it is claimed with a conditional put.
 */

/** A ledger backup record as stored, with its keys. */
export type BackupRecord = LedgerBackupRecord & { readonly pk: string; readonly sk: string };
export type { LedgerStatus, TableState };

export type ClaimResult = { claimed: true } | { claimed: false; existing: BackupRecord };

const tablePk = (table: string) => `TABLE#${table}`;
const backupSk = (policy: string, slot: string) => `BACKUP#${policy}#${slot}`;
const stateSk = (policy: string) => `STATE#${policy}`;
/** A claim without a backup this old belongs to a worker that died; it may be taken over. */
export const STALE_CLAIM_MS = 15 * 60_000;

export class Ledger extends RunLedgerStore implements LedgerPort {
  constructor(
    private readonly ddb: DynamoDBClient,
    tableName: string,
  ) {
    super(DynamoDBDocumentClient.from(ddb, { marshallOptions: { removeUndefinedValues: true } }), tableName);
  }

  /** Creates the ledger table where no CDK stack did (`ddb-backup ledger init`). Idempotent. */
  async init(): Promise<'created' | 'exists'> {
    try {
      await this.ddb.send(new DescribeTableCommand({ TableName: this.tableName }));
      return 'exists';
    } catch (err) {
      if ((err as { name?: string }).name !== 'ResourceNotFoundException') throw err;
    }
    await this.ddb.send(
      new CreateTableCommand({
        TableName: this.tableName,
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: [
          { AttributeName: 'pk', AttributeType: 'S' },
          { AttributeName: 'sk', AttributeType: 'S' },
        ],
        KeySchema: [
          { AttributeName: 'pk', KeyType: 'HASH' },
          { AttributeName: 'sk', KeyType: 'RANGE' },
        ],
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
   * Claims (table, policy, slot). Succeeds when the slot is new, when an earlier attempt failed,
   * or when an earlier claim is stale (its worker died before creating a backup).
   */
  async claim(job: BackupJob, policyHash: string, now: Date): Promise<ClaimResult> {
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
      policyHash,
    };
    try {
      await this.call(() => this.doc.send(
        new PutCommand({
          TableName: this.tableName,
          Item: item,
          ConditionExpression:
            'attribute_not_exists(pk) OR #s = :failed OR (#s = :claimed AND claimedAt < :stale)',
          ExpressionAttributeNames: { '#s': 'status' },
          ExpressionAttributeValues: {
            ':failed': 'FAILED',
            ':claimed': 'CLAIMED',
            ':stale': new Date(now.getTime() - STALE_CLAIM_MS).toISOString(),
          },
        }),
      ));
      return { claimed: true };
    } catch (err) {
      if (!isConditionFailure(err)) throw err;
      const existing = await this.getBackupRecord(job.table, job.policy, job.slot);
      if (!existing) throw err;
      return { claimed: false, existing };
    }
  }

  async getBackupRecord(table: string, policy: string, slot: string): Promise<BackupRecord | undefined> {
    const out = await this.call(() => this.doc.send(
      new GetCommand({ TableName: this.tableName, Key: { pk: tablePk(table), sk: backupSk(policy, slot) }, ConsistentRead: true }),
    ));
    return out.Item as BackupRecord | undefined;
  }

  /** Records a created backup and moves the (table, policy) state forward, atomically. */
  async recordBackup(job: BackupJob, backup: RecordedBackup): Promise<void> {
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
              UpdateExpression: `SET #s = :status, backupArn = :arn, backupName = :name, createdAt = :created, sizeBytes = :size${counted ? ', itemCount = :items, itemCountAt = :itemsAt' : ''} REMOVE #e`,
              ExpressionAttributeNames: { '#s': 'status', '#e': 'error' },
              ExpressionAttributeValues: {
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
                'SET #t = :table, policy = :policy, lastBackupAt = :created, lastBackupArn = :arn, lastSizeBytes = :size, lastAttemptAt = :created, lastAttemptStatus = :ok' +
                (counted ? ', lastItemCount = :items, itemCountAt = :itemsAt REMOVE lastError' : ' REMOVE lastError, lastItemCount, itemCountAt'),
              ExpressionAttributeNames: { '#t': 'table' },
              ExpressionAttributeValues: {
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
    ));
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
                'SET #s = :failed, #e = :error, #t = :table, policy = :policy, slot = :slot, #tr = :trigger, runId = :run, requestedAt = :req, claimedAt = if_not_exists(claimedAt, :at)',
              ExpressionAttributeNames: { '#s': 'status', '#e': 'error', '#t': 'table', '#tr': 'trigger' },
              ExpressionAttributeValues: {
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
              UpdateExpression: 'SET #t = :table, policy = :policy, lastAttemptAt = :at, lastAttemptStatus = :failed, lastError = :error',
              ExpressionAttributeNames: { '#t': 'table' },
              ExpressionAttributeValues: {
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
  }

  async setBackupStatus(
    record: Pick<LedgerBackupRecord, 'table' | 'policy' | 'slot'>,
    status: LedgerStatus,
    deletion?: { at: string; reason: string },
  ): Promise<void> {
    await this.call(() => this.doc.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: { pk: tablePk(record.table), sk: backupSk(record.policy, record.slot) },
        UpdateExpression: deletion ? 'SET #s = :s, deletedAt = :at, deleteReason = :why' : 'SET #s = :s',
        ConditionExpression: 'attribute_exists(pk)',
        ExpressionAttributeNames: { '#s': 'status' },
        ExpressionAttributeValues: {
          ':s': status,
          ...(deletion ? { ':at': deletion.at, ':why': deletion.reason.slice(0, 1000) } : {}),
        },
      }),
    ));
  }

  async getState(table: string, policy: string): Promise<TableState | undefined> {
    const out = await this.call(() => this.doc.send(
      new GetCommand({ TableName: this.tableName, Key: { pk: tablePk(table), sk: stateSk(policy) }, ConsistentRead: true }),
    ));
    return out.Item as TableState | undefined;
  }

  /** Backup records of one table (every policy), or of every table with a paginated scan. */
  async listBackupRecords(table?: string): Promise<BackupRecord[]> {
    const out: BackupRecord[] = [];
    if (table) {
      const pages = paginateQuery(
        { client: this.doc },
        {
          TableName: this.tableName,
          KeyConditionExpression: 'pk = :pk AND begins_with(sk, :b)',
          ExpressionAttributeValues: { ':pk': tablePk(table), ':b': 'BACKUP#' },
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
