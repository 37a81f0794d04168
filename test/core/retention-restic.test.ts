import { backupName } from '../../lambda/core/naming';
import type { Retention } from '../../lambda/core/policy';
import {
  planRetention,
  REASON_CREATING,
  REASON_NEWEST,
  REASON_NO_RULE,
  type BackupRecord,
  type RetentionInput,
  type RetentionPlan,
} from '../../lambda/core/retention/retention';

/**
 * The planner against restic's `forget` semantics (restic >= 0.16.0), and the service's own rails
 * on top of them: the CREATING backup counts as the newest, the minKeep floor, legal holds, and
 * ownership by the ledger's table and policy (never by name).
 *
 * Sources:
 *  - restic v0.16.0 `internal/restic/snapshot_policy_test.go` `TestApplyPolicy` (the snapshot list
 *    and the policies) with its golden files `internal/restic/testdata/policy_keep_snapshots_<n>`
 *    (the kept sets; unchanged through v0.19, where they moved to `internal/data/testdata`);
 *  - restic `internal/restic/snapshot_policy.go` `ApplyPolicy` (v0.16.0; `internal/data/` since
 *    v0.19.0): the `val != b.Last || nr == len(list)-1` clause of the count rules;
 *  - restic CHANGELOG 0.16.0, "Enhancement #3624: Keep oldest snapshot when there are not enough
 *    snapshots" (restic PR #4366, and the forum thread it links: yearly snapshots when backups
 *    began during the year);
 *  - restic `doc/060_forget.rst`, the policy options and the note "If there are not enough
 *    snapshots to keep one for each duration related --keep-{within-,}* option, the oldest
 *    snapshot is kept additionally" (marked `oldest` in the output since v0.18.0).
 */

const TABLE = 'orders';
const POLICY = 'daily';
const DAY_MS = 86_400_000;

/** `2016-01-18 12:02:03` (restic's test format, UTC) to a Date. */
const utc = (s: string): Date => new Date(`${s.replace(' ', 'T')}Z`);
const iso = (s: string): string => utc(s).toISOString();

function backup(at: string | Date, i: number, extra: Partial<BackupRecord> = {}): BackupRecord {
  const createdAt = typeof at === 'string' ? utc(at) : at;
  return {
    // A lower input index sorts first among equal times, as restic's stable sort keeps input order.
    arn: `arn:aws:dynamodb:eu-west-1:123456789012:table/${TABLE}/backup/${String(999 - i).padStart(3, '0')}`,
    // Any name: the planner goes by the table and policy the ledger recorded.
    name: `snapshot-${i}`,
    table: TABLE,
    policy: POLICY,
    createdAt,
    status: 'AVAILABLE',
    ...extra,
  };
}

function plan(
  backups: BackupRecord[],
  retention: Retention | undefined,
  now: Date | string,
  extra: Partial<RetentionInput> = {},
): RetentionPlan {
  return planRetention({ table: TABLE, policy: POLICY, backups, retention, now: typeof now === 'string' ? utc(now) : now, ...extra });
}

const keptIso = (p: RetentionPlan): string[] => p.keep.map((d) => d.createdAt.toISOString());
const reasonsAt = (p: RetentionPlan, at: string): string[][] =>
  p.decisions.filter((d) => d.createdAt.getTime() === utc(at).getTime()).map((d) => d.reasons);

