import { RetentionSchema, type Retention } from '../policy';

/**
 * The retention planner: decides which of a table's backups a policy keeps and which it deletes.
 *
 * Pure and deterministic (no clock, no I/O, no AWS SDK). The caller passes the backups the ledger
 * recorded (by ARN) for the table and that still exist, calls `planRetention` and deletes exactly
 * `plan.delete`. Ownership comes from the ledger only: backup names are never looked at.
 *
 * Semantics (restic >= 0.16, see `ruleReasons`):
 *  - Candidates are the backups with `table === input.table`, `policy === input.policy` (the policy
 *    the ledger recorded them under), status AVAILABLE or CREATING and a valid `createdAt`.
 *    Everything else is `ignore`, with every reason that applies, and is never deleted.
 *  - Candidates are ordered newest first: `createdAt` descending, ties broken by ARN descending
 *    (plain code-unit order, so the result never depends on the input order or the locale).
 *  - Every candidate takes part in the rules, also a CREATING one (the backup just made counts as
 *    the newest: `keepLast 2` right after a backup keeps it and the newest AVAILABLE one) and a
 *    held one.
 *  - `keepLast N` keeps the N newest candidates.
 *  - `keepHourly|Daily|Weekly|Monthly|Yearly N` keep the newest candidate of each of the N newest
 *    periods that contain a candidate (periods without backups are not counted). When fewer than
 *    N periods have candidates, the rule also keeps the oldest candidate (restic's "keep the
 *    oldest snapshot when there are not enough snapshots"). Periods are UTC; weeks are ISO 8601
 *    weeks (Monday start, ISO week-year).
 *  - `maxAgeDays D` keeps every candidate with `createdAt > now - D days` (no oldest-candidate
 *    keep, like restic's `--keep-within`).
 *  - A candidate is kept when any rule keeps it; `reasons` lists every rule that does.
 *    A rule set to 0 keeps nothing by itself. Only a retention with no rule at all (`{}`, or only
 *    `minKeep`) keeps everything.
 *  - Safety rails, on top of the rules:
 *     - the newest AVAILABLE candidate (every AVAILABLE candidate tied at its `createdAt`) is
 *       always kept;
 *     - a held candidate (`hold`, a legal hold) is always kept, with the reason `held: <reason>`;
 *     - the floor: while fewer than `retention.minKeep` (absent: 1) AVAILABLE candidates are kept,
 *       the newest AVAILABLE candidate not yet kept is kept too (`minKeep k/N`);
 *     - a CREATING candidate is never deleted: when nothing else keeps it, it is kept as
 *       `still being created`;
 *     - nothing is deleted when the retention is missing or invalid, the latest backup attempt
 *       failed, the prune freeze is on, or `now` is not a valid time: the plan is `blocked` and
 *       would-be deletions are kept with the reason `blocked: <why>`.
 *
 * O(n log n) in the number of backups.
 */

/** DynamoDB `BackupStatus`; any other value is passed through (and ignored by the planner). */
export type BackupStatus = 'CREATING' | 'AVAILABLE' | 'DELETED' | (string & Record<never, never>);

/** A legal hold on a backup: while it is set the backup is never deleted. */
export interface BackupHold {
  readonly reason: string;
  readonly by?: string;
  readonly at?: string;
}

/** A backup the ledger recorded; the planner never reads its name. */
export interface BackupRecord {
  readonly arn: string;
  /** Passed through to the decision; not used to decide. */
  readonly name?: string;
  readonly table: string;
  /** The policy the ledger recorded the backup under. */
  readonly policy: string;
  readonly createdAt: Date;
  readonly status: BackupStatus;
  readonly hold?: BackupHold;
}

export interface RetentionInput {
  readonly table: string;
  /** The policy whose backups are being pruned. */
  readonly policy: string;
  /** The ledger's backups of the table (any policy) that still exist. */
  readonly backups: readonly BackupRecord[];
  /** The policy's retention; `undefined` when the policy is invalid or unreadable. */
  readonly retention: Retention | undefined;
  readonly now: Date;
  /** The latest backup attempt for this table and policy. */
  readonly lastAttempt?: { readonly status: 'succeeded' | 'failed'; readonly at: Date };
  /** Prune freeze (delete storm): while `now < frozenUntil` nothing is deleted. */
  readonly frozenUntil?: Date;
}

export type RetentionAction = 'keep' | 'delete' | 'ignore';

