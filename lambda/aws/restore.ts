import {
  DescribeBackupCommand,
  DescribeTableCommand,
  RestoreTableFromBackupCommand,
  RestoreTableToPointInTimeCommand,
  type BillingMode,
  type DynamoDBClient,
  type GlobalSecondaryIndex,
  type SSESpecification,
  type TableDescription,
} from '@aws-sdk/client-dynamodb';
import { BackupServiceError, TableNotFoundError } from '../core/errors';
import { gsiOverride, type IndexSnapshot, type RestoreOverrides, type RestoreSource, type TableSettings } from '../core/restore/restore';
import type { BackupsAdapter } from './backups';
import { isNotFound, isTableGone, isTableTaken } from './errors';
import { liveNewestFirst } from '../core/ports';
import type { Ledger } from './ledger';
import { captureSettings, type SettingsClients } from './table-settings';

/** The target of a restore already exists: restore never overwrites or deletes a table. */
export class TargetExistsError extends BackupServiceError {
  override readonly name: string = 'TargetExistsError';

  constructor(readonly table: string, options?: { cause?: unknown }) {
    super(`refusing to restore: table "${table}" already exists; a restore only ever creates a new table (choose another --target)`, options);
  }
}

/** No backup to restore from. */
export class NoBackupError extends BackupServiceError {
  override readonly name: string = 'NoBackupError';
}

/** DescribeTable; undefined when the table does not exist. */
export async function findTable(ddb: DynamoDBClient, table: string): Promise<TableDescription | undefined> {
  try {
    return (await ddb.send(new DescribeTableCommand({ TableName: table }))).Table ?? {};
  } catch (err) {
    if (isTableGone(err)) return undefined;
    throw err;
  }
}

export interface ChosenBackup {
  readonly backupArn: string;
  readonly backupName?: string;
  readonly createdAt?: string;
  /** Where the choice came from. */
  readonly via: 'ledger' | 'list-backups' | 'arn';
  /** GSI definitions from DescribeBackup, when it reports them. */
  readonly indexes?: IndexSnapshot[];
}

async function describeBackup(ddb: DynamoDBClient, backupArn: string) {
  try {
    return (await ddb.send(new DescribeBackupCommand({ BackupArn: backupArn }))).BackupDescription;
  } catch (err) {
    if (isNotFound(err, 'backup')) return undefined;
    throw err;
  }
}

/**
 * The backup to restore: the given ARN (it must be AVAILABLE and of `table`), or the newest
 * AVAILABLE backup of the service's own for `table`: from the ledger (each candidate checked
 * with DescribeBackup, newest first), else from ListBackups.
 */
export async function chooseBackup(
  deps: { ddb: DynamoDBClient; backups: BackupsAdapter; ledger?: Ledger },
  table: string,
  source: Extract<RestoreSource, { kind: 'latest' | 'backup' }>,
): Promise<ChosenBackup> {
  if (source.kind === 'backup') {
    const d = await describeBackup(deps.ddb, source.backupArn);
    if (!d) throw new NoBackupError(`no backup ${source.backupArn}`);
    const of = d.SourceTableDetails?.TableName;
    if (of && of !== table) throw new NoBackupError(`backup ${source.backupArn} is of table "${of}", not "${table}"`);
    const status = d.BackupDetails?.BackupStatus;
    if (status !== 'AVAILABLE') throw new NoBackupError(`backup ${source.backupArn} is ${status ?? 'in an unknown state'}, not AVAILABLE`);
    const gsis = d.SourceTableFeatureDetails?.GlobalSecondaryIndexes;
    return {
      backupArn: source.backupArn,
      backupName: d.BackupDetails?.BackupName,
      createdAt: d.BackupDetails?.BackupCreationDateTime?.toISOString(),
      via: 'arn',
      ...(gsis
        ? {
            indexes: gsis.map((g) => ({
              name: g.IndexName ?? '',
              keySchema: (g.KeySchema ?? []).map((k) => ({ AttributeName: k.AttributeName ?? '', KeyType: k.KeyType ?? 'HASH' })),
              projection: { ...(g.Projection ?? {}) } as IndexSnapshot['projection'],
              ...(g.ProvisionedThroughput?.ReadCapacityUnits ? { read: g.ProvisionedThroughput.ReadCapacityUnits } : {}),
              ...(g.ProvisionedThroughput?.WriteCapacityUnits ? { write: g.ProvisionedThroughput.WriteCapacityUnits } : {}),
            })),
          }
        : {}),
    };
  }
  // The service's own backups are the ledger's records; a backup merely named like ours is
  // never picked (pass --backup-arn to restore one). Each candidate is checked to still exist.
  if (!deps.ledger) {
    throw new NoBackupError(`no ledger is configured, so there is no backup of the service's own for table "${table}"; pass --backup-arn to restore a given backup`);
  }
  const records = liveNewestFirst(await deps.ledger.listBackupRecords(table));
  for (const r of records) {
    if ((await deps.backups.describeBackupStatus(r.backupArn!)) === 'AVAILABLE') {
      return { backupArn: r.backupArn!, backupName: r.backupName, createdAt: r.createdAt, via: 'ledger' };
    }
  }
  throw new NoBackupError(`no AVAILABLE backup of the service's own for table "${table}" in the ledger; pass --backup-arn to restore another`);
}

