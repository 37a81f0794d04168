/**
 * Pruning (pruneTable), the prune sweep's plan (planSweep) and the worker's prune paths
 * (processJob), over the in-memory ledger and in-memory fakes of the other ports: no SDK, no network.
 *
 * The ledger is the only source of truth for what the service owns: a listing only confirms that
 * a ledger backup still exists, and a backup's name proves nothing.
 */
import { PolicyUnavailableError, PolicyValidationError, RetryableError } from '../../lambda/core/errors';
import { parseJob, type BackupJob } from '../../lambda/core/jobs';
import { backupName } from '../../lambda/core/naming';
import { parsePolicy, resolveEffectivePolicy, type EffectivePolicy, type Policy, type PolicyInput } from '../../lambda/core/policy';
import type {
  BackupApi,
  BackupHold,
  BackupInfo,
  Clock,
  CreatedBackup,
  LedgerBackupRecord,
  LedgerStatus,
  PolicySource,
  TableDiscovery,
  TableFacts,
  TableState,
} from '../../lambda/core/ports';
import { SETTLE_AFTER_MS, pruneTable, type PruneDeps, type PruneRequest } from '../../lambda/core/retention/prune';
import { planSweep, type SweepDeps, type SweepRequest } from '../../lambda/core/retention/sweep';
import type { TaggedTable } from '../../lambda/core/tags';
import { processJob, type WorkerDeps } from '../../lambda/core/backup/worker';
import { MemoryLedger } from '../support/memory-ledger';

// ---------------------------------------------------------------------------------------------
// Fakes and fixtures
// ---------------------------------------------------------------------------------------------

const NOW = new Date('2026-11-24T03:00:05.000Z');
const clock: Clock = { now: () => NOW };
const MINUTE = 60_000;
const DAY = 86_400_000;
const ACCOUNT = 'arn:aws:dynamodb:us-east-1:123456789012';

const ago = (ms: number) => new Date(NOW.getTime() - ms);
const minutesAgo = (m: number) => ago(m * MINUTE);
const daysAgo = (d: number) => ago(d * DAY);
const arnOf = (table: string, id: string) => `${ACCOUNT}:table/${table}/backup/${id}`;
const arns = (records: readonly LedgerBackupRecord[]) => records.map((r) => r.backupArn!);

const LIVE: ReadonlySet<LedgerStatus> = new Set<LedgerStatus>(['CREATING', 'AVAILABLE']);

/**
 * A ledger record of one of the service's backups, created at `createdAt` by the attempt whose
 * claim chose its name.
 */
function ledgerRecord(
  createdAt: Date,
  opts: { table?: string; policy?: string; status?: LedgerStatus; id?: string } = {},
): LedgerBackupRecord {
  const table = opts.table ?? 'orders';
  const policy = opts.policy ?? 'daily';
  const slot = `schedule:${createdAt.toISOString()}`;
  const attemptId = `attempt-${createdAt.getTime()}`;
  return {
    table,
    policy,
    slot,
    trigger: 'schedule',
    runId: `${policy}|schedule|${slot}`,
    requestedAt: createdAt.toISOString(),
    status: opts.status ?? 'AVAILABLE',
    claimedAt: createdAt.toISOString(),
    attemptId,
    backupArn: arnOf(table, opts.id ?? `${createdAt.getTime()}-${policy}`),
    backupName: backupName(policy, 'schedule', createdAt, slot, attemptId),
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

const HOLD: BackupHold = { reason: 'legal: case 42', by: 'counsel@example.com', at: daysAgo(1).toISOString() };

/** Backups that exist, by ARN; errors to throw from deleteBackup, per ARN. */
class FakeBackups implements BackupApi {
  readonly existing = new Map<string, BackupInfo>();
  readonly deleteErrors = new Map<string, Error>();
  /** Backups that exist but that ListBackups does not show yet (it may lag a new backup). */
  readonly lagging = new Set<string>();
  listError?: Error;
  /** Runs at the start of each listing: what happens meanwhile elsewhere. */
  beforeList?: () => Promise<unknown>;

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
    await this.beforeList?.();
    if (this.listError) throw this.listError;
    return [...this.existing.values()].filter((b) => (table === undefined || b.table === table) && !this.lagging.has(b.arn));
  });
}

/** Every SDK-facing call of the fakes, for "no AWS call at all". */
const backupCalls = (b: FakeBackups) =>
  [b.describeTable, b.createBackup, b.describeBackupStatus, b.deleteBackup, b.listBackups].reduce((n, fn) => n + fn.mock.calls.length, 0);

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

/** The ledger's methods the tests count or make fail. */
function spiesOn(ledger: MemoryLedger) {
  return {
    listBackupRecords: jest.spyOn(ledger, 'listBackupRecords'),
    getState: jest.spyOn(ledger, 'getState'),
    readLive: jest.spyOn(ledger, 'readLive'),
    setBackupStatus: jest.spyOn(ledger, 'setBackupStatus'),
    markDeleting: jest.spyOn(ledger, 'markDeleting'),
    unmarkDeleting: jest.spyOn(ledger, 'unmarkDeleting'),
    claim: jest.spyOn(ledger, 'claim'),
    recordFailure: jest.spyOn(ledger, 'recordFailure'),
  };
}

/** The ledger holds `records`; DynamoDB holds the backups of the live ones, all AVAILABLE. */
function pruneWorld(records: readonly LedgerBackupRecord[], state?: Partial<TableState>) {
  const ledger = new MemoryLedger();
  for (const r of records) ledger.seed(r);
  if (state) ledger.seedState({ table: 'orders', policy: 'daily', ...state });
  const spy = spiesOn(ledger);
  const backups = new FakeBackups(records.filter((r) => LIVE.has(r.status)).map((r) => infoOf(r)));
  const deps: PruneDeps = { backups, ledger, clock };
  const statusOf = (r: LedgerBackupRecord) => ledger.record(r)?.status;
  return { ledger, spy, backups, deps, statusOf };
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

const NEW_ARN = arnOf('orders', `${NOW.getTime()}-new`);

async function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (err) {
    return err;
  }
  throw new Error('expected a rejection, but the promise resolved');
}