/** restic v0.16.0 `TestApplyPolicy`: `testExpireSnapshots`, in its (unsorted) order. */
const RESTIC_SNAPSHOTS = [
  '2014-09-01 10:20:30', '2014-09-02 10:20:30', '2014-09-05 10:20:30', '2014-09-06 10:20:30',
  '2014-09-08 10:20:30', '2014-09-09 10:20:30', '2014-09-10 10:20:30', '2014-09-11 10:20:30',
  '2014-09-20 10:20:30', '2014-09-22 10:20:30', '2014-08-08 10:20:30', '2014-08-10 10:20:30',
  '2014-08-12 10:20:30', '2014-08-13 10:20:30', '2014-08-13 10:20:30.1', '2014-08-15 10:20:30',
  '2014-08-18 10:20:30', '2014-08-20 10:20:30', '2014-08-21 10:20:30', '2014-08-22 10:20:30',
  '2014-10-01 10:20:30', '2014-10-02 10:20:30', '2014-10-05 10:20:30', '2014-10-06 10:20:30',
  '2014-10-08 10:20:30', '2014-10-09 10:20:30', '2014-10-10 10:20:30', '2014-10-11 10:20:30',
  '2014-10-20 10:20:30', '2014-10-22 10:20:30', '2014-11-08 10:20:30', '2014-11-10 10:20:30',
  '2014-11-12 10:20:30', '2014-11-13 10:20:30', '2014-11-13 10:20:30.1', '2014-11-15 10:20:30',
  '2014-11-18 10:20:30', '2014-11-20 10:20:30', '2014-11-21 10:20:30', '2014-11-22 10:20:30',
  '2015-09-01 10:20:30', '2015-09-02 10:20:30', '2015-09-05 10:20:30', '2015-09-06 10:20:30',
  '2015-09-08 10:20:30', '2015-09-09 10:20:30', '2015-09-10 10:20:30', '2015-09-11 10:20:30',
  '2015-09-20 10:20:30', '2015-09-22 10:20:30', '2015-08-08 10:20:30', '2015-08-10 10:20:30',
  '2015-08-12 10:20:30', '2015-08-13 10:20:30', '2015-08-13 10:20:30.1', '2015-08-15 10:20:30',
  '2015-08-18 10:20:30', '2015-08-20 10:20:30', '2015-08-21 10:20:30', '2015-08-22 10:20:30',
  '2015-10-01 10:20:30', '2015-10-02 10:20:30', '2015-10-05 10:20:30', '2015-10-06 10:20:30',
  '2015-10-08 10:20:30', '2015-10-09 10:20:30', '2015-10-10 10:20:30', '2015-10-11 10:20:30',
  '2015-10-20 10:20:30', '2015-10-22 10:20:30', '2015-10-22 10:20:30', '2015-10-22 10:20:30',
  '2015-10-22 10:20:30', '2015-10-22 10:20:30', '2015-11-08 10:20:30', '2015-11-10 10:20:30',
  '2015-11-12 10:20:30', '2015-11-13 10:20:30', '2015-11-13 10:20:30.1', '2015-11-15 10:20:30',
  '2015-11-18 10:20:30', '2015-11-20 10:20:30', '2015-11-21 10:20:30', '2015-11-22 10:20:30',
  '2016-01-01 01:02:03', '2016-01-01 01:03:03', '2016-01-01 07:08:03', '2016-01-03 07:02:03',
  '2016-01-04 10:23:03', '2016-01-04 11:23:03', '2016-01-04 12:23:03', '2016-01-04 12:24:03',
  '2016-01-04 12:28:03', '2016-01-04 12:30:03', '2016-01-04 16:23:03', '2016-01-05 09:02:03',
  '2016-01-06 08:02:03', '2016-01-07 10:02:03', '2016-01-08 20:02:03', '2016-01-09 21:02:03',
  '2016-01-12 21:02:03', '2016-01-12 21:08:03', '2016-01-18 12:02:03',
];

interface GoldenCase {
  readonly golden: string;
  readonly restic: string;
  readonly retention: Retention;
  readonly keep: readonly string[] | 'all';
}

/**
 * restic's golden results for the policies this service can express: the kept snapshots, newest
 * first. `--keep-within Nd` is `maxAgeDays N` with `now` at the newest snapshot (restic counts
 * back from the newest snapshot, this service from `now`).
 */
