import fc from 'fast-check';
import type { Retention } from '../../lambda/core/policy';
import { keptIndices, retainedAt, steadyStateRetained, sumOfRules } from '../../lambda/core/cost/retained';
import { planRetention, type BackupRecord } from '../../lambda/core/retention/retention';

/** Property tests of the steady-state retained count (FC_NUM_RUNS overrides the run count). */
const NUM_RUNS = Number(process.env.FC_NUM_RUNS ?? 100);

const small = (max: number) => fc.option(fc.integer({ min: 0, max }), { nil: undefined });
const retentionArb: fc.Arbitrary<Retention> = fc
  .record({
    keepLast: small(30),
    keepHourly: small(48),
    keepDaily: small(14),
    keepWeekly: small(8),
    keepMonthly: small(12),
    keepYearly: small(3),
    maxAgeDays: fc.option(fc.integer({ min: 1, max: 30 }), { nil: undefined }),
    minKeep: fc.option(fc.integer({ min: 1, max: 40 }), { nil: undefined }),
  })
  .map((r) => Object.fromEntries(Object.entries(r).filter(([, v]) => v !== undefined)) as Retention);
/** Every 15 minutes to every week, as schedules give them. */
const intervalArb = fc.constantFrom(15, 30, 60, 120, 360, 720, 1440, 2880, 10080);

describe('steady-state retained count', () => {
  it('is never below keepLast nor the floor, and never above the sum of the rules (or the floor)', () => {
    fc.assert(
      fc.property(retentionArb, intervalArb, (retention, interval) => {
        // Act
        const count = steadyStateRetained(retention, interval);
        // Assess
        if (count.unbounded) return Object.keys(retention).every((k) => k === 'minKeep');
        const floor = retention.minKeep ?? 1;
        return (
          count.min <= count.max &&
          count.min >= Math.max(retention.keepLast ?? 0, floor) &&
          count.max <= Math.max(sumOfRules(retention, interval), floor)
        );
      }),
      { numRuns: NUM_RUNS },
    );
  });

  it('equals what the retention planner keeps of a long history pruned at the same moment', () => {
    // Prepare: small rules so that a history long enough for every rule stays small.
    const arb = fc.record({
      retention: retentionArb.filter((r) => !r.keepYearly && (r.keepMonthly ?? 0) <= 3 && (r.keepHourly ?? 0) <= 24),
      interval: fc.constantFrom(60, 180, 360, 1440, 2880),
      now: fc.integer({ min: Date.UTC(2025, 0, 1), max: Date.UTC(2026, 11, 31) }).map((ms) => Math.floor(ms / 60_000) * 60_000),
    });
    fc.assert(
      fc.property(arb, ({ retention, interval, now }) => {
        if (Object.keys(retention).every((k) => k === 'minKeep')) return true;
        const { run, picked } = keptIndices(retention, interval, now);
        const length = Math.max(run, ...picked, retention.minKeep ?? 1) * 2 + 200;
        const backups: BackupRecord[] = Array.from({ length }, (_, j) => ({
          arn: `arn:b/${String(j).padStart(6, '0')}`,
          table: 't',
          policy: 'p',
          createdAt: new Date(now - j * interval * 60_000),
          status: 'AVAILABLE',
        }));
        // Act
        const plan = planRetention({ table: 't', policy: 'p', backups, retention, now: new Date(now) });
        // Assess
        return plan.keep.length === retainedAt(retention, interval, now);
      }),
      { numRuns: 150 },
    );
  });
});

describe('steady-state retained count, worked examples', () => {
  it('keepLast 7 with a daily schedule keeps 7', () => {
    expect(steadyStateRetained({ keepLast: 7 }, 1440)).toEqual({ unbounded: false, min: 7, max: 7 });
  });

  it('keepDaily 7 + keepWeekly 4 keeps the union of both: 9 or 10 by weekday, never 11', () => {
    expect(steadyStateRetained({ keepDaily: 7, keepWeekly: 4 }, 1440)).toEqual({ unbounded: false, min: 9, max: 10 });
  });

  it('the built-in hourly policy (24 hourly + 7 daily) keeps 29 or 30: the newest of today is also an hourly one', () => {
    const count = steadyStateRetained({ keepHourly: 24, keepDaily: 7 }, 60);
    expect(count).toEqual({ unbounded: false, min: 29, max: 30 });
  });

  it('maxAgeDays 3 with backups every 6 hours keeps 12', () => {
    expect(steadyStateRetained({ maxAgeDays: 3 }, 360)).toEqual({ unbounded: false, min: 12, max: 12 });
  });

  it('a retention without any rule keeps everything: unbounded', () => {
    expect(steadyStateRetained({ minKeep: 2 }, 1440)).toMatchObject({ unbounded: true });
  });

  it('minKeep above the rules is the count', () => {
    expect(steadyStateRetained({ keepLast: 1, minKeep: 5 }, 1440)).toEqual({ unbounded: false, min: 5, max: 5 });
  });
});