export interface RetentionDecision {
  readonly arn: string;
  readonly name?: string;
  readonly createdAt: Date;
  readonly action: RetentionAction;
  readonly reasons: string[];
}

export interface RetentionPlan {
  /** One decision per input backup, newest first (backups with an invalid time last). */
  readonly decisions: readonly RetentionDecision[];
  /** The subsets of `decisions` by action, in the same order. The worker deletes `delete`. */
  readonly keep: readonly RetentionDecision[];
  readonly delete: readonly RetentionDecision[];
  readonly ignore: readonly RetentionDecision[];
  /** Set when nothing may be deleted: why. */
  readonly blocked?: string;
}

export const REASON_NEWEST = 'newest available backup';
export const REASON_NO_RULE = 'no retention rule';
export const REASON_NOT_KEPT = 'not kept by any retention rule';
export const REASON_CREATING = 'still being created';
/**
 * For callers that label backups the ledger does not own; the planner never produces it (it is
 * only given the ledger's backups).
 */
export const REASON_FOREIGN = 'not created by the service';

const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;

type PeriodRule = 'keepHourly' | 'keepDaily' | 'keepWeekly' | 'keepMonthly' | 'keepYearly';

interface PeriodSpec {
  readonly rule: PeriodRule;
  readonly label: string;
  /** The period's name in the plural, for the oldest-candidate reason. */
  readonly units: string;
  /** A number that identifies the period; non-decreasing in time. */
  readonly key: (ms: number) => number;
  readonly format: (date: Date) => string;
}

const pad = (n: number, width = 2): string => String(n).padStart(width, '0');
const ymd = (d: Date): string => `${pad(d.getUTCFullYear(), 4)}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}`;
const dayIndex = (ms: number): number => Math.floor(ms / DAY_MS);
/** Index of the ISO week (Monday start) since the week of 1970-01-01, a Thursday. */
const weekIndex = (ms: number): number => Math.floor((dayIndex(ms) + 3) / 7);

/** ISO 8601 week-year and week number (1–53) of a time, in UTC. */
export function isoWeek(date: Date): { year: number; week: number } {
  // The ISO week belongs to the year of its Thursday.
  const thursday = weekIndex(date.getTime()) * 7; // day index of that week's Thursday
  const year = new Date(thursday * DAY_MS).getUTCFullYear();
  const jan1 = dayIndex(Date.UTC(year, 0, 1));
  return { year, week: Math.floor((thursday - jan1) / 7) + 1 };
}

const PERIODS: readonly PeriodSpec[] = [
  {
    rule: 'keepHourly',
    label: 'hourly',
    units: 'hours',
    key: (ms) => Math.floor(ms / HOUR_MS),
    format: (d) => `${ymd(d)}T${pad(d.getUTCHours())}`,
  },
  { rule: 'keepDaily', label: 'daily', units: 'days', key: dayIndex, format: ymd },
  {
    rule: 'keepWeekly',
    label: 'weekly',
    units: 'weeks',
    key: weekIndex,
    format: (d) => {
      const { year, week } = isoWeek(d);
      return `${pad(year, 4)}-W${pad(week)}`;
    },
  },
  {
    rule: 'keepMonthly',
    label: 'monthly',
    units: 'months',
    key: (ms) => {
      const d = new Date(ms);
      return d.getUTCFullYear() * 12 + d.getUTCMonth();
    },
    format: (d) => `${pad(d.getUTCFullYear(), 4)}-${pad(d.getUTCMonth() + 1)}`,
  },
  {
    rule: 'keepYearly',
    label: 'yearly',
    units: 'years',
    key: (ms) => new Date(ms).getUTCFullYear(),
    format: (d) => pad(d.getUTCFullYear(), 4),
  },
];

const RULE_KEYS = ['keepLast', 'keepHourly', 'keepDaily', 'keepWeekly', 'keepMonthly', 'keepYearly', 'maxAgeDays'] as const;

const isValidDate = (d: unknown): d is Date => d instanceof Date && !Number.isNaN(d.getTime());

/** A backup with its creation time read once (NaN when invalid). */
interface Entry {
  readonly b: BackupRecord;
  readonly t: number;
}

/** Newest first: createdAt descending, then ARN descending (plain code-unit order); invalid times last. */
function newestFirst(x: Entry, y: Entry): number {
  const vx = !Number.isNaN(x.t);
  const vy = !Number.isNaN(y.t);
  if (vx !== vy) return vx ? -1 : 1;
  if (vx && x.t !== y.t) return y.t - x.t;
  return x.b.arn < y.b.arn ? 1 : x.b.arn > y.b.arn ? -1 : 0;
}

