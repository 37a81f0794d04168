import fc from 'fast-check';
import { gapsAndBreaches } from '../../lambda/core/evidence/gaps';
import { evidenceReport, evidenceRow, recoveryPoints, reportCsv, reportMarkdown, verdictSection, type EvidenceFacts } from '../../lambda/core/evidence/report';

const H = 3_600_000;
const FROM = new Date('2026-11-01T00:00:00.000Z');
const TO = new Date('2026-11-02T00:00:00.000Z');
const at = (hours: number) => new Date(FROM.getTime() + hours * H).toISOString();

describe('gaps and RPO breaches (properties)', () => {
  const arb = fc.record({
    offsets: fc.array(fc.integer({ min: -5 * 60, max: 30 * 60 }), { maxLength: 30 }), // minutes from FROM, some outside the window
    createdOffset: fc.option(fc.integer({ min: -48 * 60, max: 23 * 60 }), { nil: undefined }),
    target: fc.option(fc.integer({ min: 1, max: 30 * 60 }), { nil: undefined }),
  });

  it('the longest gap fits the window from its effective start and is at least its even share; breaches are the gaps over the target', () => {
    fc.assert(
      fc.property(arb, ({ offsets, createdOffset, target }) => {
        // Prepare
        const points = offsets.map((m) => new Date(FROM.getTime() + m * 60_000).toISOString());
        const since = createdOffset === undefined ? undefined : new Date(FROM.getTime() + createdOffset * 60_000);
        const start = Math.max(FROM.getTime(), since?.getTime() ?? -Infinity);
        const inside = offsets.filter((m) => FROM.getTime() + m * 60_000 >= start && m <= 24 * 60).length;
        // Act
        const r = gapsAndBreaches(points, { from: FROM, to: TO, since }, target);
        // Assess
        const spanMin = (TO.getTime() - start) / 60_000;
        const longest = r.longestGap!.minutes;
        const noBreachIffShort = target === undefined ? r.breaches.length === 0 : (r.breaches.length === 0) === longest <= target;
        return (
          longest <= spanMin &&
          longest >= spanMin / (inside + 1) - 1e-9 &&
          r.breaches.every((b) => target !== undefined && b.minutes > target && b.minutes <= longest) &&
          noBreachIffShort &&
          r.longestGap!.from >= new Date(start).toISOString()
        );
      }),
      { numRuns: 500 },
    );
  });
});

describe('gaps and RPO breaches (examples)', () => {
  it('counts the time before the first point and after the last one', () => {
    // Act
    const r = gapsAndBreaches([at(2), at(10)], { from: FROM, to: TO }, 9 * 60);
    // Assess: 0-2 h, 2-10 h, 10-24 h; only the last is over 9 h
    expect(r.longestGap).toEqual({ from: at(10), to: at(24), minutes: 14 * 60 });
    expect(r.breaches).toEqual([{ from: at(10), to: at(24), minutes: 14 * 60 }]);
  });

  it('starts counting at the table creation when the table is younger than the window', () => {
    // Act
    const r = gapsAndBreaches([at(20)], { from: FROM, to: TO, since: new Date(at(18)) }, 3 * 60);
    // Assess: 18-20 h and 20-24 h: the 18 hours before the table existed are no gap
    expect(r.longestGap).toEqual({ from: at(20), to: at(24), minutes: 240 });
    expect(r.breaches).toHaveLength(1);
  });

  it('a table with no point in the window has one gap, the whole window', () => {
    const r = gapsAndBreaches([at(-3)], { from: FROM, to: TO }, 60);
    expect(r.longestGap?.minutes).toBe(24 * 60);
    expect(r.breaches).toHaveLength(1);
  });
});

const base: EvidenceFacts = { table: 'orders', policies: [{ name: 'hourly', rpoMinutes: 90 }], ledger: [], listed: [] };
const hourlyLedger = Array.from({ length: 24 }, (_, i) => ({ backupArn: `arn:svc/${i}`, createdAt: at(i + 0.5), status: i < 20 ? 'DELETED' : 'AVAILABLE', policy: 'hourly' }));

describe('recovery points by source', () => {
  it("the ledger's backups are the service's; AWS_BACKUP entries are AWS Backup's; other USER backups were made by hand", () => {
    // Prepare: the listing also shows one of ours, by its ARN, and a SYSTEM backup
    const facts = {
      ledger: [{ backupArn: 'arn:svc/1', createdAt: at(1), status: 'AVAILABLE', policy: 'p' }, { status: 'FAILED', policy: 'p' }],
      listed: [
        { arn: 'arn:svc/1', createdAt: at(1), type: 'USER' },
        { arn: 'arn:ab/1', createdAt: at(2), type: 'AWS_BACKUP' },
        { arn: 'arn:hand/1', createdAt: at(3), type: 'USER' },
        { arn: 'arn:sys/1', createdAt: at(4), type: 'SYSTEM' },
      ],
    };
    // Act
    const points = recoveryPoints(facts);
    // Assess
    expect(points.map((p) => [p.arn, p.source])).toEqual([
      ['arn:svc/1', 'service'],
      ['arn:ab/1', 'aws-backup'],
      ['arn:hand/1', 'manual'],
    ]);
  });
});

