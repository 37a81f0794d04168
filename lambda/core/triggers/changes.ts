import { STREAM_DEFAULTS } from '../../env';
import type { Policy } from '../policy';
import { tableNameFromArn } from '../tags';

/**
 * Change counting for the stream trigger (issue #5). Pure: no SDK, no clock.
 *
 * Definitions (what a policy's `changes` thresholds count):
 *  - `changes.writes`  counts every item-level change: INSERT + MODIFY + REMOVE;
 *  - `changes.deletes` counts REMOVE only (TTL expiries included: they arrive as REMOVE);
 *  - `changes.deleteStorm` counts REMOVE within `changes.windowMinutes` (default 5).
 * All three are counted "since the last backup of the table" (writes, deletes) or within the
 * window (storm), from cumulative counters and a baseline that is moved when a backup is recorded.
 */

export interface ChangeCounts {
  readonly inserts: number;
  readonly modifies: number;
  readonly removes: number;
}

export const ZERO_COUNTS: ChangeCounts = { inserts: 0, modifies: 0, removes: 0 };

/** The fields of a DynamoDB stream record the counting needs (aws-lambda's DynamoDBRecord fits). */
export interface StreamRecordLike {
  readonly eventName?: string;
  readonly eventSourceARN?: string;
  readonly dynamodb?: { readonly SequenceNumber?: string };
}

/** The records of one table in one batch, counted. */
export interface TableBatch {
  readonly table: string;
  /** The table's ARN, derived from the stream ARN. */
  readonly tableArn: string;
  readonly counts: ChangeCounts;
  /** Sequence numbers of the table's records (the batch item identifiers). */
  readonly sequenceNumbers: string[];
}

/** `arn:aws:dynamodb:r:a:table/NAME/stream/2026-...` -> `arn:aws:dynamodb:r:a:table/NAME`. */
export function tableArnFromStreamArn(streamArn: string | undefined): string | undefined {
  if (!streamArn) return undefined;
  const idx = streamArn.indexOf('/stream/');
  const arn = idx < 0 ? streamArn : streamArn.slice(0, idx);
  return tableNameFromArn(arn) ? arn : undefined;
}

export function tableFromStreamArn(streamArn: string | undefined): string | undefined {
  return streamArn ? tableNameFromArn(streamArn) : undefined;
}

export function writesOf(c: ChangeCounts): number {
  return c.inserts + c.modifies + c.removes;
}

/**
 * Counts a batch per table: INSERT, MODIFY and REMOVE. Records without a table (a malformed
 * eventSourceARN) or of another event name are returned in `unknown`: they change no counter.
 */
export function countByTable(records: readonly StreamRecordLike[]): { tables: TableBatch[]; unknown: StreamRecordLike[] } {
  const byTable = new Map<string, { tableArn: string; inserts: number; modifies: number; removes: number; seq: string[] }>();
  const unknown: StreamRecordLike[] = [];
  for (const r of records) {
    const table = tableFromStreamArn(r.eventSourceARN);
    const tableArn = tableArnFromStreamArn(r.eventSourceARN);
    if (!table || !tableArn || (r.eventName !== 'INSERT' && r.eventName !== 'MODIFY' && r.eventName !== 'REMOVE')) {
      unknown.push(r);
      continue;
    }
    let g = byTable.get(table);
    if (!g) {
      g = { tableArn, inserts: 0, modifies: 0, removes: 0, seq: [] };
      byTable.set(table, g);
    }
    if (r.eventName === 'INSERT') g.inserts++;
    else if (r.eventName === 'MODIFY') g.modifies++;
    else g.removes++;
    if (r.dynamodb?.SequenceNumber) g.seq.push(r.dynamodb.SequenceNumber);
  }
  const tables = [...byTable.entries()].map(([table, g]) => ({
    table,
    tableArn: g.tableArn,
    counts: { inserts: g.inserts, modifies: g.modifies, removes: g.removes },
    sequenceNumbers: g.seq,
  }));
  return { tables, unknown };
}

/** A table's change counter: cumulative totals and the totals when its last backup was recorded. */
export interface CounterSnapshot {
  readonly totals: ChangeCounts;
  /** Cumulative values when the last backup was recorded (zero before the first). */
  readonly baseline: ChangeCounts;
  /** When the baseline was set (the last backup was recorded); undefined before the first. */
  readonly baselineAt?: string;
  /** When the counter item was created: the slot of crossings before the first baseline. */
  readonly createdAt?: string;
  /** The last crossing enqueued, per policy. */
  readonly enqueued: Readonly<Record<string, { readonly slot: string; readonly at: string }>>;
  /** REMOVEs in the current and the previous storm window, per window length (minutes). */
  readonly storm: Readonly<Record<number, StormCounts>>;
}

export interface StormCounts {
  readonly current: number;
  readonly previous: number;
}

