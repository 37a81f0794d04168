import fc from 'fast-check';
import { backupName, TRIGGERS } from '../../lambda/core/naming';
import type { Retention } from '../../lambda/core/policy';
import {
  isoWeek,
  planRetention,
  type BackupRecord,
  type RetentionInput,
  type RetentionPlan,
} from '../../lambda/core/retention/retention';

/**
 * Property tests of the retention planner. Each property runs NUM_RUNS generated cases
 * (override with FC_NUM_RUNS; reproduce a failure with the seed and path fast-check prints).
 */
const NUM_RUNS = Number(process.env.FC_NUM_RUNS ?? 1000);
const params = { numRuns: NUM_RUNS };

const TABLE = 'orders';
const POLICY = 'daily';
const DAY_MS = 86_400_000;
const RULES = ['keepLast', 'keepHourly', 'keepDaily', 'keepWeekly', 'keepMonthly', 'keepYearly', 'maxAgeDays'] as const;
type Rule = (typeof RULES)[number];
const OLDEST_UNITS: Readonly<Record<string, string>> = { hourly: 'hours', daily: 'days', weekly: 'weeks', monthly: 'months', yearly: 'years' };

// ---------------------------------------------------------------------------------------------
// Arbitraries
// ---------------------------------------------------------------------------------------------

const T0 = Date.UTC(2024, 0, 1);
const T1 = Date.UTC(2028, 0, 1);
const DENSE0 = Date.UTC(2026, 10, 20);
/** Instants on UTC day, ISO week, month and year boundaries. */
const BOUNDARIES = [
  '2024-12-29T23:59:59.999Z',
  '2024-12-30T00:00:00.000Z',
  '2026-02-28T23:59:59.999Z',
  '2026-03-01T00:00:00.000Z',
  '2026-11-23T23:30:00.000Z',
  '2026-11-24T00:30:00.000Z',
  '2026-12-31T23:30:00.000Z',
  '2027-01-01T00:30:00.000Z',
  '2027-01-03T23:59:59.999Z',
  '2027-01-04T00:00:00.000Z',
].map(Date.parse);

/** Times spread over four years, dense in a two-week window (shared hours and days, ties), and on boundaries. */
const timeMs = fc.oneof(
  { weight: 3, arbitrary: fc.integer({ min: T0, max: T1 }) },
  { weight: 3, arbitrary: fc.integer({ min: 0, max: 14 * 24 * 4 }).map((q) => DENSE0 + q * 15 * 60_000) },
  { weight: 1, arbitrary: fc.constantFrom(...BOUNDARIES) },
);

const OTHER_POLICIES = ['hourly', 'weekly', 'Daily', 'daily-2', 'dail'];
const NEAR_MISSES = [
  'ddbbk.daily.schedule.20261124T030000Z.ABCDEF', // upper-case hash
  'ddbbk.daily.schedule.20261124T030000Z', // no hash
  'ddbbk.daily.nightly.20261124T030000Z.abcdef', // unknown trigger
  'xddbbk.daily.schedule.20261124T030000Z.abcdef',
  'ddbbk.daily.schedule.20261124T030000Z.abcdef.copy',
  'ddbbk.daily.schedule.20261399T030000Z.abcdef', // impossible date
  'daily',
  'manual-2026-11-24',
];

const statusArb = fc.oneof(
  { weight: 16, arbitrary: fc.constant('AVAILABLE') },
  { weight: 2, arbitrary: fc.constant('CREATING') },
  { weight: 1, arbitrary: fc.constant('DELETED') },
  { weight: 1, arbitrary: fc.constantFrom('available', 'ARCHIVED', '', 'creating') },
);

type NameSpec =
  | { kind: 'own'; trigger: (typeof TRIGGERS)[number]; slot: number; skew: number }
  | { kind: 'other'; policy: string; trigger: (typeof TRIGGERS)[number]; slot: number }
  | { kind: 'raw'; name: string | undefined };