const RESTIC_GOLDEN: readonly GoldenCase[] = [
  {
    golden: 'policy_keep_snapshots_1',
    restic: '{Last: 10}',
    retention: { keepLast: 10 },
    keep: [
      '2016-01-18 12:02:03', '2016-01-12 21:08:03', '2016-01-12 21:02:03', '2016-01-09 21:02:03',
      '2016-01-08 20:02:03', '2016-01-07 10:02:03', '2016-01-06 08:02:03', '2016-01-05 09:02:03',
      '2016-01-04 16:23:03', '2016-01-04 12:30:03',
    ],
  },
  {
    golden: 'policy_keep_snapshots_4',
    restic: '{Last: 200}',
    retention: { keepLast: 200 },
    keep: 'all',
  },
  {
    golden: 'policy_keep_snapshots_5',
    restic: '{Hourly: 20}',
    retention: { keepHourly: 20 },
    keep: [
      '2016-01-18 12:02:03', '2016-01-12 21:08:03', '2016-01-09 21:02:03', '2016-01-08 20:02:03',
      '2016-01-07 10:02:03', '2016-01-06 08:02:03', '2016-01-05 09:02:03', '2016-01-04 16:23:03',
      '2016-01-04 12:30:03', '2016-01-04 11:23:03', '2016-01-04 10:23:03', '2016-01-03 07:02:03',
      '2016-01-01 07:08:03', '2016-01-01 01:03:03', '2015-11-22 10:20:30', '2015-11-21 10:20:30',
      '2015-11-20 10:20:30', '2015-11-18 10:20:30', '2015-11-15 10:20:30', '2015-11-13 10:20:30.1',
    ],
  },
  {
    golden: 'policy_keep_snapshots_6',
    restic: '{Daily: 3}',
    retention: { keepDaily: 3 },
    keep: [
      '2016-01-18 12:02:03', '2016-01-12 21:08:03', '2016-01-09 21:02:03',
    ],
  },
  {
    golden: 'policy_keep_snapshots_7',
    restic: '{Daily: 10}',
    retention: { keepDaily: 10 },
    keep: [
      '2016-01-18 12:02:03', '2016-01-12 21:08:03', '2016-01-09 21:02:03', '2016-01-08 20:02:03',
      '2016-01-07 10:02:03', '2016-01-06 08:02:03', '2016-01-05 09:02:03', '2016-01-04 16:23:03',
      '2016-01-03 07:02:03', '2016-01-01 07:08:03',
    ],
  },
  {
    golden: 'policy_keep_snapshots_8',
    restic: '{Daily: 30}',
    retention: { keepDaily: 30 },
    keep: [
      '2016-01-18 12:02:03', '2016-01-12 21:08:03', '2016-01-09 21:02:03', '2016-01-08 20:02:03',
      '2016-01-07 10:02:03', '2016-01-06 08:02:03', '2016-01-05 09:02:03', '2016-01-04 16:23:03',
      '2016-01-03 07:02:03', '2016-01-01 07:08:03', '2015-11-22 10:20:30', '2015-11-21 10:20:30',
      '2015-11-20 10:20:30', '2015-11-18 10:20:30', '2015-11-15 10:20:30', '2015-11-13 10:20:30.1',
      '2015-11-12 10:20:30', '2015-11-10 10:20:30', '2015-11-08 10:20:30', '2015-10-22 10:20:30',
      '2015-10-20 10:20:30', '2015-10-11 10:20:30', '2015-10-10 10:20:30', '2015-10-09 10:20:30',
      '2015-10-08 10:20:30', '2015-10-06 10:20:30', '2015-10-05 10:20:30', '2015-10-02 10:20:30',
      '2015-10-01 10:20:30', '2015-09-22 10:20:30',
    ],
  },
  {
    golden: 'policy_keep_snapshots_9',
    restic: '{Last: 5, Daily: 5}',
    retention: { keepLast: 5, keepDaily: 5 },
    keep: [
      '2016-01-18 12:02:03', '2016-01-12 21:08:03', '2016-01-12 21:02:03', '2016-01-09 21:02:03',
      '2016-01-08 20:02:03', '2016-01-07 10:02:03',
    ],
  },
  {
    golden: 'policy_keep_snapshots_10',
    restic: '{Last: 2, Daily: 10}',
    retention: { keepLast: 2, keepDaily: 10 },
    keep: [
      '2016-01-18 12:02:03', '2016-01-12 21:08:03', '2016-01-09 21:02:03', '2016-01-08 20:02:03',
      '2016-01-07 10:02:03', '2016-01-06 08:02:03', '2016-01-05 09:02:03', '2016-01-04 16:23:03',
      '2016-01-03 07:02:03', '2016-01-01 07:08:03',
    ],
  },
  {
    golden: 'policy_keep_snapshots_11',
    restic: '{Weekly: 2}',
    retention: { keepWeekly: 2 },
    keep: [
      '2016-01-18 12:02:03', '2016-01-12 21:08:03',
    ],
  },
  {
    golden: 'policy_keep_snapshots_12',
    restic: '{Weekly: 4}',
    retention: { keepWeekly: 4 },
    keep: [
      '2016-01-18 12:02:03', '2016-01-12 21:08:03', '2016-01-09 21:02:03', '2016-01-03 07:02:03',
    ],
  },
  {
    golden: 'policy_keep_snapshots_13',
    restic: '{Daily: 3, Weekly: 4}',
    retention: { keepDaily: 3, keepWeekly: 4 },
    keep: [
      '2016-01-18 12:02:03', '2016-01-12 21:08:03', '2016-01-09 21:02:03', '2016-01-03 07:02:03',
    ],
  },
  {
    golden: 'policy_keep_snapshots_14',
    restic: '{Monthly: 6}',
    retention: { keepMonthly: 6 },
    keep: [
      '2016-01-18 12:02:03', '2015-11-22 10:20:30', '2015-10-22 10:20:30', '2015-09-22 10:20:30',
      '2015-08-22 10:20:30', '2014-11-22 10:20:30',
    ],
  },
  {
    golden: 'policy_keep_snapshots_15',
    restic: '{Daily: 2, Weekly: 2, Monthly: 6}',
    retention: { keepDaily: 2, keepWeekly: 2, keepMonthly: 6 },
    keep: [
      '2016-01-18 12:02:03', '2016-01-12 21:08:03', '2015-11-22 10:20:30', '2015-10-22 10:20:30',
      '2015-09-22 10:20:30', '2015-08-22 10:20:30', '2014-11-22 10:20:30',
    ],
  },
  {
    golden: 'policy_keep_snapshots_16',
    restic: '{Yearly: 10}',
    retention: { keepYearly: 10 },
    keep: [
      '2016-01-18 12:02:03', '2015-11-22 10:20:30', '2014-11-22 10:20:30', '2014-08-08 10:20:30',
    ],
  },
  {
    golden: 'policy_keep_snapshots_17',
    restic: '{Daily: 7, Weekly: 2, Monthly: 3, Yearly: 10}',
    retention: { keepDaily: 7, keepWeekly: 2, keepMonthly: 3, keepYearly: 10 },
    keep: [
      '2016-01-18 12:02:03', '2016-01-12 21:08:03', '2016-01-09 21:02:03', '2016-01-08 20:02:03',
      '2016-01-07 10:02:03', '2016-01-06 08:02:03', '2016-01-05 09:02:03', '2015-11-22 10:20:30',
      '2015-10-22 10:20:30', '2014-11-22 10:20:30', '2014-08-08 10:20:30',
    ],
  },
  {
    golden: 'policy_keep_snapshots_21',
    restic: '{Within: 1d}',
    retention: { maxAgeDays: 1 },
    keep: [
      '2016-01-18 12:02:03',
    ],
  },
  {
    golden: 'policy_keep_snapshots_22',
    restic: '{Within: 2d}',
    retention: { maxAgeDays: 2 },
    keep: [
      '2016-01-18 12:02:03',
    ],
  },
  {
    golden: 'policy_keep_snapshots_23',
    restic: '{Within: 7d}',
    retention: { maxAgeDays: 7 },
    keep: [
      '2016-01-18 12:02:03', '2016-01-12 21:08:03', '2016-01-12 21:02:03',
    ],
  },
];

