/**
 * Copies over DynamoDB: ExportTableToPointInTime into the vault, DescribeExport, ListExports (by
 * TableArn), and ImportTable into a NEW table from a copy's data files. Also builds what the
 * worker, the 'copy' long task and the CLI need from the service's clients.
 */
import {
  DescribeExportCommand,
  DescribeImportCommand,
  ExportTableToPointInTimeCommand,
  ImportTableCommand,
  ListExportsCommand,
  type BillingMode,
  type DynamoDBClient,
  type ExportDescription,
  type GlobalSecondaryIndex,
  type KeySchemaElement,
  type AttributeDefinition,
} from '@aws-sdk/client-dynamodb';
import { TableNotFoundError } from '../core/errors';
import { copyIfDue, PitrOffError, type CopyApi, type CopyDeps, type CopyKey, type CopyRecord, type CopySource, type ExportRequest, type ExportState } from '../core/copies/copies';
import type { CopyTaskDeps } from '../core/copies/copy-task';
import type { CopyRestoreDeps, ImportState } from '../core/copies/copy-restore';
import { importKeyPrefix, manifestKey } from '../core/copies/import-source';
import type { CopyPort } from '../core/ports';
import { settingsReport } from '../core/restore/restore';
import { CopyLedger } from './copy-ledger';
import type { CopyObjects } from './copy-objects';
import { isPitrUnavailable, isTableTaken } from './errors';
import { TargetExistsError, findTable } from './restore';
import type { Service } from './service';
import { applySettings, captureSettings, settingsClients, type SettingsClients } from './table-settings';


/** DescribeExport's answer as the core's ExportState. */
export function exportStateOf(d: ExportDescription | undefined): ExportState {
  const status = d?.ExportStatus === 'COMPLETED' || d?.ExportStatus === 'FAILED' ? d.ExportStatus : 'IN_PROGRESS';
  const error = [d?.FailureCode, d?.FailureMessage].filter(Boolean).join(': ');
  return {
    status,
    ...(status !== 'IN_PROGRESS' ? { completedAt: (d?.EndTime ?? new Date()).toISOString() } : {}),
    ...(status === 'COMPLETED' && d?.ItemCount !== undefined ? { itemCount: d.ItemCount } : {}),
    ...(status === 'COMPLETED' && d?.BilledSizeBytes !== undefined ? { billedSizeBytes: d.BilledSizeBytes } : {}),
    ...(status === 'FAILED' ? { error: error || 'export failed' } : {}),
  };
}

/** DescribeExport, as the core's ExportState. */
export async function describeExport(ddb: DynamoDBClient, exportArn: string): Promise<ExportState> {
  return exportStateOf((await ddb.send(new DescribeExportCommand({ ExportArn: exportArn }))).ExportDescription);
}

/** One export of a table, as ListExports gives it. */
export interface ExportSummary {
  readonly exportArn: string;
  readonly status?: string;
}

/** The DynamoDB side of copies (CopyApi), over the settings clients (DynamoDB + auto scaling). */
export class CopyAdapter implements CopyApi {
  constructor(private readonly clients: SettingsClients) {}

  private get ddb(): DynamoDBClient {
    return this.clients.dynamodb;
  }

  async describeSource(table: string, now: Date): Promise<CopySource> {
    const t = await findTable(this.ddb, table);
    if (!t) throw new TableNotFoundError(table);
    const settings = await captureSettings(this.clients, table, now);
    const pitrEnabled = settings.unreadable?.pitr !== undefined || settings.pitr === undefined ? undefined : settings.pitr !== null;
    const read = t.ProvisionedThroughput?.ReadCapacityUnits;
    const write = t.ProvisionedThroughput?.WriteCapacityUnits;
    return {
      tableArn: t.TableArn ?? '',
      schema: {
        keySchema: (t.KeySchema ?? []).map((k) => ({ AttributeName: k.AttributeName ?? '', KeyType: k.KeyType ?? 'HASH' })),
        attributeDefinitions: (t.AttributeDefinitions ?? []).map((a) => ({ AttributeName: a.AttributeName ?? '', AttributeType: a.AttributeType ?? 'S' })),
        ...(settings.billingMode === 'PROVISIONED' && read && write ? { provisioned: { read, write } } : {}),
      },
      ...(pitrEnabled !== undefined ? { pitrEnabled } : {}),
      settings,
    };
  }

