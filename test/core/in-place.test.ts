import { InPlaceIncompleteError, InPlaceRefusedError, handSteps, restoreInPlace, type InPlaceDeps } from '../../lambda/core/restore/in-place';
import type { TableSettings } from '../../lambda/core/restore/restore';

const settings: TableSettings = {
  version: 1,
  table: 'orders',
  tableArn: 'arn:aws:dynamodb:us-east-1:123456789012:table/orders',
  capturedAt: '2026-12-02T10:00:00Z',
  tags: { 'backup:policy': 'daily', team: 'shop' },
  ttl: { attributeName: 'exp' },
  deletionProtection: true,
};

function fake(opts: { failRestore?: boolean; protectedTable?: boolean } = {}) {
  const calls: string[] = [];
  const deps: InPlaceDeps = {
    clock: { now: () => new Date('2026-12-02T10:00:00Z') },
    describe: async (t) => (t === 'orders' ? { deletionProtection: Boolean(opts.protectedTable) } : undefined),
    resolveBackup: async () => ({ backupArn: 'arn:b1', itemCount: 3 }),
    safetyBackup: async (t, hold) => {
      calls.push(`safety ${t}: ${hold.reason}`);
      return { backupArn: 'arn:safety' };
    },
    snapshotSettings: async () => settings,
    disableDeletionProtection: async () => void calls.push('lift'),
    deleteTable: async () => void calls.push('delete'),
    async restoreFromBackup() {
      calls.push('restore');
      if (opts.failRestore) throw new Error('LimitExceededException');
    },
    waitActive: async () => undefined,
    applySettings: async () => [{ setting: 'ttl', outcome: 'applied', detail: 'TTL' }],
    countItems: async () => 3,
  };
  return { deps, calls };
}

const req = { table: 'orders', backup: 'latest', confirmed: true, disableDeletionProtection: false, by: 'ops' };

describe('restoreInPlace', () => {
  it('takes the safety backup before anything is deleted, then deletes, restores and verifies', async () => {
    const { deps, calls } = fake();
    const r = await restoreInPlace(deps, req);
    expect(calls).toEqual(['safety orders: pre-restore backup before in-place restore of orders', 'delete', 'restore']);
    expect(r).toMatchObject({ passed: true, safetyBackupArn: 'arn:safety', itemCount: { restored: 3, recorded: 3, passed: true } });
  });

  it('refuses without confirmation, for an unknown table and under deletion protection, before any call that changes something', async () => {
    const { deps, calls } = fake({ protectedTable: true });
    await expect(restoreInPlace(deps, { ...req, confirmed: false })).rejects.toThrow(InPlaceRefusedError);
    await expect(restoreInPlace(deps, { ...req, table: 'nope' })).rejects.toThrow(/no table named "nope"/);
    await expect(restoreInPlace(deps, req)).rejects.toThrow(/--disable-deletion-protection/);
    expect(calls).toEqual([]);
    await restoreInPlace(deps, { ...req, disableDeletionProtection: true });
    expect(calls.slice(1, 3)).toEqual(['lift', 'delete']);
  });

  it('a failure after the delete says how to finish by hand, from the chosen or the safety backup', async () => {
    const { deps } = fake({ failRestore: true });
    const err = (await restoreInPlace(deps, req).catch((e: unknown) => e)) as InPlaceIncompleteError;
    expect(err).toBeInstanceOf(InPlaceIncompleteError);
    expect(err.safetyBackupArn).toBe('arn:safety');
    const text = err.steps.join('\n');
    expect(text).toContain('aws dynamodb restore-table-from-backup --target-table-name orders --backup-arn arn:b1');
    expect(text).toContain('arn:safety');
    expect(text).toContain("Key='backup:policy',Value='daily'");
    expect(text).toContain("AttributeName='exp'");
    expect(text).toContain('--deletion-protection-enabled');
    expect(text).toContain('ddb-backup backups release arn:safety');
  });

  it('hand steps say so when the snapshot holds nothing to re-apply', () => {
    expect(handSteps('t-1', 'arn:b', 'arn:s', undefined).join('\n')).toContain('no setting to re-apply');
  });
});
