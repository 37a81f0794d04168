/**
 * Pruning (pruneTable, reconcileLedger), the prune sweep's plan (planSweep) and the worker's prune
 * paths (processJob), against in-memory fakes of the ports: no SDK, no network.
 */
import { PolicyUnavailableError, PolicyValidationError, RetryableError } from '../../lambda/core/errors';
import type { BackupJob } from '../../lambda/core/jobs';
import { backupName } from '../../lambda/core/naming';
import { parsePolicy, resolveEffectivePolicy, type EffectivePolicy, type Policy, type PolicyInput } from '../../lambda/core/policy';
import type {
  BackupApi,
  BackupInfo,
  Clock,
  CreatedBackup,
  LedgerBackupRecord,
  LedgerPort,
  LedgerStatus,
  PolicySource,
  TableDiscovery,
  TableFacts,
  TableState,
} from '../../lambda/core/ports';
import { VERIFY_CREATING_AFTER_MS, pruneTable, reconcileLedger, type PruneDeps, type PruneRequest } from '../../lambda/core/prune';
import { REASON_FOREIGN } from '../../lambda/core/retention';
import { planSweep, type SweepDeps, type SweepRequest } from '../../lambda/core/sweep';
import type { TaggedTable } from '../../lambda/core/tags';
import { processJob, type WorkerDeps } from '../../lambda/core/worker';

// ---------------------------------------------------------------------------------------------
// Fakes and fixtures
// ---------------------------------------------------------------------------------------------

const NOW = new Date('2026-11-24T03:00:05.000Z');
const clock: Clock = { now: () => NOW };
const MINUTE = 60_000;
const DAY = 86_400_000;
const ACCOUNT = 'arn:aws:dynamodb:us-east-1:123456789012';

const minutesAgo = (m: number) => new Date(NOW.getTime() - m * MINUTE);
const daysAgo = (d: number) => new Date(NOW.getTime() - d * DAY);
const arnOf = (table: string, id: string) => `${ACCOUNT}:table/${table}/backup/${id}`;

/**
 * A ledger backup record of one of the service's backups, created at `createdAt`, with the name
 * the worker would have given it.
 */
function ledgerRecord(
  createdAt: Date,
  opts: { table?: string; policy?: string; status?: LedgerStatus; id?: string } = {},
): LedgerBackupRecord {
  const table = opts.table ?? 'orders';
  const policy = opts.policy ?? 'daily';
  const slot = `schedule:${createdAt.toISOString()}`;
  return {
    table,
    policy,
    slot,
    trigger: 'schedule',
    runId: `${policy}|schedule|${slot}`,
    requestedAt: createdAt.toISOString(),
    status: opts.status ?? 'AVAILABLE',
    claimedAt: createdAt.toISOString(),
    backupArn: arnOf(table, opts.id ?? `${createdAt.getTime()}-${policy}`),
    backupName: backupName(policy, 'schedule', createdAt, slot),
    createdAt: createdAt.toISOString(),
  };
}

/** `n` AVAILABLE records of `orders`/daily, one a day, the newest a day old (index 0 = newest). */
const dailyRecords = (n: number, extra: { table?: string; policy?: string } = {}) =>
  Array.from({ length: n }, (_, i) => ledgerRecord(daysAgo(i + 1), extra));

/** A ListBackups entry for a ledger record (as DynamoDB reports it). */
const infoOf = (r: LedgerBackupRecord, status = 'AVAILABLE'): BackupInfo => ({
  arn: r.backupArn!,
  name: r.backupName,
  table: r.table,
  createdAt: r.createdAt!,
  status,
});

class FakeLedger implements LedgerPort {
  readonly records = new Map<string, LedgerBackupRecord>();
  readonly states = new Map<string, TableState>();

  constructor(records: readonly LedgerBackupRecord[] = [], states: readonly TableState[] = []) {
    for (const r of records) this.records.set(this.key(r), r);
    for (const s of states) this.states.set(`${s.table}|${s.policy}`, s);
  }

  private key(r: Pick<LedgerBackupRecord, 'table' | 'policy' | 'slot'>): string {
    return `${r.table}|${r.policy}|${r.slot}`;
  }

  byArn(arn: string): LedgerBackupRecord | undefined {
    return [...this.records.values()].find((r) => r.backupArn === arn);
  }

  readonly claim = jest.fn(async (job: BackupJob, policyHash: string, now: Date) => {
    const existing = this.records.get(this.key(job));
    if (existing && existing.status !== 'FAILED') return { claimed: false as const, existing };
    const { table, policy, slot, trigger, runId, requestedAt } = job;
    this.records.set(this.key(job), { table, policy, slot, trigger, runId, requestedAt, status: 'CLAIMED', claimedAt: now.toISOString(), policyHash });
    return { claimed: true as const };
  });

  readonly recordBackup = jest.fn(async (job: BackupJob, backup: CreatedBackup & { itemCount?: number }) => {
    const claimed = this.records.get(this.key(job))!;
    this.records.set(this.key(job), {
      ...claimed,
      status: backup.status === 'AVAILABLE' ? 'AVAILABLE' : 'CREATING',
      backupArn: backup.backupArn,
      backupName: backup.backupName,
      createdAt: backup.createdAt,
    });
    const state = this.states.get(`${job.table}|${job.policy}`);
    this.states.set(`${job.table}|${job.policy}`, {
      ...state,
      table: job.table,
      policy: job.policy,
      lastBackupAt: backup.createdAt,
      lastAttemptAt: backup.createdAt,
      lastAttemptStatus: 'succeeded',
    });
  });

  readonly recordFailure = jest.fn(async (_job: BackupJob, _error: string, _now: Date) => {});

  readonly getState = jest.fn(async (table: string, policy: string) => this.states.get(`${table}|${policy}`));

  readonly listBackupRecords = jest.fn(async (table: string) => [...this.records.values()].filter((r) => r.table === table));