  async startExport(req: ExportRequest): Promise<{ exportArn: string; state: ExportState }> {
    try {
      const out = await this.ddb.send(
        new ExportTableToPointInTimeCommand({
          TableArn: req.tableArn,
          S3Bucket: req.bucket,
          S3Prefix: req.prefix,
          ...(req.owner ? { S3BucketOwner: req.owner } : {}),
          ExportFormat: 'DYNAMODB_JSON',
          ExportType: 'FULL_EXPORT',
          ClientToken: req.clientToken,
        }),
      );
      return { exportArn: out.ExportDescription?.ExportArn ?? '', state: exportStateOf(out.ExportDescription) };
    } catch (err) {
      if (isPitrUnavailable(err)) throw new PitrOffError(req.tableArn.split('/').pop() ?? req.tableArn, { cause: err });
      throw err;
    }
  }

  describeExport(exportArn: string): Promise<ExportState> {
    return describeExport(this.ddb, exportArn);
  }

  /** The table's exports, every page (TableArn is always given: some endpoints need it). */
  async listExports(tableArn: string): Promise<ExportSummary[]> {
    const out: ExportSummary[] = [];
    let token: string | undefined;
    do {
      const page = await this.ddb.send(new ListExportsCommand({ TableArn: tableArn, ...(token ? { NextToken: token } : {}) }));
      for (const e of page.ExportSummaries ?? []) if (e.ExportArn) out.push({ exportArn: e.ExportArn, status: e.ExportStatus });
      token = page.NextToken;
    } while (token);
    return out;
  }
}

/** What the worker and `copy` need: the adapter and the copy records in the ledger table. */
export function copyDeps(clients: SettingsClients, ledgerTable: string): CopyDeps & { api: CopyAdapter; ledger: CopyLedger } {
  return { api: new CopyAdapter(clients), ledger: new CopyLedger(clients.dynamodb, ledgerTable) };
}

/** The worker's copy step (WorkerDeps.copies). */
export function copyPort(clients: SettingsClients, ledgerTable: string): CopyPort {
  const deps = copyDeps(clients, ledgerTable);
  return { copyIfDue: (table, effective, now) => copyIfDue(deps, table, effective, now) };
}

/** The 'copy' long task's deps from the service's DynamoDB client and ledger table. */
export function copyTaskDeps(clients: { readonly dynamodb: DynamoDBClient }, ledgerTable: string): CopyTaskDeps {
  return { api: { describeExport: (arn) => describeExport(clients.dynamodb, arn) }, ledger: new CopyLedger(clients.dynamodb, ledgerTable) };
}

/** A started import. */
export interface StartedImport {
  readonly importArn: string;
  readonly status: string;
  readonly keyPrefix: string;
  readonly manifest: boolean;
}

/**
 * Starts ImportTable into the NEW table `target` from the copy's data files (found by listing
 * the copy's prefix; `manifest-files.json` read where the export wrote one). Refuses
 * (TargetExistsError) when the target exists, also when DynamoDB says so in a race.
 */
