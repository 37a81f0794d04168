import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { backupName, type Trigger } from '../../lambda/core/naming';
import type { Retention } from '../../lambda/core/policy';
import {
  isoWeek,
  planRetention,
  type BackupRecord,
  type RetentionInput,
  type RetentionPlan,
} from '../../lambda/core/retention/retention';

const TABLE = 'orders';
const POLICY = 'daily';
const DAY_MS = 86_400_000;

function arnFor(createdAt: Date, suffix = 'a'): string {
  return `arn:aws:dynamodb:eu-west-1:123456789012:table/${TABLE}/backup/${String(createdAt.getTime()).padStart(14, '0')}-${suffix}`;
}

/** A backup the ledger recorded under `policy` (default: the policy being pruned), created at `iso`. */
function svc(iso: string, opts: { policy?: string; status?: string; trigger?: Trigger; suffix?: string } = {}): BackupRecord {
  const createdAt = new Date(iso);
  const policy = opts.policy ?? POLICY;
  return {
    arn: arnFor(createdAt, opts.suffix),
    name: backupName(policy, opts.trigger ?? 'schedule', createdAt, `slot-${iso}`),
    table: TABLE,
    policy,
    createdAt,
    status: opts.status ?? 'AVAILABLE',
  };
}

function plan(backups: BackupRecord[], retention: Retention | undefined, now: string, extra: Partial<RetentionInput> = {}): RetentionPlan {
  return planRetention({ table: TABLE, policy: POLICY, backups, retention, now: new Date(now), ...extra });
}

const isoOf = (decisions: RetentionPlan['keep']): string[] => decisions.map((d) => d.createdAt.toISOString());
const dayOf = (decisions: RetentionPlan['keep']): string[] => decisions.map((d) => d.createdAt.toISOString().slice(0, 10));

/** Daily backups at 03:00 UTC, `count` days ending on `lastDay` (newest first). */
function dailyBackups(lastDay: string, count: number): BackupRecord[] {
  const last = Date.parse(`${lastDay}T03:00:00Z`);
  return Array.from({ length: count }, (_, i) => svc(new Date(last - i * DAY_MS).toISOString()));
}