/** Reasons a backup is not a candidate of the policy; empty for a candidate. */
function ignoreReasons(e: Entry, table: string, policy: string): string[] {
  const { b } = e;
  const reasons: string[] = [];
  if (b.table !== table) reasons.push(`belongs to table ${b.table}`);
  if (b.policy !== policy) reasons.push(`belongs to policy ${b.policy}`);
  if (b.status !== 'AVAILABLE' && b.status !== 'CREATING') reasons.push(`status ${b.status}`);
  if (Number.isNaN(e.t)) reasons.push('invalid creation time');
  return reasons;
}

function blockReasons(input: RetentionInput, retentionIssue: string | undefined): string[] {
  const out: string[] = [];
  if (retentionIssue !== undefined) out.push(retentionIssue);
  if (input.lastAttempt?.status === 'failed') {
    const at = isValidDate(input.lastAttempt.at) ? input.lastAttempt.at.toISOString() : 'an unknown time';
    out.push(`latest backup attempt failed at ${at}`);
  }
  if (!isValidDate(input.now)) {
    out.push('current time is invalid');
  }
  if (input.frozenUntil !== undefined) {
    if (!isValidDate(input.frozenUntil)) {
      out.push('prune freeze has an invalid end time');
    } else if (!isValidDate(input.now) || input.now.getTime() < input.frozenUntil.getTime()) {
      out.push(`prune frozen until ${input.frozenUntil.toISOString()}`);
    }
  }
  return out;
}

function checkRetention(retention: Retention | undefined): string | undefined {
  if (retention === undefined) return 'policy is invalid or unreadable (no retention)';
  const result = RetentionSchema.safeParse(retention);
  if (!result.success) {
    const issues = result.error.issues.map((i) => `${i.path.map(String).join('.') || '(retention)'}: ${i.message}`);
    return `retention is invalid: ${issues.join('; ')}`;
  }
  return undefined;
}

/**
 * Reasons each sorted candidate is kept by the retention rules (index-aligned with `sorted`).
 *
 * Reproduces restic's `ApplyPolicy` (restic >= 0.16.0; in `internal/restic/snapshot_policy.go`
 * through 0.18.x, `internal/data/snapshot_policy.go` from 0.19.0) for the rules this service has:
 *  - Each count rule walks the snapshots newest first and keeps one whenever its bucket value
 *    differs from the last kept one, while its count lasts. `keepLast` buckets by position, so it
 *    keeps the N newest; the period rules bucket by hour/day/ISO week/month/year.
 *  - Since restic 0.16.0 (changelog "Enhancement #3624: Keep oldest snapshot when there are not
 *    enough snapshots", restic PR #4366) the condition is `val != b.Last || nr == len(list)-1`:
 *    a rule whose count is not used up when it reaches the last (oldest) snapshot of the list
 *    keeps that snapshot even if it shares the period of a newer kept one. "Oldest" is the oldest
 *    snapshot of the whole list (here: of all candidates), not of a period. Each count rule does
 *    this on its own, so several rules short of periods each add a reason to the same backup
 *    (restic >= 0.18.0 labels them "oldest daily snapshot", "oldest yearly snapshot", ...).
 *    In effect: a period rule with count N also keeps the oldest candidate when fewer than N of
 *    its periods have candidates. For `keepLast` the clause changes nothing: with count left at
 *    the oldest snapshot, that snapshot is kept as one of the last N anyway.
 *  - restic's `--keep-within` is not a count rule and has no such clause; neither has
 *    `maxAgeDays` here. (restic's `--keep-within` counts back from the newest snapshot,
 *    `maxAgeDays` from `now`.)
 * Differences that are the service's own: periods are UTC (restic uses each snapshot's time
 * zone), ties in time are ordered by ARN (restic keeps the input order), and a count of 0 is a
 * rule that keeps nothing (restic treats 0 as unset).
 */