  readonly setBackupStatus = jest.fn(
    async (record: Pick<LedgerBackupRecord, 'table' | 'policy' | 'slot'>, status: LedgerStatus, deletion?: { at: string; reason: string }) => {
      const existing = this.records.get(this.key(record));
      if (!existing) throw new Error('ConditionalCheckFailedException: no such record');
      this.records.set(this.key(record), {
        ...existing,
        status,
        ...(deletion ? { deletedAt: deletion.at, deleteReason: deletion.reason } : {}),
      });
    },
  );
}

/** Backups that exist, by ARN; errors to throw from deleteBackup, per ARN. */
class FakeBackups implements BackupApi {
  readonly existing = new Map<string, BackupInfo>();
  readonly deleteErrors = new Map<string, Error>();
  listError?: Error;

  constructor(backups: readonly BackupInfo[] = []) {
    for (const b of backups) this.existing.set(b.arn, b);
  }

  readonly describeTable = jest.fn(async (table: string): Promise<TableFacts> => ({ table, status: 'ACTIVE', sizeBytes: 1000, itemCount: 10 }));

  readonly createBackup = jest.fn(async (table: string, name: string): Promise<CreatedBackup> => {
    const arn = arnOf(table, `${NOW.getTime()}-new`);
    this.existing.set(arn, { arn, name, table, createdAt: NOW.toISOString(), status: 'CREATING' });
    return { backupArn: arn, backupName: name, status: 'CREATING', createdAt: NOW.toISOString() };
  });

  readonly describeBackupStatus = jest.fn(async (arn: string) => this.existing.get(arn)?.status);

  readonly deleteBackup = jest.fn(async (arn: string): Promise<'deleted' | 'gone'> => {
    const err = this.deleteErrors.get(arn);
    if (err) throw err;
    return this.existing.delete(arn) ? 'deleted' : 'gone';
  });

  readonly listBackups = jest.fn(async (table?: string): Promise<BackupInfo[]> => {
    if (this.listError) throw this.listError;
    return [...this.existing.values()].filter((b) => table === undefined || b.table === table);
  });
}

/** The fake backups of a set of ledger records, all AVAILABLE. */
const backupsOf = (records: readonly LedgerBackupRecord[]) => new FakeBackups(records.map((r) => infoOf(r)));

class FakePolicies implements PolicySource {
  readonly docs = new Map<string, unknown>();
  effectiveError?: Error;
  getPolicyError?: Error;

  constructor(docs: Record<string, unknown>) {
    for (const [name, doc] of Object.entries(docs)) this.docs.set(name, doc);
  }

  readonly listNames = jest.fn(async () => new Set(this.docs.keys()));

  readonly getPolicy = jest.fn(async (name: string): Promise<Policy> => {
    if (this.getPolicyError) throw this.getPolicyError;
    if (!this.docs.has(name)) throw new PolicyUnavailableError(name, `no policy named "${name}"`);
    return parsePolicy(this.docs.get(name), `"${name}"`);
  });

  readonly getEffective = jest.fn(async (name: string, table: string): Promise<EffectivePolicy> => {
    if (this.effectiveError) throw this.effectiveError;
    if (!this.docs.has(name)) throw new PolicyUnavailableError(name, `no policy named "${name}"`);
    return resolveEffectivePolicy(name, this.docs.get(name), undefined, table);
  });
}

class FakeDiscovery implements TableDiscovery {
  constructor(readonly tables: TaggedTable[]) {}
  readonly discover = jest.fn(async () => this.tables.map((t) => ({ ...t })));
}

const tagged = (table: string, tag: string): TaggedTable => ({ table, arn: `${ACCOUNT}:table/${table}`, policies: tag.split(' ') });

const DAILY: PolicyInput = { schedule: 'cron(0 3 * * ? *)', minIntervalMinutes: 60, retention: { keepLast: 3 } };

function pruneWorld(records: readonly LedgerBackupRecord[], state?: Partial<TableState>) {
  const ledger = new FakeLedger(records, state ? [{ table: 'orders', policy: 'daily', ...state }] : []);
  const backups = backupsOf(records);
  const deps: PruneDeps = { backups, ledger, clock };
  return { ledger, backups, deps };
}

const pruneRequest = (extra: Partial<PruneRequest> = {}): PruneRequest => ({
  table: 'orders',
  policy: 'daily',
  retention: { keepLast: 3 },
  ...extra,
});

const SLOT = 'schedule:2026-11-24T03:00:00.000Z';

function job(extra: Partial<BackupJob> = {}): BackupJob {
  return {
    table: 'orders',
    policy: 'daily',
    trigger: 'schedule',
    slot: SLOT,
    requestedAt: '2026-11-24T03:00:00.000Z',
    runId: `daily|schedule|${SLOT}`,
    ...extra,
  };
}

const pruneJob = (extra: Partial<BackupJob> = {}): BackupJob =>
  job({ trigger: 'prune', kind: 'prune', slot: 'prune:2026-11-24T04:00:00.000Z', runId: 'daily|prune|prune:2026-11-24T04:00:00.000Z', ...extra });

function workerWorld(records: readonly LedgerBackupRecord[], policies: Record<string, unknown> = { daily: DAILY }) {
  const w = pruneWorld(records, { lastBackupAt: daysAgo(1).toISOString(), lastAttemptAt: daysAgo(1).toISOString(), lastAttemptStatus: 'succeeded' });
  const p = new FakePolicies(policies);
  const deps: WorkerDeps = { policies: p, backups: w.backups, ledger: w.ledger, clock };
  return { ...w, policies: p, worker: deps };
}

async function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (err) {
    return err;
  }
  throw new Error('expected a rejection, but the promise resolved');
}

// ---------------------------------------------------------------------------------------------
// pruneTable: the ledger as the index (the hot path after a backup)
// ---------------------------------------------------------------------------------------------