describe('planRetention reproduces restic forget (>= 0.16.0)', () => {
  const backups = RESTIC_SNAPSHOTS.map((t, i) => backup(t, i));
  const newest = '2016-01-18 12:02:03';

  it.each(RESTIC_GOLDEN)('$golden: restic $restic keeps the same snapshots', ({ retention, keep }) => {
    const result = plan(backups, retention, newest);
    const expected = keep === 'all' ? [...RESTIC_SNAPSHOTS] : keep;
    expect(keptIso(result)).toEqual(expected.map(iso).sort().reverse());
    expect(result.keep.length + result.delete.length).toBe(RESTIC_SNAPSHOTS.length);
    expect(result.ignore).toEqual([]);
  });

  it('policy_keep_snapshots_16: keepYearly 10 with 3 years of backups also keeps the oldest (restic < 0.16 kept 3)', () => {
    const result = plan(backups, { keepYearly: 10 }, newest);
    expect(result.keep.map((d) => [d.createdAt.toISOString(), d.reasons])).toEqual([
      [iso('2016-01-18 12:02:03'), [REASON_NEWEST, 'yearly 2016']],
      [iso('2015-11-22 10:20:30'), ['yearly 2015']],
      [iso('2014-11-22 10:20:30'), ['yearly 2014']],
      [iso('2014-08-08 10:20:30'), ['yearly (oldest: fewer than 10 years have backups)']],
    ]);
  });

  it('policy_keep_snapshots_17: only the yearly rule is short of periods, so only it keeps the oldest', () => {
    const result = plan(backups, { keepDaily: 7, keepWeekly: 2, keepMonthly: 3, keepYearly: 10 }, newest);
    expect(reasonsAt(result, '2014-08-08 10:20:30')).toEqual([['yearly (oldest: fewer than 10 years have backups)']]);
    expect(reasonsAt(result, '2014-11-22 10:20:30')).toEqual([['yearly 2014']]);
    expect(result.keep).toHaveLength(11);
  });
});

interface OldestCase {
  readonly name: string;
  readonly source: string;
  readonly times: readonly string[];
  readonly retention: Retention;
  /** Kept, newest first. */
  readonly keep: readonly string[];
  /** The reasons of the oldest backup, when it is kept. */
  readonly oldest?: readonly string[];
}