const nameSpecArb: fc.Arbitrary<NameSpec> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record({
      kind: fc.constant('own' as const),
      trigger: fc.constantFrom(...TRIGGERS),
      slot: fc.nat(),
      skew: fc.integer({ min: -3600_000, max: 3600_000 }), // the name's time need not equal createdAt
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('other' as const),
      policy: fc.constantFrom(...OTHER_POLICIES),
      trigger: fc.constantFrom(...TRIGGERS),
      slot: fc.nat(),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('raw' as const),
      name: fc.oneof(fc.constant(undefined), fc.string({ maxLength: 40 }), fc.constantFrom(...NEAR_MISSES)),
    }),
  },
);

function nameOf(spec: NameSpec, createdAt: number): string | undefined {
  const at = (ms: number) => new Date(Number.isNaN(ms) ? T0 : ms);
  switch (spec.kind) {
    case 'own':
      return backupName(POLICY, spec.trigger, at(createdAt + spec.skew), `slot-${spec.slot}`);
    case 'other':
      return backupName(spec.policy, spec.trigger, at(createdAt), `slot-${spec.slot}`);
    case 'raw':
      return spec.name;
  }
}

/** A legal hold on about one backup in twenty. */
const holdArb = fc.oneof(
  { weight: 19, arbitrary: fc.constant(undefined) },
  {
    weight: 1,
    arbitrary: fc.record(
      { reason: fc.constantFrom('litigation L-17', 'audit', ''), by: fc.constant('legal@example.com'), at: fc.constant('2026-11-02T00:00:00Z') },
      { requiredKeys: ['reason'] },
    ),
  },
);

/**
 * The name is drawn independently of the policy and table the ledger recorded: a name that says
 * this policy on another policy's backup, and any name (or none) on this policy's own backups.
 */
const backupArb = fc.record({
  ms: fc.oneof({ weight: 30, arbitrary: timeMs }, { weight: 1, arbitrary: fc.constant(Number.NaN) }),
  name: nameSpecArb,
  policy: fc.oneof({ weight: 8, arbitrary: fc.constant(POLICY) }, { weight: 2, arbitrary: fc.constantFrom(...OTHER_POLICIES) }),
  status: statusArb,
  table: fc.oneof({ weight: 15, arbitrary: fc.constant(TABLE) }, { weight: 1, arbitrary: fc.constant('other-table') }),
  hold: holdArb,
  tag: fc.constantFrom('a', 'b', 'c'),
});

/** Backups with unique ARNs (ties in createdAt are common, so the ARN tie-break is exercised). */
const backupsArb = fc.array(backupArb, { maxLength: 60, size: 'max' }).map((rows) =>
  rows.map(
    (r, i): BackupRecord => ({
      arn: `arn:aws:dynamodb:eu-west-1:123456789012:table/${r.table}/backup/${r.tag}-${String(i).padStart(3, '0')}`,
      name: nameOf(r.name, r.ms),
      table: r.table,
      policy: r.policy,
      createdAt: new Date(r.ms),
      status: r.status,
      ...(r.hold !== undefined ? { hold: r.hold } : {}),
    }),
  ),
);

/** Mostly small counts (so rules actually delete), sometimes large ones. */
const countArb = (max: number) =>
  fc.oneof({ weight: 3, arbitrary: fc.integer({ min: 0, max: 4 }) }, { weight: 1, arbitrary: fc.integer({ min: 0, max }) });

const retentionArb: fc.Arbitrary<Retention> = fc.record(
  {
    keepLast: countArb(15),
    keepHourly: countArb(15),
    keepDaily: countArb(15),
    keepWeekly: countArb(15),
    keepMonthly: countArb(15),
    keepYearly: countArb(5),
    maxAgeDays: fc.oneof({ weight: 3, arbitrary: fc.integer({ min: 1, max: 14 }) }, { weight: 1, arbitrary: fc.integer({ min: 1, max: 1500 }) }),
    minKeep: fc.oneof({ weight: 3, arbitrary: fc.integer({ min: 1, max: 6 }) }, { weight: 1, arbitrary: fc.integer({ min: 1, max: 80 }) }),
  },
  { requiredKeys: [] },
);

