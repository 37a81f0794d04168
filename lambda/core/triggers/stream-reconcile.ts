import { countsOnlyDeletes, tableFromStreamArn } from './changes';
import { PolicyUnavailableError, RetryableError, errorMessage } from '../errors';
import { silentLog, type Log } from '../log';
import type { EffectivePolicy } from '../policy';
import type { PolicySource, TableDiscovery } from '../ports';
import { POLICY_NAME_PATTERN } from '../policy';

/**
 * The event source mappings of the change trigger as desired state, and the diff against what
 * exists. The diff is pure; `reconcileStreams` drives it over ports.
 *
 * - A table whose effective policies include a `changes` trigger wants one mapping from its
 *   LatestStreamArn to the stream handler.
 * - When no such policy counts writes (deletes / deleteStorm only), the mapping filters the stream
 *   to REMOVE events: the function is not invoked for inserts and updates at all.
 * - A table without a stream is reported, never skipped in silence, unless one of its policies
 *   says `enableStream: true`: then the stream is turned on (KEYS_ONLY) and mapped on the next run.
 * - Mappings of the function whose table no longer wants one (tag or policy removed, table gone,
 *   stream replaced) are deleted.
 */

export type StreamFilter = 'ALL' | 'REMOVE';

/** FilterCriteria patterns of a filter kind (empty: no filter). */
export function filterPatterns(filter: StreamFilter): string[] {
  return filter === 'REMOVE' ? [JSON.stringify({ eventName: ['REMOVE'] })] : [];
}

/** The filter kind of a mapping's patterns; undefined for a filter the service did not write. */
export function filterKindOf(patterns: readonly string[]): StreamFilter | undefined {
  if (patterns.length === 0) return 'ALL';
  if (patterns.length === 1) {
    try {
      const p = JSON.parse(patterns[0]) as Record<string, unknown>;
      if (Object.keys(p).length === 1 && JSON.stringify(p.eventName) === '["REMOVE"]') return 'REMOVE';
    } catch {
      return undefined;
    }
  }
  return undefined;
}

export interface DesiredStream {
  readonly table: string;
  /** Policies of the table with a `changes` trigger. */
  readonly policies: readonly string[];
  readonly filter: StreamFilter;
  /** A policy allows the service to turn the table's stream on. */
  readonly enableStream: boolean;
}

/** What the table's stream looks like now (DescribeTable). */
export interface StreamInfo {
  readonly table: string;
  readonly exists: boolean;
  /** LatestStreamArn when the stream is enabled. */
  readonly streamArn?: string;
  readonly enabled: boolean;
}

export interface ExistingMapping {
  readonly uuid: string;
  readonly eventSourceArn: string;
  readonly state?: string;
  readonly filterPatterns: readonly string[];
}

export interface StreamPlan {
  readonly create: { table: string; streamArn: string; filter: StreamFilter }[];
  readonly update: { uuid: string; table: string; filter: StreamFilter; from: StreamFilter | 'custom' }[];
  readonly delete: { uuid: string; table: string; eventSourceArn: string; reason: string }[];
  readonly enableStream: { table: string; policies: readonly string[] }[];
  /** Opted-in tables without a stream and without `enableStream`: reported. */
  readonly missingStream: { table: string; policies: readonly string[] }[];
  /** Opted-in tables that do not exist (deleted after tagging). */
  readonly missingTable: string[];
  readonly unchanged: number;
}

/** The desired mapping of each table from its effective policies (tables without `changes` want none). */
export function desiredStreams(tables: readonly { table: string; policies: readonly EffectivePolicy[] }[]): DesiredStream[] {
  const out: DesiredStream[] = [];
  for (const t of tables) {
    const counting = t.policies.filter((p) => p.policy.changes);
    if (counting.length === 0) continue;
    out.push({
      table: t.table,
      policies: counting.map((p) => p.name),
      filter: countsOnlyDeletes(counting.map((p) => p.policy)) ? 'REMOVE' : 'ALL',
      enableStream: t.policies.some((p) => p.policy.enableStream === true),
    });
  }
  return out.sort((a, b) => a.table.localeCompare(b.table));
}

/** Mapping states in which a mapping is on its way out: neither kept nor deleted again. */
const GOING = new Set(['Deleting']);

