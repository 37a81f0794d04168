/**
 * Restore drills against AWS: the drill records in the ledger table, and the DrillDeps the drill
 * task (lambda/core/restore/drill.ts) runs on, for the CLI and the deployed waiter alike.
 *
 * Drill records: pk=DRILL#<table>, sk=<startedAt ISO>, expiring (TTL `expiresAt`) 400 days after.
 */
import {
  DeleteTableCommand,
  DescribeBackupCommand,
  GetItemCommand,
  RestoreTableFromBackupCommand,
  ScanCommand,
  type DynamoDBClient,
  type TableDescription,
} from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, PutCommand, QueryCommand, paginateQuery, paginateScan } from '@aws-sdk/lib-dynamodb';
import { DRILL_RECORD_DAYS, DRILL_SKIPS, type DrillActual, type DrillDeps, type DrillExpected, type DrillRecord, type IndexShape, type TableShape } from '../core/restore/drill';
import { SETTING_NAMES, type TableSettings } from '../core/restore/restore';
import { LedgerMissingError } from '../core/errors';
import { isNotFound, isTableGone, withRetryable } from './errors';
import type { Ledger } from './ledger';
import { countItems } from './in-place';
import { chooseBackup, findTable, NoBackupError } from './restore';
import { ttl } from './run-ledger';
import type { Service } from './service';
import { applySettings, captureSettings, type SettingsClients } from './table-settings';

const drillPk = (table: string) => `DRILL#${table}`;

/** A stored drill: the record with its keys and expiry. */
export type StoredDrill = DrillRecord & { readonly pk: string; readonly sk: string; readonly expiresAt: number };

/** Drill records in the ledger table. */
export class DrillLedger {
  private readonly doc: DynamoDBDocumentClient;

  constructor(
    ddb: DynamoDBClient,
    readonly tableName: string,
  ) {
    this.doc = DynamoDBDocumentClient.from(ddb, { marshallOptions: { removeUndefinedValues: true } });
  }

  private async call<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await withRetryable(`ledger ${this.tableName}`, fn);
    } catch (err) {
      if (isNotFound(err, 'table')) throw new LedgerMissingError(this.tableName, { cause: err });
      throw err;
    }
  }

  async put(record: DrillRecord): Promise<void> {
    const item: StoredDrill = {
      pk: drillPk(record.table),
      sk: record.startedAt,
      ...record,
      expiresAt: ttl(new Date(record.startedAt), DRILL_RECORD_DAYS),
    };
    await this.call(() => this.doc.send(new PutCommand({ TableName: this.tableName, Item: item })));
  }

  /** Drills of one table, or of every table, newest first. */
  async list(opts: { table?: string; limit?: number } = {}): Promise<StoredDrill[]> {
    const limit = opts.limit ?? Infinity;
    return this.call(async () => {
      const out: StoredDrill[] = [];
      if (opts.table) {
        const pages = paginateQuery(
          { client: this.doc },
          {
            TableName: this.tableName,
            KeyConditionExpression: 'pk = :pk',
            ExpressionAttributeValues: { ':pk': drillPk(opts.table) },
            ScanIndexForward: false,
          },
        );
        for await (const page of pages) {
          out.push(...((page.Items ?? []) as StoredDrill[]));
          if (out.length >= limit) break;
        }
      } else {
        const pages = paginateScan(
          { client: this.doc },
          { TableName: this.tableName, FilterExpression: 'begins_with(pk, :d)', ExpressionAttributeValues: { ':d': 'DRILL#' } },
        );
        for await (const page of pages) out.push(...((page.Items ?? []) as StoredDrill[]));
      }
      return out.sort((a, b) => b.startedAt.localeCompare(a.startedAt)).slice(0, limit);
    });
  }

  /** The newest drill of a table, if any. */
  async latest(table: string): Promise<StoredDrill | undefined> {
    const out = await this.call(() =>
      this.doc.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: 'pk = :pk',
          ExpressionAttributeValues: { ':pk': drillPk(table) },
          ScanIndexForward: false,
          Limit: 1,
        }),
      ),
    );
    return out.Items?.[0] as StoredDrill | undefined;
  }
}