export async function startImport(ddb: DynamoDBClient, objects: CopyObjects, copy: CopyRecord, target: string): Promise<StartedImport> {
  if (await findTable(ddb, target)) throw new TargetExistsError(target);
  if (!copy.schema) throw new Error(`copy ${copy.copyId} recorded no key schema; it cannot be imported by the service`);
  const keys = await objects.listKeys(copy.bucket, `${copy.prefix}/`, copy.owner);
  const mKey = manifestKey(keys, copy.exportArn);
  const manifest = mKey ? await objects.getText(copy.bucket, mKey, copy.owner) : undefined;
  const keyPrefix = importKeyPrefix(copy, keys, manifest);
  const provisioned = copy.settings?.billingMode === 'PROVISIONED';
  const capacity = (read?: number, write?: number) => ({ ReadCapacityUnits: read || copy.schema?.provisioned?.read || 5, WriteCapacityUnits: write || copy.schema?.provisioned?.write || 5 });
  const gsis: GlobalSecondaryIndex[] = (copy.settings?.indexes ?? []).map((i) => ({
    IndexName: i.name,
    KeySchema: i.keySchema.map((k) => ({ ...k })) as KeySchemaElement[],
    Projection: { ...i.projection } as GlobalSecondaryIndex['Projection'],
    ...(provisioned ? { ProvisionedThroughput: capacity(i.read, i.write) } : {}),
  }));
  try {
    const out = await ddb.send(
      new ImportTableCommand({
        ClientToken: `${copy.copyId}-${target}`.slice(0, 64),
        S3BucketSource: { S3Bucket: copy.bucket, S3KeyPrefix: keyPrefix, ...(copy.owner ? { S3BucketOwner: copy.owner } : {}) },
        InputFormat: 'DYNAMODB_JSON',
        InputCompressionType: 'GZIP',
        TableCreationParameters: {
          TableName: target,
          KeySchema: copy.schema.keySchema.map((k) => ({ ...k })) as KeySchemaElement[],
          AttributeDefinitions: copy.schema.attributeDefinitions.map((a) => ({ ...a })) as AttributeDefinition[],
          BillingMode: (provisioned ? 'PROVISIONED' : 'PAY_PER_REQUEST') as BillingMode,
          ...(provisioned ? { ProvisionedThroughput: capacity(copy.schema.provisioned?.read, copy.schema.provisioned?.write) } : {}),
          ...(gsis.length ? { GlobalSecondaryIndexes: gsis } : {}),
        },
      }),
    );
    return { importArn: out.ImportTableDescription?.ImportArn ?? '', status: out.ImportTableDescription?.ImportStatus ?? 'IN_PROGRESS', keyPrefix, manifest: manifest !== undefined };
  } catch (err) {
    if (isTableTaken(err)) throw new TargetExistsError(target, { cause: err });
    throw err;
  }
}

export async function describeImport(ddb: DynamoDBClient, importArn: string): Promise<ImportState> {
  const d = (await ddb.send(new DescribeImportCommand({ ImportArn: importArn }))).ImportTableDescription;
  const error = [d?.FailureCode, d?.FailureMessage].filter(Boolean).join(': ');
  return { status: d?.ImportStatus ?? 'IN_PROGRESS', ...(d?.ImportedItemCount !== undefined ? { importedItemCount: d.ImportedItemCount } : {}), ...(error ? { error } : {}) };
}

/** The 'copy-restore' long task's deps: DescribeImport, and the copy's settings re-applied as a backup restore does. */
export function copyRestoreDeps(
  clients: SettingsClients,
  ledger: CopyLedger,
  opts: { tagKey: string; keepPolicyTag?: boolean; onProgress?: (line: string) => void; maxWaitMs?: number },
): CopyRestoreDeps {
  return {
    describeImport: (arn) => describeImport(clients.dynamodb, arn),
    async applySettings(target: string, key: CopyKey) {
      const copy = (await ledger.listCopies(key.table)).find((c) => c.copyId === key.copyId && c.requestedAt === key.requestedAt);
      if (!copy?.settings) return { applied: 0, skipped: 0, failed: 1 };
      return settingsReport(await applySettings(clients, target, copy.settings, { tagKey: opts.tagKey, keepPolicyTag: opts.keepPolicyTag, onProgress: opts.onProgress, maxWaitMs: opts.maxWaitMs }));
    },
  };
}

/** The worker's copy step over a service (its DynamoDB client, auto scaling at the same endpoint, its ledger table). */
export function serviceCopyPort(svc: Pick<Service, 'clients' | 'config'>, opts: { endpoint?: string; region?: string } = {}): CopyPort | undefined {
  if (!svc.config.ledgerTable) return undefined;
  return copyPort(settingsClients(svc.clients, opts), svc.config.ledgerTable);
}