describe('planRetention', () => {
  describe('keepLast', () => {
    it('keeps the 3 newest of 6 and deletes the rest', () => {
      // Prepare
      const backups = dailyBackups('2026-11-24', 6).reverse();
      // Act
      const result = plan(backups, { keepLast: 3 }, '2026-11-24T12:00:00Z');
      // Assess
      expect(dayOf(result.keep)).toEqual(['2026-11-24', '2026-11-23', '2026-11-22']);
      expect(dayOf(result.delete)).toEqual(['2026-11-21', '2026-11-20', '2026-11-19']);
      expect(result.keep.map((d) => d.reasons)).toEqual([
        ['newest available backup', 'keepLast 1/3'],
        ['keepLast 2/3'],
        ['keepLast 3/3'],
      ]);
      expect(result.delete.every((d) => d.action === 'delete' && d.reasons.length === 1)).toBe(true);
      expect(result.blocked).toBeUndefined();
      expect(result.decisions).toHaveLength(6);
      expect(result.decisions.map((d) => d.action)).toEqual(['keep', 'keep', 'keep', 'delete', 'delete', 'delete']);
    });

    it('breaks createdAt ties by ARN, greater ARN first', () => {
      const a = { ...svc('2026-11-24T03:00:00Z', { suffix: 'a' }) };
      const b = { ...svc('2026-11-24T03:00:00Z', { suffix: 'b' }) };
      const older = svc('2026-11-23T03:00:00Z');
      const result = plan([a, older, b], { keepLast: 2 }, '2026-11-24T12:00:00Z');
      // both tied at the newest time are "the newest": the safety rail keeps both
      expect(result.keep.map((d) => d.arn)).toEqual([b.arn, a.arn]);
      expect(result.keep[0].reasons).toEqual(['newest available backup', 'keepLast 1/2']);
      expect(result.keep[1].reasons).toEqual(['newest available backup', 'keepLast 2/2']);
      expect(result.delete.map((d) => d.arn)).toEqual([older.arn]);
    });

    it('keepLast 0 keeps only the newest (safety rail)', () => {
      const result = plan(dailyBackups('2026-11-24', 4), { keepLast: 0 }, '2026-11-24T12:00:00Z');
      expect(dayOf(result.keep)).toEqual(['2026-11-24']);
      expect(result.keep[0].reasons).toEqual(['newest available backup']);
      expect(result.delete).toHaveLength(3);
    });
  });

  describe('grandfather-father-son over 60 daily backups', () => {
    // 2026-09-26 .. 2026-11-24 at 03:00 UTC; 2026-11-24 is a Tuesday of ISO week 2026-W48.
    const backups = dailyBackups('2026-11-24', 60);
    const now = '2026-11-24T12:00:00Z';

    it('keepDaily 7, keepWeekly 4, keepMonthly 3 keeps exactly 11', () => {
      const result = plan(backups, { keepDaily: 7, keepWeekly: 4, keepMonthly: 3 }, now);
      expect(dayOf(result.keep)).toEqual([
        '2026-11-24', // daily, weekly W48, monthly 2026-11
        '2026-11-23',
        '2026-11-22', // daily, weekly W47 (Sunday)
        '2026-11-21',
        '2026-11-20',
        '2026-11-19',
        '2026-11-18',
        '2026-11-15', // weekly W46
        '2026-11-08', // weekly W45
        '2026-10-31', // monthly 2026-10
        '2026-09-30', // monthly 2026-09
      ]);
      expect(result.delete).toHaveLength(49);
      const reasons = Object.fromEntries(result.keep.map((d) => [d.createdAt.toISOString().slice(0, 10), d.reasons]));
      expect(reasons['2026-11-24']).toEqual([
        'newest available backup',
        'daily 2026-11-24',
        'weekly 2026-W48',
        'monthly 2026-11',
      ]);
      expect(reasons['2026-11-22']).toEqual(['daily 2026-11-22', 'weekly 2026-W47']);
      expect(reasons['2026-11-18']).toEqual(['daily 2026-11-18']);
      expect(reasons['2026-11-15']).toEqual(['weekly 2026-W46']);
      expect(reasons['2026-11-08']).toEqual(['weekly 2026-W45']);
      expect(reasons['2026-10-31']).toEqual(['monthly 2026-10']);
      expect(reasons['2026-09-30']).toEqual(['monthly 2026-09']);
    });

    it('the built-in "daily" policy (7 daily, 4 weekly, 6 monthly) keeps 12 of 60: only 3 months exist, so also the oldest', () => {
      const result = plan(backups, { keepDaily: 7, keepWeekly: 4, keepMonthly: 6 }, now);
      expect(result.keep).toHaveLength(12);
      expect(result.delete).toHaveLength(48);
      expect(result.keep.at(-1)?.createdAt.toISOString()).toBe('2026-09-26T03:00:00.000Z');
      expect(result.keep.at(-1)?.reasons).toEqual(['monthly (oldest: fewer than 6 months have backups)']);
    });

    it('keepYearly 1 adds a reason to the newest and keeps nothing more', () => {
      const result = plan(backups, { keepDaily: 7, keepWeekly: 4, keepMonthly: 3, keepYearly: 1 }, now);
      expect(result.keep).toHaveLength(11);
      expect(result.keep[0].reasons).toContain('yearly 2026');
    });

    it('counts only periods that have backups (restic semantics)', () => {
      const sparse = ['2026-11-01', '2026-11-05', '2026-11-10', '2026-11-20'].map((d) => svc(`${d}T03:00:00Z`));
      const result = plan(sparse, { keepDaily: 3 }, now);
      expect(dayOf(result.keep)).toEqual(['2026-11-20', '2026-11-10', '2026-11-05']);
      expect(dayOf(result.delete)).toEqual(['2026-11-01']);
    });

    it('keeps the newest backup of each hour', () => {
      const hourly = [
        svc('2026-11-24T10:59:59Z'),
        svc('2026-11-24T10:00:00Z'),
        svc('2026-11-24T09:30:00Z'),
        svc('2026-11-24T07:15:00Z'),
      ];
      const result = plan(hourly, { keepHourly: 2 }, now);
      expect(isoOf(result.keep)).toEqual(['2026-11-24T10:59:59.000Z', '2026-11-24T09:30:00.000Z']);
      expect(result.keep[1].reasons).toEqual(['hourly 2026-11-24T09']);
    });

    it('keeps the newest backup of each year', () => {
      const yearly = [svc('2027-01-01T00:00:00Z'), svc('2026-12-31T23:59:59Z'), svc('2026-01-01T00:00:00Z'), svc('2025-06-01T00:00:00Z')];
      const result = plan(yearly, { keepYearly: 2 }, '2027-01-02T00:00:00Z');
      expect(isoOf(result.keep)).toEqual(['2027-01-01T00:00:00.000Z', '2026-12-31T23:59:59.000Z']);
      expect(result.keep.map((d) => d.reasons.at(-1))).toEqual(['yearly 2027', 'yearly 2026']);
    });
  });

  describe('periods are UTC', () => {
    const backups = [svc('2026-11-24T00:30:00Z'), svc('2026-11-23T23:30:00Z'), svc('2026-11-23T10:00:00Z')];

    it('a backup at 23:30 UTC and one at 00:30 UTC are on different days', () => {
      const result = plan(backups, { keepDaily: 2 }, '2026-11-24T12:00:00Z');
      expect(isoOf(result.keep)).toEqual(['2026-11-24T00:30:00.000Z', '2026-11-23T23:30:00.000Z']);
      expect(result.keep.map((d) => d.reasons.at(-1))).toEqual(['daily 2026-11-24', 'daily 2026-11-23']);
      expect(isoOf(result.delete)).toEqual(['2026-11-23T10:00:00.000Z']);
    });

    it('gives the same plan whatever the process time zone', () => {
      // Jest's sandbox copies process.env, so setting TZ in a test changes nothing. A child Node
      // process (where assigning process.env.TZ does switch the zone) runs the planner per zone.
      const script = `
        const { planRetention } = require('./lambda/core/retention/retention.ts');
        const { backupName } = require('./lambda/core/naming.ts');
        const mk = (iso) => ({ arn: 'arn:' + iso, name: backupName('daily', 'schedule', new Date(iso), iso), table: 't', policy: 'daily', createdAt: new Date(iso), status: 'AVAILABLE' });
        const backups = ['2026-11-24T00:30:00Z', '2026-11-23T23:30:00Z', '2026-11-23T10:00:00Z', '2026-11-30T23:50:00Z', '2026-12-01T00:10:00Z', '2026-12-27T23:30:00Z', '2026-12-28T00:30:00Z'].map(mk);
        const out = {};
        for (const tz of ['UTC', 'Pacific/Kiritimati', 'America/Los_Angeles', 'Asia/Kolkata']) {
          process.env.TZ = tz;
          const p = planRetention({ table: 't', policy: 'daily', backups, retention: { keepDaily: 100, keepWeekly: 100, keepMonthly: 100 }, now: new Date('2027-01-01T00:00:00Z') });
          out[tz] = { localDayOf2330: new Date('2026-11-23T23:30:00Z').getDate(), keep: p.keep.map((d) => d.createdAt.toISOString() + ' ' + d.reasons.join(',')), del: p.delete.length };
        }
        process.stdout.write(JSON.stringify(out));`;
      const child = spawnSync(process.execPath, ['--import', 'tsx', '-e', script], {
        cwd: path.resolve(__dirname, '../..'),
        encoding: 'utf8',
        env: { ...process.env, TZ: 'UTC' },
      });
      expect(child.stderr).toBe('');
      const out = JSON.parse(child.stdout) as Record<string, { localDayOf2330: number; keep: string[]; del: number }>;
      // the zone switch took effect in the child, so the comparison below is not hollow
      expect(out['Pacific/Kiritimati'].localDayOf2330).toBe(24);
      expect(out['America/Los_Angeles'].localDayOf2330).toBe(23);
      expect(out.UTC.keep).toEqual([
        '2026-12-28T00:30:00.000Z daily 2026-12-28,weekly 2026-W53,monthly 2026-12',
        '2026-12-27T23:30:00.000Z daily 2026-12-27,weekly 2026-W52',
        '2026-12-01T00:10:00.000Z daily 2026-12-01,weekly 2026-W49', // Tuesday; Monday 11-30 is the same week
        '2026-11-30T23:50:00.000Z daily 2026-11-30,monthly 2026-11',
        '2026-11-24T00:30:00.000Z daily 2026-11-24,weekly 2026-W48',
        '2026-11-23T23:30:00.000Z daily 2026-11-23',
        // fewer than 100 days, weeks and months have backups: each rule also keeps the oldest
        '2026-11-23T10:00:00.000Z daily (oldest: fewer than 100 days have backups),weekly (oldest: fewer than 100 weeks have backups),monthly (oldest: fewer than 100 months have backups)',
      ].map((line, i) => (i === 0 ? line.replace(' daily', ' newest available backup,daily') : line)));
      expect(out.UTC.del).toBe(0);
      for (const tz of Object.keys(out)) expect({ tz, keep: out[tz].keep }).toEqual({ tz, keep: out.UTC.keep });
    });

    it('month boundary is UTC too', () => {
      const result = plan(
        [svc('2026-12-01T00:10:00Z'), svc('2026-11-30T23:50:00Z'), svc('2026-11-30T01:00:00Z')],
        { keepMonthly: 2 },
        '2026-12-02T00:00:00Z',
      );
      expect(isoOf(result.keep)).toEqual(['2026-12-01T00:10:00.000Z', '2026-11-30T23:50:00.000Z']);
    });
  });

  describe('ISO weeks', () => {
    it.each([
      ['2026-11-24T03:00:00Z', 2026, 48],
      ['2026-12-28T00:00:00Z', 2026, 53], // Monday
      ['2026-12-31T23:59:59Z', 2026, 53], // Thursday: 2026 has 53 ISO weeks
      ['2027-01-01T00:00:00Z', 2026, 53], // Friday
      ['2027-01-03T23:59:59Z', 2026, 53], // Sunday
      ['2027-01-04T00:00:00Z', 2027, 1], // Monday
      ['2024-12-29T23:59:59Z', 2024, 52], // Sunday
      ['2024-12-30T00:00:00Z', 2025, 1], // Monday: ISO year 2025 starts in 2024
      ['2025-01-05T12:00:00Z', 2025, 1],
      ['2021-01-03T00:00:00Z', 2020, 53],
      ['2008-12-29T00:00:00Z', 2009, 1],
      ['2010-01-03T00:00:00Z', 2009, 53],
      ['1970-01-01T00:00:00Z', 1970, 1],
      ['1969-12-28T00:00:00Z', 1969, 52],
    ])('%s is ISO %i-W%i', (iso, year, week) => {
      expect(isoWeek(new Date(iso))).toEqual({ year, week });
    });

    it('weekly buckets follow the ISO week-year across 2026/2027', () => {
      const backups = [
        svc('2027-01-04T03:00:00Z'), // 2027-W01
        svc('2027-01-03T03:00:00Z'), // 2026-W53
        svc('2027-01-01T03:00:00Z'), // 2026-W53
        svc('2026-12-31T03:00:00Z'), // 2026-W53
        svc('2026-12-27T03:00:00Z'), // 2026-W52 (Sunday)
        svc('2026-12-21T03:00:00Z'), // 2026-W52
      ];
      const result = plan(backups, { keepWeekly: 3 }, '2027-01-04T12:00:00Z');
      expect(dayOf(result.keep)).toEqual(['2027-01-04', '2027-01-03', '2026-12-27']);
      expect(result.keep.map((d) => d.reasons.at(-1))).toEqual(['weekly 2027-W01', 'weekly 2026-W53', 'weekly 2026-W52']);
      expect(dayOf(result.delete)).toEqual(['2027-01-01', '2026-12-31', '2026-12-21']);
    });

    it('2024-12-30 and 2025-01-05 share ISO week 2025-W01', () => {
      const backups = [svc('2025-01-05T03:00:00Z'), svc('2024-12-30T03:00:00Z'), svc('2024-12-29T03:00:00Z')];
      const result = plan(backups, { keepWeekly: 2 }, '2025-01-06T00:00:00Z');
      expect(dayOf(result.keep)).toEqual(['2025-01-05', '2024-12-29']);
      expect(result.keep.map((d) => d.reasons.at(-1))).toEqual(['weekly 2025-W01', 'weekly 2024-W52']);
    });
  });

  describe('maxAgeDays', () => {
    it('keeps backups strictly younger than D days', () => {
      const now = Date.parse('2026-11-24T12:00:00Z');
      const at = (ms: number) => svc(new Date(ms).toISOString());
      const backups = [at(now - 1000), at(now - 2 * DAY_MS + 1000), at(now - 2 * DAY_MS), at(now - 3 * DAY_MS)];
      const result = plan(backups, { maxAgeDays: 2 }, new Date(now).toISOString());
      expect(isoOf(result.keep)).toEqual(['2026-11-24T11:59:59.000Z', '2026-11-22T12:00:01.000Z']);
      expect(result.keep[1].reasons).toEqual(['within maxAgeDays 2']);
      expect(isoOf(result.delete)).toEqual(['2026-11-22T12:00:00.000Z', '2026-11-21T12:00:00.000Z']);
    });

    it('combines with count rules (a backup is kept if any rule keeps it)', () => {
      const result = plan(dailyBackups('2026-11-24', 10), { maxAgeDays: 3, keepLast: 5 }, '2026-11-24T12:00:00Z');
      expect(result.keep).toHaveLength(5);
      expect(result.keep[2].reasons).toEqual(['keepLast 3/5', 'within maxAgeDays 3']);
      expect(result.keep[3].reasons).toEqual(['keepLast 4/5']);
    });

    it('still keeps the newest backup when every backup is too old', () => {
      const result = plan(dailyBackups('2026-01-10', 5), { maxAgeDays: 30 }, '2026-11-24T12:00:00Z');
      expect(dayOf(result.keep)).toEqual(['2026-01-10']);
      expect(result.keep[0].reasons).toEqual(['newest available backup']);
    });
  });

  describe('what is not the policy\'s own is ignored', () => {
    const backups: BackupRecord[] = [
      svc('2026-11-24T11:00:00Z', { policy: 'hourly' }),
      { ...svc('2026-11-24T10:00:00Z'), name: undefined, policy: 'weekly' },
      svc('2026-11-24T06:00:00Z', { status: 'DELETED' }),
      { ...svc('2026-11-24T05:00:00Z'), table: 'other-table' },
      svc('2026-11-20T03:00:00Z'),
      svc('2026-11-19T03:00:00Z'),
    ];

    it('gives each a reason and never deletes it', () => {
      const result = plan(backups, { keepLast: 0 }, '2026-11-24T12:00:00Z');
      expect(result.ignore.map((d) => d.reasons)).toEqual([
        ['belongs to policy hourly'],
        ['belongs to policy weekly'],
        ['status DELETED'],
        ['belongs to table other-table'],
      ]);
      expect(result.ignore.every((d) => d.action === 'ignore')).toBe(true);
      // the policy's newest own backup is kept even though other policies' backups are newer
      expect(dayOf(result.keep)).toEqual(['2026-11-20']);
      expect(result.keep[0].reasons).toEqual(['newest available backup']);
      expect(dayOf(result.delete)).toEqual(['2026-11-19']);
      expect(result.decisions).toHaveLength(backups.length);
    });

    it('lists every reason that applies', () => {
      const other = { ...svc('2026-11-24T11:00:00Z', { policy: 'hourly', status: 'ARCHIVED' }), table: 'other-table' };
      const result = plan([other], { keepLast: 1 }, '2026-11-24T12:00:00Z');
      expect(result.ignore[0].reasons).toEqual(['belongs to table other-table', 'belongs to policy hourly', 'status ARCHIVED']);
    });

    it('ignores a backup with an invalid creation time', () => {
      const bad = { ...svc('2026-11-24T11:00:00Z'), createdAt: new Date(Number.NaN) };
      const result = plan([bad, svc('2026-11-20T03:00:00Z')], { keepLast: 1 }, '2026-11-24T12:00:00Z');
      expect(result.ignore.map((d) => d.reasons)).toEqual([['invalid creation time']]);
      expect(result.decisions.at(-1)?.arn).toBe(bad.arn);
    });
  });

  it('an empty retention keeps everything', () => {
    const result = plan(dailyBackups('2026-11-24', 5), {}, '2026-11-24T12:00:00Z');
    expect(result.delete).toEqual([]);
    expect(result.keep).toHaveLength(5);
    expect(result.keep[0].reasons).toEqual(['newest available backup', 'no retention rule']);
    expect(result.keep[4].reasons).toEqual(['no retention rule']);
  });

  it('an empty retention is the one place where adding a rule deletes more (not a monotonicity violation)', () => {
    const backups = dailyBackups('2026-11-24', 5);
    expect(plan(backups, {}, '2026-11-24T12:00:00Z').delete).toHaveLength(0);
    expect(plan(backups, { keepLast: 1 }, '2026-11-24T12:00:00Z').delete).toHaveLength(4);
  });

  describe('blocked plans delete nothing', () => {
    const backups = dailyBackups('2026-11-24', 5);
    const now = '2026-11-24T12:00:00Z';

    it('when the policy is invalid or unreadable', () => {
      const result = plan(backups, undefined, now);
      expect(result.blocked).toBe('policy is invalid or unreadable (no retention)');
      expect(result.delete).toEqual([]);
      expect(result.keep).toHaveLength(5);
      expect(result.keep[0].reasons).toEqual(['newest available backup']);
      expect(result.keep[1].reasons).toEqual(['blocked: policy is invalid or unreadable (no retention)']);
    });

    it('when the retention does not match the schema', () => {
      const result = plan(backups, { keepLast: -1 } as Retention, now);
      expect(result.blocked).toMatch(/^retention is invalid: keepLast: /);
      expect(result.delete).toEqual([]);
      const nan = plan(backups, { keepDaily: Number.NaN } as Retention, now);
      expect(nan.blocked).toMatch(/^retention is invalid: keepDaily/);
      expect(nan.delete).toEqual([]);
    });

    it('when the latest backup attempt failed', () => {
      const result = plan(backups, { keepLast: 1 }, now, {
        lastAttempt: { status: 'failed', at: new Date('2026-11-24T03:00:05Z') },
      });
      expect(result.blocked).toBe('latest backup attempt failed at 2026-11-24T03:00:05.000Z');
      expect(result.delete).toEqual([]);
      expect(result.keep[0].reasons).toEqual(['newest available backup', 'keepLast 1/1']);
      expect(result.keep.slice(1).map((d) => d.reasons)).toEqual(
        Array(4).fill(['blocked: latest backup attempt failed at 2026-11-24T03:00:05.000Z']),
      );
    });

    it('not when the latest attempt succeeded', () => {
      const result = plan(backups, { keepLast: 1 }, now, { lastAttempt: { status: 'succeeded', at: new Date(now) } });
      expect(result.blocked).toBeUndefined();
      expect(result.delete).toHaveLength(4);
    });

    it('while the prune freeze is on, and not once it has ended', () => {
      const frozenUntil = new Date('2026-11-24T12:00:00.001Z');
      const frozen = plan(backups, { keepLast: 1 }, now, { frozenUntil });
      expect(frozen.blocked).toBe('prune frozen until 2026-11-24T12:00:00.001Z');
      expect(frozen.delete).toEqual([]);
      const thawed = plan(backups, { keepLast: 1 }, '2026-11-24T12:00:00.001Z', { frozenUntil });
      expect(thawed.blocked).toBeUndefined();
      expect(thawed.delete).toHaveLength(4);
    });

    it('fails closed on an invalid freeze end or an invalid now', () => {
      expect(plan(backups, { keepLast: 1 }, now, { frozenUntil: new Date(Number.NaN) }).delete).toEqual([]);
      const badNow = plan(backups, { keepLast: 1 }, 'not a date');
      expect(badNow.blocked).toBe('current time is invalid');
      expect(badNow.delete).toEqual([]);
    });

    it('names every cause', () => {
      const result = plan(backups, undefined, now, {
        lastAttempt: { status: 'failed', at: new Date('2026-11-24T03:00:05Z') },
        frozenUntil: new Date('2026-11-25T00:00:00Z'),
      });
      expect(result.blocked).toBe(
        'policy is invalid or unreadable (no retention); latest backup attempt failed at 2026-11-24T03:00:05.000Z; prune frozen until 2026-11-25T00:00:00.000Z',
      );
    });
  });

  it('handles no backups at all', () => {
    const result = plan([], { keepLast: 3 }, '2026-11-24T12:00:00Z');
    expect(result).toEqual({ decisions: [], keep: [], delete: [], ignore: [] });
  });

  it('does not mutate its input', () => {
    const backups = dailyBackups('2026-11-24', 6).reverse();
    const snapshot = JSON.stringify(backups);
    plan(backups, { keepLast: 2 }, '2026-11-24T12:00:00Z');
    expect(JSON.stringify(backups)).toBe(snapshot);
  });
});