/** Hand-made cases from restic's docs and `ApplyPolicy`; times are UTC. */
const OLDEST_CASES: readonly OldestCase[] = [
  {
    name: "backups began during the year: keepYearly 5 over 3 years keeps each year's newest and the oldest",
    source: 'CHANGELOG 0.16.0 #3624 and the forum thread it links',
    times: ['2024-03-01 00:00:00', '2024-07-01 00:00:00', '2024-12-01 00:00:00', '2025-06-01 00:00:00', '2025-12-01 00:00:00', '2026-11-01 00:00:00'],
    retention: { keepYearly: 5 },
    keep: ['2026-11-01 00:00:00', '2025-12-01 00:00:00', '2024-12-01 00:00:00', '2024-03-01 00:00:00'],
    oldest: ['yearly (oldest: fewer than 5 years have backups)'],
  },
  {
    name: 'exactly N periods have backups: nothing more is kept',
    source: 'ApplyPolicy: the count is used up before the oldest snapshot',
    times: ['2026-11-24 20:00:00', '2026-11-24 03:00:00', '2026-11-23 20:00:00', '2026-11-23 03:00:00', '2026-11-22 20:00:00', '2026-11-22 03:00:00'],
    retention: { keepDaily: 3 },
    keep: ['2026-11-24 20:00:00', '2026-11-23 20:00:00', '2026-11-22 20:00:00'],
  },
  {
    name: 'N + 1 periods: the oldest period is simply not kept',
    source: 'doc/060_forget.rst: --keep-daily n, "for the last n days which have one or more snapshots"',
    times: ['2026-11-24 03:00:00', '2026-11-23 03:00:00', '2026-11-22 03:00:00', '2026-11-21 03:00:00'],
    retention: { keepDaily: 3 },
    keep: ['2026-11-24 03:00:00', '2026-11-23 03:00:00', '2026-11-22 03:00:00'],
  },
  {
    name: 'the oldest in a period of its own is kept as that period\'s newest, not as "oldest"',
    source: 'ApplyPolicy: val != b.Last keeps it before the nr == len(list)-1 clause matters',
    times: ['2026-11-24 03:00:00', '2026-11-23 03:00:00', '2026-11-20 03:00:00'],
    retention: { keepDaily: 5 },
    keep: ['2026-11-24 03:00:00', '2026-11-23 03:00:00', '2026-11-20 03:00:00'],
    oldest: ['daily 2026-11-20'],
  },
  {
    name: "fewer periods than N: each period's newest and the oldest; the rest of the oldest day is deleted",
    source: 'ApplyPolicy and CHANGELOG 0.16.0 #3624',
    times: ['2026-11-24 20:00:00', '2026-11-24 03:00:00', '2026-11-23 20:00:00', '2026-11-23 12:00:00', '2026-11-23 03:00:00'],
    retention: { keepDaily: 7 },
    keep: ['2026-11-24 20:00:00', '2026-11-23 20:00:00', '2026-11-23 03:00:00'],
    oldest: ['daily (oldest: fewer than 7 days have backups)'],
  },
  {
    name: 'each rule short of periods keeps the oldest on its own: one backup, one reason per rule',
    source: 'ApplyPolicy: the clause is per bucket (golden policy_keep_snapshots_39 has two oldest reasons)',
    times: ['2026-11-24 03:00:00', '2026-11-23 03:00:00', '2026-11-23 01:00:00', '2026-11-22 03:00:00', '2026-11-22 01:00:00'],
    retention: { keepDaily: 2, keepWeekly: 4, keepMonthly: 12 },
    // 11-24 daily, weekly W48, monthly; 11-23 daily; 11-22 03:00 weekly W47 (Sunday); 11-22 01:00 the oldest
    keep: ['2026-11-24 03:00:00', '2026-11-23 03:00:00', '2026-11-22 03:00:00', '2026-11-22 01:00:00'],
    oldest: ['weekly (oldest: fewer than 4 weeks have backups)', 'monthly (oldest: fewer than 12 months have backups)'],
  },
  {
    name: 'hourly, weekly, monthly and yearly rules do it too',
    source: 'ApplyPolicy: buckets ymdh, yw, ym, y',
    times: ['2026-11-24 10:30:00', '2026-11-24 10:10:00', '2026-11-24 09:50:00', '2026-11-24 09:20:00'],
    retention: { keepHourly: 3, keepWeekly: 2, keepMonthly: 2, keepYearly: 2 },
    keep: ['2026-11-24 10:30:00', '2026-11-24 09:50:00', '2026-11-24 09:20:00'],
    oldest: [
      'hourly (oldest: fewer than 3 hours have backups)',
      'weekly (oldest: fewer than 2 weeks have backups)',
      'monthly (oldest: fewer than 2 months have backups)',
      'yearly (oldest: fewer than 2 years have backups)',
    ],
  },
  {
    name: 'keepLast has no oldest keep: the N newest only',
    source: 'ApplyPolicy: keep-last buckets by position (`always`), so its clause adds nothing',
    times: ['2026-11-24 03:00:00', '2026-11-23 03:00:00', '2026-11-22 03:00:00', '2026-11-21 03:00:00'],
    retention: { keepLast: 3 },
    keep: ['2026-11-24 03:00:00', '2026-11-23 03:00:00', '2026-11-22 03:00:00'],
  },
  {
    name: 'keepLast larger than the list keeps all, each as one of the last N',
    source: 'ApplyPolicy (golden policy_keep_snapshots_4: Last 200 keeps all 103)',
    times: ['2026-11-24 03:00:00', '2026-11-24 02:00:00'],
    retention: { keepLast: 5 },
    keep: ['2026-11-24 03:00:00', '2026-11-24 02:00:00'],
    oldest: ['keepLast 2/5'],
  },
  {
    name: 'maxAgeDays (like --keep-within) has no oldest keep',
    source: 'ApplyPolicy: --keep-within is not a count bucket (golden policy_keep_snapshots_21..23)',
    times: ['2026-11-24 03:00:00', '2026-11-20 03:00:00', '2026-11-10 03:00:00', '2026-11-10 02:00:00'],
    retention: { maxAgeDays: 7 },
    keep: ['2026-11-24 03:00:00', '2026-11-20 03:00:00'],
  },
  {
    name: 'a rule set to 0 keeps nothing, not even the oldest',
    source: 'ApplyPolicy: only buckets with Count > 0 (or unlimited) keep',
    times: ['2026-11-24 03:00:00', '2026-11-24 02:00:00', '2026-11-24 01:00:00'],
    retention: { keepDaily: 0 },
    keep: ['2026-11-24 03:00:00'],
  },
  {
    name: 'keepDaily 7 with backups on one day only: the newest and the oldest',
    source: 'CHANGELOG 0.16.0 #3624',
    times: ['2026-11-24 03:00:00', '2026-11-24 02:00:00', '2026-11-24 01:00:00'],
    retention: { keepDaily: 7 },
    keep: ['2026-11-24 03:00:00', '2026-11-24 01:00:00'],
    oldest: ['daily (oldest: fewer than 7 days have backups)'],
  },
];

