/**
 * Off-site copies: a DynamoDB export to S3 (full, DYNAMODB_JSON) into a vault bucket, one unique
 * prefix per copy, recorded in the ledger. The export runs for minutes to hours: nothing here
 * waits on it. Its status moves forward when a later job of the table describes it (`copyIfDue`)
 * or when the long task `copyTask` polls it (the deployed waiter, or `copy --wait`).
 * Pure: the ports below are implemented over the SDK in lambda/aws/copies.ts and copy-ledger.ts.
 */
import { randomBytes } from 'node:crypto';
import { errorMessage } from '../errors';
import { COPY_DESTINATION_PATTERN, type CopySettings, type EffectivePolicy } from '../policy';
import type { TableSettings } from '../restore/restore';

export type CopyStatus = 'IN_PROGRESS' | 'COMPLETED' | 'FAILED';

/** The key schema of the copied table: ImportTable needs it to create the new table. */
export interface CopySchema {
  readonly keySchema: readonly { AttributeName: string; KeyType: string }[];
  readonly attributeDefinitions: readonly { AttributeName: string; AttributeType: string }[];
  /** The table's own capacity when PROVISIONED. */
  readonly provisioned?: { readonly read: number; readonly write: number };
}

/** One copy, as the ledger records it (pk `COPY#<table>`, sk `<requestedAt>#<copyId>`). */
export interface CopyRecord {
  readonly table: string;
  readonly policy: string;
  readonly copyId: string;
  readonly exportArn?: string;
  readonly bucket: string;
  /** The copy's own prefix (`PREFIX/<table>/<copyId>`); the export writes under `<prefix>/AWSDynamoDB/`. */
  readonly prefix: string;
  readonly owner?: string;
  readonly region?: string;
  readonly status: CopyStatus;
  readonly requestedAt: string;
  readonly completedAt?: string;
  readonly itemCount?: number;
  readonly billedSizeBytes?: number;
  readonly error?: string;
  /** The table's settings when the copy was made: re-applied by a restore from the copy. */
  readonly settings?: TableSettings;
  readonly schema?: CopySchema;
  /** Days the vault keeps the copy (the record outlives it by the audit period). */
  readonly keepDays: number;
}

/** What DescribeExport says of an export. */
export interface ExportState {
  readonly status: CopyStatus;
  readonly completedAt?: string;
  readonly itemCount?: number;
  readonly billedSizeBytes?: number;
  readonly error?: string;
}

/** The table facts a copy needs: its ARN (exports name the table by it), schema and PITR. */
export interface CopySource {
  readonly tableArn: string;
  readonly schema: CopySchema;
  /** false when PITR is off; undefined when it could not be read (the export then decides). */
  readonly pitrEnabled?: boolean;
  readonly settings?: TableSettings;
}

export interface ExportRequest {
  readonly tableArn: string;
  readonly bucket: string;
  readonly prefix: string;
  readonly owner?: string;
  readonly clientToken: string;
}

/** The DynamoDB side of a copy. Implementations throw PitrOffError when the export needs PITR. */
export interface CopyApi {
  describeSource(table: string, now: Date): Promise<CopySource>;
  startExport(req: ExportRequest): Promise<{ exportArn: string; state: ExportState }>;
  describeExport(exportArn: string): Promise<ExportState>;
}

export type CopyKey = Pick<CopyRecord, 'table' | 'requestedAt' | 'copyId'>;

/** The ledger side of a copy. */
export interface CopyLedgerPort {
  putCopy(record: CopyRecord): Promise<void>;
  /** Every copy record of a table, newest first; every page. */
  listCopies(table: string): Promise<CopyRecord[]>;
  /** Records the end (or news) of an IN_PROGRESS copy; false when it was not IN_PROGRESS any more. */
  finishCopy(key: CopyKey, state: ExportState): Promise<boolean>;
}

/** The table's point-in-time recovery is off: DynamoDB cannot export it. */
export class PitrOffError extends Error {
  override readonly name = 'PitrOffError';

  constructor(readonly table: string, options?: { cause?: unknown }) {
    super(`no copy of ${table}: point-in-time recovery (PITR) is off, and an export to S3 needs it (enable pointInTimeRecovery in the policy, or on the table)`, options);
  }
}