const keysOf = (ks: TableDescription['KeySchema']) => (ks ?? []).map((k) => ({ AttributeName: k.AttributeName ?? '', KeyType: k.KeyType ?? 'HASH' }));

function indexShapes(ix: { IndexName?: string; KeySchema?: TableDescription['KeySchema']; Projection?: { ProjectionType?: string } }[] | undefined): IndexShape[] {
  return (ix ?? [])
    .map((i) => ({ name: i.IndexName ?? '', keySchema: keysOf(i.KeySchema), ...(i.Projection?.ProjectionType ? { projectionType: i.Projection.ProjectionType } : {}) }))
    .sort((a, b) => a.name.localeCompare(b.name));
}

function sseOf(d: { Status?: string; SSEType?: string } | undefined): string {
  if (!d || !d.Status || d.Status === 'DISABLED' || d.Status === 'DISABLING') return 'DEFAULT';
  return d.SSEType ?? 'KMS';
}

/** A table's shape from DescribeTable. An empty billing mode summary is unknown, not a mode. */
export function shapeOf(t: TableDescription): TableShape {
  return {
    keySchema: keysOf(t.KeySchema),
    attributeTypes: Object.fromEntries((t.AttributeDefinitions ?? []).map((a) => [a.AttributeName ?? '', a.AttributeType ?? ''])),
    gsis: indexShapes(t.GlobalSecondaryIndexes),
    lsis: indexShapes(t.LocalSecondaryIndexes),
    sse: sseOf(t.SSEDescription),
    ...(t.BillingModeSummary === undefined ? { billingMode: 'PROVISIONED' } : t.BillingModeSummary.BillingMode ? { billingMode: t.BillingModeSummary.BillingMode } : {}),
  };
}

/** Reads up to `n` items back by their key (consistent reads); the keys that could not be read. */
async function sampleByKey(ddb: DynamoDBClient, table: string, keyNames: readonly string[], n = 20): Promise<DrillActual['sample']> {
  const names = Object.fromEntries(keyNames.map((k, i) => [`#k${i}`, k]));
  const scan = await ddb.send(
    new ScanCommand({ TableName: table, Limit: n, ProjectionExpression: Object.keys(names).join(', '), ExpressionAttributeNames: names }),
  );
  const missing: string[] = [];
  for (const key of scan.Items ?? []) {
    const got = await ddb.send(new GetItemCommand({ TableName: table, Key: key, ConsistentRead: true }));
    if (!got.Item) missing.push(JSON.stringify(key));
  }
  return { tried: scan.Items?.length ?? 0, missing };
}

