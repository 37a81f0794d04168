/**
 * Copy records in the ledger table: pk `COPY#<table>`, sk `<requestedAt ISO>#<copy id>`, so a
 * table's copies are one Query, newest first. A record expires (TTL `expiresAt`) after the copy's
 * keepDays plus the audit period, long after the vault's lifecycle has removed the copy itself.
 */
import { DynamoDBDocumentClient, PutCommand, UpdateCommand, paginateQuery, paginateScan } from '@aws-sdk/lib-dynamodb';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { CopyKey, CopyLedgerPort, CopyRecord, ExportState } from '../core/copies/copies';
import { conditionHeld } from './errors';

export const COPY_PK_PREFIX = 'COPY#';
/** How long a copy's record outlives the copy: the audit period. */
export const COPY_AUDIT_DAYS = 400;

const DAY_S = 86_400;

export const copyPk = (table: string) => `${COPY_PK_PREFIX}${table}`;
export const copySk = (key: Pick<CopyKey, 'requestedAt' | 'copyId'>) => `${key.requestedAt}#${key.copyId}`;

/** Epoch seconds when the record may go: requestedAt + keepDays + COPY_AUDIT_DAYS. */
export function copyExpiresAt(record: Pick<CopyRecord, 'requestedAt' | 'keepDays'>): number {
  return Math.floor(Date.parse(record.requestedAt) / 1000) + (record.keepDays + COPY_AUDIT_DAYS) * DAY_S;
}

function toRecord(item: Record<string, unknown>): CopyRecord {
  const { pk: _pk, sk: _sk, expiresAt: _e, ...rest } = item;
  return rest as unknown as CopyRecord;
}

export class CopyLedger implements CopyLedgerPort {
  private readonly doc: DynamoDBDocumentClient;

  constructor(ddb: DynamoDBClient, readonly tableName: string) {
    this.doc = DynamoDBDocumentClient.from(ddb, { marshallOptions: { removeUndefinedValues: true, convertClassInstanceToMap: true } });
  }

  async putCopy(record: CopyRecord): Promise<void> {
    await this.doc.send(
      new PutCommand({
        TableName: this.tableName,
        Item: { pk: copyPk(record.table), sk: copySk(record), ...record, expiresAt: copyExpiresAt(record) },
        ConditionExpression: 'attribute_not_exists(pk)',
      }),
    );
  }

  async listCopies(table: string): Promise<CopyRecord[]> {
    const out: CopyRecord[] = [];
    const pages = paginateQuery(
      { client: this.doc },
      { TableName: this.tableName, KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': copyPk(table) }, ScanIndexForward: false },
    );
    for await (const page of pages) for (const item of page.Items ?? []) out.push(toRecord(item));
    return out;
  }

  /** Every table's copies (a Scan of the copy records: for the operator's `copies list`), newest first. */
  async listAllCopies(): Promise<CopyRecord[]> {
    const out: CopyRecord[] = [];
    const pages = paginateScan(
      { client: this.doc },
      { TableName: this.tableName, FilterExpression: 'begins_with(pk, :p)', ExpressionAttributeValues: { ':p': COPY_PK_PREFIX } },
    );
    for await (const page of pages) for (const item of page.Items ?? []) out.push(toRecord(item));
    return out.sort((a, b) => b.requestedAt.localeCompare(a.requestedAt));
  }

  async finishCopy(key: CopyKey, state: ExportState): Promise<boolean> {
    const set: Record<string, unknown> = { status: state.status };
    if (state.completedAt) set.completedAt = state.completedAt;
    if (state.itemCount !== undefined) set.itemCount = state.itemCount;
    if (state.billedSizeBytes !== undefined) set.billedSizeBytes = state.billedSizeBytes;
    if (state.error) set.error = state.error;
    const names = Object.keys(set);
    return conditionHeld(() =>
      this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { pk: copyPk(key.table), sk: copySk(key) },
          UpdateExpression: `SET ${names.map((_n, i) => `#a${i} = :v${i}`).join(', ')}`,
          ConditionExpression: '#s = :inProgress',
          ExpressionAttributeNames: { ...Object.fromEntries(names.map((n, i) => [`#a${i}`, n])), '#s': 'status' },
          ExpressionAttributeValues: { ...Object.fromEntries(names.map((n, i) => [`:v${i}`, set[n]])), ':inProgress': 'IN_PROGRESS' },
        }),
      ),
    );
  }
}