describe('the oldest backup, as restic keeps it', () => {
  it.each(OLDEST_CASES)('$name ($source)', ({ times, retention, keep, oldest }) => {
    const result = plan(
      times.map((t, i) => backup(t, i)),
      retention,
      '2026-11-25 00:00:00',
    );
    expect(keptIso(result)).toEqual(keep.map(iso));
    const oldestTime = [...times].sort()[0];
    if (oldest !== undefined) expect(reasonsAt(result, oldestTime)).toEqual([oldest]);
    else expect(result.delete.at(-1)?.createdAt.toISOString()).toBe(iso(oldestTime));
  });

  it('the oldest is the oldest of all candidates: a backup of another policy or table does not count', () => {
    const own = ['2026-11-24 03:00:00', '2026-11-24 02:00:00', '2026-11-24 01:00:00'].map((t, i) => backup(t, i));
    const older = [
      backup('2026-11-20 03:00:00', 10, { policy: 'weekly' }),
      backup('2026-11-19 03:00:00', 11, { table: 'other-table' }),
      backup('2026-11-18 03:00:00', 12, { status: 'DELETED' }),
    ];
    const result = plan([...own, ...older], { keepDaily: 7 }, '2026-11-25 00:00:00');
    expect(keptIso(result)).toEqual([iso('2026-11-24 03:00:00'), iso('2026-11-24 01:00:00')]);
    expect(result.delete.map((d) => d.createdAt.toISOString())).toEqual([iso('2026-11-24 02:00:00')]);
    expect(result.ignore).toHaveLength(3);
  });
});