/** A copy is reported as stuck when its export is still IN_PROGRESS this long after the request. */
export const COPY_STUCK_AFTER_HOURS = 24;

const HOUR_MS = 3_600_000;

/** `s3://BUCKET/PREFIX` → bucket and prefix (without a trailing slash; '' for none). */
export function parseDestination(to: string): { bucket: string; prefix: string } {
  const m = COPY_DESTINATION_PATTERN.exec(to);
  if (!m) throw new Error(`not an s3://BUCKET/PREFIX destination: "${to}"`);
  return { bucket: m[1], prefix: (m[2] ?? '').replace(/\/+$/, '') };
}

/** A copy id: sortable by time, unique (`20261202T142000Z-1a2b3c4d`). */
export function newCopyId(now: Date): string {
  return `${now.toISOString().replace(/[-:]/g, '').replace(/\.\d+/, '')}-${randomBytes(4).toString('hex')}`;
}

/** The copy's own prefix: `PREFIX/<table>/<copyId>`, so each copy can be imported alone. */
export function copyPrefix(base: string, table: string, copyId: string): string {
  return [base, table, copyId].filter(Boolean).join('/');
}

/** True for an IN_PROGRESS copy requested more than COPY_STUCK_AFTER_HOURS ago. */
export function isStuck(record: Pick<CopyRecord, 'status' | 'requestedAt'>, now: Date): boolean {
  return record.status === 'IN_PROGRESS' && now.getTime() - Date.parse(record.requestedAt) > COPY_STUCK_AFTER_HOURS * HOUR_MS;
}

export type CopyDue = { readonly due: true } | { readonly due: false; readonly reason: string };

/**
 * Whether a copy is due: not while a copy requested within `minIntervalHours` is COMPLETED or
 * still IN_PROGRESS (and not stuck). FAILED copies and stuck ones never hold the next copy back.
 */
export function copyDue(records: readonly Pick<CopyRecord, 'status' | 'requestedAt' | 'copyId'>[], minIntervalHours: number, now: Date): CopyDue {
  const recent = records
    .filter((r) => r.status === 'COMPLETED' || (r.status === 'IN_PROGRESS' && !isStuck(r, now)))
    .filter((r) => now.getTime() - Date.parse(r.requestedAt) < minIntervalHours * HOUR_MS)
    .sort((a, b) => b.requestedAt.localeCompare(a.requestedAt));
  if (recent.length === 0) return { due: true };
  const r = recent[0];
  return { due: false, reason: `copy ${r.copyId} (${r.status}, requested ${r.requestedAt}) is within minIntervalHours ${minIntervalHours}` };
}

/** The newest COMPLETED copy, or undefined. */
export function newestCompleted<R extends Pick<CopyRecord, 'status' | 'requestedAt'>>(records: readonly R[]): R | undefined {
  return records.filter((r) => r.status === 'COMPLETED').sort((a, b) => b.requestedAt.localeCompare(a.requestedAt))[0];
}

/** What a job's copy step did, in the job result. */
export interface CopyJobResult {
  /** `started`: an export was requested; `not-due`: a recent copy exists; `failed`: no copy was made (see reason). */
  readonly status: 'started' | 'not-due' | 'failed';
  readonly copyId?: string;
  readonly reason?: string;
  /** Earlier copies found FAILED or stuck by this job: each needs a person's look. */
  readonly alerts?: readonly string[];
}

/** True when the copy step has something to report as a failure. */
export function copyFailed(r: CopyJobResult | undefined): boolean {
  return r !== undefined && (r.status === 'failed' || (r.alerts?.length ?? 0) > 0);
}

export interface CopyDeps {
  readonly api: CopyApi;
  readonly ledger: CopyLedgerPort;
}

/**
 * Moves the table's IN_PROGRESS copies forward (DescribeExport) and returns what to alert on:
 * copies that turned FAILED now, and copies stuck IN_PROGRESS. A copy whose export cannot be
 * described is left as it is (the next job looks again).
 */