describe('evidence verdicts', () => {
  it('ok: hourly points all day, pruned ones included (they existed), no breach', () => {
    // Act
    const row = evidenceRow({ ...base, ledger: hourlyLedger, pitr: { enabled: true, earliestRestorable: at(-100) } }, { from: FROM, to: TO });
    // Assess
    expect(row).toMatchObject({ verdict: 'ok', reasons: [], recoveryPoints: { service: 24, 'aws-backup': 0, manual: 0 }, rpoMinutes: 90, lastBackupAt: at(23.5) });
    expect(row.longestGap?.minutes).toBe(60);
  });

  it('at-risk: a six-hour hole breaches a 90-minute RPO, and says so', () => {
    // Prepare
    const holed = hourlyLedger.filter((_, i) => i < 8 || i > 13);
    // Act
    const row = evidenceRow({ ...base, ledger: holed }, { from: FROM, to: TO });
    // Assess
    expect(row.verdict).toBe('at-risk');
    expect(row.breaches).toEqual([{ from: at(7.5), to: at(14.5), minutes: 420 }]);
    expect(row.reasons[0]).toMatch(/1 RPO breach\(es\), the longest 7 h against 90 min/);
  });

  it('at-risk: a failed last drill', () => {
    const row = evidenceRow({ ...base, ledger: hourlyLedger, lastDrill: { startedAt: at(3), passed: false, outcome: 'item count differs' } }, { from: FROM, to: TO });
    expect(row).toMatchObject({ verdict: 'at-risk', lastDrill: { passed: false } });
  });

  it('unprotected: no policy tag, whatever backups it has', () => {
    const row = evidenceRow({ ...base, policies: [], listed: [{ arn: 'arn:hand/1', createdAt: at(1), type: 'USER' }] }, { from: FROM, to: TO });
    expect(row).toMatchObject({ verdict: 'unprotected', reasons: ['no backup policy tag'], recoveryPoints: { manual: 1 } });
  });
});

describe('evidence renderings', () => {
  const report = evidenceReport(
    [
      { ...base, ledger: hourlyLedger },
      { table: 'odd,"name"|x', policies: [], ledger: [], listed: [] },
    ],
    { from: FROM, to: TO },
  );

  it('CSV: a header row, then one quoted-where-needed line per table', () => {
    // Act
    const lines = reportCsv(report).split('\r\n');
    // Assess
    expect(lines[0]).toBe(
      'table,policies,rpo_minutes,service_points,aws_backup_points,manual_points,pitr,pitr_earliest_restorable,last_backup_at,longest_gap_minutes,rpo_breaches,last_drill_at,last_drill_passed,verdict,reasons',
    );
    expect(lines[1]).toBe('"odd,""name""|x",,,0,0,0,off,,,1440,0,,,unprotected,no backup policy tag');
    expect(lines[2]).toMatch(/^orders,hourly,90,24,0,0,off,,2026-11-01T23:30:00.000Z,60,0,,,ok,$/);
    expect(lines[3]).toBe('');
  });

  it('Markdown: a pasteable table with escaped pipes and the verdict count', () => {
    // Act
    const md = reportMarkdown(report).split('\n');
    // Assess
    expect(md[0]).toBe('Backup evidence, 2026-11-01T00:00:00.000Z to 2026-11-02T00:00:00.000Z (UTC): 1 ok, 0 at risk, 1 unprotected.');
    expect(md[2]).toMatch(/^\| Table \| Policies \| RPO \|/);
    expect(md[3]).toMatch(/^\| --- \|( --- \|){12}$/);
    expect(md[4]).toContain('| odd,"name"\\|x |');
    expect(md[5]).toMatch(/^\| orders \| hourly \| 90 min \| 24 \| 0 \| 0 \| off \|/);
  });
});

describe("the digest's verdict section", () => {
  it('counts the verdicts, names the tables that are not ok with why, and says where the full evidence is', () => {
    // Prepare
    const report = evidenceReport(
      [
        { ...base, ledger: hourlyLedger },
        { table: 'scratch', policies: [], ledger: [], listed: [] },
        { table: 'users', policies: [{ name: 'hourly', rpoMinutes: 90 }], ledger: [], listed: [] },
      ],
      { from: FROM, to: TO },
    );
    // Act
    const text = verdictSection(report, 'ddb-backup report --since 30d', 1);
    // Assess
    expect(text.split('\n')).toEqual([
      'Evidence verdicts since 2026-11-01T00:00:00.000Z: 1 ok, 1 at risk, 1 unprotected (full evidence: ddb-backup report --since 30d).',
      '  UNPROTECTED scratch: no backup policy tag',
      '  ... and 1 more',
    ]);
  });
});
