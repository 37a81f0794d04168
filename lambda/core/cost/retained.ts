/**
 * How many backups a policy's retention keeps once it has run long enough (the steady state), for
 * a table backed up at a fixed interval. Pure.
 *
 * The count follows the retention planner's rules (lambda/core/retention/retention.ts) on an
 * endless history of backups, one every `intervalMinutes`, pruned right after each backup (as the
 * worker does):
 *  - `keepLast N` keeps the N newest; `maxAgeDays D` keeps those younger than D days; both are a
 *    run of the newest backups;
 *  - each period rule keeps the newest backup of each of its N newest periods that hold a backup
 *    (UTC hours, days, ISO weeks, months, years), so the rules overlap: keepDaily 7 + keepWeekly 4
 *    is 9 or 10 backups depending on the weekday, never 11;
 *  - the newest backup is always kept, and never fewer than `minKeep` (absent: 1);
 *  - a retention without any rule keeps everything: the count grows without bound.
 * The count moves with where in the day, week, month or year the newest backup falls, so it is
 * given as the least and the most over backup times sampled across a year (at most 2,000 of them).
 */
import type { Retention } from '../policy';

const MINUTE_MS = 60_000;
const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;
/** AWS bills a month as 730 hours. */
export const HOURS_PER_MONTH = 730;

export type RetainedCount =
  | { readonly unbounded: false; readonly min: number; readonly max: number }
  | { readonly unbounded: true; readonly reason: string };

type PeriodRule = 'keepHourly' | 'keepDaily' | 'keepWeekly' | 'keepMonthly' | 'keepYearly';

/** The start (ms) of the UTC period that contains `ms`. */
const PERIOD_START: Readonly<Record<PeriodRule, (ms: number) => number>> = {
  keepHourly: (ms) => Math.floor(ms / HOUR_MS) * HOUR_MS,
  keepDaily: (ms) => Math.floor(ms / DAY_MS) * DAY_MS,
  // ISO weeks start on Monday; 1970-01-01 was a Thursday, so Mondays are day indices 4 + 7k.
  keepWeekly: (ms) => (Math.floor((Math.floor(ms / DAY_MS) - 4) / 7) * 7 + 4) * DAY_MS,
  keepMonthly: (ms) => {
    const d = new Date(ms);
    return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1);
  },
  keepYearly: (ms) => Date.UTC(new Date(ms).getUTCFullYear(), 0, 1),
};

const PERIOD_RULES = Object.keys(PERIOD_START) as PeriodRule[];
const RULE_KEYS = ['keepLast', ...PERIOD_RULES, 'maxAgeDays'] as const;

/** True when the retention has at least one rule (else it keeps every backup). */
export function hasRetentionRule(retention: Retention): boolean {
  return RULE_KEYS.some((k) => retention[k] !== undefined);
}

/**
 * The backups kept when the newest was made at `nowMs`, as ages in whole intervals (0 = the
 * newest): `run` newest ones, plus the indices in `picked` (some of them inside the run).
 */
export function keptIndices(retention: Retention, intervalMinutes: number, nowMs: number): { run: number; picked: Set<number> } {
  const intervalMs = intervalMinutes * MINUTE_MS;
  let run = 1; // the newest is always kept
  if (retention.keepLast !== undefined) run = Math.max(run, retention.keepLast);
  if (retention.maxAgeDays !== undefined) run = Math.max(run, Math.ceil((retention.maxAgeDays * DAY_MS) / intervalMs));
  const picked = new Set<number>();
  for (const rule of PERIOD_RULES) {
    const n = retention[rule] ?? 0;
    let j = 0;
    for (let k = 0; k < n; k++) {
      picked.add(j);
      // The newest backup of the previous period that holds one: the first older than this period.
      const start = PERIOD_START[rule](nowMs - j * intervalMs);
      j = Math.floor((nowMs - start) / intervalMs) + 1;
    }
  }
  return { run, picked };
}

/** The number kept when the newest backup was made at `nowMs`. */
export function retainedAt(retention: Retention, intervalMinutes: number, nowMs: number): number {
  const { run, picked } = keptIndices(retention, intervalMinutes, nowMs);
  let count = run;
  for (const j of picked) if (j >= run) count++;
  return Math.max(count, retention.minKeep ?? 1);
}

/** Where the samples start: a Monday, 1 January, at midnight UTC (2024 is a leap year). */
const SAMPLE_FROM = Date.UTC(2024, 0, 1);

/**
 * The least and the most backups a retention keeps in the steady state, with a backup every
 * `intervalMinutes` (≥ 1). The count is sampled at backup times over a year (a fortnight when no
 * monthly or yearly rule makes the date matter; two days when no weekly one does either).
 */
export function steadyStateRetained(retention: Retention, intervalMinutes: number): RetainedCount {
  if (!hasRetentionRule(retention)) return { unbounded: true, reason: 'the retention has no rule, so it keeps every backup' };
  if (!(intervalMinutes >= 1)) throw new RangeError(`intervalMinutes must be at least 1, got ${intervalMinutes}`);
  const span = retention.keepMonthly || retention.keepYearly ? 366 * DAY_MS : retention.keepWeekly ? 14 * DAY_MS : 2 * DAY_MS;
  const intervalMs = intervalMinutes * MINUTE_MS;
  // Bound the work: each sample walks every period rule's count once.
  const work = 1 + PERIOD_RULES.reduce((n, r) => n + (retention[r] ?? 0), 0);
  const samples = Math.max(1, Math.min(Math.ceil(span / intervalMs), 2000, Math.floor(200_000 / work)));
  let step = Math.max(1, Math.floor(span / intervalMs / samples));
  // A stride of whole days would always sample the same time of day: shift it by one interval.
  if (step > 1 && (step * intervalMs) % DAY_MS === 0) step += 1;
  const stride = step * intervalMs;
  let min = Infinity;
  let max = 0;
  for (let s = 0; s < samples; s++) {
    const n = retainedAt(retention, intervalMinutes, SAMPLE_FROM + s * stride);
    min = Math.min(min, n);
    max = Math.max(max, n);
  }
  return { unbounded: false, min, max };
}

/**
 * The most backups the rules could keep if none overlapped: keepLast, each period count, and the
 * backups younger than maxAgeDays. (The floor, minKeep or 1, comes on top when the sum is lower.)
 */
export function sumOfRules(retention: Retention, intervalMinutes: number): number {
  const periods = PERIOD_RULES.reduce((n, r) => n + (retention[r] ?? 0), 0);
  const young = retention.maxAgeDays !== undefined ? Math.ceil((retention.maxAgeDays * DAY_MS) / (intervalMinutes * MINUTE_MS)) : 0;
  return (retention.keepLast ?? 0) + periods + young;
}

/** Off-site copies kept in the steady state: one per copy interval (a whole number of backup intervals) over keepDays. */
export function steadyStateCopies(copy: { readonly minIntervalHours: number; readonly keepDays: number }, intervalMinutes: number): { retained: number; perMonth: number; everyMinutes: number } {
  const wanted = Math.max(copy.minIntervalHours * 60, 1);
  const everyMinutes = Math.ceil(wanted / intervalMinutes) * intervalMinutes;
  return {
    retained: Math.max(1, Math.ceil((copy.keepDays * 1440) / everyMinutes)),
    perMonth: (HOURS_PER_MONTH * 60) / everyMinutes,
    everyMinutes,
  };
}