export function diffStreams(desired: readonly DesiredStream[], streams: readonly StreamInfo[], existing: readonly ExistingMapping[]): StreamPlan {
  const plan = { create: [], update: [], delete: [], enableStream: [], missingStream: [], missingTable: [], unchanged: 0 } as {
    -readonly [K in keyof StreamPlan]: StreamPlan[K];
  };
  const info = new Map(streams.map((s) => [s.table, s]));
  const wanted = new Map<string, { d: DesiredStream; streamArn: string }>();

  for (const d of desired) {
    const s = info.get(d.table);
    if (!s || !s.exists) {
      plan.missingTable.push(d.table);
      continue;
    }
    if (!s.enabled || !s.streamArn) {
      if (d.enableStream) plan.enableStream.push({ table: d.table, policies: d.policies });
      else plan.missingStream.push({ table: d.table, policies: d.policies });
      continue;
    }
    wanted.set(s.streamArn, { d, streamArn: s.streamArn });
  }

  const mapped = new Set<string>();
  for (const m of [...existing].sort((a, b) => a.uuid.localeCompare(b.uuid))) {
    if (m.state && GOING.has(m.state)) continue;
    const table = tableFromStreamArn(m.eventSourceArn) ?? m.eventSourceArn;
    const w = wanted.get(m.eventSourceArn);
    if (!w) {
      const d = desired.find((x) => x.table === table);
      const reason = !d ? 'table no longer opted in to a changes trigger' : info.get(table)?.exists === false ? 'table is gone' : 'not the latest stream of the table';
      plan.delete.push({ uuid: m.uuid, table, eventSourceArn: m.eventSourceArn, reason });
      continue;
    }
    if (mapped.has(m.eventSourceArn)) {
      plan.delete.push({ uuid: m.uuid, table, eventSourceArn: m.eventSourceArn, reason: 'duplicate mapping of the stream' });
      continue;
    }
    mapped.add(m.eventSourceArn);
    const kind = filterKindOf(m.filterPatterns);
    if (kind !== w.d.filter) plan.update.push({ uuid: m.uuid, table, filter: w.d.filter, from: kind ?? 'custom' });
    else plan.unchanged++;
  }
  for (const [streamArn, w] of wanted) {
    if (!mapped.has(streamArn)) plan.create.push({ table: w.d.table, streamArn, filter: w.d.filter });
  }
  return plan;
}

// ---- orchestration over ports -------------------------------------------------------------------

export interface StreamMappingApi {
  describeStream(table: string): Promise<StreamInfo>;
  enableStream(table: string): Promise<void>;
  listMappings(): Promise<ExistingMapping[]>;
  createMapping(streamArn: string, filter: StreamFilter): Promise<string | undefined>;
  updateMapping(uuid: string, filter: StreamFilter): Promise<void>;
  deleteMapping(uuid: string): Promise<void>;
}

export interface StreamReportSink {
  /** Publishes the report of tables without a stream (the adapter may hold back repeats). */
  reportMissingStreams(report: StreamReconcileReport): Promise<boolean>;
}

export interface StreamReconcileDeps {
  readonly discovery: TableDiscovery;
  readonly policies: Pick<PolicySource, 'getEffective'>;
  readonly api: StreamMappingApi;
  readonly report: StreamReportSink;
  readonly log?: Log;
}

export interface StreamReconcileReport {
  readonly plan: StreamPlan;
  readonly created: string[];
  readonly updated: string[];
  readonly deleted: string[];
  readonly streamsEnabled: string[];
  /** Failures of single actions and policy problems; the rest of the run went on. */
  readonly errors: { table?: string; policy?: string; message: string }[];
  readonly notified: boolean;
}

function transient(err: unknown): boolean {
  return err instanceof RetryableError || (err instanceof PolicyUnavailableError && err.retryable);
}

