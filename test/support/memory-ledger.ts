import { ClaimLostError, STALE_CLAIM_MS, cooldownReason } from '../../lambda/core/backup/claim';
import type { BackupJob } from '../../lambda/core/jobs';
import type {
  BackupHold,
  ClaimOutcome,
  ClaimRequest,
  LedgerBackupRecord,
  LedgerPort,
  LedgerStatus,
  RecordedBackup,
  TableState,
} from '../../lambda/core/ports';

type Key = Pick<LedgerBackupRecord, 'table' | 'policy' | 'slot'>;
type Stored = LedgerBackupRecord & { deletedFrom?: LedgerStatus };

/**
 * The one in-memory ledger, for the core tests and the benchmarks: the same protocol as the
 * DynamoDB ledger (attempt tokens, the cooldown as a condition, holds, conditional deletion
 * marks), proved by the contract suite that runs against both. It counts reads and writes.
 */
export class MemoryLedger implements LedgerPort {
  readonly records = new Map<string, Stored[]>();
  readonly states = new Map<string, TableState>();
  reads = 0;
  writes = 0;

  private list(table: string): Stored[] {
    let l = this.records.get(table);
    if (!l) this.records.set(table, (l = []));
    return l;
  }

  private find(k: Key): Stored | undefined {
    return this.list(k.table).find((r) => r.policy === k.policy && r.slot === k.slot);
  }

  private put(rec: Stored): void {
    const l = this.list(rec.table);
    const i = l.findIndex((r) => r.policy === rec.policy && r.slot === rec.slot);
    if (i >= 0) l[i] = rec;
    else l.push(rec);
  }

  private stateOf(table: string, policy: string): TableState {
    return this.states.get(`${table}|${policy}`) ?? { table, policy };
  }

  private setState(s: TableState): void {
    this.states.set(`${s.table}|${s.policy}`, s);
  }

  seed(record: LedgerBackupRecord): void {
    this.put({ ...record });
  }

  seedState(state: TableState): void {
    this.setState(state);
  }

  /** A record as stored now (tests). */
  record(k: Key): LedgerBackupRecord | undefined {
    return this.find(k);
  }

  all(table: string): LedgerBackupRecord[] {
    return [...this.list(table)];
  }

  async claim(job: BackupJob, req: ClaimRequest): Promise<ClaimOutcome> {
    this.writes++;
    const now = req.now;
    const existing = this.find(job);
    const stale = new Date(now.getTime() - STALE_CLAIM_MS).toISOString();
    let slotOk: boolean;
    if (req.takeOver === undefined) slotOk = !existing;
    else if (req.takeOver) {
      slotOk = !!existing && existing.attemptId === req.takeOver && (existing.status === 'FAILED' || (existing.status === 'CLAIMED' && existing.claimedAt < stale));
    } else slotOk = !!existing && existing.attemptId === undefined && existing.status === 'FAILED';
    const minutes = req.minIntervalMinutes ?? 0;
    const state = this.stateOf(job.table, job.policy);
    let stateOk = true;
    if (minutes > 0) {
      const cutoff = new Date(now.getTime() - minutes * 60_000).toISOString();
      stateOk =
        (state.lastBackupAt === undefined || state.lastBackupAt <= cutoff) &&
        (state.claimSlot === undefined || state.claimSlot === job.slot || (state.claimAt ?? '') < stale);
    }
    if (slotOk && stateOk) {
      this.put({
        table: job.table,
        policy: job.policy,
        slot: job.slot,
        trigger: job.trigger,
        runId: job.runId,
        requestedAt: job.requestedAt,
        status: 'CLAIMED',
        claimedAt: now.toISOString(),
        policyHash: req.policyHash,
        attemptId: req.attemptId,
        backupName: req.backupName,
      });
      if (minutes > 0) this.setState({ ...state, claimSlot: job.slot, claimAt: now.toISOString() });
      return { claimed: true };
    }
    this.reads++;
    if (existing?.attemptId === req.attemptId && existing.status === 'CLAIMED') return { claimed: true };
    if (slotOk && !stateOk) return { claimed: false, cooldown: cooldownReason(state, minutes, now) };
    if (!existing) throw new Error('condition failed without a record');
    return { claimed: false, existing: { ...existing } };
  }

  async recordBackup(job: BackupJob, b: RecordedBackup, attemptId: string): Promise<void> {
    this.writes++;
    const rec = this.find(job);
    if (!rec || rec.attemptId !== attemptId) throw new ClaimLostError(job.table, job.slot);
    const status: LedgerStatus = b.status === 'AVAILABLE' ? 'AVAILABLE' : 'CREATING';
    const { error: _e, ...rest } = rec;
    this.put({
      ...rest,
      status,
      backupArn: b.backupArn,
      backupName: b.backupName,
      createdAt: b.createdAt,
      sizeBytes: b.sizeBytes ?? 0,
      ...(b.itemCount !== undefined ? { itemCount: b.itemCount, itemCountAt: b.itemCountAt ?? b.createdAt } : {}),
    });
    const { lastError: _l, claimSlot: _c, claimAt: _a, lastItemCount: _i, itemCountAt: _t, ...state } = this.stateOf(job.table, job.policy);
    this.setState({
      ...state,
      lastBackupAt: b.createdAt,
      lastBackupArn: b.backupArn,
      lastSizeBytes: b.sizeBytes ?? 0,
      ...(b.itemCount !== undefined ? { lastItemCount: b.itemCount, itemCountAt: b.itemCountAt ?? b.createdAt } : {}),
      lastAttemptAt: b.createdAt,
      lastAttemptStatus: 'succeeded',
    });
  }