export type SettingsOrigin = 'live' | 'snapshot' | 'none';

/**
 * The source's settings: live when the table exists, else the ledger's snapshot, else none
 * (with the reason).
 */
export async function sourceSettings(
  clients: SettingsClients,
  ledger: Ledger | undefined,
  table: string,
): Promise<{ origin: SettingsOrigin; settings?: TableSettings; note?: string }> {
  try {
    return { origin: 'live', settings: await captureSettings(clients, table) };
  } catch (err) {
    if (!(err instanceof TableNotFoundError)) throw err;
  }
  if (!ledger) return { origin: 'none', note: `table "${table}" is gone and no ledger is configured to hold a settings snapshot` };
  const snap = await ledger.getSettingsSnapshot(table);
  if (!snap) return { origin: 'none', note: `table "${table}" is gone and the ledger holds no settings snapshot of it` };
  return { origin: 'snapshot', settings: snap.settings, note: `settings from the snapshot captured at ${snap.capturedAt}` };
}

export interface RestoreRequest {
  readonly table: string;
  readonly target: string;
  readonly source: RestoreSource;
  readonly overrides: RestoreOverrides;
}

export interface StartedRestore {
  readonly kind: 'backup' | 'point-in-time';
  readonly backup?: ChosenBackup;
  readonly restoreDateTime?: string;
  readonly useLatestRestorableTime?: boolean;
  readonly tableStatus: string;
  readonly tableArn?: string;
}

function sseOverride(o: RestoreOverrides): SSESpecification | undefined {
  if (!o.sse) return undefined;
  return o.sse.type === 'KMS' ? { Enabled: true, SSEType: 'KMS', ...(o.sse.kmsKey ? { KMSMasterKeyId: o.sse.kmsKey } : {}) } : { Enabled: false };
}

/**
 * Starts a restore into a NEW table. Refuses (TargetExistsError) when the target exists: it is
 * checked first with DescribeTable, and DynamoDB's own TableAlreadyExistsException (a race) is
 * mapped to the same error. Nothing is ever overwritten or deleted.
 */
export async function startRestore(
  deps: { ddb: DynamoDBClient; backups: BackupsAdapter; ledger?: Ledger },
  req: RestoreRequest,
  knownIndexes?: readonly IndexSnapshot[],
): Promise<StartedRestore> {
  if (await findTable(deps.ddb, req.target)) throw new TargetExistsError(req.target);
  const o = req.overrides;
  const common = {
    TargetTableName: req.target,
    ...(o.billingMode ? { BillingModeOverride: o.billingMode as BillingMode } : {}),
    ...(o.billingMode === 'PROVISIONED' && o.read !== undefined && o.write !== undefined
      ? { ProvisionedThroughputOverride: { ReadCapacityUnits: o.read, WriteCapacityUnits: o.write } }
      : {}),
    ...(sseOverride(o) ? { SSESpecificationOverride: sseOverride(o) } : {}),
  };
  const withGsi = (indexes: readonly IndexSnapshot[] | undefined) => {
    const exclude = o.excludeIndexes ?? [];
    // A switch to PROVISIONED needs every index's capacity too.
    const needed = exclude.length > 0 || (o.billingMode === 'PROVISIONED' && (indexes?.length ?? 0) > 0);
    if (!needed) return {};
    if (!indexes) throw new NoBackupError(`cannot tell the indexes of "${req.table}" (source gone, no snapshot): --no-gsi and --billing-mode PROVISIONED need them`);
    return { GlobalSecondaryIndexOverride: gsiOverride(indexes, exclude, o.billingMode, { read: o.read, write: o.write }) as GlobalSecondaryIndex[] };
  };
  const refuseRace = (err: unknown): never => {
    if (isTableTaken(err)) throw new TargetExistsError(req.target, { cause: err });
    throw err;
  };

  if (req.source.kind === 'latest' || req.source.kind === 'backup') {
    const backup = await chooseBackup(deps, req.table, req.source);
    const out = await deps.ddb
      .send(new RestoreTableFromBackupCommand({ ...common, BackupArn: backup.backupArn, ...withGsi(backup.indexes ?? knownIndexes) }))
      .catch(refuseRace);
    return { kind: 'backup', backup, tableStatus: out.TableDescription?.TableStatus ?? 'CREATING', tableArn: out.TableDescription?.TableArn };
  }
  const latest = req.source.kind === 'latest-restorable';
  const out = await deps.ddb
    .send(
      new RestoreTableToPointInTimeCommand({
        ...common,
        SourceTableName: req.table,
        ...(latest ? { UseLatestRestorableTime: true } : { RestoreDateTime: (req.source as { time: Date }).time }),
        ...withGsi(knownIndexes),
      }),
    )
    .catch((err: unknown) => {
      if (isTableGone(err) && (err as { message?: string }).message?.includes(req.table)) {
        throw new TableNotFoundError(req.table, { cause: err });
      }
      return refuseRace(err);
    });
  return {
    kind: 'point-in-time',
    ...(latest ? { useLatestRestorableTime: true } : { restoreDateTime: (req.source as { time: Date }).time.toISOString() }),
    tableStatus: out.TableDescription?.TableStatus ?? 'CREATING',
    tableArn: out.TableDescription?.TableArn,
  };
}
