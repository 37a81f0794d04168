import { assessTable, coverageReport, type TableFactsForCoverage } from '../../lambda/core/coverage/coverage';

const NOW = new Date('2026-12-10T12:00:00Z');
const daysAgo = (d: number) => new Date(NOW.getTime() - d * 86_400_000).toISOString();

/** A table of a daily policy that drills weekly, backed up an hour ago. */
function table(name: string, lastDrill?: { startedAt: string; passed: boolean }, drill = true): TableFactsForCoverage {
  return {
    table: name,
    policies: [
      {
        name: 'daily',
        policy: { schedule: 'rate(1 day)', minIntervalMinutes: 0, ...(drill ? { drill: { schedule: 'rate(7 days)' } } : {}) },
        lastBackupAt: new Date(NOW.getTime() - 3_600_000).toISOString(),
      },
    ],
    ...(lastDrill ? { lastDrill } : {}),
  };
}

describe('coverage: the DRILL flag', () => {
  it('flags a table whose last drill failed, naming the command that shows it', () => {
    const t = assessTable(table('orders', { startedAt: daysAgo(1), passed: false }), NOW);
    expect(t.flags).toEqual(['DRILL']);
    expect(t.reasons).toEqual([`last restore drill (${daysAgo(1)}) failed: ddb-backup drills --table orders`]);
  });

  it('flags a drill older than twice the interval; not one within it, nor a table never drilled, nor one without a drill policy', () => {
    expect(assessTable(table('old', { startedAt: daysAgo(15), passed: true }), NOW).flags).toEqual(['DRILL']);
    expect(assessTable(table('fresh', { startedAt: daysAgo(13), passed: true }), NOW).flags).toEqual([]);
    expect(assessTable(table('never'), NOW).flags).toEqual([]);
    expect(assessTable(table('nodrill', { startedAt: daysAgo(100), passed: false }, false), NOW).flags).toEqual([]);
  });

  it('counts the rotation: with three tables taking turns, a table is drilled every three ticks', () => {
    // Prepare: three tables of the policy; one last drilled 20 days ago (2 x 7 x 3 = 42 days allowed).
    const report = coverageReport([table('a-t', { startedAt: daysAgo(20), passed: true }), table('b-t'), table('c-t')], NOW);
    // Assess
    expect(report.tables.find((t) => t.table === 'a-t')!.flags).toEqual([]);
    expect(report.counts.DRILL).toBe(0);
    const alone = coverageReport([table('a-t', { startedAt: daysAgo(20), passed: true })], NOW);
    expect(alone.counts.DRILL).toBe(1);
  });
});
