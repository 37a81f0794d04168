/**
 * Coverage: is every table in the account protected, and is its protection working? Pure: the
 * CLI's `status` and the daily digest Lambda gather the facts (lambda/aws/coverage.ts) and this
 * module turns them into flags, a report and an SNS message.
 */
import type { Policy } from '../policy';

export const COVERAGE_FLAGS = ['UNPROTECTED', 'STALE', 'FAILING', 'NO_STREAM', 'PITR_DRIFT', 'POLICY_ERROR', 'DRILL'] as const;
export type CoverageFlag = (typeof COVERAGE_FLAGS)[number];

/** Flags the digest publishes (the others are shown by `status`). */
export const DIGEST_FLAGS: readonly CoverageFlag[] = ['UNPROTECTED', 'STALE', 'FAILING', 'PITR_DRIFT', 'POLICY_ERROR', 'DRILL'];

const MINUTE = 1;
const HOUR = 60;
const DAY = 24 * HOUR;
const DOW: Record<string, number> = { SUN: 1, MON: 2, TUE: 3, WED: 4, THU: 5, FRI: 6, SAT: 7 };

/** Days of the week named by a cron day-of-week field (1=SUN..7=SAT), or undefined if not a plain list. */
function daysOfWeek(field: string): number[] | undefined {
  const days = new Set<number>();
  for (const part of field.toUpperCase().split(',')) {
    const [a, b] = part.split('-');
    const n = (s: string) => (DOW[s] ?? (/^[1-7]$/.test(s) ? Number(s) : NaN));
    const from = n(a);
    const to = b === undefined ? from : n(b);
    if (Number.isNaN(from) || Number.isNaN(to)) return undefined;
    for (let d = from; ; d = (d % 7) + 1) {
      days.add(d);
      if (d === to) break;
    }
  }
  return [...days].sort((x, y) => x - y);
}

/** The longest gap, in days, between consecutive days of the week (circular). */
function maxGapDays(days: number[]): number {
  if (days.length <= 1) return 7;
  let gap = 0;
  for (let i = 0; i < days.length; i++) {
    const next = i + 1 < days.length ? days[i + 1] : days[0] + 7;
    gap = Math.max(gap, next - days[i]);
  }
  return gap;
}

/**
 * The longest interval, in minutes, between two runs of an EventBridge schedule:
 * - `rate(N unit)` gives N units;
 * - `cron(...)` with common shapes: every N minutes, hourly, every N hours, daily, given days of
 *   the week (the longest gap), monthly (31 days); anything else counts as one day.
 * Undefined for no schedule (a size- or change-only policy has no RPO from its schedule).
 */
