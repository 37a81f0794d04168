import { PolicyValidationError, TableNotFoundError, errorMessage } from '../errors';
import { throwIfTransient } from '../backup/planner';
import type { Policy } from '../policy';
import type { BackupApi, Clock, LedgerPort, PolicySource, TableDiscovery } from '../ports';
import { baselineOf, breaches, growthPoints, growthSince, tablePoints, thresholdFor, type Growth, type MetricPoint, type SizeThreshold } from './size';
import { desiredSizeAlarm, diffAlarms, sizeAlarmName, type ExistingAlarm, type SizeAlarmSpec, type StaticSizeAlarm } from './size-alarms';
import { resolveTaggedTables } from '../tags';
import { silentLog, type Log } from '../log';

/**
 * The size probe and the alarm reconciler. One run:
 *  1. resolves every (table, policy) whose effective policy (override included) has a `size`
 *     trigger, from the tags and SSM;
 *  2. reads each one's baseline from the ledger and, when probing, each table's DescribeTable;
 *  3. reconciles the alarms of the prefix: creates, updates (drift) and deletes;
 *  4. when probing, publishes TableSizeBytes, ItemCount (per table) and
 *     GrowthSinceLastBackupBytes/Percent (per table and policy).
 * A transient failure (SSM or tagging outage) aborts the run before any alarm is deleted; a
 * failure of one table (or one invalid policy) leaves that table's alarm as it is and the others
 * go on.
 */

/** The prefix's alarms in CloudWatch. */
export interface SizeAlarmStore {
  /** Every alarm whose name starts with the prefix (all pages). */
  list(): Promise<ExistingAlarm[]>;
  /** Creates or overwrites one alarm (PutMetricAlarm). */
  put(spec: SizeAlarmSpec): Promise<void>;
  /** Deletes alarms; returns the number of calls made (batches of 100). */
  delete(names: readonly string[]): Promise<number>;
}

/** Publishes metric data; returns the number of calls made. */
export interface MetricSink {
  publish(points: readonly MetricPoint[]): Promise<number>;
}

export interface SizeProbeDeps {
  readonly policies: PolicySource;
  readonly discovery: TableDiscovery;
  readonly tables: Pick<BackupApi, 'describeTable'>;
  readonly ledger: Pick<LedgerPort, 'getState'>;
  readonly alarms: SizeAlarmStore;
  readonly metrics: MetricSink;
  readonly clock: Clock;
  readonly log?: Log;
}

export interface SizeProbeOptions {
  readonly prefix: string;
  readonly namespace: string;
  /** `probe`: reconcile and publish metrics; `reconcile`: alarms only (no DescribeTable). */
  readonly mode?: 'probe' | 'reconcile';
  /** Most PutMetricAlarm + DeleteAlarms calls in one run; the rest is left to the next run. */
  readonly maxAlarmWrites?: number;
  /** Parallel ledger reads and DescribeTable calls. */
  readonly concurrency?: number;
  /** (table, policy) whose alarms CDK owns: left alone (metrics are still published). */
  readonly staticAlarms?: readonly StaticSizeAlarm[];
}

export interface SizeTarget {
  readonly table: string;
  readonly policy: string;
  readonly baselineBytes?: number;
  readonly threshold: SizeThreshold;
  readonly sizeBytes?: number;
  readonly itemCount?: number;
  readonly growth?: Growth;
  /** The growth reaches the threshold at this probe (the alarm goes, or stays, in ALARM). */
  readonly breaching?: boolean;
}

export interface SizeProblem {
  readonly table?: string;
  readonly policy?: string;
  readonly message: string;
}

export interface SizeProbeReport {
  readonly targets: SizeTarget[];
  readonly alarms: { created: number; updated: number; deleted: number; unchanged: number; deferred: number; kept: number };
  readonly points: number;
  readonly putMetricDataCalls: number;
  readonly problems: SizeProblem[];
}

/** Runs `fn` over `items` with at most `limit` in flight; results keep the input order. */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const workers = Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]);
    }
  });
  await Promise.all(workers);
  return out;
}

interface Candidate {
  readonly table: string;
  readonly policy: string;
  readonly effective: Policy;
}