export async function reconcileStreams(deps: StreamReconcileDeps): Promise<StreamReconcileReport> {
  const log = deps.log ?? silentLog;
  const errors: StreamReconcileReport['errors'] = [];

  // Discovery failing fails the run (retried on the next schedule): never delete mappings blind.
  const tagged = await deps.discovery.discover();
  const tables: { table: string; policies: EffectivePolicy[] }[] = [];
  /** Tables whose policies could not all be read: their mappings are left as they are. */
  const unsure = new Set<string>();
  for (const t of tagged) {
    const policies: EffectivePolicy[] = [];
    for (const name of t.policies) {
      if (!POLICY_NAME_PATTERN.test(name)) continue;
      try {
        policies.push(await deps.policies.getEffective(name, t.table));
      } catch (err) {
        errors.push({ table: t.table, policy: name, message: errorMessage(err) });
        if (transient(err)) unsure.add(t.table);
      }
    }
    tables.push({ table: t.table, policies });
  }
  const desired = desiredStreams(tables);

  const streams: StreamInfo[] = [];
  for (const d of desired) {
    try {
      streams.push(await deps.api.describeStream(d.table));
    } catch (err) {
      errors.push({ table: d.table, message: `DescribeTable: ${errorMessage(err)}` });
      unsure.add(d.table);
    }
  }
  const existing = await deps.api.listMappings();
  // A table we could not look at keeps its mappings as they are.
  const known = desired.filter((d) => !unsure.has(d.table) || streams.some((s) => s.table === d.table));
  const plan0 = diffStreams(known, streams, existing);
  const plan: StreamPlan = {
    ...plan0,
    delete: plan0.delete.filter((x) => !unsure.has(x.table)),
    missingTable: plan0.missingTable.filter((t) => !unsure.has(t)),
  };

  const created: string[] = [];
  const updated: string[] = [];
  const deleted: string[] = [];
  const streamsEnabled: string[] = [];
  const attempt = async (table: string, what: string, fn: () => Promise<unknown>, done: string[]) => {
    try {
      await fn();
      done.push(table);
      log.info(`stream mapping: ${what}`, { table });
    } catch (err) {
      errors.push({ table, message: `${what}: ${errorMessage(err)}` });
      log.error(`stream mapping: ${what} failed`, { table, error: errorMessage(err) });
    }
  };
  for (const c of plan.create) await attempt(c.table, 'create', () => deps.api.createMapping(c.streamArn, c.filter), created);
  for (const u of plan.update) await attempt(u.table, `update filter ${u.from} -> ${u.filter}`, () => deps.api.updateMapping(u.uuid, u.filter), updated);
  for (const x of plan.delete) await attempt(x.table, `delete (${x.reason})`, () => deps.api.deleteMapping(x.uuid), deleted);
  for (const e of plan.enableStream) await attempt(e.table, 'enable KEYS_ONLY stream', () => deps.api.enableStream(e.table), streamsEnabled);

  for (const m of plan.missingStream) {
    log.error('table opted in to a changes trigger has no stream; not counted', { table: m.table, policies: m.policies });
  }
  const report: StreamReconcileReport = { plan, created, updated, deleted, streamsEnabled, errors, notified: false };
  let notified = false;
  if (plan.missingStream.length > 0 || plan.missingTable.length > 0 || errors.length > 0) {
    try {
      notified = await deps.report.reportMissingStreams(report);
    } catch (err) {
      log.error('could not publish the stream reconcile report', { error: errorMessage(err) });
    }
  }
  return { ...report, notified };
}

/** The report as a message (SNS). */
export function streamReportMessage(r: StreamReconcileReport): { subject: string; message: string } {
  const parts: string[] = [];
  if (r.plan.missingStream.length) parts.push(`${r.plan.missingStream.length} table(s) without a stream`);
  if (r.plan.missingTable.length) parts.push(`${r.plan.missingTable.length} missing table(s)`);
  if (r.errors.length) parts.push(`${r.errors.length} error(s)`);
  const lines = [
    'DynamoDB backup service: change trigger (stream mappings) report',
    '',
    ...(r.plan.missingStream.length
      ? [
          'Tables whose policy has a `changes` trigger but that have no DynamoDB stream. Their changes are NOT counted.',
          'Enable a stream on the table, or set `"enableStream": true` in the policy to let the service enable a KEYS_ONLY stream:',
          ...r.plan.missingStream.map((m) => `  - ${m.table} (policies: ${m.policies.join(', ')})`),
          '',
        ]
      : []),
    ...(r.plan.missingTable.length ? ['Tagged tables that do not exist:', ...r.plan.missingTable.map((t) => `  - ${t}`), ''] : []),
    ...(r.errors.length ? ['Errors:', ...r.errors.map((e) => `  - ${e.table ?? '-'}${e.policy ? ` (${e.policy})` : ''}: ${e.message}`), ''] : []),
    `Mappings created: ${r.created.length}, updated: ${r.updated.length}, deleted: ${r.deleted.length}; streams enabled: ${r.streamsEnabled.length}`,
  ];
  return { subject: `[ddb-backup] STREAMS: ${parts.join(', ') || 'report'}`, message: lines.join('\n') };
}