describe('pruneTable', () => {
  it('keepLast 3 over 6 ledger records deletes the 3 oldest and marks each DELETED with deletedAt and a "pruned:" reason', async () => {
    // Prepare
    const records = dailyRecords(6);
    const w = pruneWorld(records);
    const oldest = records.slice(3).map((r) => r.backupArn!);
    // Act
    const outcome = await pruneTable(w.deps, pruneRequest());
    // Assess
    expect(outcome.plan.blocked).toBeUndefined();
    expect(outcome.plan.keep.map((d) => d.arn)).toEqual(records.slice(0, 3).map((r) => r.backupArn));
    expect(outcome.deleted).toEqual(oldest);
    expect(outcome).toMatchObject({ deferred: [], failed: [], reconciled: 0 });
    expect(w.backups.deleteBackup).toHaveBeenCalledTimes(3);
    expect(w.backups.deleteBackup.mock.calls.map(([arn]) => arn)).toEqual(oldest);
    expect(w.backups.listBackups).not.toHaveBeenCalled();
    expect(w.backups.describeBackupStatus).not.toHaveBeenCalled();
    expect(w.ledger.setBackupStatus).toHaveBeenCalledTimes(3);
    for (const r of records.slice(3)) {
      expect(w.ledger.setBackupStatus).toHaveBeenCalledWith(r, 'DELETED', { at: NOW.toISOString(), reason: expect.stringMatching(/^pruned: /) });
      expect(w.ledger.byArn(r.backupArn!)).toMatchObject({ status: 'DELETED', deletedAt: NOW.toISOString(), deleteReason: 'pruned: not kept by any retention rule' });
    }
    for (const r of records.slice(0, 3)) expect(w.ledger.byArn(r.backupArn!)?.status).toBe('AVAILABLE');
  });

  it('judges only its own policy: backups of another policy on the same table are left alone', async () => {
    // Prepare
    const daily = dailyRecords(4);
    const hourly = Array.from({ length: 4 }, (_, i) => ledgerRecord(daysAgo(i + 10), { policy: 'hourly' }));
    const w = pruneWorld([...daily, ...hourly]);
    // Act
    const outcome = await pruneTable(w.deps, pruneRequest({ retention: { keepLast: 1 } }));
    // Assess
    expect(outcome.deleted).toEqual(daily.slice(1).map((r) => r.backupArn));
    for (const r of hourly) expect(w.backups.deleteBackup).not.toHaveBeenCalledWith(r.backupArn);
    expect(outcome.plan.ignore.map((d) => d.reasons)).toEqual(hourly.map(() => ['belongs to policy hourly']));
  });

  it('never deletes a foreign backup (a name not ours) that a listing holds, however old', async () => {
    // Prepare
    const records = dailyRecords(3);
    const w = pruneWorld(records);
    const foreign: BackupInfo[] = [
      { arn: arnOf('orders', 'manual-1'), name: 'before-migration', table: 'orders', createdAt: daysAgo(400).toISOString(), status: 'AVAILABLE' },
      { arn: arnOf('orders', 'manual-2'), name: 'ddbbk.daily.schedule.not-a-time.abcdef', table: 'orders', createdAt: daysAgo(300).toISOString(), status: 'AVAILABLE' },
      { arn: arnOf('orders', 'manual-3'), table: 'orders', createdAt: daysAgo(200).toISOString(), status: 'AVAILABLE' },
    ];
    for (const b of foreign) w.backups.existing.set(b.arn, b);
    const listing = [...records.map((r) => infoOf(r)), ...foreign];
    // Act
    const outcome = await pruneTable(w.deps, pruneRequest({ retention: { keepLast: 1 }, listing, listedAt: NOW }));
    // Assess
    expect(outcome.deleted).toEqual(records.slice(1).map((r) => r.backupArn));
    for (const b of foreign) expect(w.backups.deleteBackup).not.toHaveBeenCalledWith(b.arn);
    expect(w.backups.deleteBackup).toHaveBeenCalledTimes(2);
    expect(outcome.plan.ignore.map((d) => d.arn).sort()).toEqual(foreign.map((b) => b.arn).sort());
    for (const d of outcome.plan.ignore) expect(d.reasons).toContain(REASON_FOREIGN);
  });

  it('dryRun plans the deletions but deletes nothing and writes nothing to the ledger', async () => {
    // Prepare
    const records = dailyRecords(6);
    const stale = ledgerRecord(minutesAgo(30), { status: 'CREATING' });
    const w = pruneWorld([...records, stale]);
    w.backups.existing.set(stale.backupArn!, infoOf(stale, 'AVAILABLE'));
    // Act
    const outcome = await pruneTable(w.deps, pruneRequest({ dryRun: true }));
    // Assess
    expect(outcome.plan.delete).toHaveLength(4);
    expect(outcome.deleted).toEqual([]);
    expect(w.backups.deleteBackup).not.toHaveBeenCalled();
    expect(w.ledger.setBackupStatus).not.toHaveBeenCalled();
    expect(w.ledger.byArn(stale.backupArn!)?.status).toBe('CREATING');
  });

  it('dryRun with a listing reconciles nothing in the ledger', async () => {
    // Prepare
    const records = dailyRecords(4);
    const creating = ledgerRecord(minutesAgo(30), { status: 'CREATING' });
    const vanished = ledgerRecord(daysAgo(20));
    const w = pruneWorld([...records, creating, vanished]);
    const listing = [...records.map((r) => infoOf(r)), infoOf(creating, 'AVAILABLE')];
    // Act
    const outcome = await pruneTable(w.deps, pruneRequest({ dryRun: true, listing, listedAt: NOW }));
    // Assess
    expect(outcome.reconciled).toBe(0);
    expect(outcome.plan.delete.map((d) => d.arn)).toEqual(records.slice(2).map((r) => r.backupArn));
    expect(w.backups.deleteBackup).not.toHaveBeenCalled();
    expect(w.ledger.setBackupStatus).not.toHaveBeenCalled();
  });

  it('defers a deletion that meets BackupInUseException while the others proceed: no failure, no exception', async () => {
    // Prepare
    const records = dailyRecords(6);
    const w = pruneWorld(records);
    const inUse = records[4].backupArn!;
    w.backups.deleteErrors.set(inUse, new RetryableError(`DeleteBackup ${inUse}: BackupInUseException: Backup is being deleted`));
    // Act
    const outcome = await pruneTable(w.deps, pruneRequest());
    // Assess
    expect(outcome.deferred).toEqual([{ arn: inUse, reason: expect.stringContaining('BackupInUseException') }]);
    expect(outcome.deleted).toEqual([records[3].backupArn, records[5].backupArn]);
    expect(outcome.failed).toEqual([]);
    expect(w.backups.deleteBackup).toHaveBeenCalledTimes(3);
    expect(w.ledger.setBackupStatus).toHaveBeenCalledTimes(2);
    expect(w.ledger.byArn(inUse)?.status).toBe('AVAILABLE');
  });

  it('defers a throttled deletion (RetryableError)', async () => {
    // Prepare
    const records = dailyRecords(4);
    const w = pruneWorld(records);
    const throttled = records[3].backupArn!;
    w.backups.deleteErrors.set(throttled, new RetryableError(`DeleteBackup ${throttled}: ThrottlingException: Rate exceeded`));
    // Act
    const outcome = await pruneTable(w.deps, pruneRequest());
    // Assess
    expect(outcome.deferred).toEqual([{ arn: throttled, reason: expect.stringContaining('ThrottlingException') }]);
    expect(outcome.deleted).toEqual([]);
    expect(outcome.failed).toEqual([]);
    expect(w.ledger.setBackupStatus).not.toHaveBeenCalled();
  });

  it('reports a non-retryable deletion error in outcome.failed and still deletes the others', async () => {
    // Prepare
    const records = dailyRecords(6);
    const w = pruneWorld(records);
    const denied = records[3].backupArn!;
    w.backups.deleteErrors.set(denied, Object.assign(new Error('not authorized to perform dynamodb:DeleteBackup'), { name: 'AccessDeniedException' }));
    // Act
    const outcome = await pruneTable(w.deps, pruneRequest());
    // Assess
    expect(outcome.failed).toEqual([{ arn: denied, reason: 'AccessDeniedException: not authorized to perform dynamodb:DeleteBackup' }]);
    expect(outcome.deferred).toEqual([]);
    expect(outcome.deleted).toEqual([records[4].backupArn, records[5].backupArn]);
    expect(w.ledger.byArn(denied)?.status).toBe('AVAILABLE');
  });

  it('marks a backup that was already gone as DELETED with its own reason', async () => {
    // Prepare
    const records = dailyRecords(4);
    const w = pruneWorld(records);
    w.backups.existing.delete(records[3].backupArn!);
    // Act
    const outcome = await pruneTable(w.deps, pruneRequest());
    // Assess
    expect(outcome.deleted).toEqual([records[3].backupArn]);
    expect(w.ledger.byArn(records[3].backupArn!)).toMatchObject({ status: 'DELETED', deleteReason: 'already gone when pruning' });
  });

  // BUG (lambda/core/prune.ts:185-205): the ledger write after a successful DeleteBackup shares the
  // DeleteBackup try, so a ledger error files a backup that is gone under `deferred` (or `failed`)
  // and leaves it out of `deleted`. Marked failing until the two are separated.
  it('counts a deletion as done when only the ledger write after it fails', async () => {
    // Prepare
    const records = dailyRecords(4);
    const w = pruneWorld(records);
    w.ledger.setBackupStatus.mockRejectedValueOnce(new RetryableError('ledger ddb-backup-ledger: ThrottlingException: slow down'));
    // Act
    const outcome = await pruneTable(w.deps, pruneRequest());
    // Assess
    expect(w.backups.existing.has(records[3].backupArn!)).toBe(false);
    expect(outcome.deleted).toEqual([records[3].backupArn]);
    expect(outcome.deferred).toEqual([]);
  });

  // BUG (lambda/core/prune.ts:187-193): a stale listing (taken before a backup job pruned the same
  // backup) makes the prune job delete it again; DeleteBackup answers 'gone' and the ledger record,
  // already DELETED, has its deletedAt and "pruned:" reason overwritten. Marked failing until a
  // record already DELETED is left alone.
  it('keeps the original deletion time and reason of a record already DELETED when a stale listing still shows it', async () => {
    // Prepare
    const records = dailyRecords(4);
    const prunedEarlier: LedgerBackupRecord = { ...records[3], status: 'DELETED', deletedAt: minutesAgo(30).toISOString(), deleteReason: 'pruned: not kept by any retention rule' };
    const w = pruneWorld([...records.slice(0, 3), prunedEarlier]);
    w.backups.existing.delete(prunedEarlier.backupArn!);
    const listing = records.map((r) => infoOf(r)); // taken before the earlier prune
    // Act
    await pruneTable(w.deps, pruneRequest({ listing, listedAt: minutesAgo(45) }));
    // Assess
    expect(w.ledger.byArn(prunedEarlier.backupArn!)).toMatchObject({ deletedAt: minutesAgo(30).toISOString(), deleteReason: 'pruned: not kept by any retention rule' });
  });

  it.each<[string, Partial<PruneRequest>, Partial<TableState> | undefined, RegExp]>([
    ['the retention is undefined (invalid or unreadable policy)', { retention: undefined }, undefined, /^policy is invalid or unreadable/],
    ['the latest backup attempt failed', {}, { lastAttemptStatus: 'failed', lastAttemptAt: minutesAgo(10).toISOString() }, /^latest backup attempt failed at /],
    ['pruning is frozen until a future time', {}, { pruneFrozenUntil: new Date(NOW.getTime() + 3_600_000).toISOString() }, /^prune frozen until 2026-11-24T04:00:05\.000Z$/],
  ])('deletes nothing when %s (plan.blocked)', async (_why, extra, state, blocked) => {
    // Prepare
    const records = dailyRecords(6);
    const w = pruneWorld(records, state);
    // Act
    const outcome = await pruneTable(w.deps, pruneRequest(extra));
    // Assess
    expect(outcome.plan.blocked).toMatch(blocked);
    expect(outcome.plan.delete).toEqual([]);
    expect(outcome.deleted).toEqual([]);
    expect(w.backups.deleteBackup).not.toHaveBeenCalled();
    expect(w.ledger.setBackupStatus).not.toHaveBeenCalled();
  });

  it('prunes again once a prune freeze has ended', async () => {
    // Prepare
    const w = pruneWorld(dailyRecords(6), { pruneFrozenUntil: minutesAgo(1).toISOString() });
    // Act
    const outcome = await pruneTable(w.deps, pruneRequest());
    // Assess
    expect(outcome.plan.blocked).toBeUndefined();
    expect(outcome.deleted).toHaveLength(3);
  });

  it('checks a record still CREATING after 5 minutes with exactly one DescribeBackup, once in its life, and records AVAILABLE', async () => {
    // Prepare
    const records = dailyRecords(3);
    const settled = ledgerRecord(minutesAgo(6), { status: 'CREATING' });
    const w = pruneWorld([...records, settled]);
    w.backups.existing.set(settled.backupArn!, infoOf(settled, 'AVAILABLE'));
    // Act
    const first = await pruneTable(w.deps, pruneRequest());
    const second = await pruneTable(w.deps, pruneRequest());
    // Assess
    expect(w.backups.describeBackupStatus).toHaveBeenCalledTimes(1);
    expect(w.backups.describeBackupStatus).toHaveBeenCalledWith(settled.backupArn);
    expect(w.ledger.setBackupStatus).toHaveBeenCalledWith(settled, 'AVAILABLE', undefined);
    expect(w.ledger.byArn(settled.backupArn!)?.status).toBe('AVAILABLE');
    expect(first.reconciled).toBe(1);
    // Now a candidate: it is the newest, so the oldest of the three others goes.
    expect(first.plan.keep[0].arn).toBe(settled.backupArn);
    expect(first.deleted).toEqual([records[2].backupArn]);
    expect(second.reconciled).toBe(0);
    expect(second.deleted).toEqual([]);
  });

  it('records a CREATING record whose backup no longer exists as DELETED', async () => {
    // Prepare
    const records = dailyRecords(2);
    const vanished = ledgerRecord(minutesAgo(20), { status: 'CREATING' });
    const w = pruneWorld([...records, vanished]);
    w.backups.existing.delete(vanished.backupArn!);
    // Act
    const outcome = await pruneTable(w.deps, pruneRequest());
    // Assess
    expect(w.backups.describeBackupStatus).toHaveBeenCalledTimes(1);
    expect(w.ledger.setBackupStatus).toHaveBeenCalledWith(vanished, 'DELETED', {
      at: NOW.toISOString(),
      reason: expect.stringContaining('no longer exists'),
    });
    expect(outcome.reconciled).toBe(1);
  });

  it('leaves a record still CREATING but younger than 5 minutes alone: no DescribeBackup, no ledger write', async () => {
    // Prepare
    const records = dailyRecords(3);
    const fresh = ledgerRecord(new Date(NOW.getTime() - VERIFY_CREATING_AFTER_MS + 1000), { status: 'CREATING' });
    const w = pruneWorld([...records, fresh]);
    // Act
    const outcome = await pruneTable(w.deps, pruneRequest());
    // Assess
    expect(w.backups.describeBackupStatus).not.toHaveBeenCalled();
    expect(w.ledger.setBackupStatus).not.toHaveBeenCalledWith(fresh, expect.anything(), expect.anything());
    expect(outcome.reconciled).toBe(0);
    expect(outcome.deleted).toEqual([]);
    expect(w.ledger.byArn(fresh.backupArn!)?.status).toBe('CREATING');
  });

  it('with a listing, reconciles the ledger first, plans from the listing and never calls DescribeBackup', async () => {
    // Prepare
    const records = dailyRecords(5);
    const creating = ledgerRecord(minutesAgo(30), { status: 'CREATING' });
    const w = pruneWorld([...records, creating]);
    // records[4] was deleted by hand: the listing does not hold it.
    const listing = [...records.slice(0, 4).map((r) => infoOf(r)), infoOf(creating, 'AVAILABLE')];
    // Act
    const outcome = await pruneTable(w.deps, pruneRequest({ listing, listedAt: NOW }));
    // Assess
    expect(outcome.reconciled).toBe(2);
    expect(w.ledger.setBackupStatus).toHaveBeenCalledWith(creating, 'AVAILABLE', undefined);
    expect(w.ledger.setBackupStatus).toHaveBeenCalledWith(records[4], 'DELETED', { at: NOW.toISOString(), reason: expect.stringContaining('no longer exists') });
    expect(w.backups.describeBackupStatus).not.toHaveBeenCalled();
    expect(w.backups.listBackups).not.toHaveBeenCalled();
    // Five AVAILABLE in the listing, keepLast 3: the two oldest listed go; the vanished one is not retried.
    expect(outcome.deleted).toEqual([records[2].backupArn, records[3].backupArn]);
    expect(w.backups.deleteBackup).not.toHaveBeenCalledWith(records[4].backupArn);
  });
});