/** The DrillDeps over the service's clients and ledger. */
export function drillDeps(svc: Service, clients: SettingsClients): DrillDeps {
  const ddb = svc.clients.dynamodb;
  const ledger = (): Ledger | undefined => (svc.config.ledgerTable ? svc.ledger() : undefined);
  const drills = () => new DrillLedger(ddb, svc.ledger().tableName);
  return {
    clock: svc.clock,
    tagKey: svc.config.tagKey,
    async resolveBackup(table, backup) {
      const chosen = await chooseBackup({ ddb, backups: svc.backups, ledger: ledger() }, table, backup === 'latest' ? { kind: 'latest' } : { kind: 'backup', backupArn: backup });
      return { backupArn: chosen.backupArn };
    },
    async expected(table, backupArn): Promise<DrillExpected> {
      const d = (await ddb.send(new DescribeBackupCommand({ BackupArn: backupArn }))).BackupDescription;
      if (!d) throw new NoBackupError(`no backup ${backupArn}`);
      const features = d.SourceTableFeatureDetails;
      const live = await findTable(ddb, table);
      const liveShape = live ? shapeOf(live) : undefined;
      const record = (await ledger()?.listBackupRecords(table))?.find((r) => r.backupArn === backupArn);
      const recordedCount = record?.itemCount ?? d.SourceTableDetails?.ItemCount;
      const shape: TableShape = {
        ...(d.SourceTableDetails?.KeySchema ? { keySchema: keysOf(d.SourceTableDetails.KeySchema) } : {}),
        // Attribute types are known only from the live source; the key attributes are what a restore keeps.
        ...(liveShape?.attributeTypes ? { attributeTypes: liveShape.attributeTypes } : {}),
        ...(features?.GlobalSecondaryIndexes ? { gsis: indexShapes(features.GlobalSecondaryIndexes) } : liveShape ? { gsis: liveShape.gsis } : {}),
        ...(features?.LocalSecondaryIndexes ? { lsis: indexShapes(features.LocalSecondaryIndexes) } : liveShape ? { lsis: liveShape.lsis } : {}),
        ...(features?.SSEDescription ? { sse: sseOf(features.SSEDescription) } : liveShape ? { sse: liveShape.sse } : {}),
        ...(d.SourceTableDetails?.BillingMode ? { billingMode: d.SourceTableDetails.BillingMode } : liveShape?.billingMode ? { billingMode: liveShape.billingMode } : {}),
      };
      // The settings a restore of this table would re-apply: the ledger's snapshot (what a
      // recovery after losing the table uses), else the live table's.
      const snap = await ledger()?.getSettingsSnapshot(table);
      let settings: TableSettings | undefined = snap?.settings;
      let settingsNote = snap ? `settings snapshot captured at ${snap.capturedAt}` : undefined;
      if (!settings && live) {
        settings = await captureSettings(clients, table);
        settingsNote = 'settings of the live table (the ledger holds no snapshot)';
      }
      return {
        ...(recordedCount !== undefined ? { itemCount: recordedCount, itemCountSource: record?.itemCount !== undefined ? 'ledger record of the backup' : 'DescribeBackup' } : {}),
        shape,
        ...(settings ? { settings } : {}),
        settingsNote: settingsNote ?? `table "${table}" is gone and the ledger holds no settings snapshot of it`,
      };
    },
    async tableExists(table) {
      return (await findTable(ddb, table)) !== undefined;
    },
    async startRestore(backupArn, target) {
      // The scratch name was checked to be free; DynamoDB refuses a taken name (never overwrites).
      await ddb.send(new RestoreTableFromBackupCommand({ BackupArn: backupArn, TargetTableName: target }));
    },
    async tableStatus(table) {
      const t = await findTable(ddb, table);
      if (!t) return 'GONE';
      const busy = (t.GlobalSecondaryIndexes ?? []).some((g) => g.IndexStatus && g.IndexStatus !== 'ACTIVE');
      return t.TableStatus === 'ACTIVE' && !busy ? 'ACTIVE' : 'BUSY';
    },
    applySettings(target, settings) {
      return applySettings(clients, target, settings, { tagKey: svc.config.tagKey, only: SETTING_NAMES.filter((n) => !DRILL_SKIPS.includes(n)) });
    },
    async inspect(target) {
      const t = await findTable(ddb, target);
      if (!t) throw new Error(`the scratch table ${target} is gone`);
      const [itemCount, settings, sample] = await Promise.all([
        countItems(ddb, target),
        captureSettings(clients, target),
        sampleByKey(ddb, target, keysOf(t.KeySchema).map((k) => k.AttributeName)),
      ]);
      return { itemCount, shape: shapeOf(t), settings, sample };
    },
    async deleteTable(table) {
      try {
        await ddb.send(new DeleteTableCommand({ TableName: table }));
        return 'deleted';
      } catch (err) {
        if (isTableGone(err)) return 'gone';
        throw err;
      }
    },
    record: (r) => drills().put(r),
    async tablesOfPolicy(policy) {
      return (await svc.discovery.discover()).filter((t) => t.policies.includes(policy)).map((t) => t.table);
    },
    async lastDrilled(tables) {
      const d = drills();
      const entries: [string, string | undefined][] = [];
      for (const t of tables) entries.push([t, (await d.latest(t))?.startedAt]);
      // fromEntries defines own properties, even for a table named `__proto__`.
      return Object.fromEntries(entries);
    },
  };
}
