import { BYTES_PER_GB, LIST_PRICES, costForecast } from '../../lambda/core/cost/forecast';

describe('cost forecast', () => {
  it('prices each retained backup as a full copy, PITR on the table size, and totals the rows', () => {
    // Prepare: 10 GB, keepLast 7 daily, PITR on; 2 GB, keepDaily 7 + keepWeekly 4, PITR off.
    const tables = [
      { table: 'orders', sizeBytes: 10 * BYTES_PER_GB, pitrEnabled: true, policies: [{ name: 'daily', schedule: 'rate(1 day)', retention: { keepLast: 7 } }] },
      { table: 'users', sizeBytes: 2 * BYTES_PER_GB, pitrEnabled: false, policies: [{ name: 'dw', schedule: 'cron(0 3 * * ? *)', retention: { keepDaily: 7, keepWeekly: 4 } }] },
    ];
    // Act
    const f = costForecast(tables);
    // Assess: 7 × 10 GB × $0.10 + 10 GB × $0.20 = $9.00; 10 × 2 GB × $0.10 = $2.00
    expect(f.rows.map((r) => r.monthlyUsd)).toEqual([9, 2]);
    expect(f.rows[1].policies[0]).toMatchObject({ pricedBackups: 10, retained: { min: 9, max: 10 } });
    expect(f.totalMonthlyUsd).toBe(11);
    expect(f.prices).toBe(LIST_PRICES);
  });

  it('adds off-site copies: storage over keepDays and one export per copy interval', () => {
    // Prepare: 1 GB, daily backups, a copy every 24 h kept 35 days.
    const tables = [{ table: 't', sizeBytes: BYTES_PER_GB, policies: [{ name: 'p', schedule: 'rate(1 day)', retention: { keepLast: 1 }, copy: { minIntervalHours: 24, keepDays: 35 } }] }];
    // Act
    const row = costForecast(tables).rows[0];
    // Assess: 35 copies × $0.023 + 730/24 exports × $0.10
    expect(row.policies[0].copies).toMatchObject({ retained: 35 });
    expect(row.policies[0].copies!.perMonth).toBeCloseTo(730 / 24, 6);
    expect(row.monthlyUsd).toBeCloseTo(0.1 + 35 * 0.023 + (730 / 24) * 0.1, 2);
  });

  it('a policy that cannot be read costs nothing and says why; the total stays the sum of the rows', () => {
    // Prepare
    const tables = [{ table: 't', sizeBytes: BYTES_PER_GB, policies: [{ name: 'broken', error: 'retention.keepLast: must be a number' }] }];
    // Act
    const f = costForecast(tables, { ...LIST_PRICES, backupPerGbMonth: 1 });
    // Assess
    expect(f.rows[0].policies[0]).toMatchObject({ error: 'retention.keepLast: must be a number', usd: 0 });
    expect(f.totalMonthlyUsd).toBe(0);
  });

  it('a policy without a schedule is counted at its cooldown', () => {
    // Prepare
    const tables = [{ table: 't', sizeBytes: BYTES_PER_GB, policies: [{ name: 'size', minIntervalMinutes: 360, retention: { maxAgeDays: 1 } }] }];
    // Act
    const p = costForecast(tables).rows[0].policies[0];
    // Assess
    expect(p).toMatchObject({ basis: 'cooldown', intervalMinutes: 360, pricedBackups: 4 });
  });
});
