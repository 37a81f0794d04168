import { ClaimLostError, STALE_CLAIM_MS } from '../../lambda/core/backup/claim';
import type { BackupJob } from '../../lambda/core/jobs';
import type { ClaimRequest, LedgerPort } from '../../lambda/core/ports';

/**
 * The ledger's protocol, as one contract: run against the in-memory ledger (unit) and the
 * DynamoDB ledger on moto (integration), so the fake cannot drift from the real adapter.
 */
export interface ContractWorld {
  readonly ledger: LedgerPort;
  /** A table name no other test uses. */
  readonly table: string;
}

const T0 = new Date('2026-11-24T03:00:00.000Z');
const at = (minutes: number) => new Date(T0.getTime() + minutes * 60_000);

function jobOf(table: string, slot: string, policy = 'daily'): BackupJob {
  return { table, policy, trigger: 'schedule', slot, requestedAt: T0.toISOString(), runId: `run-${slot}` };
}

function req(attemptId: string, now: Date, extra: Partial<ClaimRequest> = {}): ClaimRequest {
  return { policyHash: 'h1', now, attemptId, backupName: `ddbbk.daily.schedule.20261124T030000Z.${attemptId.slice(0, 12)}`, ...extra };
}

const backupOf = (table: string, id: string, createdAt: Date) => ({
  backupArn: `arn:aws:dynamodb:us-east-1:123456789012:table/${table}/backup/${id}`,
  backupName: `name-${id}`,
  status: 'CREATING',
  createdAt: createdAt.toISOString(),
  sizeBytes: 10,
});

