/**
 * `report` (json, csv, md) and `cost` through the real CLI on moto. Each test's tables carry this
 * file's own tag key and policies, so `--policy` keeps the answers to them.
 */
import { CreateBackupCommand, UpdateContinuousBackupsCommand } from '@aws-sdk/client-dynamodb';
import { PutCommand, DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { createTable, makeEnv, putPolicyRaw, uniqueName, type TestEnv } from '../support/aws';
import { cli } from '../support/cli';

interface ReportJson {
  window: { from: string; to: string };
  verdicts: Record<string, number>;
  tables: {
    table: string;
    policies: string[];
    rpoMinutes?: number;
    recoveryPoints: { service: number; 'aws-backup': number; manual: number };
    pitr: { enabled: boolean; earliestRestorable?: string };
    lastBackupAt?: string;
    breaches: unknown[];
    lastDrill?: { startedAt: string; passed: boolean };
    verdict: string;
    reasons: string[];
  }[];
}

interface CostJson {
  rows: { table: string; sizeBytes: number; monthlyUsd: number; pitr: { enabled: boolean }; policies: { policy: string; pricedBackups: number; retained: { min: number; max: number } }[] }[];
  totalMonthlyUsd: number;
  prices: { backupPerGbMonth: number; pitrPerGbMonth: number };
}

describe('report and cost on moto', () => {
  let env: TestEnv;
  let covered: string;
  let empty: string;
  let bare: string;

  beforeAll(async () => {
    // Prepare: an hourly policy; one table backed up by the service, by hand, with PITR and drills;
    // one tagged table never backed up; one untagged table.
    env = await makeEnv('evid');
    await putPolicyRaw(env, 'hourlyp', JSON.stringify({ schedule: 'rate(1 hour)', retention: { keepLast: 3 } }));
    await putPolicyRaw(env, 'dailyp', JSON.stringify({ schedule: 'cron(0 3 * * ? *)', rpoHours: 30, retention: { keepDaily: 7, keepWeekly: 4 } }));
    covered = uniqueName('evid-cov');
    empty = uniqueName('evid-empty');
    bare = uniqueName('evid-bare');
    await createTable(env, covered, 'hourlyp dailyp');
    await createTable(env, empty, 'hourlyp');
    await createTable(env, bare);
    const run = await cli(env, ['run', '--policy', 'hourlyp', '--table', covered]);
    expect(run.code).toBe(0);
    await env.ddb.send(new CreateBackupCommand({ TableName: covered, BackupName: 'by-hand-before-migration' }));
    await env.ddb.send(new UpdateContinuousBackupsCommand({ TableName: covered, PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true } }));
    const doc = DynamoDBDocumentClient.from(env.ddb);
    const drill = (startedAt: string, passed: boolean) =>
      doc.send(new PutCommand({ TableName: env.ledgerTable, Item: { pk: `DRILL#${covered}`, sk: startedAt, table: covered, startedAt, passed, restoreSeconds: 42, outcome: passed ? 'ok' : 'count differs' } }));
    await drill('2026-01-01T00:00:00.000Z', false);
    await drill(new Date().toISOString(), true);
  });

  it('report --json: points by source, PITR, last drill and a verdict per table; an untagged table is unprotected', async () => {
    // Act
    const tagged = await cli(env, ['report', '--policy', 'hourlyp', '--since', '1d', '--json']);
    const untagged = await cli(env, ['report', '--table', bare, '--json']);
    // Assess
    expect(tagged.code).toBe(0);
    const r = JSON.parse(tagged.stdout) as ReportJson;
    expect(r.tables.map((t) => t.table)).toEqual([covered, empty].sort());
    const cov = r.tables.find((t) => t.table === covered)!;
    expect(cov).toMatchObject({
      policies: ['hourlyp', 'dailyp'],
      rpoMinutes: 90,
      recoveryPoints: { service: 1, 'aws-backup': 0, manual: 1 },
      pitr: { enabled: true },
      breaches: [],
      lastDrill: { passed: true },
      verdict: 'ok',
    });
    expect(Date.now() - Date.parse(cov.lastBackupAt!)).toBeLessThan(10 * 60_000);
    expect(r.tables.find((t) => t.table === empty)).toMatchObject({ verdict: 'at-risk', reasons: ['no recovery point in the window'] });
    expect(Date.parse(r.window.to) - Date.parse(r.window.from)).toBeCloseTo(86_400_000, -4);
    expect((JSON.parse(untagged.stdout) as ReportJson).tables).toEqual([
      expect.objectContaining({ table: bare, policies: [], verdict: 'unprotected', reasons: ['no backup policy tag'] }),
    ]);
  });

  it('report --format csv: a header row and one line per table', async () => {
    // Act
    const out = await cli(env, ['report', '--policy', 'hourlyp', '--format', 'csv']);
    // Assess
    expect(out.code).toBe(0);
    const lines = out.stdout.trimEnd().split('\r\n');
    expect(lines[0]).toMatch(/^table,policies,rpo_minutes,service_points,aws_backup_points,manual_points,pitr,/);
    expect(lines).toHaveLength(3);
    expect(lines.find((l) => l.startsWith(`${covered},`))).toMatch(new RegExp(`^${covered},hourlyp dailyp,90,1,0,1,on,\\d{4}-.*,ok,$`));
  });

  it('report --format md: a Markdown table with the verdicts counted', async () => {
    // Act
    const out = await cli(env, ['report', '--policy', 'hourlyp', '--format', 'md']);
    // Assess
    expect(out.code).toBe(0);
    const lines = out.stdout.split('\n');
    expect(lines[0]).toMatch(/^Backup evidence, .* \(UTC\): 1 ok, 1 at risk, 0 unprotected\.$/);
    expect(lines[2]).toBe('| Table | Policies | RPO | Service | AWS Backup | Manual | PITR | Last backup (UTC) | Longest gap | RPO breaches | Last drill | Verdict | Why |');
    expect(lines.filter((l) => l.startsWith(`| ${covered} | hourlyp, dailyp | 90 min | 1 | 0 | 1 | on`))).toHaveLength(1);
  });

  it('report without filters covers every table but the service ledger', async () => {
    // Act
    const out = await cli(env, ['report', '--json']);
    // Assess
    expect(out.code).toBe(0);
    const names = (JSON.parse(out.stdout) as ReportJson).tables.map((t) => t.table);
    expect(names).toEqual(expect.arrayContaining([covered, empty, bare]));
    expect(names).not.toContain(env.ledgerTable);
  });

  it('report without --json or --format prints a table and the verdict count', async () => {
    const out = await cli(env, ['report', '--policy', 'hourlyp']);
    expect(out.code).toBe(0);
    expect(out.stdout).toMatch(/points: service \/ AWS Backup \/ by hand/);
    expect(out.stdout).toMatch(/2 table\(s\) from \S+ to \S+: 1 ok, 1 at risk, 0 unprotected/);
  });

  it('report --strict exits 1 when a table is not ok', async () => {
    const out = await cli(env, ['report', '--policy', 'hourlyp', '--strict', '--json']);
    expect(out.code).toBe(1);
  });

  it('cost --json: the retained count per policy, PITR, and a total that is the sum of the rows', async () => {
    // Act
    const out = await cli(env, ['cost', '--policy', 'hourlyp', '--json']);
    const priced = await cli(env, ['cost', '--table', covered, '--price-per-gb', '0.5', '--json']);
    // Assess
    expect(out.code).toBe(0);
    const c = JSON.parse(out.stdout) as CostJson;
    expect(c.rows.map((r) => r.table)).toEqual([covered, empty].sort());
    const cov = c.rows.find((r) => r.table === covered)!;
    // --policy keeps only that policy's backups; PITR belongs to the table.
    expect(cov.policies).toEqual([expect.objectContaining({ policy: 'hourlyp', pricedBackups: 3, retained: { unbounded: false, min: 3, max: 3 } })]);
    expect(cov.pitr.enabled).toBe(true);
    expect(c.totalMonthlyUsd).toBeCloseTo(c.rows.reduce((s, r) => s + r.monthlyUsd, 0), 6);
    expect(c.prices).toMatchObject({ backupPerGbMonth: 0.1, pitrPerGbMonth: 0.2 });
    const p = JSON.parse(priced.stdout) as CostJson;
    expect(p.prices.backupPerGbMonth).toBe(0.5);
    expect(p.rows[0].policies.map((x) => [x.policy, x.pricedBackups])).toEqual([
      ['hourlyp', 3],
      ['dailyp', 10],
    ]);
  });

  it('cost without --json prints a table and the total with the prices used', async () => {
    const out = await cli(env, ['cost', '--table', covered]);
    expect(out.code).toBe(0);
    expect(out.stdout).toContain('dailyp');
    expect(out.stdout).toMatch(/total \$0\.00 per month at \$0\.1\/GB-month backup storage, \$0\.2\/GB-month PITR/);
  });

  it.each([
    [['report', '--since', 'last-tuesday'], /--since/],
    [['report', '--format', 'xml'], /--format/],
    [['report', '--table', 'no-such-table-here'], /unknown table "no-such-table-here"/],
    [['report', '--policy', 'nosuchpolicy'], /unknown policy "nosuchpolicy"/],
    [['cost', '--price-per-gb', '-1'], /--price-per-gb/],
    [['cost', '--pitr-price-per-gb', 'free'], /--pitr-price-per-gb/],
    [['cost', '--table', 'no-such-table-here'], /unknown table/],
    [['cost', '--policy', 'nosuchpolicy', '--json'], /unknown policy/],
  ])('%j is a usage error: exit 2 with a clear message', async (args, message) => {
    // Act
    const out = await cli(env, args);
    // Assess
    expect(out.code).toBe(2);
    expect(out.stderr).toMatch(message);
  });

  it('a usage error under --json is answered on stdout as {"error": ...}', async () => {
    const out = await cli(env, ['cost', '--policy', 'nosuchpolicy', '--json']);
    expect(out.code).toBe(2);
    expect(JSON.parse(out.stdout)).toEqual({ error: { message: expect.stringMatching(/unknown policy "nosuchpolicy"/), input: { policy: 'nosuchpolicy' } } });
  });
});