/** The rules without the floor: the monotonicity properties are about the rules alone. */
const withoutFloor = (r: Retention | undefined): Retention | undefined => {
  if (r === undefined) return undefined;
  const { minKeep: _floor, ...rules } = r;
  return rules;
};

/** Mostly just after the dense window, sometimes anywhere (also before every backup). */
const nowArb = fc
  .oneof(
    // on the dense window's 15-minute grid, so `now - maxAgeDays` often lands exactly on a backup
    { weight: 3, arbitrary: fc.integer({ min: 0, max: 30 * 24 * 4 }).map((q) => DENSE0 + q * 15 * 60_000) },
    { weight: 1, arbitrary: fc.integer({ min: T0, max: T1 + 30 * DAY_MS }) },
  )
  .map((ms) => new Date(ms));

/** Inputs that are never blocked: the rules alone decide. */
const unblockedArb: fc.Arbitrary<RetentionInput> = fc
  .record({
    backups: backupsArb,
    retention: retentionArb,
    now: nowArb,
    lastAttempt: fc.option(fc.constant({ status: 'succeeded' as const, at: new Date(T1) }), { nil: undefined }),
  })
  .map((r) => ({ table: TABLE, policy: POLICY, ...r }));

/** Any input: sometimes blocked by a missing retention, a failed attempt or a prune freeze. */
const inputArb: fc.Arbitrary<RetentionInput> = fc
  .record({
    base: unblockedArb,
    retention: fc.option(retentionArb, { nil: undefined, freq: 6 }),
    lastAttempt: fc.option(
      fc.record({ status: fc.constantFrom('succeeded' as const, 'failed' as const), at: nowArb }),
      { nil: undefined, freq: 3 },
    ),
    frozenUntil: fc.option(nowArb, { nil: undefined, freq: 3 }),
  })
  .map(({ base, retention, lastAttempt, frozenUntil }) => ({ ...base, retention, lastAttempt, frozenUntil }));

// ---------------------------------------------------------------------------------------------
// Helpers and a reference model written from the specification, independently of the planner
// ---------------------------------------------------------------------------------------------

/** The policy's own backups by the ledger's table and policy (never by name), AVAILABLE or CREATING. */
function isCandidate(b: BackupRecord, input: Pick<RetentionInput, 'table' | 'policy'>): boolean {
  return (
    b.table === input.table &&
    b.policy === input.policy &&
    (b.status === 'AVAILABLE' || b.status === 'CREATING') &&
    !Number.isNaN(b.createdAt.getTime())
  );
}
const isAvailableCandidate = (b: BackupRecord, input: Pick<RetentionInput, 'table' | 'policy'>): boolean =>
  isCandidate(b, input) && b.status === 'AVAILABLE';

/** Deep equality, fast on success (JSON; Dates as ISO strings); Jest's diff on failure. */
function expectSame(actual: unknown, expected: unknown): void {
  if (JSON.stringify(actual) !== JSON.stringify(expected)) expect(actual).toEqual(expected);
}

const arns = (ds: RetentionPlan['delete']): string[] => ds.map((d) => d.arn);
const isBlocked = (i: RetentionInput): boolean =>
  i.retention === undefined ||
  i.lastAttempt?.status === 'failed' ||
  (i.frozenUntil !== undefined && i.now.getTime() < i.frozenUntil.getTime());