function ruleReasons(sorted: readonly Entry[], retention: Retention, now: Date): string[][] {
  const reasons = sorted.map((): string[] => []);
  const oldest = sorted.length - 1;

  const keepLast = retention.keepLast;
  if (keepLast !== undefined) {
    for (let i = 0; i < Math.min(keepLast, sorted.length); i++) reasons[i].push(`keepLast ${i + 1}/${keepLast}`);
  }

  for (const spec of PERIODS) {
    const n = retention[spec.rule];
    if (n === undefined || n <= 0) continue;
    let left = n;
    let lastKey: number | undefined;
    for (let i = 0; i < sorted.length && left > 0; i++) {
      const key = spec.key(sorted[i].t);
      if (key !== lastKey) {
        lastKey = key;
        left--;
        reasons[i].push(`${spec.label} ${spec.format(sorted[i].b.createdAt)}`);
      } else if (i === oldest) {
        // The count is not used up: fewer than n periods have candidates.
        reasons[i].push(`${spec.label} (oldest: fewer than ${n} ${spec.units} have backups)`);
      }
    }
  }

  const maxAgeDays = retention.maxAgeDays;
  if (maxAgeDays !== undefined) {
    const cutoff = now.getTime() - maxAgeDays * DAY_MS;
    sorted.forEach((e, i) => {
      if (e.t > cutoff) reasons[i].push(`within maxAgeDays ${maxAgeDays}`);
    });
  }
  return reasons;
}

function decide(e: Entry, action: RetentionAction, reasons: string[]): RetentionDecision {
  return { arn: e.b.arn, name: e.b.name, createdAt: e.b.createdAt, action, reasons };
}

export function planRetention(input: RetentionInput): RetentionPlan {
  // Read each creation time once and sort once: decisions come out newest first.
  const entries: Entry[] = input.backups.map((b) => ({ b, t: isValidDate(b.createdAt) ? b.createdAt.getTime() : Number.NaN }));
  entries.sort(newestFirst);

  const ignoreOf = new Map<Entry, string[]>();
  const candidates: Entry[] = [];
  for (const e of entries) {
    const reasons = ignoreReasons(e, input.table, input.policy);
    if (reasons.length > 0) ignoreOf.set(e, reasons);
    else candidates.push(e);
  }

  const retentionIssue = checkRetention(input.retention);
  const blocks = blockReasons(input, retentionIssue);
  const blocked = blocks.length > 0 ? blocks.join('; ') : undefined;

  // The newest AVAILABLE candidate (a CREATING one may be newer).
  const newestAvailableMs = candidates.find((e) => e.b.status === 'AVAILABLE')?.t;
  const retention = retentionIssue === undefined ? input.retention : undefined;
  const hasRule = retention !== undefined && RULE_KEYS.some((k) => retention[k] !== undefined);
  const byRule = hasRule && isValidDate(input.now) ? ruleReasons(candidates, retention, input.now) : undefined;

  const reasonsOf = candidates.map((e, i): string[] => {
    const b = e.b;
    const reasons: string[] = [];
    if (b.status === 'AVAILABLE' && e.t === newestAvailableMs) reasons.push(REASON_NEWEST);
    if (retention !== undefined && !hasRule) reasons.push(REASON_NO_RULE);
    if (byRule) reasons.push(...byRule[i]);
    if (b.hold) reasons.push(`held: ${b.hold.reason}`);
    return reasons;
  });

  // The floor: keep more AVAILABLE candidates, newest first, until minKeep of them are kept.
  const minKeep = retention?.minKeep ?? 1;
  const isAvailable = (i: number): boolean => candidates[i].b.status === 'AVAILABLE';
  let keptAvailable = candidates.filter((_, i) => isAvailable(i) && reasonsOf[i].length > 0).length;
  for (let i = 0; i < candidates.length && keptAvailable < minKeep; i++) {
    if (!isAvailable(i) || reasonsOf[i].length > 0) continue;
    keptAvailable++;
    reasonsOf[i].push(`minKeep ${keptAvailable}/${minKeep}`);
  }

  const candidateDecision = new Map<Entry, RetentionDecision>();
  candidates.forEach((e, i) => {
    const reasons = reasonsOf[i];
    if (reasons.length === 0 && e.b.status === 'CREATING') reasons.push(REASON_CREATING);
    if (reasons.length === 0 && blocked !== undefined) reasons.push(`blocked: ${blocked}`);
    candidateDecision.set(e, reasons.length > 0 ? decide(e, 'keep', reasons) : decide(e, 'delete', [REASON_NOT_KEPT]));
  });

  const decisions = entries.map((e) => candidateDecision.get(e) ?? decide(e, 'ignore', ignoreOf.get(e) ?? []));
  return {
    decisions,
    keep: decisions.filter((d) => d.action === 'keep'),
    delete: decisions.filter((d) => d.action === 'delete'),
    ignore: decisions.filter((d) => d.action === 'ignore'),
    ...(blocked !== undefined ? { blocked } : {}),
  };
}