  async recordFailure(job: BackupJob, error: string, now: Date): Promise<void> {
    this.writes++;
    const at = now.toISOString();
    const rec = this.find(job);
    this.put({
      ...(rec ?? { claimedAt: at }),
      table: job.table,
      policy: job.policy,
      slot: job.slot,
      trigger: job.trigger,
      runId: job.runId,
      requestedAt: job.requestedAt,
      status: 'FAILED',
      error: error.slice(0, 2000),
    });
    const state = this.stateOf(job.table, job.policy);
    const released = state.claimSlot === job.slot ? { claimSlot: undefined, claimAt: undefined } : {};
    this.setState({ ...state, ...released, lastAttemptAt: at, lastAttemptStatus: 'failed', lastError: error.slice(0, 2000) });
  }

  async markPitrChecked(table: string, policy: string, policyHash: string, at: Date): Promise<void> {
    this.writes++;
    this.setState({ ...this.stateOf(table, policy), pitrCheckedAt: at.toISOString(), pitrCheckedHash: policyHash });
  }

  async getState(table: string, policy: string): Promise<TableState | undefined> {
    this.reads++;
    const s = this.states.get(`${table}|${policy}`);
    return s ? { ...s } : undefined;
  }

  async readLive(table: string, policy: string): Promise<{ state?: TableState; records: LedgerBackupRecord[] }> {
    this.reads++;
    const s = this.states.get(`${table}|${policy}`);
    const records = this.list(table)
      .filter((r) => r.policy === policy && (r.status === 'CLAIMED' || r.status === 'CREATING' || r.status === 'AVAILABLE'))
      .map(({ deletedFrom: _d, ...r }) => ({ ...r }));
    return { state: s ? { ...s } : undefined, records };
  }

  async listBackupRecords(table: string, policy?: string): Promise<LedgerBackupRecord[]> {
    this.reads++;
    return this.list(table)
      .filter((r) => policy === undefined || r.policy === policy)
      .map(({ deletedFrom: _d, ...r }) => ({ ...r }));
  }

  async setBackupStatus(k: Key, status: LedgerStatus, deletion?: { at: string; reason: string }, from?: readonly LedgerStatus[]): Promise<boolean> {
    this.writes++;
    const rec = this.find(k);
    if (!rec || (from?.length && !from.includes(rec.status))) return false;
    const { deletedAt: _a, deleteReason: _r, ...rest } = rec;
    this.put({ ...(deletion ? rec : rest), status, ...(deletion ? { deletedAt: deletion.at, deleteReason: deletion.reason.slice(0, 1000) } : {}) });
    return true;
  }

  async markDeleting(k: Key, deletion: { at: string; reason: string }): Promise<'marked' | 'held' | 'not-live'> {
    this.writes++;
    const rec = this.find(k);
    if (!rec) return 'not-live';
    if (rec.hold) return 'held';
    if (rec.status !== 'AVAILABLE' && rec.status !== 'CREATING') return 'not-live';
    this.put({ ...rec, status: 'DELETED', deletedAt: deletion.at, deleteReason: deletion.reason.slice(0, 1000), deletedFrom: rec.status });
    return 'marked';
  }

  async unmarkDeleting(k: Key): Promise<void> {
    this.writes++;
    const rec = this.find(k);
    if (!rec || rec.status !== 'DELETED' || !rec.deletedFrom) return;
    const { deletedAt: _a, deleteReason: _r, deletedFrom, ...rest } = rec;
    this.put({ ...rest, status: deletedFrom });
  }

  async placeHold(k: Key, hold: BackupHold): Promise<boolean> {
    this.writes++;
    const rec = this.find(k);
    if (!rec || rec.hold || (rec.status !== 'AVAILABLE' && rec.status !== 'CREATING')) return false;
    this.put({ ...rec, hold });
    return true;
  }

  async releaseHold(k: Key, by: string, at: Date): Promise<BackupHold | undefined> {
    this.writes++;
    const rec = this.find(k);
    const hold = rec?.hold;
    if (!rec || !hold) return undefined;
    const { hold: _h, ...rest } = rec;
    this.put({ ...rest, holdHistory: [...(rec.holdHistory ?? []), { ...hold, releasedBy: by, releasedAt: at.toISOString() }] });
    return hold;
  }
}
