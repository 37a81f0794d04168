import type { BackupJob } from '../../lambda/core/jobs';
import { Ledger } from '../../lambda/aws/ledger';
import { testClients, uniqueName } from '../support/aws';
import { ledgerContract } from '../support/ledger-contract';

const clients = testClients();
const ledgerTable = uniqueName('ledger-contract');
const ledger = new Ledger(clients.dynamodb, ledgerTable);

beforeAll(async () => {
  await ledger.init();
}, 60_000);

ledgerContract('DynamoDB (moto)', async () => ({ ledger, table: uniqueName('t') }));

describe('ledger on moto: expiry of records out of use (TTL) and the live index', () => {
  const T0 = new Date('2026-11-24T03:00:00.000Z');
  const job = (table: string, slot: string): BackupJob => ({ table, policy: 'daily', trigger: 'schedule', slot, requestedAt: T0.toISOString(), runId: 'r' });
  const claimAndRecord = async (l: Ledger, table: string, slot: string) => {
    await l.claim(job(table, slot), { policyHash: 'h', now: T0, attemptId: `${slot}-attempt`, backupName: `n-${slot}` });
    await l.recordBackup(job(table, slot), { backupArn: `arn:aws:dynamodb:us-east-1:123456789012:table/${table}/backup/${slot}`, backupName: `n-${slot}`, status: 'AVAILABLE', createdAt: T0.toISOString() }, `${slot}-attempt`);
  };

  it('a deleted record leaves the live index and expires after the audit period; undone, it is live again without an expiry', async () => {
    // Prepare
    const short = new Ledger(clients.dynamodb, ledgerTable, { auditDays: 30 });
    const table = uniqueName('ttl');
    await claimAndRecord(short, table, 's1');
    // Act
    await short.markDeleting({ table, policy: 'daily', slot: 's1' }, { at: T0.toISOString(), reason: 'pruned' });
    const deleted = await short.getBackupRecord(table, 'daily', 's1');
    await short.unmarkDeleting({ table, policy: 'daily', slot: 's1' });
    const undone = await short.getBackupRecord(table, 'daily', 's1');
    // Assess
    expect(deleted).toMatchObject({ status: 'DELETED', expiresAt: Math.floor(T0.getTime() / 1000) + 30 * 86400 });
    expect(deleted?.livePk).toBeUndefined();
    expect(undone).toMatchObject({ status: 'AVAILABLE', livePk: `${table}#daily` });
    expect(undone?.expiresAt).toBeUndefined();
  });

  it('a failed attempt expires after the default 400 days; a record in use never expires', async () => {
    const table = uniqueName('ttl');
    await claimAndRecord(ledger, table, 's1');
    await ledger.claim(job(table, 's2'), { policyHash: 'h', now: T0, attemptId: 's2-attempt', backupName: 'n-s2' });
    await ledger.recordFailure(job(table, 's2'), 'boom', T0);
    expect((await ledger.getBackupRecord(table, 'daily', 's2'))?.expiresAt).toBe(Math.floor(T0.getTime() / 1000) + 400 * 86400);
    expect((await ledger.getBackupRecord(table, 'daily', 's1'))?.expiresAt).toBeUndefined();
  });
});