describe('a CREATING backup counts as the newest and is never deleted', () => {
  const now = '2026-11-24 03:00:30';
  const creating = backup('2026-11-24 03:00:00', 0, { status: 'CREATING' });
  const available = ['2026-11-23 03:00:00', '2026-11-22 03:00:00', '2026-11-21 03:00:00'].map((t, i) => backup(t, i + 1));

  it('keepLast 2 right after a backup keeps the new one and the newest AVAILABLE one: 2, not 3', () => {
    const result = plan([creating, ...available], { keepLast: 2 }, now);
    expect(result.keep.map((d) => [d.createdAt.toISOString(), d.reasons])).toEqual([
      [iso('2026-11-24 03:00:00'), ['keepLast 1/2']],
      [iso('2026-11-23 03:00:00'), [REASON_NEWEST, 'keepLast 2/2']],
    ]);
    expect(result.delete.map((d) => d.createdAt.toISOString())).toEqual([iso('2026-11-22 03:00:00'), iso('2026-11-21 03:00:00')]);
  });

  it('takes its day in keepDaily', () => {
    const sameDay = backup('2026-11-24 01:00:00', 9);
    const result = plan([creating, sameDay, ...available], { keepDaily: 2 }, now);
    expect(reasonsAt(result, '2026-11-24 03:00:00')).toEqual([['daily 2026-11-24']]);
    // the AVAILABLE backup of the same day is kept by the newest-AVAILABLE rail only
    expect(reasonsAt(result, '2026-11-24 01:00:00')).toEqual([[REASON_NEWEST]]);
    expect(reasonsAt(result, '2026-11-23 03:00:00')).toEqual([['daily 2026-11-23']]);
    expect(result.delete).toHaveLength(2);
  });

  it('one that no rule keeps is kept as still being created', () => {
    const stuck = backup('2026-11-20 03:00:00', 5, { status: 'CREATING' });
    const result = plan([stuck, ...available], { keepLast: 1 }, now);
    expect(reasonsAt(result, '2026-11-20 03:00:00')).toEqual([[REASON_CREATING]]);
    expect(result.delete.map((d) => d.createdAt.toISOString())).toEqual([iso('2026-11-22 03:00:00'), iso('2026-11-21 03:00:00')]);
  });

  it('does not count towards minKeep, which counts AVAILABLE backups', () => {
    const result = plan([creating, ...available], { keepLast: 1, minKeep: 2 }, now);
    expect(result.keep.map((d) => d.reasons)).toEqual([['keepLast 1/1'], [REASON_NEWEST], ['minKeep 2/2']]);
    expect(result.delete).toHaveLength(1);
  });

  it('is kept also when the plan is blocked, as still being created', () => {
    const stuck = backup('2026-11-20 03:00:00', 5, { status: 'CREATING' });
    const result = plan([stuck, ...available], { keepLast: 1 }, now, { frozenUntil: utc('2026-11-30 00:00:00') });
    expect(result.blocked).toBeDefined();
    expect(reasonsAt(result, '2026-11-20 03:00:00')).toEqual([[REASON_CREATING]]);
    expect(result.delete).toEqual([]);
  });
});

describe('the minKeep floor', () => {
  const now = '2026-11-24 12:00:00';
  const five = Array.from({ length: 5 }, (_, i) => backup(new Date(utc('2026-11-24 03:00:00').getTime() - i * DAY_MS), i));

  it('keepLast 1 + minKeep 3 keeps 3, newest first', () => {
    const result = plan(five, { keepLast: 1, minKeep: 3 }, now);
    expect(result.keep.map((d) => d.reasons)).toEqual([[REASON_NEWEST, 'keepLast 1/1'], ['minKeep 2/3'], ['minKeep 3/3']]);
    expect(result.delete).toHaveLength(2);
  });

  it('adds the newest ones the rules did not keep', () => {
    // keepWeekly 2 keeps 11-24 (W48) and 11-22 (W47, Sunday); the floor adds 11-23
    const result = plan(five, { keepWeekly: 2, minKeep: 3 }, now);
    expect(keptIso(result).map((s) => s.slice(0, 10))).toEqual(['2026-11-24', '2026-11-23', '2026-11-22']);
    expect(result.keep[1].reasons).toEqual(['minKeep 3/3']);
  });

  it('keeps all when fewer AVAILABLE backups exist than minKeep', () => {
    const result = plan(five.slice(0, 2), { keepLast: 1, minKeep: 10 }, now);
    expect(result.keep.map((d) => d.reasons)).toEqual([[REASON_NEWEST, 'keepLast 1/1'], ['minKeep 2/10']]);
    expect(result.delete).toEqual([]);
  });

  it('adds nothing when the rules already keep enough', () => {
    const result = plan(five, { keepLast: 4, minKeep: 3 }, now);
    expect(result.keep).toHaveLength(4);
    expect(result.keep.flatMap((d) => d.reasons).filter((r) => r.startsWith('minKeep'))).toEqual([]);
  });

  it('is not a rule: a retention with only minKeep keeps everything', () => {
    const result = plan(five, { minKeep: 2 }, now);
    expect(result.delete).toEqual([]);
    expect(result.keep.map((d) => d.reasons.at(-1))).toEqual(Array(5).fill(REASON_NO_RULE));
  });

  it('counts held backups as kept', () => {
    const withHold = five.map((b, i) => (i === 4 ? { ...b, hold: { reason: 'audit' } } : b));
    const result = plan(withHold, { keepLast: 1, minKeep: 3 }, now);
    expect(keptIso(result).map((s) => s.slice(0, 10))).toEqual(['2026-11-24', '2026-11-23', '2026-11-20']);
    expect(result.keep[1].reasons).toEqual(['minKeep 3/3']);
  });

  it('applies under a blocked plan too; the rest is kept as blocked', () => {
    const result = plan(five, { keepLast: 1, minKeep: 2 }, now, { lastAttempt: { status: 'failed', at: utc(now) } });
    expect(result.keep.map((d) => d.reasons[0])).toEqual([REASON_NEWEST, 'minKeep 2/2', ...Array(3).fill(`blocked: ${result.blocked}`)]);
  });
});