export function scheduleIntervalMinutes(schedule: string | undefined): number | undefined {
  if (!schedule) return undefined;
  const s = schedule.trim();
  const rate = /^rate\(\s*(\d+)\s+(minute|minutes|hour|hours|day|days)\s*\)$/.exec(s);
  if (rate) {
    const n = Number(rate[1]);
    const unit = rate[2].startsWith('minute') ? MINUTE : rate[2].startsWith('hour') ? HOUR : DAY;
    return n * unit;
  }
  const cron = /^cron\(\s*(.+?)\s*\)$/.exec(s);
  if (!cron) return DAY;
  const f = cron[1].split(/\s+/);
  if (f.length !== 6) return DAY;
  const [min, hour, dom, , dow] = f;
  const step = (field: string) => {
    const m = /^(?:\*|0)\/(\d+)$/.exec(field);
    return m ? Number(m[1]) : undefined;
  };
  const anyDay = (dom === '*' || dom === '?') && (dow === '*' || dow === '?');
  if (anyDay && hour === '*') {
    if (min === '*') return MINUTE;
    const m = step(min);
    if (m) return m;
    return HOUR; // a fixed minute (or a list) every hour
  }
  if (anyDay && step(hour) && /^\d+$/.test(min)) return step(hour)! * HOUR;
  if (anyDay) {
    if (/^\d+(,\d+)+$/.test(hour)) {
      const hours = hour.split(',').map(Number).sort((a, b) => a - b);
      let gap = 0;
      for (let i = 0; i < hours.length; i++) gap = Math.max(gap, (i + 1 < hours.length ? hours[i + 1] : hours[0] + 24) - hours[i]);
      return gap * HOUR;
    }
    return DAY;
  }
  if ((dom === '*' || dom === '?') && dow !== '*' && dow !== '?') {
    const days = daysOfWeek(dow.replace(/#\d$/, ''));
    if (!days || /[#L]/.test(dow)) return 31 * DAY; // nth weekday of the month, last weekday
    return maxGapDays(days) * DAY;
  }
  if (/^\d+$/.test(dom) || dom === 'L') return 31 * DAY;
  return DAY;
}

/** A policy's RPO in minutes: its schedule's interval, or its cooldown when that is longer. */
export function policyRpoMinutes(policy: Pick<Policy, 'schedule' | 'minIntervalMinutes'>): number | undefined {
  const every = scheduleIntervalMinutes(policy.schedule);
  if (every === undefined) return undefined;
  return Math.max(every, policy.minIntervalMinutes ?? 0);
}

/** What is known about one of a table's policies. */
export interface PolicyFacts {
  readonly name: string;
  /** The effective policy; absent when it could not be read (then `error`). */
  readonly policy?: Pick<Policy, 'schedule' | 'minIntervalMinutes' | 'changes' | 'pointInTimeRecovery' | 'drill' | 'copy'>;
  readonly error?: string;
  /** Newest backup of this policy (ledger state, or ListBackups when the ledger has none). */
  readonly lastBackupAt?: string;
  readonly lastAttemptStatus?: 'succeeded' | 'failed';
  readonly lastError?: string;
  /** When the newest COMPLETED off-site copy of this policy was requested (policies with `copy`). */
  readonly lastCopyAt?: string;
}

export interface TableFactsForCoverage {
  readonly table: string;
  readonly policies: readonly PolicyFacts[];
  readonly pitr?: { readonly enabled: boolean; readonly recoveryPeriodDays?: number };
  readonly streamEnabled?: boolean;
  /** Facts that could not be read (shown, never fatal). */
  readonly errors?: readonly string[];
  /** The newest restore drill of the table (read when one of its policies has `drill`). */
  readonly lastDrill?: { readonly startedAt: string; readonly passed: boolean };
  /** Tables that take turns in the drill rotation of this table's policy (1 when unknown). */
  readonly drillRotation?: number;
}

export interface PolicyCoverage {
  readonly name: string;
  readonly rpoMinutes?: number;
  readonly lastBackupAt?: string;
  readonly ageMinutes?: number;
  readonly lastAttemptStatus?: string;
  readonly error?: string;
  /** The newest COMPLETED off-site copy (policies with `copy`). */
  readonly lastCopyAt?: string;
}

export interface TableCoverage {
  readonly table: string;
  readonly flags: readonly CoverageFlag[];
  readonly reasons: readonly string[];
  readonly policies: readonly PolicyCoverage[];
  readonly pitr?: { readonly enabled: boolean; readonly recoveryPeriodDays?: number };
  readonly streamEnabled?: boolean;
  readonly errors?: readonly string[];
}

export function humanMinutes(m: number): string {
  if (m < 120) return `${Math.round(m)} min`;
  if (m < 2 * DAY) return `${Math.round(m / HOUR)} h`;
  return `${Math.round(m / DAY)} d`;
}

/** True when reading policy `name` failed because no such policy exists (a typo in the tag). */
function isUnknownPolicyError(name: string, error: string | undefined): boolean {
  return error !== undefined && error.includes(`no policy named "${name}"`);
}

/** Flags one table. */
export function assessTable(t: TableFactsForCoverage, now: Date): TableCoverage {
  const flags = new Set<CoverageFlag>();
  const reasons: string[] = [];
  const policies: PolicyCoverage[] = [];
  if (t.policies.length === 0) {
    flags.add('UNPROTECTED');
    reasons.push('no backup policy tag');
  }
  let wantPitrDays: number | undefined;
  for (const p of t.policies) {
    const age = p.lastBackupAt ? (now.getTime() - new Date(p.lastBackupAt).getTime()) / 60_000 : undefined;
    if (!p.policy) {
      flags.add('POLICY_ERROR');
      reasons.push(isUnknownPolicyError(p.name, p.error) ? `tag names unknown policy "${p.name}"` : `${p.name}: ${p.error ?? 'policy unreadable'}`);
      policies.push({ name: p.name, lastBackupAt: p.lastBackupAt, ageMinutes: age, error: p.error });
      continue;
    }
    const rpo = policyRpoMinutes(p.policy);
    if (rpo !== undefined) {
      if (age === undefined) {
        flags.add('STALE');
        reasons.push(`${p.name}: no backup yet (RPO ${humanMinutes(rpo)})`);
      } else if (age > 2 * rpo) {
        flags.add('STALE');
        reasons.push(`${p.name}: last backup ${humanMinutes(age)} ago, more than 2x the RPO of ${humanMinutes(rpo)}`);
      }
    }
    // An off-site copy older than twice its interval is a stale recovery point too.
    const copyHours = p.policy.copy?.minIntervalHours;
    const copyAge = p.lastCopyAt ? (now.getTime() - new Date(p.lastCopyAt).getTime()) / 60_000 : undefined;
    if (copyHours !== undefined && (copyAge === undefined || copyAge > 2 * copyHours * 60)) {
      flags.add('STALE');
      reasons.push(
        copyAge === undefined
          ? `${p.name}: no COMPLETED off-site copy yet (minIntervalHours ${copyHours})`
          : `${p.name}: newest COMPLETED off-site copy is ${humanMinutes(copyAge)} old, more than 2x minIntervalHours ${copyHours}`,
      );
    }
    if (p.lastAttemptStatus === 'failed') {
      flags.add('FAILING');
      reasons.push(`${p.name}: last attempt failed${p.lastError ? `: ${p.lastError}` : ''}`);
    }
    if (p.policy.changes && t.streamEnabled === false) {
      flags.add('NO_STREAM');
      reasons.push(`${p.name}: has a changes trigger but the table has no stream`);
    }
    if (p.policy.pointInTimeRecovery?.enabled) {
      wantPitrDays = Math.max(wantPitrDays ?? 0, p.policy.pointInTimeRecovery.recoveryPeriodDays ?? 35);
    }
    policies.push({ name: p.name, rpoMinutes: rpo, lastBackupAt: p.lastBackupAt, ageMinutes: age, lastAttemptStatus: p.lastAttemptStatus, ...(p.lastCopyAt ? { lastCopyAt: p.lastCopyAt } : {}) });
  }
  drillFlag(t, now, flags, reasons);
  if (wantPitrDays !== undefined && t.pitr) {
    if (!t.pitr.enabled) {
      flags.add('PITR_DRIFT');
      reasons.push(`PITR is off; the policy wants it on with ${wantPitrDays} day(s)`);
    } else if ((t.pitr.recoveryPeriodDays ?? 35) !== wantPitrDays) {
      flags.add('PITR_DRIFT');
      reasons.push(`PITR recovery period is ${t.pitr.recoveryPeriodDays ?? 35} day(s); the policy wants ${wantPitrDays}`);
    }
  }
  return {
    table: t.table,
    flags: COVERAGE_FLAGS.filter((f) => flags.has(f)),
    reasons,
    policies,
    ...(t.pitr ? { pitr: t.pitr } : {}),
    ...(t.streamEnabled !== undefined ? { streamEnabled: t.streamEnabled } : {}),
    ...(t.errors?.length ? { errors: t.errors } : {}),
  };
}

/**
 * DRILL: the table's last restore drill failed, or is older than twice its drill interval (the
 * policy's drill schedule times the tables taking turns in it). A table not drilled yet is not
 * flagged: the rotation reaches it.
 */
function drillFlag(t: TableFactsForCoverage, now: Date, flags: Set<CoverageFlag>, reasons: string[]): void {
  const every = t.policies
    .map((p) => (p.policy?.drill ? scheduleIntervalMinutes(p.policy.drill.schedule) : undefined))
    .filter((m): m is number => m !== undefined);
  if (every.length === 0 || !t.lastDrill) return;
  if (!t.lastDrill.passed) {
    flags.add('DRILL');
    reasons.push(`last restore drill (${t.lastDrill.startedAt}) failed: ddb-backup drills --table ${t.table}`);
    return;
  }
  const interval = Math.min(...every) * Math.max(1, t.drillRotation ?? 1);
  const age = (now.getTime() - Date.parse(t.lastDrill.startedAt)) / 60_000;
  if (age > 2 * interval) {
    flags.add('DRILL');
    reasons.push(`last restore drill ${humanMinutes(age)} ago, more than 2x its interval of ${humanMinutes(interval)}`);
  }
}

export interface CoverageReport {
  readonly generatedAt: string;
  readonly tables: readonly TableCoverage[];
  readonly counts: Readonly<Record<CoverageFlag | 'tables' | 'ok', number>>;
}

export function coverageReport(tables: readonly TableFactsForCoverage[], now: Date): CoverageReport {
  // A policy's drill rotation: every table of it takes its turn, one per drill tick.
  const perPolicy = new Map<string, number>();
  for (const t of tables) for (const p of t.policies) if (p.policy?.drill) perPolicy.set(p.name, (perPolicy.get(p.name) ?? 0) + 1);
  const rotation = (t: TableFactsForCoverage) => Math.min(...t.policies.filter((p) => p.policy?.drill).map((p) => perPolicy.get(p.name) ?? 1));
  const assessed = tables
    .map((t) => assessTable(t.drillRotation === undefined && t.lastDrill ? { ...t, drillRotation: rotation(t) } : t, now)).sort((a, b) => a.table.localeCompare(b.table));
  const counts = Object.fromEntries(COVERAGE_FLAGS.map((f) => [f, 0])) as Record<CoverageFlag | 'tables' | 'ok', number>;
  counts.tables = assessed.length;
  counts.ok = 0;
  for (const t of assessed) {
    if (t.flags.length === 0) counts.ok++;
    for (const f of t.flags) counts[f]++;
  }
  return { generatedAt: now.toISOString(), tables: assessed, counts };
}

/** Tables with at least one of `flags`. */
export function flaggedTables(report: CoverageReport, flags: readonly CoverageFlag[] = DIGEST_FLAGS): TableCoverage[] {
  return report.tables.filter((t) => t.flags.some((f) => flags.includes(f)));
}

/** SNS subject: ASCII, one line, at most 100 characters. */
export function digestSubject(report: CoverageReport, flags: readonly CoverageFlag[] = DIGEST_FLAGS): string {
  const n = flaggedTables(report, flags).length;
  const parts = flags.filter((f) => report.counts[f] > 0).map((f) => `${report.counts[f]} ${f}`);
  const s = `[ddb-backup] coverage: ${n} of ${report.counts.tables} table(s) need attention${parts.length ? ` (${parts.join(', ')})` : ''}`;
  return s.length > 100 ? `${s.slice(0, 97)}...` : s;
}

/** Human text, then a fenced JSON block for machines (like the run summary). */
export function digestMessage(report: CoverageReport, flags: readonly CoverageFlag[] = DIGEST_FLAGS, maxTables = 500): string {
  const flagged = flaggedTables(report, flags);
  const shown = flagged.slice(0, maxTables);
  const lines = [
    'DynamoDB backup coverage digest',
    `generated: ${report.generatedAt}   tables: ${report.counts.tables}   ok: ${report.counts.ok}`,
    COVERAGE_FLAGS.map((f) => `${f}: ${report.counts[f]}`).join('   '),
  ];
  for (const f of flags) {
    const rows = shown.filter((t) => t.flags.includes(f));
    if (rows.length === 0) continue;
    lines.push('', `${f}:`);
    for (const t of rows) {
      const why = t.reasons.filter((r) => f !== 'UNPROTECTED' || r === 'no backup policy tag').join('; ');
      lines.push(`  - ${t.table}${why ? `: ${why}` : ''}`);
    }
  }
  if (flagged.length > shown.length) lines.push('', `(${flagged.length - shown.length} more table(s) left out)`);
  const machine = {
    version: 1,
    kind: 'coverage',
    generatedAt: report.generatedAt,
    counts: report.counts,
    ...(flagged.length > shown.length ? { truncated: true } : {}),
    tables: shown.map((t) => ({ table: t.table, flags: t.flags, reasons: t.reasons })),
  };
  lines.push('', '--- machine-readable ---', '```json', JSON.stringify(machine, null, 2), '```');
  return lines.join('\n');
}