// ---------------------------------------------------------------------------------------------
// reconcileLedger
// ---------------------------------------------------------------------------------------------

describe('reconcileLedger', () => {
  const LISTED_AT = minutesAgo(10);

  it('moves a CREATING record to AVAILABLE when the listing says so', async () => {
    // Prepare
    const r = ledgerRecord(minutesAgo(30), { status: 'CREATING' });
    const w = pruneWorld([r]);
    // Act
    const changed = await reconcileLedger(w.deps, [r], [infoOf(r, 'AVAILABLE')], LISTED_AT);
    // Assess
    expect(changed).toBe(1);
    expect(w.ledger.setBackupStatus).toHaveBeenCalledTimes(1);
    expect(w.ledger.setBackupStatus).toHaveBeenCalledWith(r, 'AVAILABLE', undefined);
  });

  it('marks a record DELETED when the listing reports the backup DELETED', async () => {
    // Prepare
    const r = ledgerRecord(daysAgo(3));
    const w = pruneWorld([r]);
    // Act
    const changed = await reconcileLedger(w.deps, [r], [infoOf(r, 'DELETED')], LISTED_AT);
    // Assess
    expect(changed).toBe(1);
    expect(w.ledger.setBackupStatus).toHaveBeenCalledWith(r, 'DELETED', { at: NOW.toISOString(), reason: 'deleted outside the service' });
  });

  it('marks a live record missing from a listing, and older than the listing by more than a minute, DELETED "no longer exists"', async () => {
    // Prepare
    const available = ledgerRecord(daysAgo(3));
    const creating = ledgerRecord(new Date(LISTED_AT.getTime() - 61_000), { status: 'CREATING' });
    const w = pruneWorld([available, creating]);
    // Act
    const changed = await reconcileLedger(w.deps, [available, creating], [], LISTED_AT);
    // Assess
    expect(changed).toBe(2);
    for (const r of [available, creating]) {
      expect(w.ledger.setBackupStatus).toHaveBeenCalledWith(r, 'DELETED', {
        at: NOW.toISOString(),
        reason: 'backup no longer exists (deleted outside the service)',
      });
    }
  });

  it('leaves alone a record newer than the listing (or within a minute of it), and records already settled', async () => {
    // Prepare
    const newer = ledgerRecord(minutesAgo(5), { status: 'CREATING' });
    const justBefore = ledgerRecord(new Date(LISTED_AT.getTime() - 30_000));
    const same = ledgerRecord(daysAgo(2));
    const alreadyDeleted = ledgerRecord(daysAgo(4), { status: 'DELETED' });
    const failedOne: LedgerBackupRecord = { ...ledgerRecord(daysAgo(5)), status: 'FAILED' };
    const records = [newer, justBefore, same, alreadyDeleted, failedOne];
    const w = pruneWorld(records);
    // Act
    const changed = await reconcileLedger(w.deps, records, [infoOf(same)], LISTED_AT);
    // Assess
    expect(changed).toBe(0);
    expect(w.ledger.setBackupStatus).not.toHaveBeenCalled();
  });
});