describe('legal holds', () => {
  const now = '2026-11-24 12:00:00';
  const days = ['2026-11-24 03:00:00', '2026-11-23 03:00:00', '2026-11-22 03:00:00', '2026-11-01 03:00:00'];
  const hold = { reason: 'litigation L-17', by: 'legal@example.com', at: '2026-11-02T00:00:00Z' };
  const heldAt = (i: number) => days.map((t, j) => backup(t, j, j === i ? { hold } : {}));

  it('a held old backup survives keepLast 1', () => {
    const result = plan(heldAt(3), { keepLast: 1 }, now);
    expect(reasonsAt(result, '2026-11-01 03:00:00')).toEqual([['held: litigation L-17']]);
    expect(result.delete.map((d) => d.createdAt.toISOString())).toEqual([iso('2026-11-23 03:00:00'), iso('2026-11-22 03:00:00')]);
  });

  const blockedBy: ReadonlyArray<[string, Retention | undefined, Partial<RetentionInput>]> = [
    ['the policy is unreadable', undefined, {}],
    ['the latest attempt failed', { keepLast: 1 }, { lastAttempt: { status: 'failed', at: utc(now) } }],
    ['pruning is frozen', { keepLast: 1 }, { frozenUntil: utc('2026-12-01 00:00:00') }],
  ];
  it.each(blockedBy)('is kept as held when the plan is blocked: %s', (_what, retention, extra) => {
    const result = plan(heldAt(3), retention, now, extra);
    expect(result.blocked).toBeDefined();
    expect(reasonsAt(result, '2026-11-01 03:00:00')).toEqual([['held: litigation L-17']]);
    expect(result.delete).toEqual([]);
  });

  it('takes part in the rules like any other backup', () => {
    // the newest is held: it is still keepLast 1/2, so keepLast 2 keeps one more, not two
    const result = plan(heldAt(0), { keepLast: 2 }, now);
    expect(result.keep.map((d) => d.reasons)).toEqual([[REASON_NEWEST, 'keepLast 1/2', 'held: litigation L-17'], ['keepLast 2/2']]);
    expect(result.delete).toHaveLength(2);
  });

  it('a held oldest backup is still the oldest for the oldest-backup keep', () => {
    const result = plan(
      [backup('2026-11-24 03:00:00', 0), backup('2026-11-24 02:00:00', 1), backup('2026-11-24 01:00:00', 2, { hold: { reason: 'x' } })],
      { keepDaily: 3 },
      now,
    );
    expect(reasonsAt(result, '2026-11-24 01:00:00')).toEqual([['daily (oldest: fewer than 3 days have backups)', 'held: x']]);
  });
});

describe("ownership is the ledger's table and policy, never the name", () => {
  const now = '2026-11-24 12:00:00';

  it("ignores a backup named like the service's whose policy or table differ", () => {
    const mine = backup('2026-11-20 03:00:00', 0);
    const serviceName = (at: string) => backupName(POLICY, 'schedule', utc(at), at);
    const otherPolicy = backup('2026-11-24 03:00:00', 1, { policy: 'weekly', name: serviceName('2026-11-24 03:00:00') });
    const otherTable = backup('2026-11-23 03:00:00', 2, { table: 'invoices', name: serviceName('2026-11-23 03:00:00') });
    expect(otherPolicy.name).toMatch(/^ddbbk\.daily\.schedule\./);
    const result = plan([mine, otherPolicy, otherTable], { keepLast: 0 }, now);
    expect(result.ignore.map((d) => d.reasons)).toEqual([['belongs to policy weekly'], ['belongs to table invoices']]);
    expect(result.keep.map((d) => d.arn)).toEqual([mine.arn]);
  });

  it('a backup with any name, or none, of the right table and policy is a candidate', () => {
    const names = [
      undefined,
      '',
      'manual-before-migration',
      'ddbbk.weekly.schedule.20261121T030000Z.abcdef',
      'ddbbk.daily.schedule.20261120T030000Z.ABCDEF',
    ];
    const backups = names.map((name, i) => backup(new Date(utc('2026-11-24 03:00:00').getTime() - i * DAY_MS), i, { name }));
    const result = plan(backups, { keepLast: 1 }, now);
    expect(result.ignore).toEqual([]);
    expect(result.keep.map((d) => d.name)).toEqual([undefined]);
    expect(result.delete.map((d) => d.name)).toEqual(names.slice(1));
  });
});