export function ledgerContract(name: string, world: () => Promise<ContractWorld>): void {
  describe(`ledger contract: ${name}`, () => {
    it('claims a new slot once; a second attempt sees the first claim with its token and name', async () => {
      const { ledger, table } = await world();
      const job = jobOf(table, 's1');
      await expect(ledger.claim(job, req('aaaaaaaaaaaa1', T0))).resolves.toEqual({ claimed: true });
      const second = await ledger.claim(job, req('bbbbbbbbbbbb2', T0));
      expect(second).toMatchObject({ claimed: false, existing: { status: 'CLAIMED', attemptId: 'aaaaaaaaaaaa1', backupName: expect.stringContaining('aaaaaaaaaaaa') } });
    });

    it("a retried claim recognises its own earlier write (same attempt token) and counts as claimed", async () => {
      const { ledger, table } = await world();
      const job = jobOf(table, 's1');
      await ledger.claim(job, req('aaaaaaaaaaaa1', T0));
      await expect(ledger.claim(job, req('aaaaaaaaaaaa1', T0))).resolves.toEqual({ claimed: true });
      await expect(ledger.claim(job, req('aaaaaaaaaaaa1', T0, { minIntervalMinutes: 60 }))).resolves.toEqual({ claimed: true });
    });

    it('records a backup only for the attempt that holds the claim; another attempt gets ClaimLostError', async () => {
      const { ledger, table } = await world();
      const job = jobOf(table, 's1');
      await ledger.claim(job, req('aaaaaaaaaaaa1', T0));
      await expect(ledger.recordBackup(job, backupOf(table, 'x', T0), 'zzzzzzzzzzzz9')).rejects.toBeInstanceOf(ClaimLostError);
      await ledger.recordBackup(job, backupOf(table, 'x', T0), 'aaaaaaaaaaaa1');
      const [rec] = await ledger.listBackupRecords(table, 'daily');
      expect(rec).toMatchObject({ status: 'CREATING', backupArn: backupOf(table, 'x', T0).backupArn, attemptId: 'aaaaaaaaaaaa1' });
      expect(await ledger.getState(table, 'daily')).toMatchObject({ lastBackupAt: T0.toISOString(), lastAttemptStatus: 'succeeded' });
    });

    it('holds the cooldown in the claim: of two slots claimed at once one wins, and a slot inside the cooldown is refused', async () => {
      const { ledger, table } = await world();
      const a = await ledger.claim(jobOf(table, 'manual:a'), req('aaaaaaaaaaaa1', T0, { minIntervalMinutes: 60 }));
      const b = await ledger.claim(jobOf(table, 'manual:b'), req('bbbbbbbbbbbb2', T0, { minIntervalMinutes: 60 }));
      expect(a).toEqual({ claimed: true });
      expect(b).toMatchObject({ claimed: false, cooldown: expect.stringContaining('manual:a') });
      await ledger.recordBackup(jobOf(table, 'manual:a'), backupOf(table, 'a', T0), 'aaaaaaaaaaaa1');
      const c = await ledger.claim(jobOf(table, 'manual:c'), req('cccccccccccc3', at(30), { minIntervalMinutes: 60 }));
      expect(c).toMatchObject({ claimed: false, cooldown: expect.stringContaining('minIntervalMinutes is 60') });
      await expect(ledger.claim(jobOf(table, 'manual:d'), req('dddddddddddd4', at(61), { minIntervalMinutes: 60 }))).resolves.toEqual({ claimed: true });
    });

    it("a failure releases the cooldown's in-flight mark, so another slot may go ahead", async () => {
      const { ledger, table } = await world();
      await ledger.claim(jobOf(table, 'manual:a'), req('aaaaaaaaaaaa1', T0, { minIntervalMinutes: 60 }));
      await ledger.recordFailure(jobOf(table, 'manual:a'), 'boom', T0);
      await expect(ledger.claim(jobOf(table, 'manual:b'), req('bbbbbbbbbbbb2', T0, { minIntervalMinutes: 60 }))).resolves.toEqual({ claimed: true });
    });

    it('takes over a FAILED or stale claim of a named attempt, never a live one', async () => {
      const { ledger, table } = await world();
      const job = jobOf(table, 's1');
      await ledger.claim(job, req('aaaaaaaaaaaa1', T0));
      // Live: not stale yet.
      await expect(ledger.claim(job, req('bbbbbbbbbbbb2', at(1), { takeOver: 'aaaaaaaaaaaa1' }))).resolves.toMatchObject({ claimed: false });
      // Stale: taken over, with the new attempt's token.
      const later = new Date(T0.getTime() + STALE_CLAIM_MS + 1000);
      await expect(ledger.claim(job, req('bbbbbbbbbbbb2', later, { takeOver: 'aaaaaaaaaaaa1' }))).resolves.toEqual({ claimed: true });
      // The old attempt can no longer record.
      await expect(ledger.recordBackup(job, backupOf(table, 'old', T0), 'aaaaaaaaaaaa1')).rejects.toBeInstanceOf(ClaimLostError);
      await ledger.recordFailure(job, 'boom', later);
      await expect(ledger.claim(job, req('cccccccccccc3', later, { takeOver: 'bbbbbbbbbbbb2' }))).resolves.toEqual({ claimed: true });
    });

    it('a hold stops the deletion mark; release keeps who, when and why; the mark then works and can be undone', async () => {
      const { ledger, table } = await world();
      const job = jobOf(table, 's1');
      await ledger.claim(job, req('aaaaaaaaaaaa1', T0));
      await ledger.recordBackup(job, { ...backupOf(table, 'h', T0), status: 'AVAILABLE' }, 'aaaaaaaaaaaa1');
      const key = { table, policy: 'daily', slot: 's1' };
      await expect(ledger.placeHold(key, { reason: 'audit 42', by: 'alice', at: T0.toISOString() })).resolves.toBe(true);
      await expect(ledger.placeHold(key, { reason: 'again', by: 'bob', at: T0.toISOString() })).resolves.toBe(false);
      await expect(ledger.markDeleting(key, { at: T0.toISOString(), reason: 'pruned' })).resolves.toBe('held');
      await expect(ledger.releaseHold(key, 'carol', at(5))).resolves.toMatchObject({ reason: 'audit 42', by: 'alice' });
      const [released] = await ledger.listBackupRecords(table);
      expect(released.hold).toBeUndefined();
      expect(released.holdHistory).toEqual([{ reason: 'audit 42', by: 'alice', at: T0.toISOString(), releasedBy: 'carol', releasedAt: at(5).toISOString() }]);
      await expect(ledger.releaseHold(key, 'carol', at(6))).resolves.toBeUndefined();
      await expect(ledger.markDeleting(key, { at: at(7).toISOString(), reason: 'pruned' })).resolves.toBe('marked');
      expect((await ledger.listBackupRecords(table))[0]).toMatchObject({ status: 'DELETED', deleteReason: 'pruned' });
      await expect(ledger.markDeleting(key, { at: at(7).toISOString(), reason: 'pruned' })).resolves.toBe('not-live');
      await ledger.unmarkDeleting(key);
      const [back] = await ledger.listBackupRecords(table);
      expect(back.status).toBe('AVAILABLE');
      expect(back.deletedAt).toBeUndefined();
    });

    it('moves a status only from the statuses given; reads one policy without its prefix-sharing neighbour', async () => {
      const { ledger, table } = await world();
      for (const [slot, policy] of [['s1', 'daily'], ['s2', 'daily2']] as const) {
        const job = jobOf(table, slot, policy);
        await ledger.claim(job, req(`${slot}aaaaaaaaaaaa`, T0));
        await ledger.recordBackup(job, { ...backupOf(table, slot, T0), status: 'AVAILABLE' }, `${slot}aaaaaaaaaaaa`);
      }
      const key = { table, policy: 'daily', slot: 's1' };
      await expect(ledger.setBackupStatus(key, 'VANISHED', { at: T0.toISOString(), reason: 'gone' }, ['CREATING', 'AVAILABLE'])).resolves.toBe(true);
      await expect(ledger.setBackupStatus(key, 'AVAILABLE', undefined, ['CREATING'])).resolves.toBe(false);
      const daily = await ledger.listBackupRecords(table, 'daily');
      expect(daily.map((r) => [r.slot, r.status])).toEqual([['s1', 'VANISHED']]);
      // Revived: live again, without the deletion fields.
      await expect(ledger.setBackupStatus(key, 'AVAILABLE', undefined, ['VANISHED'])).resolves.toBe(true);
      const [revived] = await ledger.listBackupRecords(table, 'daily');
      expect(revived).toMatchObject({ status: 'AVAILABLE' });
      expect(revived.deletedAt).toBeUndefined();
      expect(revived.deleteReason).toBeUndefined();
      expect((await ledger.listBackupRecords(table)).map((r) => r.policy).sort()).toEqual(['daily', 'daily2']);
    });

    it('reads the state and only the live records of one policy in one read; a record out of use leaves it, and comes back when revived', async () => {
      // Prepare: s1 (deleted), s2 (vanished then revived), s3 (failed), s4 (claimed), s5 of another policy
      const { ledger, table } = await world();
      for (const slot of ['s1', 's2']) {
        const job = jobOf(table, slot);
        await ledger.claim(job, req(`${slot}aaaaaaaaaaaa`, T0));
        await ledger.recordBackup(job, { ...backupOf(table, slot, T0), status: 'AVAILABLE' }, `${slot}aaaaaaaaaaaa`);
      }
      await ledger.claim(jobOf(table, 's3'), req('s3aaaaaaaaaaaa', T0));
      await ledger.recordFailure(jobOf(table, 's3'), 'boom', T0);
      await ledger.claim(jobOf(table, 's4'), req('s4aaaaaaaaaaaa', T0));
      await ledger.claim(jobOf(table, 's5', 'daily2'), req('s5aaaaaaaaaaaa', T0));
      await ledger.markDeleting({ table, policy: 'daily', slot: 's1' }, { at: T0.toISOString(), reason: 'pruned' });
      await ledger.setBackupStatus({ table, policy: 'daily', slot: 's2' }, 'VANISHED', { at: T0.toISOString(), reason: 'gone' }, ['AVAILABLE']);
      // Act
      const before = await ledger.readLive!(table, 'daily');
      await ledger.setBackupStatus({ table, policy: 'daily', slot: 's2' }, 'AVAILABLE', undefined, ['VANISHED']);
      await ledger.unmarkDeleting({ table, policy: 'daily', slot: 's1' });
      const after = await ledger.readLive!(table, 'daily');
      // Assess
      expect(before.records.map((r) => r.slot).sort()).toEqual(['s4']);
      expect(before.state).toMatchObject({ table, policy: 'daily', lastAttemptStatus: 'failed' });
      expect(after.records.map((r) => [r.slot, r.status]).sort()).toEqual([['s1', 'AVAILABLE'], ['s2', 'AVAILABLE'], ['s4', 'CLAIMED']]);
    });
  });
}