/** ISO week label by the ordinal-date formula (ISO 8601 / Wikipedia), not the planner's day arithmetic. */
function refIsoWeek(d: Date): { year: number; week: number } {
  const y = d.getUTCFullYear();
  const ordinal = (Date.UTC(y, d.getUTCMonth(), d.getUTCDate()) - Date.UTC(y, 0, 1)) / DAY_MS + 1;
  const weekday = d.getUTCDay() || 7;
  const p = (yy: number) => (yy + Math.floor(yy / 4) - Math.floor(yy / 100) + Math.floor(yy / 400)) % 7;
  const weeksIn = (yy: number) => (p(yy) === 4 || p(yy - 1) === 3 ? 53 : 52);
  const week = Math.floor((ordinal - weekday + 10) / 7);
  if (week < 1) return { year: y - 1, week: weeksIn(y - 1) };
  if (week > weeksIn(y)) return { year: y + 1, week: 1 };
  return { year: y, week };
}

const LABELS: ReadonlyArray<[Rule, string, (d: Date) => string]> = [
  ['keepHourly', 'hourly', (d) => d.toISOString().slice(0, 13)],
  ['keepDaily', 'daily', (d) => d.toISOString().slice(0, 10)],
  [
    'keepWeekly',
    'weekly',
    (d) => {
      const { year, week } = refIsoWeek(d);
      return `${year}-W${String(week).padStart(2, '0')}`;
    },
  ],
  ['keepMonthly', 'monthly', (d) => d.toISOString().slice(0, 7)],
  ['keepYearly', 'yearly', (d) => d.toISOString().slice(0, 4)],
];

/** Expected action and reasons of every candidate, from the declarative definition of each rule. */
function reference(input: RetentionInput, blockedReason: string | undefined): Map<string, { action: string; reasons: string[] }> {
  const cands = input.backups
    .filter((b) => isCandidate(b, input))
    .sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime() || (a.arn < b.arn ? 1 : -1));
  const r = input.retention;
  const available = cands.filter((b) => b.status === 'AVAILABLE');
  const newest = available.length > 0 ? available[0].createdAt.getTime() : Number.NaN;
  const noRule = r !== undefined && RULES.every((k) => r[k] === undefined);
  const reasonsOf = cands.map((b, i): string[] => {
    const reasons: string[] = [];
    if (b.status === 'AVAILABLE' && b.createdAt.getTime() === newest) reasons.push('newest available backup');
    if (noRule) reasons.push('no retention rule');
    if (r?.keepLast !== undefined && i < r.keepLast) reasons.push(`keepLast ${i + 1}/${r.keepLast}`);
    for (const [rule, name, label] of LABELS) {
      const n = r?.[rule];
      if (n === undefined) continue;
      const mine = label(b.createdAt);
      const newer = cands.slice(0, i).map((c) => label(c.createdAt));
      // the newest of its period, and its period is among the n newest periods that have backups
      if (!newer.includes(mine) && new Set([...newer, mine]).size <= n) reasons.push(`${name} ${mine}`);
      // restic >= 0.16: the oldest backup too, when fewer than n periods have backups
      const periods = new Set(cands.map((c) => label(c.createdAt))).size;
      if (i === cands.length - 1 && newer.includes(mine) && periods < n) {
        reasons.push(`${name} (oldest: fewer than ${n} ${OLDEST_UNITS[name]} have backups)`);
      }
    }
    if (r?.maxAgeDays !== undefined && b.createdAt.getTime() > input.now.getTime() - r.maxAgeDays * DAY_MS) {
      reasons.push(`within maxAgeDays ${r.maxAgeDays}`);
    }
    if (b.hold !== undefined) reasons.push(`held: ${b.hold.reason}`);
    return reasons;
  });
  const minKeep = r?.minKeep ?? 1;
  let kept = cands.filter((b, i) => b.status === 'AVAILABLE' && reasonsOf[i].length > 0).length;
  cands.forEach((b, i) => {
    if (b.status !== 'AVAILABLE' || reasonsOf[i].length > 0 || kept >= minKeep) return;
    kept++;
    reasonsOf[i].push(`minKeep ${kept}/${minKeep}`);
  });
  const out = new Map<string, { action: string; reasons: string[] }>();
  cands.forEach((b, i) => {
    const reasons = reasonsOf[i];
    if (reasons.length === 0 && b.status === 'CREATING') reasons.push('still being created');
    if (reasons.length === 0 && blockedReason !== undefined) reasons.push(`blocked: ${blockedReason}`);
    if (reasons.length > 0) out.set(b.arn, { action: 'keep', reasons: reasons.sort() });
    else out.set(b.arn, { action: 'delete', reasons: ['not kept by any retention rule'] });
  });
  return out;
}

