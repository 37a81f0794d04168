import { METRIC, jobResultPoints, newestBackupAgePoints } from '../../lambda/core/observability/metric-points';
import type { CoverageReport } from '../../lambda/core/coverage/coverage';

describe('metric points of job results', () => {
  it('a backup with a prune: created 1, deleted 2, failed and skipped 0, under its policy only', () => {
    // Act
    const points = jobResultPoints({ table: 'orders', policy: 'daily', status: 'backed-up', deleted: 2 });
    // Assess
    expect(points).toEqual([
      { name: METRIC.CREATED, unit: 'Count', value: 1, policy: 'daily' },
      { name: METRIC.FAILED, unit: 'Count', value: 0, policy: 'daily' },
      { name: METRIC.SKIPPED, unit: 'Count', value: 0, policy: 'daily' },
      { name: METRIC.DELETED, unit: 'Count', value: 2, policy: 'daily' },
    ]);
  });

  it('a failed job counts as failed; with per-table dimensions it names its table', () => {
    const points = jobResultPoints({ table: 'orders', policy: 'daily', status: 'failed', reason: 'x' }, true);
    expect(points.filter((p) => p.value > 0)).toEqual([{ name: 'BackupsFailed', unit: 'Count', value: 1, policy: 'daily', table: 'orders' }]);
  });

  it('a sweep job (pruned) counts its deletions only', () => {
    const points = jobResultPoints({ table: 'orders', policy: 'daily', status: 'pruned', deleted: 5 });
    expect(points.filter((p) => p.value > 0)).toEqual([{ name: 'BackupsDeleted', unit: 'Count', value: 5, policy: 'daily' }]);
  });
});

describe('NewestBackupAgeSeconds', () => {
  const now = new Date('2026-11-24T12:00:00Z');
  const report = {
    tables: [
      { table: 'a', flags: [], reasons: [], policies: [{ name: 'daily', lastBackupAt: '2026-11-24T03:00:00Z' }, { name: 'hourly', lastBackupAt: '2026-11-24T11:30:00Z' }] },
      { table: 'b', flags: [], reasons: [], policies: [{ name: 'daily', lastBackupAt: '2026-11-23T03:00:00Z' }] },
      { table: 'c', flags: [], reasons: [], policies: [{ name: 'daily' }, { name: 'never' }] },
    ],
  } as unknown as CoverageReport;

  it('per policy: the age of the newest backup of its stalest table; a policy without any backup has no point', () => {
    // Act
    const points = newestBackupAgePoints(report, now);
    // Assess
    expect(points).toEqual([
      { name: 'NewestBackupAgeSeconds', unit: 'Seconds', value: 33 * 3600, policy: 'daily' },
      { name: 'NewestBackupAgeSeconds', unit: 'Seconds', value: 1800, policy: 'hourly' },
    ]);
  });

  it('with per-table dimensions, one point per table too', () => {
    const points = newestBackupAgePoints(report, now, true);
    expect(points.filter((p) => p.table).map((p) => [p.policy, p.table, p.value])).toEqual([
      ['daily', 'a', 9 * 3600],
      ['hourly', 'a', 1800],
      ['daily', 'b', 33 * 3600],
    ]);
  });
});