export async function runSizeProbe(deps: SizeProbeDeps, opts: SizeProbeOptions): Promise<SizeProbeReport> {
  const log = deps.log ?? silentLog;
  const mode = opts.mode ?? 'probe';
  const concurrency = opts.concurrency ?? 10;
  const maxWrites = opts.maxAlarmWrites ?? 500;
  const problems: SizeProblem[] = [];
  /** Alarm names whose (table, policy) could not be resolved this run: never deleted. */
  const keep = new Set<string>();
  const now = deps.clock.now();

  // 1. Tables and policies. Outages abort here, before anything is deleted.
  let known: Set<string>;
  let tagged;
  try {
    known = await deps.policies.listNames();
    tagged = await deps.discovery.discover();
  } catch (err) {
    throwIfTransient(err);
    throw err;
  }
  const matched = resolveTaggedTables(tagged, known).matched;

  const candidates: Candidate[] = [];
  for (const m of matched) {
    try {
      const eff = await deps.policies.getEffective(m.policy, m.table);
      candidates.push({ table: m.table, policy: m.policy, effective: eff.policy });
    } catch (err) {
      throwIfTransient(err);
      // Invalid policy or override: leave the alarm as it is, say so.
      keep.add(sizeAlarmName(opts.prefix, m.policy, m.table));
      problems.push({
        table: m.table,
        policy: m.policy,
        message: `${err instanceof PolicyValidationError ? 'invalid policy' : 'unusable policy'}: ${errorMessage(err)}`,
      });
    }
  }
  const sized = candidates.filter((c) => thresholdFor(c.effective, undefined) !== undefined);

  // 2. Baselines (ledger) and, when probing, table facts (DescribeTable; once per table).
  const baselines = await mapLimit(sized, concurrency, async (c) => {
    try {
      return { ok: true as const, baseline: baselineOf(await deps.ledger.getState(c.table, c.policy)) };
    } catch (err) {
      keep.add(sizeAlarmName(opts.prefix, c.policy, c.table));
      problems.push({ table: c.table, policy: c.policy, message: `cannot read the ledger state: ${errorMessage(err)}` });
      return { ok: false as const };
    }
  });

  const facts = new Map<string, { sizeBytes: number; itemCount: number } | 'gone' | 'error'>();
  if (mode === 'probe') {
    const tables = [...new Set(sized.map((c) => c.table))];
    const described = await mapLimit(tables, concurrency, async (table) => {
      try {
        const f = await deps.tables.describeTable(table);
        return { sizeBytes: f.sizeBytes ?? 0, itemCount: f.itemCount ?? 0 };
      } catch (err) {
        if (err instanceof TableNotFoundError) return 'gone' as const;
        problems.push({ table, message: `DescribeTable failed: ${errorMessage(err)}` });
        return 'error' as const;
      }
    });
    tables.forEach((t, i) => facts.set(t, described[i]));
  }

  // 3. Desired alarms.
  const targets: SizeTarget[] = [];
  const desired: SizeAlarmSpec[] = [];
  sized.forEach((c, i) => {
    const b = baselines[i];
    if (!b.ok) return;
    const f = facts.get(c.table);
    if (f === 'gone') return; // deleted table: its alarm goes
    if (f === 'error') keep.add(sizeAlarmName(opts.prefix, c.policy, c.table));
    const threshold = thresholdFor(c.effective, b.baseline)!;
    desired.push(desiredSizeAlarm({ prefix: opts.prefix, namespace: opts.namespace, table: c.table, policy: c.policy, effective: c.effective, baselineBytes: b.baseline })!);
    if (f && typeof f === 'object') {
      const growth = growthSince(f.sizeBytes, b.baseline);
      targets.push({
        table: c.table,
        policy: c.policy,
        baselineBytes: b.baseline,
        threshold,
        sizeBytes: f.sizeBytes,
        itemCount: f.itemCount,
        growth,
        breaching: breaches(growth, threshold),
      });
    } else {
      targets.push({ table: c.table, policy: c.policy, baselineBytes: b.baseline, threshold });
    }
  });

  // 4. Reconcile.
  const existing = await deps.alarms.list();
  const cdkOwned = new Set((opts.staticAlarms ?? []).map((a) => sizeAlarmName(opts.prefix, a.policy, a.table)));
  const diff = diffAlarms(desired, existing, keep, cdkOwned);
  let writes = 0;
  let deferred = 0;
  let created = 0;
  let updated = 0;
  for (const spec of diff.create) {
    if (writes >= maxWrites) {
      deferred++;
      continue;
    }
    await deps.alarms.put(spec);
    writes++;
    created++;
    log.info('size alarm created', { alarm: spec.name, metric: spec.metric, threshold: spec.threshold });
  }
  for (const { spec, drift } of diff.update) {
    if (writes >= maxWrites) {
      deferred++;
      continue;
    }
    await deps.alarms.put(spec);
    writes++;
    updated++;
    log.info('size alarm updated', { alarm: spec.name, drift });
  }
  const deletable = diff.delete.slice(0, Math.max(0, maxWrites - writes) * 100);
  deferred += diff.delete.length - deletable.length;
  if (deletable.length > 0) {
    await deps.alarms.delete(deletable);
    log.info('size alarms deleted', { count: deletable.length, alarms: deletable.slice(0, 20) });
  }
  if (deferred > 0) log.warn('size alarm changes deferred to the next run', { deferred, maxAlarmWrites: maxWrites });

  // 5. Metrics: one series per table (size, items), one per (table, policy) (growth).
  let points = 0;
  let calls = 0;
  if (mode === 'probe') {
    const data: MetricPoint[] = [];
    const seen = new Set<string>();
    for (const t of targets) {
      if (!t.growth) continue;
      if (!seen.has(t.table)) {
        seen.add(t.table);
        data.push(...tablePoints(t.table, t.sizeBytes ?? 0, t.itemCount ?? 0, now));
      }
      data.push(...growthPoints(t.table, t.policy, t.growth, now));
    }
    points = data.length;
    if (data.length > 0) calls = await deps.metrics.publish(data);
  }
  for (const p of problems) log.error('size probe problem', { table: p.table, policy: p.policy, problem: p.message });

  return {
    targets,
    alarms: { created, updated, deleted: deletable.length, unchanged: diff.unchanged, deferred, kept: keep.size },
    points,
    putMetricDataCalls: calls,
    problems,
  };
}
