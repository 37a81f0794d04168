import type { BackupJob } from '../lambda/core/jobs';
import type { LedgerBackupRecord, LedgerPort, LedgerStatus, RecordedBackup, TableState } from '../lambda/core/ports';

/**
 * An in-memory ledger for the benchmarks, with the same claim semantics as the DynamoDB one.
 * It counts its reads and writes so they appear next to the AWS calls.
 */
export class MemoryLedger implements LedgerPort {
  readonly records = new Map<string, LedgerBackupRecord[]>();
  readonly states = new Map<string, TableState>();
  reads = 0;
  writes = 0;

  private list(table: string): LedgerBackupRecord[] {
    let l = this.records.get(table);
    if (!l) this.records.set(table, (l = []));
    return l;
  }

  seed(record: LedgerBackupRecord): void {
    this.list(record.table).push(record);
  }

  seedState(state: TableState): void {
    this.states.set(`${state.table}|${state.policy}`, state);
  }

  async claim(job: BackupJob, policyHash: string, now: Date) {
    this.writes++;
    const l = this.list(job.table);
    const existing = l.find((r) => r.policy === job.policy && r.slot === job.slot);
    if (existing && existing.status !== 'FAILED') return { claimed: false as const, existing };
    const rec: LedgerBackupRecord = {
      table: job.table,
      policy: job.policy,
      slot: job.slot,
      trigger: job.trigger,
      runId: job.runId,
      requestedAt: job.requestedAt,
      status: 'CLAIMED',
      claimedAt: now.toISOString(),
      policyHash,
    };
    if (existing) l.splice(l.indexOf(existing), 1, rec);
    else l.push(rec);
    return { claimed: true as const };
  }

  async recordBackup(job: BackupJob, b: RecordedBackup): Promise<void> {
    this.writes++;
    const l = this.list(job.table);
    const i = l.findIndex((r) => r.policy === job.policy && r.slot === job.slot);
    const status: LedgerStatus = b.status === 'AVAILABLE' ? 'AVAILABLE' : 'CREATING';
    l[i] = { ...l[i], status, backupArn: b.backupArn, backupName: b.backupName, createdAt: b.createdAt, sizeBytes: b.sizeBytes, itemCount: b.itemCount, itemCountAt: b.itemCountAt };
    const key = `${job.table}|${job.policy}`;
    this.states.set(key, {
      ...(this.states.get(key) ?? { table: job.table, policy: job.policy }),
      lastBackupAt: b.createdAt,
      lastBackupArn: b.backupArn,
      lastSizeBytes: b.sizeBytes,
      lastItemCount: b.itemCount,
      itemCountAt: b.itemCount === undefined ? undefined : (b.itemCountAt ?? b.createdAt),
      lastAttemptAt: b.createdAt,
      lastAttemptStatus: 'succeeded',
    });
  }

  async recordFailure(job: BackupJob, error: string, now: Date): Promise<void> {
    this.writes++;
    const key = `${job.table}|${job.policy}`;
    this.states.set(key, { ...(this.states.get(key) ?? { table: job.table, policy: job.policy }), lastAttemptAt: now.toISOString(), lastAttemptStatus: 'failed', lastError: error });
  }

  async markPitrChecked(table: string, policy: string, policyHash: string, at: Date): Promise<void> {
    this.writes++;
    const key = `${table}|${policy}`;
    this.states.set(key, { ...(this.states.get(key) ?? { table, policy }), pitrCheckedAt: at.toISOString(), pitrCheckedHash: policyHash });
  }

  async getState(table: string, policy: string): Promise<TableState | undefined> {
    this.reads++;
    return this.states.get(`${table}|${policy}`);
  }

  async listBackupRecords(table: string): Promise<LedgerBackupRecord[]> {
    this.reads++;
    return [...this.list(table)];
  }

  async setBackupStatus(record: Pick<LedgerBackupRecord, 'table' | 'policy' | 'slot'>, status: LedgerStatus, deletion?: { at: string; reason: string }): Promise<void> {
    this.writes++;
    const l = this.list(record.table);
    const i = l.findIndex((r) => r.policy === record.policy && r.slot === record.slot);
    if (i >= 0) l[i] = { ...l[i], status, ...(deletion ? { deletedAt: deletion.at, deleteReason: deletion.reason } : {}) };
  }
}