// ---------------------------------------------------------------------------------------------
// planSweep: one account-wide listing, one prune job per tagged table
// ---------------------------------------------------------------------------------------------

describe('planSweep', () => {
  const SWEEP: SweepRequest = { policy: 'daily', time: '2026-11-24T04:00:00.000Z', slot: 'prune:2026-11-24T04:00:00.000Z' };

  function sweepWorld(tables: TaggedTable[], backups: BackupInfo[], policies: Record<string, unknown> = { daily: DAILY, hourly: { schedule: 'rate(1 hour)' } }) {
    const p = new FakePolicies(policies);
    const discovery = new FakeDiscovery(tables);
    const b = new FakeBackups(backups);
    const deps: SweepDeps = { policies: p, discovery, backups: b, clock };
    return { policies: p, discovery, backups: b, deps };
  }

  const bk = (table: string, policy: string, days: number): BackupInfo => infoOf(ledgerRecord(daysAgo(days), { table, policy }));

  it('lists the account once, however many tables, and gives each tagged table its slice of the listing', async () => {
    // Prepare
    const many = Array.from({ length: 30 }, (_, i) => tagged(`t${String(i).padStart(2, '0')}`, 'daily'));
    const orders = [bk('orders', 'daily', 1), bk('orders', 'daily', 2), bk('orders', 'hourly', 1)];
    const users = [bk('users', 'daily', 3)];
    const w = sweepWorld([tagged('orders', 'daily'), tagged('users', 'hourly daily'), tagged('carts', 'hourly'), ...many], [...orders, ...users]);
    // Act
    const plan = await planSweep(w.deps, SWEEP);
    // Assess
    expect(w.backups.listBackups).toHaveBeenCalledTimes(1);
    expect(w.backups.listBackups).toHaveBeenCalledWith(undefined);
    expect(plan.runId).toBe('daily|prune|prune:2026-11-24T04:00:00.000Z');
    expect(plan.jobs.map((j) => j.table)).toEqual(['orders', ...many.map((t) => t.table), 'users']);
    const byTable = new Map(plan.jobs.map((j) => [j.table, j]));
    expect(byTable.get('orders')).toEqual({
      table: 'orders',
      policy: 'daily',
      trigger: 'prune',
      kind: 'prune',
      slot: SWEEP.slot,
      requestedAt: SWEEP.time,
      runId: plan.runId,
      listing: orders,
      listedAt: NOW.toISOString(),
    });
    expect(byTable.get('users')?.listing).toEqual(users);
    expect(byTable.get('t00')?.listing).toEqual([]);
    expect(byTable.has('carts')).toBe(false);
    expect(plan.problems).toEqual([]);
  });

  it('reports backups of the policy on a table no longer tagged with it as orphaned, and plans no job for it', async () => {
    // Prepare
    const w = sweepWorld(
      [tagged('orders', 'daily'), tagged('carts', 'hourly')],
      [
        bk('orders', 'daily', 1),
        bk('carts', 'daily', 1),
        bk('carts', 'daily', 2),
        bk('carts', 'hourly', 1),
        bk('legacy', 'daily', 9),
        { ...bk('gone', 'daily', 9), status: 'DELETED' },
        { arn: arnOf('misc', 'x'), name: 'hand-made', table: 'misc', createdAt: daysAgo(1).toISOString(), status: 'AVAILABLE' },
      ],
    );
    // Act
    const plan = await planSweep(w.deps, SWEEP);
    // Assess
    expect(plan.jobs.map((j) => j.table)).toEqual(['orders']);
    expect(plan.problems).toEqual([
      { kind: 'orphaned', table: 'carts', policy: 'daily', message: expect.stringMatching(/^2 backup\(s\) of policy "daily" kept: the table is no longer tagged/) },
      { kind: 'orphaned', table: 'legacy', policy: 'daily', message: expect.stringMatching(/^1 backup\(s\) of policy "daily" kept/) },
    ]);
  });

  it('turns an invalid policy into a problem: no jobs, no discovery and no ListBackups', async () => {
    // Prepare
    const w = sweepWorld([tagged('orders', 'daily')], [bk('orders', 'daily', 1)], { daily: { retention: { keepLast: -1 } } });
    // Act
    const plan = await planSweep(w.deps, SWEEP);
    // Assess
    expect(plan.jobs).toEqual([]);
    expect(plan.policy).toBeUndefined();
    expect(plan.problems).toEqual([{ kind: 'invalid-policy', policy: 'daily', message: expect.stringContaining('retention.keepLast') }]);
    expect(plan.problems[0].message).toMatch(/^nothing pruned: /);
    expect(w.discovery.discover).not.toHaveBeenCalled();
    expect(w.backups.listBackups).not.toHaveBeenCalled();
  });

  it('with a table, lists that table only and plans its job alone', async () => {
    // Prepare
    const orders = [bk('orders', 'daily', 1), bk('orders', 'daily', 2)];
    const w = sweepWorld([tagged('orders', 'daily'), tagged('users', 'daily')], [...orders, bk('users', 'daily', 1)]);
    // Act
    const plan = await planSweep(w.deps, { ...SWEEP, table: 'orders' });
    // Assess
    expect(w.backups.listBackups).toHaveBeenCalledTimes(1);
    expect(w.backups.listBackups).toHaveBeenCalledWith('orders');
    expect(plan.jobs).toHaveLength(1);
    expect(plan.jobs[0]).toMatchObject({ table: 'orders', kind: 'prune', listing: orders });
    expect(plan.results).toEqual([]);
  });

  it('with a table not tagged with the policy, plans nothing and says its backups are kept', async () => {
    // Prepare
    const w = sweepWorld([tagged('orders', 'daily')], [bk('legacy', 'daily', 3)]);
    // Act
    const plan = await planSweep(w.deps, { ...SWEEP, table: 'legacy' });
    // Assess
    expect(plan.jobs).toEqual([]);
    expect(plan.results).toEqual([{ table: 'legacy', policy: 'daily', status: 'skipped', reason: expect.stringContaining('its backups are kept') }]);
    expect(plan.problems).toEqual([expect.objectContaining({ kind: 'orphaned', table: 'legacy' })]);
  });

  it('rethrows a retryable error from ListBackups (the sweep is retried)', async () => {
    // Prepare
    const w = sweepWorld([tagged('orders', 'daily')], []);
    const throttled = new RetryableError('ListBackups (account): ThrottlingException: Rate exceeded');
    w.backups.listError = throttled;
    // Act
    const err = await rejectionOf(planSweep(w.deps, SWEEP));
    // Assess
    expect(err).toBe(throttled);
  });

  it('turns a non-retryable ListBackups error into a "listing" problem and plans nothing', async () => {
    // Prepare
    const w = sweepWorld([tagged('orders', 'daily')], []);
    w.backups.listError = Object.assign(new Error('not authorized to perform dynamodb:ListBackups'), { name: 'AccessDeniedException' });
    // Act
    const plan = await planSweep(w.deps, SWEEP);
    // Assess
    expect(plan.jobs).toEqual([]);
    expect(plan.problems).toEqual([{ kind: 'listing', message: 'nothing pruned: ListBackups failed: AccessDeniedException: not authorized to perform dynamodb:ListBackups' }]);
  });

  it('rethrows an SSM outage while reading the policy as a RetryableError, listing nothing', async () => {
    // Prepare
    const w = sweepWorld([tagged('orders', 'daily')], []);
    w.policies.getPolicyError = new PolicyUnavailableError('daily', 'SSM is down', { retryable: true });
    // Act
    const err = await rejectionOf(planSweep(w.deps, SWEEP));
    // Assess
    expect(err).toBeInstanceOf(RetryableError);
    expect(w.backups.listBackups).not.toHaveBeenCalled();
  });
});