/** Changes since the last backup: `writes` = INSERT + MODIFY + REMOVE, `deletes` = REMOVE. */
export function sinceBaseline(s: Pick<CounterSnapshot, 'totals' | 'baseline'>): { writes: number; deletes: number } {
  const d = (a: number, b: number) => Math.max(0, a - b);
  const inserts = d(s.totals.inserts, s.baseline.inserts);
  const modifies = d(s.totals.modifies, s.baseline.modifies);
  const deletes = d(s.totals.removes, s.baseline.removes);
  return { writes: inserts + modifies + deletes, deletes };
}

export type Crossing = { crossed: true; reason: string } | { crossed: false };

/** Whether the changes since the last backup reach the policy's `writes` or `deletes` threshold. */
export function thresholdCrossing(changes: Policy['changes'], since: { writes: number; deletes: number }): Crossing {
  if (!changes) return { crossed: false };
  const reasons: string[] = [];
  if (changes.writes !== undefined && since.writes >= changes.writes) reasons.push(`${since.writes} writes >= ${changes.writes}`);
  if (changes.deletes !== undefined && since.deletes >= changes.deletes) reasons.push(`${since.deletes} deletes >= ${changes.deletes}`);
  return reasons.length ? { crossed: true, reason: `${reasons.join(', ')} since the last backup` } : { crossed: false };
}

/**
 * The idempotency slot of a threshold crossing: the baseline it crossed from. Every crossing until
 * the next backup is recorded shares it (SQS FIFO dedupe + the ledger claim give one backup); the
 * recorded backup moves the baseline, so the next crossing gets a new slot.
 */
export function changesSlot(s: Pick<CounterSnapshot, 'baselineAt' | 'createdAt'>): string {
  return `changes:${s.baselineAt ?? s.createdAt ?? 'start'}`;
}

/** Whether a crossing must be (re-)enqueued: not when the same slot went out less than `rearmMinutes` ago. */
export function shouldEnqueue(
  last: { slot: string; at: string } | undefined,
  slot: string,
  now: Date,
  rearmMinutes: number = STREAM_DEFAULTS.REARM_MINUTES,
): boolean {
  if (!last || last.slot !== slot) return true;
  const at = Date.parse(last.at);
  return Number.isNaN(at) || now.getTime() - at >= rearmMinutes * 60_000;
}

// ---- delete storms ----------------------------------------------------------------------------

/** A fixed window of `minutes`: index = floor(epoch / length). */
export interface StormWindow {
  readonly minutes: number;
  readonly index: number;
  /** ISO start of the window. */
  readonly start: string;
  /** How far into the window `now` is, 0..1. */
  readonly elapsed: number;
}

export function stormWindow(now: Date, minutes: number): StormWindow {
  const len = minutes * 60_000;
  const index = Math.floor(now.getTime() / len);
  return { minutes, index, start: new Date(index * len).toISOString(), elapsed: (now.getTime() - index * len) / len };
}

/**
 * REMOVEs in the sliding window of the last `minutes`, approximated from two fixed windows (the
 * usual sliding-window counter): all of the current window plus the share of the previous one that
 * still overlaps the sliding window. Exact when the deletes are spread evenly; never counts a
 * REMOVE older than two windows.
 */
export function stormEstimate(counts: StormCounts, elapsed: number): number {
  const overlap = Math.min(1, Math.max(0, 1 - elapsed));
  return counts.current + Math.floor(counts.previous * overlap);
}

export function stormSlot(w: Pick<StormWindow, 'start'>): string {
  return `storm:${w.start}`;
}

export function windowMinutesOf(changes: Policy['changes']): number {
  return changes?.windowMinutes ?? STREAM_DEFAULTS.WINDOW_MINUTES;
}

export function freezeHoursOf(changes: Policy['changes']): number {
  return changes?.pruneFreezeHours ?? STREAM_DEFAULTS.PRUNE_FREEZE_HOURS;
}

/** Distinct storm window lengths of a table's policies (normally one). */
export function stormWindowLengths(policies: readonly Pick<Policy, 'changes'>[]): number[] {
  const out = new Set<number>();
  for (const p of policies) if (p.changes?.deleteStorm !== undefined) out.add(windowMinutesOf(p.changes));
  return [...out].sort((a, b) => a - b);
}

/** The policies whose delete storm threshold the estimate reaches. */
export function stormCrossings<T extends { readonly name: string; readonly policy: Pick<Policy, 'changes'> }>(
  policies: readonly T[],
  minutes: number,
  estimate: number,
): T[] {
  return policies.filter(
    (p) => p.policy.changes?.deleteStorm !== undefined && windowMinutesOf(p.policy.changes) === minutes && estimate >= p.policy.changes.deleteStorm,
  );
}

/** Whether any policy only counts deletes: then a mapping may filter the stream to REMOVE events. */
export function countsOnlyDeletes(policies: readonly Pick<Policy, 'changes'>[]): boolean {
  const withChanges = policies.filter((p) => p.changes);
  return withChanges.length > 0 && withChanges.every((p) => p.changes!.writes === undefined);
}