// ---------------------------------------------------------------------------------------------
// Properties
// ---------------------------------------------------------------------------------------------

describe('planRetention properties', () => {
  it('the generators are not vacuous: rules delete, and each rule alone saves some backup', () => {
    const samples = fc.sample(unblockedArb, { numRuns: 1000, seed: 42 });
    const plans = samples.map(planRetention);
    const share = (pred: (p: RetentionPlan, i: number) => boolean) => plans.filter(pred).length / plans.length;
    /** A CREATING candidate of sample i kept by a keep rule (not as "still being created"). */
    const creatingKeptByRule = (p: RetentionPlan, i: number) => {
      const creating = new Set(samples[i].backups.filter((b) => b.status === 'CREATING').map((b) => b.arn));
      return p.keep.some((d) => creating.has(d.arn) && !d.reasons.includes('still being created'));
    };
    const soleReason = (prefix: string) => (p: RetentionPlan) =>
      p.delete.length > 0 && p.keep.some((d) => d.reasons.length === 1 && d.reasons[0].startsWith(prefix));
    const floors: Record<string, [number, number]> = {
      'some deletion': [share((p) => p.delete.length > 0), 0.4],
      'deletions next to ignored backups': [share((p) => p.ignore.length > 0 && p.delete.length > 0), 0.3],
      'kept backups tied in createdAt': [share((p) => new Set(p.keep.map((d) => d.createdAt.getTime())).size < p.keep.length), 0.03],
      'keepLast alone keeps one': [share(soleReason('keepLast ')), 0.02],
      'hourly alone keeps one': [share(soleReason('hourly ')), 0.02],
      'daily alone keeps one': [share(soleReason('daily ')), 0.02],
      'weekly alone keeps one': [share(soleReason('weekly ')), 0.02],
      'monthly alone keeps one': [share(soleReason('monthly ')), 0.02],
      'yearly alone keeps one': [share(soleReason('yearly ')), 0.02],
      'maxAgeDays alone keeps one': [share(soleReason('within maxAgeDays ')), 0.02],
      'the oldest alone keeps one': [
        share((p) => p.delete.length > 0 && p.keep.some((d) => d.reasons.length === 1 && d.reasons[0].includes('(oldest: '))),
        0.01,
      ],
      'the floor alone keeps one': [share(soleReason('minKeep ')), 0.02],
      'a hold alone keeps one': [share(soleReason('held: ')), 0.02],
      'a CREATING one kept by nothing else': [share(soleReason('still being created')), 0.02],
      'a CREATING one kept by a rule': [share((p, i) => p.delete.length > 0 && creatingKeptByRule(p, i)), 0.05],
      'a backup named for the policy but recorded under another': [
        share((p) => p.ignore.some((d) => d.name?.startsWith(`ddbbk.${POLICY}.`) && d.reasons.some((r) => r.startsWith('belongs to policy ')))),
        0.05,
      ],
      'a candidate with a name not of the policy': [share((p) => [...p.keep, ...p.delete].some((d) => !d.name?.startsWith(`ddbbk.${POLICY}.`))), 0.2],
    };
    for (const [what, [got, floor]] of Object.entries(floors)) expect({ what, ok: got >= floor, got }).toMatchObject({ what, ok: true });
    const blocked = fc.sample(inputArb, { numRuns: 1000, seed: 42 }).filter(isBlocked).length / 1000;
    expect(blocked).toBeGreaterThan(0.2);
    expect(blocked).toBeLessThan(0.8);
  });

  it('decides once for every backup: keep, delete and ignore partition the input', () => {
    fc.assert(
      fc.property(inputArb, (input) => {
        const plan = planRetention(input);
        const inArns = input.backups.map((b) => b.arn).sort();
        expect(plan.decisions.map((d) => d.arn).sort()).toEqual(inArns);
        expect([...plan.keep, ...plan.delete, ...plan.ignore].map((d) => d.arn).sort()).toEqual(inArns);
        const wrong = [
          ...plan.keep.filter((d) => d.action !== 'keep'),
          ...plan.delete.filter((d) => d.action !== 'delete'),
          ...plan.ignore.filter((d) => d.action !== 'ignore'),
          ...plan.decisions.filter((d) => d.reasons.length === 0),
        ];
        expect(wrong).toEqual([]);
      }),
      params,
    );
  });

  it('(d) only deletes AVAILABLE candidates: the table and policy the ledger recorded, whatever the name', () => {
    fc.assert(
      fc.property(inputArb, (input) => {
        const plan = planRetention(input);
        const byArn = new Map(input.backups.map((b) => [b.arn, b]));
        const deleted = plan.delete.map((d) => byArn.get(d.arn)!);
        expect(deleted.filter((b) => !isAvailableCandidate(b, input))).toEqual([]);
        expect(deleted.filter((b) => b.policy !== POLICY || b.table !== TABLE || b.status !== 'AVAILABLE')).toEqual([]);
        // and exactly the non-candidates are ignored
        expect(plan.ignore.filter((d) => isCandidate(byArn.get(d.arn)!, input))).toEqual([]);
        expect([...plan.keep, ...plan.delete].filter((d) => !isCandidate(byArn.get(d.arn)!, input))).toEqual([]);
      }),
      params,
    );
  });

  it('(a) never deletes a held backup: every held candidate is kept, and says so', () => {
    fc.assert(
      fc.property(inputArb, (input) => {
        const plan = planRetention(input);
        const held = new Map(input.backups.filter((b) => b.hold !== undefined).map((b) => [b.arn, b]));
        expect(plan.delete.filter((d) => held.has(d.arn))).toEqual([]);
        const heldCandidates = [...held.values()].filter((b) => isCandidate(b, input));
        const keptHeld = plan.keep.filter((d) => held.has(d.arn) && d.reasons.includes(`held: ${held.get(d.arn)!.hold!.reason}`));
        expect(keptHeld.map((d) => d.arn).sort()).toEqual(heldCandidates.map((b) => b.arn).sort());
      }),
      params,
    );
  });

  it('(b) never deletes a CREATING backup: every CREATING candidate is kept', () => {
    fc.assert(
      fc.property(inputArb, (input) => {
        const plan = planRetention(input);
        const creating = new Set(input.backups.filter((b) => b.status === 'CREATING').map((b) => b.arn));
        expect(plan.delete.filter((d) => creating.has(d.arn))).toEqual([]);
        const creatingCandidates = input.backups.filter((b) => b.status === 'CREATING' && isCandidate(b, input)).map((b) => b.arn);
        expect(plan.keep.filter((d) => creating.has(d.arn)).map((d) => d.arn).sort()).toEqual(creatingCandidates.sort());
      }),
      params,
    );
  });

  it('(c) keeps at least min(minKeep, AVAILABLE candidates) AVAILABLE candidates', () => {
    fc.assert(
      fc.property(inputArb, (input) => {
        const plan = planRetention(input);
        const available = new Set(input.backups.filter((b) => isAvailableCandidate(b, input)).map((b) => b.arn));
        const kept = plan.keep.filter((d) => available.has(d.arn)).length;
        expect(kept).toBeGreaterThanOrEqual(Math.min(input.retention?.minKeep ?? 1, available.size));
      }),
      params,
    );
  });

  it('(e) keeps the newest AVAILABLE candidate (even with a newer CREATING one), and never deletes the table\'s newest AVAILABLE backup', () => {
    fc.assert(
      fc.property(inputArb, (input) => {
        const plan = planRetention(input);
        const available = input.backups.filter((b) => b.table === TABLE && b.status === 'AVAILABLE' && !Number.isNaN(b.createdAt.getTime()));
        if (available.length === 0) return;
        const newest = Math.max(...available.map((b) => b.createdAt.getTime()));
        expect(plan.delete.filter((d) => d.createdAt.getTime() >= newest)).toEqual([]);
        const candidates = input.backups.filter((b) => isAvailableCandidate(b, input));
        if (candidates.length > 0) {
          const newestOwn = Math.max(...candidates.map((b) => b.createdAt.getTime()));
          const tied = new Set(candidates.filter((b) => b.createdAt.getTime() === newestOwn).map((b) => b.arn));
          const keptTied = plan.keep.filter((d) => tied.has(d.arn) && d.reasons.includes('newest available backup'));
          expect(keptTied).toHaveLength(tied.size);
        }
      }),
      params,
    );
  });

  it('invariant 2/3: deletes nothing when the policy is invalid, the last attempt failed or pruning is frozen', () => {
    fc.assert(
      fc.property(inputArb, (input) => {
        const plan = planRetention(input);
        expect(plan.blocked !== undefined).toBe(isBlocked(input));
        if (!isBlocked(input)) return;
        expect(plan.delete).toEqual([]);
        expect(plan.blocked).toEqual(expect.any(String));
        // what the rules would have deleted is kept, and says why
        if (input.retention !== undefined) {
          const unblocked = planRetention({ ...input, lastAttempt: undefined, frozenUntil: undefined });
          expect(arns(plan.keep).sort()).toEqual([...arns(unblocked.keep), ...arns(unblocked.delete)].sort());
          const wouldDelete = new Set(arns(unblocked.delete));
          const saved = plan.keep.filter((d) => wouldDelete.has(d.arn));
          expect(saved.filter((d) => d.reasons.length !== 1 || d.reasons[0] !== `blocked: ${plan.blocked}`)).toEqual([]);
        }
      }),
      params,
    );
  });

  it('matches the reference model (declarative definition of every rule, independent ISO weeks)', () => {
    fc.assert(
      fc.property(inputArb, (input) => {
        const plan = planRetention(input);
        const expected = reference(input, plan.blocked);
        const actual = [...plan.keep, ...plan.delete].map((d) => ({ arn: d.arn, action: d.action, reasons: [...d.reasons].sort() }));
        const want = [...expected].map(([arn, e]) => ({ arn, ...e }));
        const byArn = (x: { arn: string }, y: { arn: string }) => (x.arn < y.arn ? -1 : 1);
        expectSame(actual.sort(byArn), want.sort(byArn));
      }),
      params,
    );
  });

  it('is idempotent: planning again over what survived deletes nothing and decides the same', () => {
    // Holds for the count-based period rules too: period keys never decrease with time, so the
    // survivors still contain the newest backup of each of the N newest periods, and those stay
    // the N newest periods (every other surviving period is older). Same `now` for maxAgeDays.
    fc.assert(
      fc.property(unblockedArb, (input) => {
        const first = planRetention(input);
        const deleted = new Set(arns(first.delete));
        const second = planRetention({ ...input, backups: input.backups.filter((b) => !deleted.has(b.arn)) });
        expect(second.delete).toEqual([]);
        expectSame(second.decisions, first.decisions.filter((d) => !deleted.has(d.arn)));
      }),
      params,
    );
  });

  it('is monotonic: raising any keep* or maxAgeDays value never deletes a backup the smaller value kept', () => {
    // The rules alone: with a floor, a larger rule can keep older backups instead of the newer ones
    // the floor kept (the floor then has nothing to add), so the floor is left out here.
    fc.assert(
      fc.property(
        unblockedArb,
        fc.constantFrom(...RULES),
        fc.integer({ min: 0, max: 12 }),
        fc.integer({ min: 1, max: 30 }),
        (input, rule, value, delta) => {
          const low = rule === 'maxAgeDays' ? Math.max(1, value) : value;
          const rules = withoutFloor(input.retention);
          const small = planRetention({ ...input, retention: { ...rules, [rule]: low } });
          const large = planRetention({ ...input, retention: { ...rules, [rule]: low + delta } });
          const smallDeletes = new Set(arns(small.delete));
          expect(arns(large.delete).filter((a) => !smallDeletes.has(a))).toEqual([]);
          expect(large.keep.length).toBeGreaterThanOrEqual(small.keep.length);
        },
      ),
      params,
    );
  });

  it('is monotonic in rules: adding a rule to a non-empty retention never deletes more', () => {
    // Not for `{}` (or only minKeep): no rule keeps everything, so adding the first rule deletes
    // more. The floor is left out, as above.
    fc.assert(
      fc.property(unblockedArb, retentionArb, (input, extra) => {
        const rules = withoutFloor(input.retention) ?? {};
        fc.pre(Object.keys(rules).length > 0);
        const merged = { ...withoutFloor(extra), ...rules };
        const base = new Set(arns(planRetention({ ...input, retention: rules }).delete));
        expect(arns(planRetention({ ...input, retention: merged }).delete).filter((a) => !base.has(a))).toEqual([]);
      }),
      params,
    );
  });

  it('is monotonic in the floor: raising minKeep never deletes a backup the smaller floor kept, and meets the new floor', () => {
    fc.assert(
      fc.property(unblockedArb, fc.integer({ min: 1, max: 10 }), fc.integer({ min: 1, max: 30 }), (input, low, delta) => {
        const small = planRetention({ ...input, retention: { ...input.retention, minKeep: low } });
        const large = planRetention({ ...input, retention: { ...input.retention, minKeep: low + delta } });
        const smallDeletes = new Set(arns(small.delete));
        expect(arns(large.delete).filter((a) => !smallDeletes.has(a))).toEqual([]);
        const available = new Set(input.backups.filter((b) => isAvailableCandidate(b, input)).map((b) => b.arn));
        const kept = large.keep.filter((d) => available.has(d.arn)).length;
        expect(kept).toBeGreaterThanOrEqual(Math.min(low + delta, available.size));
      }),
      params,
    );
  });

  it('is deterministic and independent of the order of the input', () => {
    fc.assert(
      fc.property(
        inputArb.chain((input) =>
          fc.tuple(fc.constant(input), fc.array(fc.double({ noNaN: true }), { minLength: input.backups.length, maxLength: input.backups.length })),
        ),
        ([input, keys]) => {
          const order = input.backups.map((b, i) => ({ b, k: keys[i] })).sort((x, y) => x.k - y.k).map((x) => x.b);
          expectSame(planRetention({ ...input, backups: order }), planRetention(input));
        },
      ),
      params,
    );
  });

  it('decisions about the policy\'s backups do not depend on any other backup', () => {
    fc.assert(
      fc.property(inputArb, (input) => {
        const all = planRetention(input);
        const own = planRetention({ ...input, backups: input.backups.filter((b) => isCandidate(b, input)) });
        expectSame(own.keep, all.keep);
        expectSame(own.delete, all.delete);
        expect(own.ignore).toEqual([]);
      }),
      params,
    );
  });

  it('isoWeek agrees with the ordinal-date formula over years 1000..9999', () => {
    fc.assert(
      fc.property(fc.integer({ min: Date.UTC(1000, 0, 1), max: Date.UTC(9999, 11, 31, 23, 59, 59, 999) }), (ms) => {
        const d = new Date(ms);
        const [got, want] = [isoWeek(d), refIsoWeek(d)];
        return got.year === want.year && got.week === want.week;
      }),
      { numRuns: NUM_RUNS * 20 },
    );
    // every day around each year end 1990..2040
    for (let y = 1990; y <= 2040; y++) {
      for (let day = -7; day <= 7; day++) {
        const d = new Date(Date.UTC(y, 0, 1 + day, 12));
        expect(isoWeek(d)).toEqual(refIsoWeek(d));
      }
    }
  });
});