// ---------------------------------------------------------------------------------------------
// processJob: prune jobs, and pruning after a backup
// ---------------------------------------------------------------------------------------------

describe('processJob and pruning', () => {
  it('a prune job prunes without CreateBackup and returns "pruned" with the number deleted', async () => {
    // Prepare
    const records = dailyRecords(6);
    const w = workerWorld(records);
    // Act
    const result = await processJob(w.worker, pruneJob());
    // Assess
    expect(result).toEqual({ table: 'orders', policy: 'daily', status: 'pruned', deleted: 3, reason: '3 deleted, 3 kept' });
    expect(w.backups.createBackup).not.toHaveBeenCalled();
    expect(w.backups.describeTable).not.toHaveBeenCalled();
    expect(w.ledger.claim).not.toHaveBeenCalled();
    expect(w.backups.deleteBackup).toHaveBeenCalledTimes(3);
    expect(w.backups.listBackups).not.toHaveBeenCalled();
  });

  it('a prune job with the sweep\'s listing plans from it and reconciles the ledger', async () => {
    // Prepare
    const records = dailyRecords(6);
    const w = workerWorld(records);
    const listing = records.slice(0, 5).map((r) => infoOf(r)); // records[5] vanished
    // Act
    const result = await processJob(w.worker, pruneJob({ listing, listedAt: minutesAgo(2).toISOString() }));
    // Assess
    expect(result).toMatchObject({ status: 'pruned', deleted: 2 });
    expect(w.ledger.byArn(records[5].backupArn!)).toMatchObject({ status: 'DELETED', deleteReason: expect.stringContaining('no longer exists') });
    expect(w.backups.deleteBackup.mock.calls.map(([arn]) => arn)).toEqual([records[3].backupArn, records[4].backupArn]);
  });

  it('a prune job reports deferred deletions and stays "pruned"', async () => {
    // Prepare
    const records = dailyRecords(5);
    const w = workerWorld(records);
    w.backups.deleteErrors.set(records[4].backupArn!, new RetryableError('DeleteBackup x: BackupInUseException: in use'));
    // Act
    const result = await processJob(w.worker, pruneJob());
    // Assess
    expect(result).toEqual({
      table: 'orders',
      policy: 'daily',
      status: 'pruned',
      deleted: 1,
      deferred: 1,
      reason: expect.stringContaining('1 deletion(s) deferred'),
    });
  });

  it('a prune job with a failed deletion is "failed", naming it', async () => {
    // Prepare
    const records = dailyRecords(4);
    const w = workerWorld(records);
    w.backups.deleteErrors.set(records[3].backupArn!, Object.assign(new Error('denied'), { name: 'AccessDeniedException' }));
    // Act
    const result = await processJob(w.worker, pruneJob());
    // Assess
    expect(result).toEqual({ table: 'orders', policy: 'daily', status: 'failed', deleted: 0, reason: '1 deletion(s) failed: AccessDeniedException: denied' });
  });

  it('a prune job under an invalid policy fails "not pruned", deletes nothing and records no failed attempt', async () => {
    // Prepare
    const w = workerWorld(dailyRecords(6), { daily: { retention: { keepLast: 'all' } } });
    // Act
    const result = await processJob(w.worker, pruneJob());
    // Assess
    expect(result.status).toBe('failed');
    expect(result.reason).toMatch(/^not pruned: /);
    expect(result.reason).toContain('retention.keepLast');
    expect(w.backups.deleteBackup).not.toHaveBeenCalled();
    expect(w.ledger.recordFailure).not.toHaveBeenCalled();
    expect(w.ledger.setBackupStatus).not.toHaveBeenCalled();
  });

  it('a prune job under an invalid policy from the source (PolicyValidationError) deletes nothing', async () => {
    // Prepare
    const w = workerWorld(dailyRecords(6));
    w.policies.effectiveError = new PolicyValidationError('"daily"', ['retention.keepDaily: Too small']);
    // Act
    const result = await processJob(w.worker, pruneJob());
    // Assess
    expect(result).toEqual({ table: 'orders', policy: 'daily', status: 'failed', reason: 'not pruned: PolicyValidationError: invalid policy "daily": retention.keepDaily: Too small' });
    expect(w.backups.deleteBackup).not.toHaveBeenCalled();
  });

  it('after a good backup, prunes the table by the ledger and reports the number deleted', async () => {
    // Prepare
    const records = dailyRecords(6);
    const w = workerWorld(records);
    // Act
    const result = await processJob(w.worker, job());
    // Assess
    expect(result).toEqual({ table: 'orders', policy: 'daily', status: 'backed-up', backupArn: arnOf('orders', `${NOW.getTime()}-new`), deleted: 3 });
    expect(w.backups.createBackup).toHaveBeenCalledTimes(1);
    // The new backup is CREATING: the 3 newest AVAILABLE are kept, the 3 oldest go.
    expect(w.backups.deleteBackup.mock.calls.map(([arn]) => arn)).toEqual(records.slice(3).map((r) => r.backupArn));
    expect(w.backups.listBackups).not.toHaveBeenCalled();
  });

  it('after a good backup, prunes even though the attempt before it failed, and reads the state once', async () => {
    // Prepare
    const records = dailyRecords(4);
    const w = workerWorld(records);
    w.ledger.states.set('orders|daily', { table: 'orders', policy: 'daily', lastBackupAt: daysAgo(1).toISOString(), lastAttemptAt: minutesAgo(90).toISOString(), lastAttemptStatus: 'failed' });
    // Act
    const result = await processJob(w.worker, job());
    // Assess
    expect(result).toMatchObject({ status: 'backed-up', deleted: 1 });
    expect(w.backups.deleteBackup).toHaveBeenCalledWith(records[3].backupArn);
    expect(w.ledger.getState).toHaveBeenCalledTimes(1);
  });

  it('after a good backup, still deletes nothing while pruning is frozen', async () => {
    // Prepare
    const w = workerWorld(dailyRecords(6));
    w.ledger.states.set('orders|daily', { table: 'orders', policy: 'daily', lastBackupAt: daysAgo(1).toISOString(), lastAttemptStatus: 'succeeded', pruneFrozenUntil: new Date(NOW.getTime() + DAY).toISOString() });
    // Act
    const result = await processJob(w.worker, job());
    // Assess
    expect(result).toMatchObject({ status: 'backed-up', deleted: 0, reason: expect.stringMatching(/^pruning blocked: prune frozen until /) });
    expect(w.backups.deleteBackup).not.toHaveBeenCalled();
  });

  it('a backup job carrying the planner\'s listing prunes from it: no DescribeBackup, and its own new backup is not judged missing', async () => {
    // Prepare
    const records = dailyRecords(5);
    const creating = ledgerRecord(minutesAgo(30), { status: 'CREATING' });
    const w = workerWorld([...records, creating]);
    const listedAt = minutesAgo(3);
    const listing = [...records.map((r) => infoOf(r)), infoOf(creating, 'AVAILABLE')];
    // Act
    const result = await processJob(w.worker, job({ listing, listedAt: listedAt.toISOString() }));
    // Assess
    expect(w.backups.describeBackupStatus).not.toHaveBeenCalled();
    expect(w.backups.listBackups).not.toHaveBeenCalled();
    expect(w.ledger.byArn(creating.backupArn!)?.status).toBe('AVAILABLE');
    const created = w.ledger.byArn(arnOf('orders', `${NOW.getTime()}-new`));
    expect(created?.status).toBe('CREATING');
    // Six AVAILABLE in the listing, keepLast 3: the three oldest go.
    expect(result).toMatchObject({ status: 'backed-up', deleted: 3 });
    expect(w.backups.deleteBackup.mock.calls.map(([arn]) => arn)).toEqual(records.slice(2).map((r) => r.backupArn));
  });

  it('a pruning error after a good backup keeps the status "backed-up", with a reason about pruning', async () => {
    // Prepare
    const w = workerWorld(dailyRecords(6));
    w.ledger.listBackupRecords.mockRejectedValueOnce(new RetryableError('ledger ddb-backup-ledger: ThrottlingException: slow down'));
    // Act
    const result = await processJob(w.worker, job());
    // Assess
    expect(result).toEqual({
      table: 'orders',
      policy: 'daily',
      status: 'backed-up',
      backupArn: arnOf('orders', `${NOW.getTime()}-new`),
      reason: 'backup ok; pruning failed: RetryableError: ledger ddb-backup-ledger: ThrottlingException: slow down',
    });
    expect(w.ledger.recordFailure).not.toHaveBeenCalled();
    expect(w.backups.deleteBackup).not.toHaveBeenCalled();
  });

  it('a deferred deletion after a good backup is noted on the "backed-up" result', async () => {
    // Prepare
    const records = dailyRecords(4);
    const w = workerWorld(records);
    w.backups.deleteErrors.set(records[3].backupArn!, new RetryableError('DeleteBackup x: BackupInUseException: in use'));
    // Act
    const result = await processJob(w.worker, job());
    // Assess
    expect(result).toMatchObject({ status: 'backed-up', deleted: 0, deferred: 1, reason: expect.stringContaining('1 deletion(s) deferred') });
  });
});