// ---------------------------------------------------------------------------------------------
// pruneTable: planned from the ledger, confirmed by the table's listing only when it deletes
// ---------------------------------------------------------------------------------------------

describe('pruneTable', () => {
  it('keepLast 3 over 6 ledger records lists the table once, then marks each of the 3 oldest DELETED before deleting it', async () => {
    // Prepare
    const records = dailyRecords(6);
    const w = pruneWorld(records);
    const oldest = records.slice(3);
    // Act
    const outcome = await pruneTable(w.deps, pruneRequest());
    // Assess
    expect(outcome.plan.blocked).toBeUndefined();
    expect(outcome.plan.keep.map((d) => d.arn)).toEqual(arns(records.slice(0, 3)));
    expect(outcome.deleted).toEqual(arns(oldest));
    expect(outcome).toMatchObject({ deferred: [], failed: [], vanished: 0, reconciled: 0, confirmed: true });
    expect(w.backups.listBackups).toHaveBeenCalledTimes(1);
    expect(w.backups.listBackups).toHaveBeenCalledWith('orders');
    expect(w.backups.deleteBackup.mock.calls.map(([arn]) => arn)).toEqual(arns(oldest));
    expect(w.backups.describeBackupStatus).not.toHaveBeenCalled();
    expect(w.spy.markDeleting).toHaveBeenCalledTimes(3);
    oldest.forEach((r, i) => {
      expect(w.spy.markDeleting).toHaveBeenNthCalledWith(i + 1, r, { at: NOW.toISOString(), reason: 'pruned: not kept by any retention rule' });
      expect(w.spy.markDeleting.mock.invocationCallOrder[i]).toBeLessThan(w.backups.deleteBackup.mock.invocationCallOrder[i]);
      expect(w.ledger.record(r)).toMatchObject({ status: 'DELETED', deletedAt: NOW.toISOString(), deleteReason: 'pruned: not kept by any retention rule' });
    });
    for (const r of records.slice(0, 3)) expect(w.statusOf(r)).toBe('AVAILABLE');
    expect(w.spy.setBackupStatus).not.toHaveBeenCalled();
    expect(w.spy.unmarkDeleting).not.toHaveBeenCalled();
  });

  it('makes no AWS call and no ledger write when the ledger plan deletes nothing', async () => {
    // Prepare
    const records = dailyRecords(3);
    const w = pruneWorld(records);
    w.backups.existing.delete(records[1].backupArn!); // deleted by hand: only a listing would show it
    // Act
    const outcome = await pruneTable(w.deps, pruneRequest());
    // Assess
    expect(outcome).toMatchObject({ deleted: [], deferred: [], failed: [], vanished: 0, reconciled: 0, confirmed: false });
    expect(outcome.plan.keep.map((d) => d.arn)).toEqual(arns(records));
    expect(backupCalls(w.backups)).toBe(0);
    expect(w.ledger.writes).toBe(0);
    expect(w.spy.listBackupRecords).toHaveBeenCalledTimes(1);
  });

  it("reads only the policy's records (listBackupRecords with the policy); another policy's backups on the table are never judged", async () => {
    // Prepare
    const daily = dailyRecords(4);
    const hourly = Array.from({ length: 4 }, (_, i) => ledgerRecord(daysAgo(i + 10), { policy: 'hourly' }));
    const w = pruneWorld([...daily, ...hourly]);
    // Act
    const outcome = await pruneTable(w.deps, pruneRequest({ retention: { keepLast: 1 } }));
    // Assess
    expect(w.spy.listBackupRecords).toHaveBeenCalledTimes(1);
    expect(w.spy.listBackupRecords).toHaveBeenCalledWith('orders', 'daily');
    expect(outcome.plan.decisions.map((d) => d.arn)).toEqual(arns(daily));
    expect(outcome.deleted).toEqual(arns(daily.slice(1)));
    for (const r of hourly) {
      expect(w.backups.deleteBackup).not.toHaveBeenCalledWith(r.backupArn);
      expect(w.statusOf(r)).toBe('AVAILABLE');
    }
  });

  it("never judges another policy's records, even when the ledger read returns them", async () => {
    // Prepare
    const daily = dailyRecords(2);
    const hourly = Array.from({ length: 3 }, (_, i) => ledgerRecord(daysAgo(i + 10), { policy: 'hourly' }));
    const w = pruneWorld([...daily, ...hourly]);
    w.spy.listBackupRecords.mockImplementation(async (table: string) => w.ledger.all(table));
    // Act
    const outcome = await pruneTable(w.deps, pruneRequest({ retention: { keepLast: 1 } }));
    // Assess
    expect(outcome.plan.decisions.map((d) => d.arn)).toEqual(arns(daily));
    expect(outcome.deleted).toEqual([daily[1].backupArn]);
    for (const r of hourly) expect(w.backups.deleteBackup).not.toHaveBeenCalledWith(r.backupArn);
  });

  it('never deletes nor counts a backup the listing shows but the ledger does not hold, whatever its name', async () => {
    // Prepare
    const records = dailyRecords(3);
    const w = pruneWorld(records);
    const lookalikeAt = minutesAgo(30);
    const foreign: BackupInfo[] = [
      { arn: arnOf('orders', 'manual-1'), name: 'before-migration', table: 'orders', createdAt: daysAgo(400).toISOString(), status: 'AVAILABLE' },
      // Formed exactly like the service's names (with an attempt hash), and newer than every ledger backup.
      {
        arn: arnOf('orders', 'manual-2'),
        name: backupName('daily', 'schedule', lookalikeAt, `schedule:${lookalikeAt.toISOString()}`, 'not-a-claim-of-ours'),
        table: 'orders',
        createdAt: lookalikeAt.toISOString(),
        status: 'AVAILABLE',
      },
      { arn: arnOf('orders', 'manual-3'), name: backupName('daily', 'schedule', daysAgo(300), 'schedule:old'), table: 'orders', createdAt: daysAgo(300).toISOString(), status: 'AVAILABLE' },
      { arn: arnOf('orders', 'manual-4'), table: 'orders', createdAt: daysAgo(200).toISOString(), status: 'AVAILABLE' },
    ];
    for (const b of foreign) w.backups.existing.set(b.arn, b);
    // Act
    const outcome = await pruneTable(w.deps, pruneRequest({ retention: { keepLast: 1 } }));
    // Assess
    expect(w.backups.listBackups).toHaveBeenCalledTimes(1);
    expect(outcome.plan.decisions.map((d) => d.arn)).toEqual(arns(records));
    // The newer look-alike is not counted: the newest ledger backup is the one kept.
    expect(outcome.plan.keep.map((d) => d.arn)).toEqual([records[0].backupArn]);
    expect(outcome.deleted).toEqual(arns(records.slice(1)));
    for (const b of foreign) {
      expect(w.backups.deleteBackup).not.toHaveBeenCalledWith(b.arn);
      expect(w.backups.existing.has(b.arn)).toBe(true);
    }
    expect(w.ledger.all('orders').map((r) => r.backupArn).sort()).toEqual(arns(records).sort());
    expect(outcome.reconciled).toBe(0);
  });

  it('marks a record missing from the listing, and not found by DescribeBackup, VANISHED; it no longer counts and is reported', async () => {
    // Prepare
    const records = dailyRecords(5);
    const w = pruneWorld(records);
    const gone = records[1];
    w.backups.existing.delete(gone.backupArn!); // deleted outside the service
    // Act
    const outcome = await pruneTable(w.deps, pruneRequest());
    // Assess
    expect(w.backups.listBackups).toHaveBeenCalledTimes(1);
    // Missing from the listing: one DescribeBackup makes sure before it is judged gone.
    expect(w.backups.describeBackupStatus).toHaveBeenCalledTimes(1);
    expect(w.backups.describeBackupStatus).toHaveBeenCalledWith(gone.backupArn);
    expect(outcome.vanished).toBe(1);
    expect(w.spy.setBackupStatus).toHaveBeenCalledWith(gone, 'VANISHED', { at: NOW.toISOString(), reason: expect.stringContaining('no longer exists') }, ['CREATING', 'AVAILABLE']);
    expect(w.ledger.record(gone)).toMatchObject({ status: 'VANISHED', deletedAt: NOW.toISOString(), deleteReason: expect.stringContaining('deleted outside the service') });
    // keepLast 3 keeps the three newest that exist: only the oldest goes.
    expect(outcome.plan.decisions.map((d) => d.arn)).not.toContain(gone.backupArn);
    expect(outcome.plan.keep.map((d) => d.arn)).toEqual(arns([records[0], records[2], records[3]]));
    expect(outcome.deleted).toEqual([records[4].backupArn]);
    expect(w.backups.deleteBackup).not.toHaveBeenCalledWith(gone.backupArn);
  });

  it.each<[string, string | undefined, LedgerStatus, { vanished: number; reconciled: number; deleted: number[] }]>([
    ['not found', undefined, 'VANISHED', { vanished: 1, reconciled: 0, deleted: [3] }],
    ['DELETED', 'DELETED', 'VANISHED', { vanished: 1, reconciled: 0, deleted: [3] }],
    ['still CREATING', 'CREATING', 'CREATING', { vanished: 0, reconciled: 0, deleted: [2, 3] }],
    ['AVAILABLE', 'AVAILABLE', 'AVAILABLE', { vanished: 0, reconciled: 1, deleted: [2, 3] }],
  ])('a new CREATING record the listing does not show, that DescribeBackup finds %s, ends %s', async (_found, described, status, expected) => {
    // Prepare
    const records = dailyRecords(4);
    const fresh = ledgerRecord(minutesAgo(1), { status: 'CREATING' });
    const w = pruneWorld([...records, fresh]);
    if (described === undefined) w.backups.existing.delete(fresh.backupArn!);
    else w.backups.existing.set(fresh.backupArn!, infoOf(fresh, described));
    w.backups.lagging.add(fresh.backupArn!);
    // Act
    const outcome = await pruneTable(w.deps, pruneRequest());
    // Assess
    expect(w.backups.listBackups).toHaveBeenCalledTimes(1);
    expect(w.backups.describeBackupStatus).toHaveBeenCalledTimes(1);
    expect(w.backups.describeBackupStatus).toHaveBeenCalledWith(fresh.backupArn);
    expect(w.statusOf(fresh)).toBe(status);
    expect(outcome).toMatchObject({ vanished: expected.vanished, reconciled: expected.reconciled });
    // While it exists it counts toward keepLast (and is never deleted); VANISHED, it does not count.
    expect(w.backups.deleteBackup).not.toHaveBeenCalledWith(fresh.backupArn);
    expect(outcome.deleted).toEqual(expected.deleted.map((i) => records[i].backupArn));
  });

  it('deletes nothing when a backup the listing does not show cannot be described, and lets the error go up', async () => {
    // Prepare
    const records = dailyRecords(5);
    const w = pruneWorld(records);
    w.backups.lagging.add(records[1].backupArn!);
    const throttled = new RetryableError(`DescribeBackup ${records[1].backupArn}: ThrottlingException: Rate exceeded`);
    w.backups.describeBackupStatus.mockRejectedValueOnce(throttled);
    // Act
    const err = await rejectionOf(pruneTable(w.deps, pruneRequest()));
    // Assess
    expect(err).toBe(throttled);
    expect(w.backups.deleteBackup).not.toHaveBeenCalled();
    expect(w.ledger.writes).toBe(0);
  });

  it('presumes a record CREATING for over 5 minutes AVAILABLE for the first plan; the listing settles it, with no DescribeBackup', async () => {
    // Prepare
    const older = ledgerRecord(daysAgo(1));
    const settled = ledgerRecord(ago(SETTLE_AFTER_MS + MINUTE), { status: 'CREATING' });
    const w = pruneWorld([older, settled]);
    // Act
    const first = await pruneTable(w.deps, pruneRequest({ retention: { keepLast: 1 } }));
    const second = await pruneTable(w.deps, pruneRequest({ retention: { keepLast: 1 } }));
    // Assess
    expect(w.backups.listBackups).toHaveBeenCalledTimes(1);
    expect(w.backups.describeBackupStatus).not.toHaveBeenCalled();
    expect(w.spy.setBackupStatus).toHaveBeenCalledWith(settled, 'AVAILABLE', undefined, ['CREATING']);
    expect(w.statusOf(settled)).toBe('AVAILABLE');
    expect(first.reconciled).toBe(1);
    expect(first.plan.keep.map((d) => d.arn)).toEqual([settled.backupArn]);
    expect(first.deleted).toEqual([older.backupArn]);
    expect(second).toMatchObject({ deleted: [], reconciled: 0, confirmed: false });
  });

  it('does not presume a record CREATING for under 5 minutes settled: the newest AVAILABLE backup is kept and nothing is listed', async () => {
    // Prepare
    const older = ledgerRecord(daysAgo(1));
    const fresh = ledgerRecord(ago(SETTLE_AFTER_MS - MINUTE), { status: 'CREATING' });
    const w = pruneWorld([older, fresh]);
    // Act
    const outcome = await pruneTable(w.deps, pruneRequest({ retention: { keepLast: 1 } }));
    // Assess
    expect(outcome.plan.keep.map((d) => d.arn)).toEqual(arns([fresh, older]));
    expect(outcome.plan.keep[1].reasons).toContain('newest available backup');
    expect(outcome).toMatchObject({ deleted: [], confirmed: false });
    expect(backupCalls(w.backups)).toBe(0);
    expect(w.ledger.writes).toBe(0);
  });

  it('deletes nothing when a record presumed settled is still CREATING in the listing', async () => {
    // Prepare
    const older = ledgerRecord(daysAgo(1));
    const slow = ledgerRecord(minutesAgo(20), { status: 'CREATING' });
    const w = pruneWorld([older, slow]);
    w.backups.existing.set(slow.backupArn!, infoOf(slow, 'CREATING'));
    // Act
    const outcome = await pruneTable(w.deps, pruneRequest({ retention: { keepLast: 1 } }));
    // Assess
    expect(w.backups.listBackups).toHaveBeenCalledTimes(1);
    expect(outcome.plan.delete).toEqual([]);
    expect(outcome.deleted).toEqual([]);
    expect(w.backups.deleteBackup).not.toHaveBeenCalled();
    expect(w.spy.markDeleting).not.toHaveBeenCalled();
    expect(w.spy.setBackupStatus).not.toHaveBeenCalled();
    expect(w.statusOf(slow)).toBe('CREATING');
    expect(w.statusOf(older)).toBe('AVAILABLE');
  });

  it('revives a VANISHED record that the listing shows again; live again, it counts at the next prune', async () => {
    // Prepare
    const records = dailyRecords(4);
    const back: LedgerBackupRecord = {
      ...ledgerRecord(daysAgo(1.5), { status: 'VANISHED' }),
      deletedAt: daysAgo(1).toISOString(),
      deleteReason: 'backup no longer exists: deleted outside the service',
    };
    const w = pruneWorld([...records, back]);
    w.backups.existing.set(back.backupArn!, infoOf(back)); // a listing that lagged, or a restore of the same ARN
    // Act
    const first = await pruneTable(w.deps, pruneRequest());
    const second = await pruneTable(w.deps, pruneRequest());
    // Assess
    expect(w.spy.setBackupStatus).toHaveBeenCalledWith(back, 'AVAILABLE', undefined, ['VANISHED']);
    expect(w.statusOf(back)).toBe('AVAILABLE');
    expect(first.reconciled).toBe(1);
    expect(first.deleted).toEqual([records[3].backupArn]);
    expect(second.plan.keep.map((d) => d.arn)).toEqual(arns([records[0], back, records[1]]));
    expect(second.deleted).toEqual([records[2].backupArn]);
  });

  it('never deletes a held record: the plan keeps it and it is never marked', async () => {
    // Prepare
    const records = dailyRecords(6);
    const held: LedgerBackupRecord = { ...records[5], hold: HOLD };
    const w = pruneWorld([...records.slice(0, 5), held]);
    // Act
    const outcome = await pruneTable(w.deps, pruneRequest());
    // Assess
    expect(outcome.plan.keep.find((d) => d.arn === held.backupArn)?.reasons).toContain(`held: ${HOLD.reason}`);
    expect(outcome.deleted).toEqual(arns(records.slice(3, 5)));
    expect(w.spy.markDeleting).not.toHaveBeenCalledWith(held, expect.anything());
    expect(w.backups.deleteBackup).not.toHaveBeenCalledWith(held.backupArn);
    expect(w.ledger.record(held)).toMatchObject({ status: 'AVAILABLE', hold: HOLD });
  });

  it.each<[string, 'held' | 'not-live', (ledger: MemoryLedger, r: LedgerBackupRecord) => Promise<unknown>, Partial<LedgerBackupRecord>]>([
    ['a hold placed after the plan was read', 'held', (ledger, r) => ledger.placeHold(r, HOLD), { status: 'AVAILABLE', hold: HOLD }],
    [
      'another run deleting it first',
      'not-live',
      (ledger, r) => ledger.setBackupStatus(r, 'DELETED', { at: minutesAgo(1).toISOString(), reason: 'pruned: by another run' }),
      { status: 'DELETED', deleteReason: 'pruned: by another run' },
    ],
  ])('skips a target when markDeleting answers so: %s ("%s")', async (_why, answer, race, after) => {
    // Prepare
    const records = dailyRecords(6);
    const w = pruneWorld(records);
    const target = records[3];
    w.backups.beforeList = () => race(w.ledger, target);
    // Act
    const outcome = await pruneTable(w.deps, pruneRequest());
    // Assess
    expect(w.spy.markDeleting).toHaveBeenNthCalledWith(1, target, expect.objectContaining({ at: NOW.toISOString() }));
    await expect(w.spy.markDeleting.mock.results[0].value).resolves.toBe(answer);
    expect(w.backups.deleteBackup).not.toHaveBeenCalledWith(target.backupArn);
    expect(outcome.deleted).toEqual(arns(records.slice(4)));
    expect(outcome).toMatchObject({ deferred: [], failed: [] });
    expect(w.ledger.record(target)).toMatchObject(after);
    expect(w.spy.unmarkDeleting).not.toHaveBeenCalled();
  });

  it('dryRun lists to confirm and reports what it found, but deletes nothing and writes nothing to the ledger', async () => {
    // Prepare
    const records = dailyRecords(6);
    const gone = records[1];
    const stale = ledgerRecord(minutesAgo(30), { status: 'CREATING' });
    const w = pruneWorld([...records, stale]);
    w.backups.existing.delete(gone.backupArn!);
    // Act
    const outcome = await pruneTable(w.deps, pruneRequest({ dryRun: true }));
    // Assess
    expect(w.backups.listBackups).toHaveBeenCalledTimes(1);
    expect(outcome).toMatchObject({ deleted: [], vanished: 1, reconciled: 0, confirmed: true });
    // The settled one counts, the vanished one does not.
    expect(outcome.plan.keep.map((d) => d.arn)).toEqual(arns([stale, records[0], records[2]]));
    expect(outcome.plan.delete.map((d) => d.arn)).toEqual(arns(records.slice(3)));
    expect(w.backups.deleteBackup).not.toHaveBeenCalled();
    expect(w.ledger.writes).toBe(0);
    expect(w.statusOf(gone)).toBe('AVAILABLE');
    expect(w.statusOf(stale)).toBe('CREATING');
  });

  it('deletes nothing when the listing fails, and lets the error go up', async () => {
    // Prepare
    const w = pruneWorld(dailyRecords(6));
    const throttled = new RetryableError('ListBackups orders: ThrottlingException: Rate exceeded');
    w.backups.listError = throttled;
    // Act
    const err = await rejectionOf(pruneTable(w.deps, pruneRequest()));
    // Assess
    expect(err).toBe(throttled);
    expect(w.backups.deleteBackup).not.toHaveBeenCalled();
    expect(w.ledger.writes).toBe(0);
  });

  it('defers a deletion that meets BackupInUseException and undoes its mark, while the others proceed', async () => {
    // Prepare
    const records = dailyRecords(6);
    const w = pruneWorld(records);
    const inUse = records[4];
    w.backups.deleteErrors.set(inUse.backupArn!, new RetryableError(`DeleteBackup ${inUse.backupArn}: BackupInUseException: Backup is being deleted`));
    // Act
    const outcome = await pruneTable(w.deps, pruneRequest());
    // Assess
    expect(outcome.deferred).toEqual([{ arn: inUse.backupArn, reason: expect.stringContaining('BackupInUseException') }]);
    expect(outcome.deleted).toEqual(arns([records[3], records[5]]));
    expect(outcome.failed).toEqual([]);
    expect(w.backups.deleteBackup).toHaveBeenCalledTimes(3);
    expect(w.spy.unmarkDeleting).toHaveBeenCalledTimes(1);
    expect(w.spy.unmarkDeleting).toHaveBeenCalledWith(inUse);
    expect(w.ledger.record(inUse)?.status).toBe('AVAILABLE');
    expect(w.ledger.record(inUse)).not.toHaveProperty('deletedAt');
    expect(w.ledger.record(inUse)).not.toHaveProperty('deleteReason');
  });

  it('defers a throttled deletion (RetryableError), and the record is live again', async () => {
    // Prepare
    const records = dailyRecords(4);
    const w = pruneWorld(records);
    const throttled = records[3];
    w.backups.deleteErrors.set(throttled.backupArn!, new RetryableError(`DeleteBackup ${throttled.backupArn}: ThrottlingException: Rate exceeded`));
    // Act
    const outcome = await pruneTable(w.deps, pruneRequest());
    // Assess
    expect(outcome.deferred).toEqual([{ arn: throttled.backupArn, reason: expect.stringContaining('ThrottlingException') }]);
    expect(outcome.deleted).toEqual([]);
    expect(outcome.failed).toEqual([]);
    expect(w.spy.unmarkDeleting).toHaveBeenCalledWith(throttled);
    expect(w.statusOf(throttled)).toBe('AVAILABLE');
  });

  it('reports a non-retryable deletion error in outcome.failed, undoes its mark and still deletes the others; the next prune tries it again', async () => {
    // Prepare
    const records = dailyRecords(6);
    const w = pruneWorld(records);
    const denied = records[3];
    w.backups.deleteErrors.set(denied.backupArn!, Object.assign(new Error('not authorized to perform dynamodb:DeleteBackup'), { name: 'AccessDeniedException' }));
    // Act
    const outcome = await pruneTable(w.deps, pruneRequest());
    w.backups.deleteErrors.clear();
    const next = await pruneTable(w.deps, pruneRequest());
    // Assess
    expect(outcome.failed).toEqual([{ arn: denied.backupArn, reason: 'AccessDeniedException: not authorized to perform dynamodb:DeleteBackup' }]);
    expect(outcome.deferred).toEqual([]);
    expect(outcome.deleted).toEqual(arns(records.slice(4)));
    expect(w.spy.unmarkDeleting).toHaveBeenCalledWith(denied);
    expect(next.deleted).toEqual([denied.backupArn]);
    expect(w.statusOf(denied)).toBe('DELETED');
  });

  it('when undoing a mark fails too, the record stays DELETED (kept, never deleted by the service) and the error is logged', async () => {
    // Prepare
    const records = dailyRecords(4);
    const w = pruneWorld(records);
    const denied = records[3];
    w.backups.deleteErrors.set(denied.backupArn!, Object.assign(new Error('denied'), { name: 'AccessDeniedException' }));
    w.spy.unmarkDeleting.mockRejectedValueOnce(new RetryableError('ledger ddb-backup-ledger: ThrottlingException: slow down'));
    const log = { info: jest.fn(), warn: jest.fn(), error: jest.fn() };
    // Act
    const outcome = await pruneTable({ ...w.deps, log }, pruneRequest());
    // Assess
    expect(outcome.failed).toEqual([{ arn: denied.backupArn, reason: 'AccessDeniedException: denied' }]);
    expect(log.error).toHaveBeenCalledWith('could not undo a deletion mark', expect.objectContaining({ backupArn: denied.backupArn }));
    expect(w.statusOf(denied)).toBe('DELETED');
    expect(w.backups.existing.has(denied.backupArn!)).toBe(true);
  });

  it('counts a backup gone between the listing and its deletion as deleted', async () => {
    // Prepare
    const records = dailyRecords(4);
    const w = pruneWorld(records);
    w.backups.deleteBackup.mockResolvedValueOnce('gone');
    // Act
    const outcome = await pruneTable(w.deps, pruneRequest());
    // Assess
    expect(outcome.deleted).toEqual([records[3].backupArn]);
    expect(w.ledger.record(records[3])).toMatchObject({ status: 'DELETED', deleteReason: 'pruned: not kept by any retention rule' });
  });

  it('stops before deleting a backup whose deletion mark could not be written', async () => {
    // Prepare
    const records = dailyRecords(4);
    const w = pruneWorld(records);
    const slowDown = new RetryableError('ledger ddb-backup-ledger: ThrottlingException: slow down');
    w.spy.markDeleting.mockRejectedValueOnce(slowDown);
    // Act
    const err = await rejectionOf(pruneTable(w.deps, pruneRequest()));
    // Assess
    expect(err).toBe(slowDown);
    expect(w.backups.deleteBackup).not.toHaveBeenCalled();
    expect(w.statusOf(records[3])).toBe('AVAILABLE');
  });

  it('leaves a record already DELETED alone, though the listing still shows its backup: never deleted again, never revived', async () => {
    // Prepare
    const records = dailyRecords(4);
    const prunedEarlier: LedgerBackupRecord = {
      ...records[3],
      status: 'DELETED',
      deletedAt: minutesAgo(30).toISOString(),
      deleteReason: 'pruned: not kept by any retention rule',
    };
    const w = pruneWorld([...records.slice(0, 3), prunedEarlier]);
    w.backups.existing.set(prunedEarlier.backupArn!, infoOf(prunedEarlier));
    // Act
    const outcome = await pruneTable(w.deps, pruneRequest({ retention: { keepLast: 1 } }));
    // Assess
    expect(outcome.deleted).toEqual(arns(records.slice(1, 3)));
    expect(outcome.plan.decisions.map((d) => d.arn)).not.toContain(prunedEarlier.backupArn);
    expect(w.backups.deleteBackup).not.toHaveBeenCalledWith(prunedEarlier.backupArn);
    expect(w.ledger.record(prunedEarlier)).toEqual(prunedEarlier);
    expect(outcome.reconciled).toBe(0);
  });

  it.each<[string, Partial<PruneRequest>, Partial<TableState> | undefined, RegExp]>([
    ['the retention is undefined (invalid or unreadable policy)', { retention: undefined }, undefined, /^policy is invalid or unreadable/],
    ['the latest backup attempt failed', {}, { lastAttemptStatus: 'failed', lastAttemptAt: minutesAgo(10).toISOString() }, /^latest backup attempt failed at /],
    ['pruning is frozen until a future time', {}, { pruneFrozenUntil: new Date(NOW.getTime() + 3_600_000).toISOString() }, /^prune frozen until 2026-11-24T04:00:05\.000Z$/],
  ])('deletes nothing and lists nothing when %s (plan.blocked)', async (_why, extra, state, blocked) => {
    // Prepare
    const records = dailyRecords(6);
    const w = pruneWorld(records, state);
    // Act
    const outcome = await pruneTable(w.deps, pruneRequest(extra));
    // Assess
    expect(outcome.plan.blocked).toMatch(blocked);
    expect(outcome.plan.delete).toEqual([]);
    expect(outcome.deleted).toEqual([]);
    expect(backupCalls(w.backups)).toBe(0);
    expect(w.ledger.writes).toBe(0);
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
});

// ---------------------------------------------------------------------------------------------
// planSweep: one prune job per tagged table, carrying no listing; the listing reports orphans
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

  it('lists the account once, however many tables, and plans one job per tagged table naming only the table and the policy', async () => {
    // Prepare
    const many = Array.from({ length: 30 }, (_, i) => tagged(`t${String(i).padStart(2, '0')}`, 'daily'));
    const w = sweepWorld(
      [tagged('orders', 'daily'), tagged('users', 'hourly daily'), tagged('carts', 'hourly'), ...many],
      [bk('orders', 'daily', 1), bk('orders', 'daily', 2), bk('orders', 'hourly', 1), bk('users', 'daily', 3)],
    );
    // Act
    const plan = await planSweep(w.deps, SWEEP);
    // Assess
    expect(w.backups.listBackups).toHaveBeenCalledTimes(1);
    expect(w.backups.listBackups).toHaveBeenCalledWith(undefined);
    expect(plan.runId).toBe('daily|prune|prune:2026-11-24T04:00:00.000Z');
    expect(plan.jobs.map((j) => j.table)).toEqual(['orders', ...many.map((t) => t.table), 'users']);
    for (const j of plan.jobs) {
      expect(j).toEqual({ table: j.table, policy: 'daily', trigger: 'prune', kind: 'prune', slot: SWEEP.slot, requestedAt: SWEEP.time, runId: plan.runId });
      expect(j).not.toHaveProperty('listing');
      expect(j).not.toHaveProperty('listedAt');
    }
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

  it('with a table, lists that table only and plans its job alone, without a listing', async () => {
    // Prepare
    const w = sweepWorld([tagged('orders', 'daily'), tagged('users', 'daily')], [bk('orders', 'daily', 1), bk('orders', 'daily', 2), bk('users', 'daily', 1)]);
    // Act
    const plan = await planSweep(w.deps, { ...SWEEP, table: 'orders' });
    // Assess
    expect(w.backups.listBackups).toHaveBeenCalledTimes(1);
    expect(w.backups.listBackups).toHaveBeenCalledWith('orders');
    expect(plan.jobs).toEqual([{ table: 'orders', policy: 'daily', trigger: 'prune', kind: 'prune', slot: SWEEP.slot, requestedAt: SWEEP.time, runId: plan.runId }]);
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
  it('a prune job prunes from the ledger without CreateBackup or a claim, listing the table once, and returns "pruned"', async () => {
    // Prepare
    const records = dailyRecords(6);
    const w = workerWorld(records);
    // Act
    const result = await processJob(w.worker, pruneJob());
    // Assess
    expect(result).toEqual({ table: 'orders', policy: 'daily', status: 'pruned', deleted: 3, reason: '3 deleted, 3 kept' });
    expect(w.backups.createBackup).not.toHaveBeenCalled();
    expect(w.backups.describeTable).not.toHaveBeenCalled();
    expect(w.spy.claim).not.toHaveBeenCalled();
    expect(w.spy.listBackupRecords).toHaveBeenCalledWith('orders', 'daily');
    expect(w.backups.listBackups).toHaveBeenCalledTimes(1);
    expect(w.backups.listBackups).toHaveBeenCalledWith('orders');
    expect(w.backups.deleteBackup.mock.calls.map(([arn]) => arn)).toEqual(arns(records.slice(3)));
  });

  it('a prune job whose ledger plan deletes nothing makes no AWS call', async () => {
    // Prepare
    const w = workerWorld(dailyRecords(3));
    // Act
    const result = await processJob(w.worker, pruneJob());
    // Assess
    expect(result).toEqual({ table: 'orders', policy: 'daily', status: 'pruned', deleted: 0, reason: '0 deleted, 3 kept' });
    expect(backupCalls(w.backups)).toBe(0);
    expect(w.ledger.writes).toBe(0);
  });

  it.each<[string, BackupJob, number[]]>([
    ['a prune job', pruneJob(), [3]],
    ['a backup job', job(), [2, 3]],
  ])('%s whose message carries a listing deletes only ledger backups: the listing is never read', async (_kind, base, deletedIndexes) => {
    // Prepare
    const records = dailyRecords(4);
    const w = workerWorld(records);
    const lookalikeAt = daysAgo(30);
    const named: BackupInfo[] = [
      { arn: arnOf('orders', 'hand-1'), name: 'before-migration', table: 'orders', createdAt: daysAgo(90).toISOString(), status: 'AVAILABLE' },
      {
        arn: arnOf('orders', 'hand-2'),
        name: backupName('daily', 'schedule', lookalikeAt, `schedule:${lookalikeAt.toISOString()}`, 'forged-attempt'),
        table: 'orders',
        createdAt: lookalikeAt.toISOString(),
        status: 'AVAILABLE',
      },
    ];
    for (const b of named) w.backups.existing.set(b.arn, b);
    const message = JSON.stringify({ ...base, listing: [...named, ...records.map((r) => infoOf(r))], listedAt: NOW.toISOString() });
    // Act
    const parsed = parseJob(message);
    const result = await processJob(w.worker, parsed);
    // Assess
    expect(parsed).toEqual(base);
    expect(parsed).not.toHaveProperty('listing');
    expect(result).toMatchObject({ deleted: deletedIndexes.length });
    expect(w.backups.deleteBackup.mock.calls.map(([arn]) => arn)).toEqual(deletedIndexes.map((i) => records[i].backupArn));
    for (const b of named) {
      expect(w.backups.deleteBackup).not.toHaveBeenCalledWith(b.arn);
      expect(w.backups.existing.has(b.arn)).toBe(true);
    }
  });

  it('a prune job whose message names backups to delete deletes nothing when the ledger plan deletes nothing', async () => {
    // Prepare
    const w = workerWorld(dailyRecords(2));
    const named = Array.from({ length: 5 }, (_, i): BackupInfo => {
      const at = daysAgo(100 + i);
      return { arn: arnOf('orders', `hand-${i}`), name: backupName('daily', 'schedule', at, `schedule:${at.toISOString()}`), table: 'orders', createdAt: at.toISOString(), status: 'AVAILABLE' };
    });
    for (const b of named) w.backups.existing.set(b.arn, b);
    // Act
    const result = await processJob(w.worker, parseJob(JSON.stringify({ ...pruneJob(), listing: named })));
    // Assess
    expect(result).toMatchObject({ status: 'pruned', deleted: 0 });
    expect(w.backups.deleteBackup).not.toHaveBeenCalled();
    expect(w.backups.listBackups).not.toHaveBeenCalled();
  });

  it('a prune job reports the ledger backups it found vanished', async () => {
    // Prepare
    const records = dailyRecords(5);
    const w = workerWorld(records);
    w.backups.existing.delete(records[1].backupArn!);
    // Act
    const result = await processJob(w.worker, pruneJob());
    // Assess
    expect(result).toEqual({
      table: 'orders',
      policy: 'daily',
      status: 'pruned',
      deleted: 1,
      vanished: 1,
      reason: '1 backup(s) vanished outside the service (no longer counted)',
    });
    expect(w.statusOf(records[1])).toBe('VANISHED');
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
    expect(w.statusOf(records[4])).toBe('AVAILABLE');
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
    expect(w.statusOf(records[3])).toBe('AVAILABLE');
  });

  it('a prune job under an invalid policy fails "not pruned", deletes nothing and writes nothing to the ledger', async () => {
    // Prepare
    const w = workerWorld(dailyRecords(6), { daily: { retention: { keepLast: 'all' } } });
    // Act
    const result = await processJob(w.worker, pruneJob());
    // Assess
    expect(result.status).toBe('failed');
    expect(result.reason).toMatch(/^not pruned: /);
    expect(result.reason).toContain('retention.keepLast');
    expect(backupCalls(w.backups)).toBe(0);
    expect(w.spy.recordFailure).not.toHaveBeenCalled();
    expect(w.ledger.writes).toBe(0);
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

  it('after a good backup, prunes the table by the ledger (the new CREATING backup counts, and is never deleted)', async () => {
    // Prepare
    const records = dailyRecords(6);
    const w = workerWorld(records);
    // Act
    const result = await processJob(w.worker, job());
    // Assess
    expect(result).toEqual({ table: 'orders', policy: 'daily', status: 'backed-up', backupArn: NEW_ARN, deleted: 4 });
    expect(w.backups.createBackup).toHaveBeenCalledTimes(1);
    // keepLast 3: the new backup and the two newest AVAILABLE are kept, the 4 oldest go.
    expect(w.backups.deleteBackup.mock.calls.map(([arn]) => arn)).toEqual(arns(records.slice(2)));
    expect(w.backups.listBackups).toHaveBeenCalledTimes(1);
    expect(w.backups.listBackups).toHaveBeenCalledWith('orders');
    expect(w.ledger.record(job())).toMatchObject({ status: 'CREATING', backupArn: NEW_ARN });
  });

  it('after a good backup, prunes even though the attempt before it failed, and reads the state once', async () => {
    // Prepare
    const records = dailyRecords(4);
    const w = workerWorld(records);
    w.ledger.seedState({ table: 'orders', policy: 'daily', lastBackupAt: daysAgo(1).toISOString(), lastAttemptAt: minutesAgo(90).toISOString(), lastAttemptStatus: 'failed' });
    // Act
    const result = await processJob(w.worker, job());
    // Assess
    expect(result).toMatchObject({ status: 'backed-up', deleted: 2 });
    expect(w.backups.deleteBackup.mock.calls.map(([arn]) => arn)).toEqual(arns(records.slice(2)));
    // The state comes with the live records in one read (the live index), and is not read again.
    expect(w.spy.readLive).toHaveBeenCalledTimes(1);
    expect(w.spy.getState).not.toHaveBeenCalled();
  });

  it('after a good backup, still deletes nothing while pruning is frozen', async () => {
    // Prepare
    const w = workerWorld(dailyRecords(6));
    w.ledger.seedState({ table: 'orders', policy: 'daily', lastBackupAt: daysAgo(1).toISOString(), lastAttemptStatus: 'succeeded', pruneFrozenUntil: new Date(NOW.getTime() + DAY).toISOString() });
    // Act
    const result = await processJob(w.worker, job());
    // Assess
    expect(result).toMatchObject({ status: 'backed-up', deleted: 0, reason: expect.stringMatching(/^pruning blocked: prune frozen until /) });
    expect(w.backups.deleteBackup).not.toHaveBeenCalled();
    expect(w.backups.listBackups).not.toHaveBeenCalled();
  });

  it('a pruning error after a good backup keeps the status "backed-up", with a reason about pruning', async () => {
    // Prepare
    const w = workerWorld(dailyRecords(6));
    w.spy.listBackupRecords.mockRejectedValueOnce(new RetryableError('ledger ddb-backup-ledger: ThrottlingException: slow down'));
    // Act
    const result = await processJob(w.worker, job());
    // Assess
    expect(result).toEqual({
      table: 'orders',
      policy: 'daily',
      status: 'backed-up',
      backupArn: NEW_ARN,
      reason: 'backup ok; pruning failed: RetryableError: ledger ddb-backup-ledger: ThrottlingException: slow down',
    });
    expect(w.spy.recordFailure).not.toHaveBeenCalled();
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
    expect(result).toMatchObject({ status: 'backed-up', deleted: 1, deferred: 1, reason: expect.stringContaining('1 deletion(s) deferred') });
    expect(w.statusOf(records[3])).toBe('AVAILABLE');
  });
});
