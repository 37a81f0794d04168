import { assessTable } from '../../../lambda/core/coverage/coverage';
import { parsePolicy } from '../../../lambda/core/policy';

const NOW = new Date('2026-12-02T12:00:00.000Z');
const hoursAgo = (h: number) => new Date(NOW.getTime() - h * 3_600_000).toISOString();
const policy = parsePolicy({ schedule: 'rate(1 day)', pointInTimeRecovery: { enabled: true }, copy: { to: 's3://vault-bucket/c', minIntervalHours: 24 } });
const facts = (lastCopyAt?: string) => ({
  table: 'orders',
  pitr: { enabled: true, recoveryPeriodDays: 35 },
  policies: [{ name: 'daily', policy, lastBackupAt: hoursAgo(1), lastAttemptStatus: 'succeeded' as const, ...(lastCopyAt ? { lastCopyAt } : {}) }],
});

describe('coverage of off-site copies', () => {
  it('shows the newest COMPLETED copy and flags nothing while it is within 2x minIntervalHours', () => {
    // Act
    const t = assessTable(facts(hoursAgo(47)), NOW);
    // Assess
    expect(t.flags).toEqual([]);
    expect(t.policies[0].lastCopyAt).toBe(hoursAgo(47));
  });

  it('flags a copy older than 2x minIntervalHours, and a policy with no COMPLETED copy yet', () => {
    // Act
    const old = assessTable(facts(hoursAgo(49)), NOW);
    const none = assessTable(facts(), NOW);
    // Assess
    expect(old.flags).toEqual(['STALE']);
    expect(old.reasons).toEqual(['daily: newest COMPLETED off-site copy is 2 d old, more than 2x minIntervalHours 24']);
    expect(none.flags).toEqual(['STALE']);
    expect(none.reasons).toEqual(['daily: no COMPLETED off-site copy yet (minIntervalHours 24)']);
  });
});