export async function advanceCopies(deps: CopyDeps, records: readonly CopyRecord[], now: Date): Promise<{ records: CopyRecord[]; alerts: string[] }> {
  const alerts: string[] = [];
  const out: CopyRecord[] = [];
  for (const r of records) {
    if (r.status !== 'IN_PROGRESS' || !r.exportArn) {
      out.push(r);
      continue;
    }
    let state: ExportState;
    try {
      state = await deps.api.describeExport(r.exportArn);
    } catch {
      out.push(r);
      if (isStuck(r, now)) alerts.push(stuckAlert(r, now));
      continue;
    }
    if (state.status !== 'IN_PROGRESS') {
      await deps.ledger.finishCopy(r, state);
      if (state.status === 'FAILED') alerts.push(`copy ${r.copyId} of ${r.table} FAILED: ${state.error ?? 'no reason given'}`);
      out.push({ ...r, ...state });
      continue;
    }
    if (isStuck(r, now)) alerts.push(stuckAlert(r, now));
    out.push(r);
  }
  return { records: out, alerts };
}

function stuckAlert(r: CopyRecord, now: Date): string {
  const hours = Math.floor((now.getTime() - Date.parse(r.requestedAt)) / HOUR_MS);
  return `copy ${r.copyId} of ${r.table} is stuck: export ${r.exportArn ?? '(none)'} still IN_PROGRESS ${hours} h after the request (limit ${COPY_STUCK_AFTER_HOURS} h)`;
}

export interface StartCopyRequest {
  readonly table: string;
  readonly policy: string;
  readonly copy: CopySettings;
  readonly now: Date;
}

/**
 * Requests one copy now: reads the table (ARN, schema, settings, PITR), refuses a table whose
 * PITR is off (PitrOffError), exports into the copy's own prefix and records the copy
 * IN_PROGRESS (or as DescribeExport already has it).
 */
export async function startCopy(deps: CopyDeps, req: StartCopyRequest): Promise<CopyRecord> {
  const source = await deps.api.describeSource(req.table, req.now);
  if (source.pitrEnabled === false) throw new PitrOffError(req.table);
  const dest = parseDestination(req.copy.to);
  const copyId = newCopyId(req.now);
  const prefix = copyPrefix(dest.prefix, req.table, copyId);
  const started = await deps.api.startExport({ tableArn: source.tableArn, bucket: dest.bucket, prefix, owner: req.copy.owner, clientToken: copyId });
  const record: CopyRecord = {
    table: req.table,
    policy: req.policy,
    copyId,
    exportArn: started.exportArn,
    bucket: dest.bucket,
    prefix,
    ...(req.copy.owner ? { owner: req.copy.owner } : {}),
    ...(req.copy.region ? { region: req.copy.region } : {}),
    requestedAt: req.now.toISOString(),
    keepDays: req.copy.keepDays,
    schema: source.schema,
    ...(source.settings ? { settings: source.settings } : {}),
    ...started.state,
  };
  await deps.ledger.putCopy(record);
  return record;
}

/**
 * A job's copy step: advances the table's earlier copies, then makes a copy when due. Never
 * throws: every problem is in the result (PITR off names PITR), and never touches the backup.
 */
export async function copyIfDue(deps: CopyDeps, table: string, effective: EffectivePolicy, now: Date): Promise<CopyJobResult | undefined> {
  const copy = effective.policy.copy;
  if (!copy) return undefined;
  let alerts: string[] = [];
  try {
    const advanced = await advanceCopies(deps, await deps.ledger.listCopies(table), now);
    alerts = advanced.alerts;
    const withAlerts = alerts.length ? { alerts } : {};
    const due = copyDue(advanced.records.filter((r) => r.policy === effective.name), copy.minIntervalHours, now);
    if (!due.due) return { status: 'not-due', reason: due.reason, ...withAlerts };
    const made = await startCopy(deps, { table, policy: effective.name, copy, now });
    return { status: 'started', copyId: made.copyId, reason: `export ${made.exportArn ?? ''} to s3://${made.bucket}/${made.prefix}`, ...withAlerts };
  } catch (err) {
    return { status: 'failed', reason: errorMessage(err), ...(alerts.length ? { alerts } : {}) };
  }
}
