/**
 * The planner, the worker and the two run paths (in-process and queued) against in-memory fakes of
 * the ports: no SDK, no network.
 */
import {
  PolicyUnavailableError,
  PolicyValidationError,
  RetryableError,
  TableNotFoundError,
} from '../../lambda/core/errors';
import type { BackupJob, JobResult } from '../../lambda/core/jobs';
import { parseBackupName } from '../../lambda/core/naming';
import { planRun, type PlanRequest } from '../../lambda/core/backup/planner';
import { parsePolicy, resolveEffectivePolicy, type EffectivePolicy, type Policy, type PolicyInput } from '../../lambda/core/policy';
import type {
  BackupApi,
  BackupInfo,
  Clock,
  CreatedBackup,
  JobSink,
  LedgerBackupRecord,
  PolicySource,
  RunNotifier,
  TableDiscovery,
  TableFacts,
  TableUpkeep,
} from '../../lambda/core/ports';
import { runInProcess, type InProcessDeps } from '../../lambda/core/backup/in-process';
import { dispatchRun, failedAfterRetries, finishJobResult, type RunHeader, type RunLedger } from '../../lambda/core/backup/runs';
import type { RunReport } from '../../lambda/core/backup/summary';
import type { TaggedTable } from '../../lambda/core/tags';
import { SETTINGS_SNAPSHOT_EVERY_MS, TABLE_FACTS_MAX_AGE_MS, processJob, type WorkerDeps } from '../../lambda/core/backup/worker';
import { MemoryLedger } from '../support/memory-ledger';

// ---------------------------------------------------------------------------------------------
// Fakes
// ---------------------------------------------------------------------------------------------

const NOW = new Date('2026-11-24T03:00:05.000Z');
const SLOT = 'schedule:2026-11-24T03:00:00.000Z';
const clock: Clock = { now: () => NOW };

/** Named policies (raw documents) and per-table overrides, or an error per policy. */
class FakePolicies implements PolicySource {
  readonly docs = new Map<string, unknown>();
  readonly overrides = new Map<string, Record<string, unknown>>();
  /** Errors thrown by getEffective (the worker's read) for a policy, one per call, before the real answers. */
  readonly errors = new Map<string, Error[]>();
  listNamesError?: Error;
  getEffectiveCalls = 0;

  constructor(docs: Record<string, PolicyInput | unknown> = {}) {
    for (const [name, doc] of Object.entries(docs)) this.docs.set(name, doc);
  }

  failWith(name: string, ...errors: Error[]): this {
    this.errors.set(name, errors);
    return this;
  }

  private nextError(name: string): Error | undefined {
    return this.errors.get(name)?.shift();
  }

  async listNames(): Promise<Set<string>> {
    if (this.listNamesError) throw this.listNamesError;
    return new Set(this.docs.keys());
  }

  async getPolicy(name: string): Promise<Policy> {
    if (!this.docs.has(name)) throw new PolicyUnavailableError(name, `no policy named "${name}"`);
    return parsePolicy(this.docs.get(name), `"${name}"`);
  }

  async getEffective(name: string, table: string): Promise<EffectivePolicy> {
    this.getEffectiveCalls++;
    const err = this.nextError(name);
    if (err) throw err;
    if (!this.docs.has(name)) throw new PolicyUnavailableError(name, `no policy named "${name}"`);
    return resolveEffectivePolicy(name, this.docs.get(name), this.overrides.get(table), table);
  }
}

class FakeDiscovery implements TableDiscovery {
  calls = 0;
  error?: Error;
  constructor(readonly tables: TaggedTable[] = []) {}
  async discover(): Promise<TaggedTable[]> {
    this.calls++;
    if (this.error) throw this.error;
    return this.tables.map((t) => ({ ...t }));
  }
}

const tagged = (table: string, tag: string): TaggedTable => ({
  table,
  arn: `arn:aws:dynamodb:us-east-1:123456789012:table/${table}`,
  policies: tag.split(' '),
});

/** DynamoDB backups: per table, a status and a queue of errors thrown by createBackup. */
class FakeBackups implements BackupApi {
  readonly created: { table: string; name: string }[] = [];
  readonly backups = new Map<string, BackupInfo>();
  readonly createCalls = new Map<string, number>();
  readonly describeErrors = new Map<string, Error>();
  readonly statuses = new Map<string, string>();
  describeCalls = 0;
  /** Errors for createBackup, per table, one per call; with `always`, the last one repeats. */
  readonly createErrors = new Map<string, { errors: Error[]; always: boolean }>();

  failCreate(table: string, errors: Error[], always = false): this {
    this.createErrors.set(table, { errors: [...errors], always });
    return this;
  }

  async describeTable(table: string): Promise<TableFacts> {
    this.describeCalls++;
    const err = this.describeErrors.get(table);
    if (err) throw err;
    return { table, status: this.statuses.get(table) ?? 'ACTIVE', sizeBytes: 1000, itemCount: 10 };
  }

  async createBackup(table: string, backupName: string): Promise<CreatedBackup> {
    this.createCalls.set(table, (this.createCalls.get(table) ?? 0) + 1);
    const plan = this.createErrors.get(table);
    if (plan && plan.errors.length > 0) {
      const err = plan.always && plan.errors.length === 1 ? plan.errors[0] : plan.errors.shift()!;
      throw err;
    }
    this.created.push({ table, name: backupName });
    const arn = `arn:aws:dynamodb:us-east-1:123456789012:table/${table}/backup/0170000000000${this.created.length}-abcdef`;
    this.backups.set(arn, { arn, name: backupName, table, createdAt: NOW.toISOString(), status: 'CREATING' });
    return { backupArn: arn, backupName, status: 'CREATING', createdAt: NOW.toISOString(), sizeBytes: 900 };
  }

  async describeBackupStatus(backupArn: string): Promise<string | undefined> {
    return this.backups.get(backupArn)?.status;
  }

  async deleteBackup(backupArn: string): Promise<'deleted' | 'gone'> {
    return this.backups.delete(backupArn) ? 'deleted' : 'gone';
  }

  async listBackups(table?: string): Promise<BackupInfo[]> {
    return [...this.backups.values()].filter((b) => table === undefined || b.table === table);
  }
}

/** Spies on the ledger's writes (calling through); returns the spy on its claims. */
function spyOnWrites(ledger: MemoryLedger): jest.MockedFunction<MemoryLedger['claim']> {
  jest.spyOn(ledger, 'recordBackup');
  jest.spyOn(ledger, 'recordFailure');
  jest.spyOn(ledger, 'markPitrChecked');
  return jest.spyOn(ledger, 'claim') as jest.MockedFunction<MemoryLedger['claim']>;
}

/**
 * The ledger's job-facing side: the one in-memory ledger (attempt tokens, the cooldown held by the
 * claim), with the writes the tests count or make fail spied on.
 */
class FakeLedger extends MemoryLedger {
  declare readonly recordBackup: jest.MockedFunction<MemoryLedger['recordBackup']>;
  declare readonly recordFailure: jest.MockedFunction<MemoryLedger['recordFailure']>;
  declare readonly markPitrChecked: jest.MockedFunction<MemoryLedger['markPitrChecked']>;
  /** Every claim of a slot. */
  readonly claimCalls: jest.MockedFunction<MemoryLedger['claim']>;

  constructor() {
    super();
    this.claimCalls = spyOnWrites(this);
  }

  /** Puts a record for a slot as if an earlier attempt had left it. */
  seedSlot(job: BackupJob, record: Partial<LedgerBackupRecord>): void {
    const { table, policy, slot, trigger, runId, requestedAt } = job;
    this.seed({ table, policy, slot, trigger, runId, requestedAt, status: 'CLAIMED', claimedAt: NOW.toISOString(), ...record });
  }
}

/**
 * The run-tracking side of the ledger: each result once; a complete, unnotified run is claimed by
 * one publisher at a time (a lease), and marked notified only after the publish.
 */
class FakeRunLedger implements RunLedger {
  /** The lease of a claim to publish (the adapter's NOTIFY_LEASE_MS). */
  static readonly LEASE_MS = 5 * 60_000;
  readonly headers = new Map<string, RunHeader>();
  readonly results = new Map<string, Map<string, JobResult>>();
  private claims = 0;
  readonly startRun = jest.fn(async (header: Parameters<RunLedger['startRun']>[0], _now: Date) => {
    if (!this.headers.has(header.runId)) this.headers.set(header.runId, { ...header, completed: 0 });
  });

  async recordRunResult(runId: string, result: JobResult, _now: Date): Promise<boolean> {
    const header = this.headers.get(runId);
    if (!header) return false;
    const rows = this.results.get(runId) ?? new Map<string, JobResult>();
    this.results.set(runId, rows);
    const key = `${result.table}#${result.policy}`;
    if (rows.has(key)) return false;
    rows.set(key, result);
    this.headers.set(runId, { ...header, completed: header.completed + 1 });
    return true;
  }

  readonly claimRunNotification = jest.fn(async (runId: string, now: Date): ReturnType<RunLedger['claimRunNotification']> => {
    const header = this.headers.get(runId);
    if (!header || header.completed < header.expected || header.notifiedAt) return { status: 'not-due' };
    if (header.notifyClaimedAt && Date.parse(header.notifyClaimedAt) > now.getTime() - FakeRunLedger.LEASE_MS) {
      return { status: 'held', since: header.notifyClaimedAt };
    }
    const claimId = `claim-${++this.claims}`;
    const claimed = { ...header, notifyClaimedAt: now.toISOString(), notifyClaimId: claimId };
    this.headers.set(runId, claimed);
    return { status: 'claimed', claimId, header: claimed };
  });

  readonly markRunNotified = jest.fn(async (runId: string, claimId: string, now: Date, messageId?: string): Promise<boolean> => {
    const header = this.headers.get(runId);
    if (!header || header.notifyClaimId !== claimId || header.notifiedAt) return false;
    this.headers.set(runId, { ...header, notifiedAt: now.toISOString(), ...(messageId ? { notifyMessageId: messageId } : {}) });
    return true;
  });

  readonly releaseRunNotification = jest.fn(async (runId: string, claimId: string): Promise<void> => {
    const header = this.headers.get(runId);
    if (!header || header.notifyClaimId !== claimId) return;
    const { notifyClaimedAt: _at, notifyClaimId: _id, ...rest } = header;
    this.headers.set(runId, rest);
  });

  async listRunResults(runId: string): Promise<JobResult[]> {
    return [...(this.results.get(runId)?.values() ?? [])];
  }
}

class FakeQueue implements JobSink {
  readonly enqueued: BackupJob[] = [];
  constructor(private readonly failing: Set<string> = new Set()) {}
  readonly enqueue = jest.fn(async (jobs: readonly BackupJob[]) => {
    const failures: { job: BackupJob; error: string }[] = [];
    for (const job of jobs) {
      if (this.failing.has(job.table)) failures.push({ job, error: 'InvalidParameterValue: boom' });
      else this.enqueued.push(job);
    }
    return failures;
  });
}

const fakeNotifier = () => ({ publishRun: jest.fn(async (_report: RunReport) => 'message-id') }) satisfies RunNotifier;

const DAILY: PolicyInput = { schedule: 'cron(0 3 * * ? *)', minIntervalMinutes: 60, retention: { keepDaily: 7 } };

function request(extra: Partial<PlanRequest> = {}): PlanRequest {
  return { policy: 'daily', trigger: 'schedule', slot: SLOT, requestedAt: '2026-11-24T03:00:00.000Z', ...extra };
}

function job(table: string, extra: Partial<BackupJob> = {}): BackupJob {
  return {
    table,
    policy: 'daily',
    trigger: 'schedule',
    slot: SLOT,
    requestedAt: '2026-11-24T03:00:00.000Z',
    runId: `daily|schedule|${SLOT}`,
    ...extra,
  };
}

function world(opts: { policies?: Record<string, unknown>; tables?: TaggedTable[] } = {}) {
  const policies = new FakePolicies(opts.policies ?? { daily: DAILY, hourly: { schedule: 'rate(1 hour)' } });
  const discovery = new FakeDiscovery(opts.tables ?? []);
  const backups = new FakeBackups();
  const ledger = new FakeLedger();
  const notifier = fakeNotifier();
  const worker: WorkerDeps = { policies, backups, ledger, clock };
  const inProcess: InProcessDeps = { policies, discovery, backups, ledger, clock, notifier };
  return { policies, discovery, backups, ledger, notifier, worker, inProcess };
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
// planRun
// ---------------------------------------------------------------------------------------------

describe('planRun', () => {
  it('emits one job per table tagged with the policy, and none for other policies', async () => {
    // Prepare
    const w = world({ tables: [tagged('orders', 'daily'), tagged('users', 'hourly daily'), tagged('carts', 'hourly')] });
    // Act
    const plan = await planRun(w.inProcess, request());
    // Assess
    expect(plan.runId).toBe(`daily|schedule|${SLOT}`);
    expect(plan.jobs).toEqual([job('orders'), job('users')]);
    expect(plan.problems).toEqual([]);
    expect(plan.results).toEqual([]);
    expect(plan.policy).toEqual(parsePolicy(DAILY));
  });

  it('reports a tag that names an unknown policy as a problem, not silently ignored, and still plans the others', async () => {
    // Prepare
    const w = world({ tables: [tagged('orders', 'daily'), tagged('users', 'dialy'), tagged('carts', 'daily monthly')] });
    // Act
    const plan = await planRun(w.inProcess, request());
    // Assess
    expect(plan.jobs.map((j) => j.table)).toEqual(['orders', 'carts']);
    expect(plan.problems).toEqual([
      { kind: 'unknown-policy', table: 'users', message: 'tag names unknown policy "dialy"' },
      { kind: 'unknown-policy', table: 'carts', message: 'tag names unknown policy "monthly"' },
    ]);
  });

  it('names every unknown policy of a table in one problem', async () => {
    // Prepare
    const w = world({ tables: [tagged('orders', 'dialy monthly')] });
    // Act
    const plan = await planRun(w.inProcess, request());
    // Assess
    expect(plan.problems).toEqual([{ kind: 'unknown-policy', table: 'orders', message: 'tag names unknown policies "dialy", "monthly"' }]);
  });

  it('turns an invalid policy into a problem naming the field, and plans zero jobs', async () => {
    // Prepare
    const w = world({ policies: { daily: { retention: { keepLast: -1 } } }, tables: [tagged('orders', 'daily')] });
    // Act
    const plan = await planRun(w.inProcess, request());
    // Assess
    expect(plan.jobs).toEqual([]);
    expect(plan.policy).toBeUndefined();
    expect(plan.problems).toHaveLength(1);
    expect(plan.problems[0]).toMatchObject({ kind: 'invalid-policy', policy: 'daily' });
    expect(plan.problems[0].message).toContain('retention.keepLast');
    expect(w.discovery.calls).toBe(0);
  });

  it('turns a missing policy into a problem and plans zero jobs', async () => {
    // Prepare
    const w = world({ policies: { hourly: {} }, tables: [tagged('orders', 'daily')] });
    // Act
    const plan = await planRun(w.inProcess, request());
    // Assess
    expect(plan.jobs).toEqual([]);
    expect(plan.problems).toEqual([
      { kind: 'invalid-policy', policy: 'daily', message: 'PolicyUnavailableError: no policy named "daily"' },
    ]);
  });

  it('turns a discovery failure into a problem and plans zero jobs', async () => {
    // Prepare
    const w = world({ tables: [tagged('orders', 'daily')] });
    w.discovery.error = new Error('AccessDenied');
    // Act
    const plan = await planRun(w.inProcess, request());
    // Assess
    expect(plan.jobs).toEqual([]);
    expect(plan.policy).toBeDefined();
    expect(plan.problems).toEqual([{ kind: 'discovery', message: 'cannot list tagged tables: AccessDenied' }]);
  });

  it('with --table, plans only that table and reports only its unknown policies', async () => {
    // Prepare
    const w = world({ tables: [tagged('orders', 'daily dialy'), tagged('users', 'daily'), tagged('carts', 'monthly')] });
    // Act
    const plan = await planRun(w.inProcess, request({ table: 'orders' }));
    // Assess
    expect(plan.jobs).toEqual([job('orders')]);
    expect(plan.problems).toEqual([{ kind: 'unknown-policy', table: 'orders', message: 'tag names unknown policy "dialy"' }]);
  });

  it('with --table naming a table without the policy, gives a failed result and no job', async () => {
    // Prepare
    const w = world({ tables: [tagged('orders', 'hourly')] });
    // Act
    const plan = await planRun(w.inProcess, request({ table: 'orders' }));
    // Assess
    expect(plan.jobs).toEqual([]);
    expect(plan.results).toEqual([
      {
        table: 'orders',
        policy: 'daily',
        status: 'failed',
        reason: 'table "orders" is not tagged with policy "daily" (or does not exist)',
      },
    ]);
  });
});

// ---------------------------------------------------------------------------------------------
// processJob
// ---------------------------------------------------------------------------------------------

describe('processJob', () => {
  it('backs up a due table, names the backup as its own and records it', async () => {
    // Prepare
    const w = world();
    // Act
    const result = await processJob(w.worker, job('orders'));
    // Assess
    expect(result).toMatchObject({ table: 'orders', policy: 'daily', status: 'backed-up', backupArn: expect.stringContaining('table/orders/backup/') });
    expect(w.backups.created).toHaveLength(1);
    expect(parseBackupName(w.backups.created[0].name)).toMatchObject({ policy: 'daily', trigger: 'schedule', time: new Date('2026-11-24T03:00:05Z') });
    expect(w.ledger.recordBackup).toHaveBeenCalledTimes(1);
    // The claim chose the name (it carries the attempt's hash) and the record is written under its attempt token.
    const recorded = w.ledger.record(job('orders'));
    expect(recorded).toMatchObject({ status: 'CREATING', backupName: w.backups.created[0].name, attemptId: expect.any(String) });
    expect(w.ledger.recordBackup).toHaveBeenCalledWith(job('orders'), expect.objectContaining({ sizeBytes: 1000, itemCount: 10 }), recorded?.attemptId);
    expect(w.ledger.recordFailure).not.toHaveBeenCalled();
  });

  it('skips a table within the cooldown without claiming or creating anything', async () => {
    // Prepare
    const w = world();
    w.ledger.states.set('orders|daily', { table: 'orders', policy: 'daily', lastBackupAt: new Date(NOW.getTime() - 10 * 60_000).toISOString() });
    // Act
    const result = await processJob(w.worker, job('orders'));
    // Assess
    expect(result.status).toBe('skipped');
    expect(result.reason).toMatch(/^cooldown: last backup 10 min ago .* minIntervalMinutes is 60; next backup allowed after \d{4}-\d\d-\d\dT[\d:.]+Z$/);
    expect(w.ledger.claimCalls).not.toHaveBeenCalled();
    expect(w.backups.createCalls.size).toBe(0);
  });

  it('applies the per-table override to the cooldown', async () => {
    // Prepare
    const w = world();
    w.policies.overrides.set('orders', { minIntervalMinutes: 0 });
    w.ledger.states.set('orders|daily', { table: 'orders', policy: 'daily', lastBackupAt: new Date(NOW.getTime() - 60_000).toISOString() });
    // Act
    const result = await processJob(w.worker, job('orders'));
    // Assess
    expect(result.status).toBe('backed-up');
  });

  it('skips a slot that already has a backup (duplicate delivery) without a second CreateBackup', async () => {
    // Prepare
    const w = world({ policies: { daily: { ...DAILY, minIntervalMinutes: 0 } } });
    const first = await processJob(w.worker, job('orders'));
    // Act
    const second = await processJob(w.worker, job('orders'));
    // Assess
    expect(first.status).toBe('backed-up');
    expect(second).toEqual({
      table: 'orders',
      policy: 'daily',
      status: 'skipped',
      reason: `duplicate: slot ${SLOT} already has backup ${first.backupArn} (CREATING)`,
    });
    expect(w.backups.createCalls.get('orders')).toBe(1);
  });

  it('throws RetryableError while another attempt holds the claim of the slot', async () => {
    // Prepare
    const w = world();
    w.ledger.seedSlot(job('orders'), { status: 'CLAIMED', claimedAt: NOW.toISOString() });
    // Act
    const err = await rejectionOf(processJob(w.worker, job('orders')));
    // Assess
    expect(err).toBeInstanceOf(RetryableError);
    expect(w.backups.createCalls.size).toBe(0);
  });

  it('fails a job whose table is gone (TableNotFoundError) and records the failure', async () => {
    // Prepare
    const w = world();
    w.backups.describeErrors.set('orders', new TableNotFoundError('orders'));
    // Act
    const result = await processJob(w.worker, job('orders'));
    // Assess
    expect(result).toEqual({
      table: 'orders',
      policy: 'daily',
      status: 'failed',
      reason: 'table "orders" does not exist (deleted after discovery?)',
    });
    expect(w.ledger.recordFailure).toHaveBeenCalledTimes(1);
    expect(w.ledger.recordFailure).toHaveBeenCalledWith(job('orders'), result.reason, NOW);
  });

  it('fails a job whose table vanished between DescribeTable and CreateBackup', async () => {
    // Prepare
    const w = world();
    w.backups.failCreate('orders', [new TableNotFoundError('orders')]);
    // Act
    const result = await processJob(w.worker, job('orders'));
    // Assess
    expect(result.status).toBe('failed');
    expect(w.ledger.recordFailure).toHaveBeenCalledTimes(1);
    expect(w.ledger.recordBackup).not.toHaveBeenCalled();
  });

  it('rethrows a RetryableError from CreateBackup and records the failed attempt', async () => {
    // Prepare
    const w = world();
    const throttled = new RetryableError('CreateBackup orders: LimitExceededException: too many');
    w.backups.failCreate('orders', [throttled]);
    // Act
    const err = await rejectionOf(processJob(w.worker, job('orders')));
    // Assess
    expect(err).toBe(throttled);
    expect(w.ledger.recordFailure).toHaveBeenCalledTimes(1);
    expect(w.ledger.recordFailure).toHaveBeenCalledWith(job('orders'), 'RetryableError: CreateBackup orders: LimitExceededException: too many', NOW);
  });

  it('turns a retryable PolicyUnavailableError (SSM outage) into a RetryableError, with the cause', async () => {
    // Prepare
    const w = world();
    const outage = new PolicyUnavailableError('daily', 'cannot read policy "daily" from SSM: InternalServerError', { retryable: true });
    w.policies.failWith('daily', outage);
    // Act
    const err = await rejectionOf(processJob(w.worker, job('orders')));
    // Assess
    expect(err).toBeInstanceOf(RetryableError);
    expect((err as RetryableError).cause).toBe(outage);
    expect(w.ledger.recordFailure).toHaveBeenCalledTimes(1);
    expect(w.backups.createCalls.size).toBe(0);
  });

  it('fails for good on a policy that does not exist (non-retryable PolicyUnavailableError)', async () => {
    // Prepare
    const w = world();
    w.policies.failWith('daily', new PolicyUnavailableError('daily', 'no policy named "daily"'));
    // Act
    const result = await processJob(w.worker, job('orders'));
    // Assess
    expect(result).toEqual({ table: 'orders', policy: 'daily', status: 'failed', reason: 'PolicyUnavailableError: no policy named "daily"' });
    expect(w.ledger.recordFailure).toHaveBeenCalledTimes(1);
  });

  it('fails for good on an invalid effective policy (PolicyValidationError), before any claim or backup', async () => {
    // Prepare
    const w = world();
    w.policies.overrides.set('orders', { retention: { keepDaily: -3 } });
    // Act
    const result = await processJob(w.worker, job('orders'));
    // Assess
    expect(result.status).toBe('failed');
    expect(result.reason).toMatch(/^PolicyValidationError: invalid policy "daily" with the override of table "orders": retention\.keepDaily/);
    expect(w.ledger.claimCalls).not.toHaveBeenCalled();
    expect(w.backups.createCalls.size).toBe(0);
    expect(w.ledger.recordFailure).toHaveBeenCalledTimes(1);
  });

  it('fails on a PolicyValidationError thrown by the policy source', async () => {
    // Prepare
    const w = world();
    w.policies.failWith('daily', new PolicyValidationError('"daily"', ['(json): Unexpected end of JSON input']));
    // Act
    const result = await processJob(w.worker, job('orders'));
    // Assess
    expect(result).toEqual({
      table: 'orders',
      policy: 'daily',
      status: 'failed',
      reason: 'PolicyValidationError: invalid policy "daily": (json): Unexpected end of JSON input',
    });
  });

  it('retries a table that is still CREATING or UPDATING, and fails one that is DELETING', async () => {
    // Prepare
    const w = world();
    w.backups.statuses.set('new', 'CREATING').set('busy', 'UPDATING').set('going', 'DELETING');
    // Act
    const [creating, updating] = await Promise.all([rejectionOf(processJob(w.worker, job('new'))), rejectionOf(processJob(w.worker, job('busy')))]);
    const deleting = await processJob(w.worker, job('going'));
    // Assess
    expect(creating).toBeInstanceOf(RetryableError);
    expect(updating).toBeInstanceOf(RetryableError);
    expect(deleting).toMatchObject({ status: 'failed', reason: 'table going is DELETING; cannot back it up' });
    expect(w.backups.createCalls.size).toBe(0);
  });

  it('still returns the failed result when recording the failure itself fails', async () => {
    // Prepare
    const w = world();
    w.backups.describeErrors.set('orders', new TableNotFoundError('orders'));
    w.ledger.recordFailure.mockRejectedValueOnce(new Error('ProvisionedThroughputExceededException'));
    const log = { info: jest.fn(), warn: jest.fn(), error: jest.fn() };
    // Act
    const result = await processJob({ ...w.worker, log }, job('orders'));
    // Assess
    expect(result.status).toBe('failed');
    expect(log.error).toHaveBeenCalledWith('could not record the failure in the ledger', expect.objectContaining({ table: 'orders' }));
  });
});

// ---------------------------------------------------------------------------------------------
// processJob: the item count and size the ledger records, and the calls they cost
// ---------------------------------------------------------------------------------------------

describe('processJob: table facts for the ledger', () => {
  const HOUR = 3_600_000;
  const at = (msAgo: number) => new Date(NOW.getTime() - msAgo).toISOString();
  const hourly = (table: string, t: Date): BackupJob => job(table, { policy: 'hourly', slot: `schedule:${t.toISOString()}`, runId: `hourly|${t.toISOString()}` });

  /** Upkeep that records its calls; its snapshot notes the capture on the ledger state as the real one does. */
  function upkeepSpy(facts: TableFacts | Error = { table: 'orders', status: 'ACTIVE', sizeBytes: 5000, itemCount: 77 }, ledger?: FakeLedger) {
    const calls: string[] = [];
    const upkeep: Required<TableUpkeep> = {
      snapshotSettings: jest.fn(async (table: string, policy: string, now: Date) => {
        calls.push(`snapshot ${table}`);
        if (facts instanceof Error) throw facts;
        const key = `${table}|${policy}`;
        ledger?.states.set(key, { ...ledger.states.get(key), table, policy, settingsCapturedAt: now.toISOString() });
        return facts;
      }),
      markChangesBaseline: jest.fn(async (table: string) => calls.push(`baseline ${table}`)),
      ensurePitr: jest.fn(async (table: string) => calls.push(`pitr ${table}`)),
    };
    return { upkeep, calls };
  }

  it('reuses an item count younger than a day: no DescribeTable, no snapshot, and the record says when it was read', async () => {
    // Prepare
    const w = world();
    const { upkeep } = upkeepSpy();
    w.ledger.states.set('orders|daily', { table: 'orders', policy: 'daily', lastItemCount: 42, itemCountAt: at(5 * HOUR), settingsCapturedAt: at(5 * HOUR) });
    // Act
    const result = await processJob({ ...w.worker, upkeep }, job('orders'));
    // Assess
    expect(result.status).toBe('backed-up');
    expect(w.backups.describeCalls).toBe(0);
    expect(upkeep.snapshotSettings).not.toHaveBeenCalled();
    expect(w.ledger.recordBackup).toHaveBeenCalledWith(job('orders'), expect.objectContaining({ itemCount: 42, itemCountAt: at(5 * HOUR), sizeBytes: 900 }), expect.any(String));
  });

  it('keeps the last size when neither DescribeTable nor CreateBackup gave one, so the size baseline never drops to 0', async () => {
    // Prepare
    const w = world();
    jest.spyOn(w.backups, 'createBackup').mockImplementation(async (table, name) => {
      const { sizeBytes: _dropped, ...rest } = await FakeBackups.prototype.createBackup.call(w.backups, table, name);
      return rest;
    });
    w.ledger.states.set('orders|daily', { table: 'orders', policy: 'daily', lastSizeBytes: 123_456, lastItemCount: 42, itemCountAt: at(HOUR), settingsCapturedAt: at(HOUR) });
    // Act
    await processJob(w.worker, job('orders'));
    // Assess
    expect(w.backups.describeCalls).toBe(0);
    expect(w.ledger.recordBackup).toHaveBeenCalledWith(job('orders'), expect.objectContaining({ sizeBytes: 123_456, itemCount: 42 }), expect.any(String));
  });

  it('reads the table once when the item count is older than TABLE_FACTS_MAX_AGE_MS', async () => {
    // Prepare
    const w = world();
    w.ledger.states.set('orders|daily', { table: 'orders', policy: 'daily', lastItemCount: 42, itemCountAt: at(TABLE_FACTS_MAX_AGE_MS) });
    // Act
    await processJob(w.worker, job('orders'));
    // Assess
    expect(w.backups.describeCalls).toBe(1);
    expect(w.ledger.recordBackup).toHaveBeenCalledWith(job('orders'), expect.objectContaining({ itemCount: 10, itemCountAt: NOW.toISOString(), sizeBytes: 1000 }), expect.any(String));
  });

  it('takes a due settings snapshot before CreateBackup and records its item count, without a DescribeTable of its own', async () => {
    // Prepare
    const w = world();
    const { upkeep, calls } = upkeepSpy();
    const created = jest.spyOn(w.backups, 'createBackup').mockImplementation(async function (this: FakeBackups, table, name) {
      calls.push(`create ${table}`);
      return FakeBackups.prototype.createBackup.call(w.backups, table, name);
    });
    w.ledger.states.set('orders|daily', { table: 'orders', policy: 'daily', lastItemCount: 42, itemCountAt: at(HOUR), settingsCapturedAt: at(SETTINGS_SNAPSHOT_EVERY_MS) });
    // Act
    const result = await processJob({ ...w.worker, upkeep }, job('orders'));
    // Assess
    expect(result.status).toBe('backed-up');
    expect(created).toHaveBeenCalledTimes(1);
    // No change trigger in this policy: no counter baseline to reset (stream.int.test covers one that has).
    expect(calls).toEqual(['snapshot orders', 'create orders']);
    expect(w.backups.describeCalls).toBe(0);
    expect(w.ledger.recordBackup).toHaveBeenCalledWith(job('orders'), expect.objectContaining({ itemCount: 77, itemCountAt: NOW.toISOString(), sizeBytes: 5000 }), expect.any(String));
  });

  it('backs up anyway when the snapshot fails, reading the table itself, and logs a warning', async () => {
    // Prepare
    const w = world();
    const { upkeep } = upkeepSpy(new Error('AccessDeniedException: no'));
    const log = { info: jest.fn(), warn: jest.fn(), error: jest.fn() };
    // Act
    const result = await processJob({ ...w.worker, upkeep, log }, job('orders'));
    // Assess
    expect(result.status).toBe('backed-up');
    expect(w.backups.describeCalls).toBe(1);
    expect(log.warn).toHaveBeenCalledWith('settings snapshot before backup failed', expect.objectContaining({ table: 'orders', error: 'AccessDeniedException: no' }));
    expect(w.ledger.recordBackup).toHaveBeenCalledWith(job('orders'), expect.objectContaining({ itemCount: 10 }), expect.any(String));
  });

  it('retries when the snapshot finds the table CREATING, and fails for good when it finds it gone', async () => {
    // Prepare
    const w = world();
    const creating = upkeepSpy({ table: 'new', status: 'CREATING', itemCount: 0 }).upkeep;
    const gone = upkeepSpy(new TableNotFoundError('old')).upkeep;
    // Act
    const retry = await rejectionOf(processJob({ ...w.worker, upkeep: creating }, job('new')));
    const failed = await processJob({ ...w.worker, upkeep: gone }, job('old'));
    // Assess
    expect(retry).toBeInstanceOf(RetryableError);
    expect(failed).toMatchObject({ status: 'failed', reason: expect.stringContaining('old') });
    expect(w.backups.createCalls.size).toBe(0);
  });

  it('checks PITR with the daily snapshot and after a policy change, not on every backup', async () => {
    // Prepare: a PITR policy; the first backup snapshots and checks PITR.
    const w = world({ policies: { daily: { ...DAILY, pointInTimeRecovery: { enabled: true, recoveryPeriodDays: 7 } } } });
    const { upkeep } = upkeepSpy({ table: 'orders', status: 'ACTIVE', itemCount: 77, pitr: { enabled: true, recoveryPeriodDays: 7 } }, w.ledger);
    const later = (hours: number) => {
      const t = new Date(NOW.getTime() + hours * HOUR);
      return { deps: { ...w.worker, upkeep, clock: { now: () => t } }, job: job('orders', { slot: `schedule:${t.toISOString()}` }) };
    };
    // Act
    const first = later(0);
    await processJob(first.deps, first.job);
    const second = later(2);
    await processJob(second.deps, second.job);
    w.policies.docs.set('daily', { ...DAILY, pointInTimeRecovery: { enabled: true, recoveryPeriodDays: 14 } });
    const changed = later(4);
    await processJob(changed.deps, changed.job);
    const nextDay = later(29); // a day after the last check
    await processJob(nextDay.deps, nextDay.job);
    // Assess: first (never checked), changed (new hash), next day; not the second.
    // With a snapshot, PITR as it read it is passed on, so the check reads nothing again.
    const read = { enabled: true, recoveryPeriodDays: 7 };
    expect(jest.mocked(upkeep.ensurePitr).mock.calls).toEqual([
      ['orders', 7, read],
      ['orders', 14, undefined],
      ['orders', 14, read],
    ]);
    expect(upkeep.snapshotSettings).toHaveBeenCalledTimes(2);
  });

  it('tries a failed PITR check again at the next backup, and marks it only once it succeeded', async () => {
    // Prepare
    const w = world({ policies: { daily: { ...DAILY, pointInTimeRecovery: { enabled: true } } } });
    const { upkeep } = upkeepSpy(undefined, w.ledger);
    jest.mocked(upkeep.ensurePitr).mockRejectedValueOnce(new Error('AccessDeniedException: UpdateContinuousBackups'));
    const log = { info: jest.fn(), warn: jest.fn(), error: jest.fn() };
    // Act
    for (const hours of [0, 2, 4]) {
      const t = new Date(NOW.getTime() + hours * HOUR);
      const r = await processJob({ ...w.worker, upkeep, log, clock: { now: () => t } }, job('orders', { slot: `schedule:${t.toISOString()}` }));
      expect(r.status).toBe('backed-up');
    }
    // Assess
    expect(upkeep.ensurePitr).toHaveBeenCalledTimes(2);
    expect(w.ledger.markPitrChecked).toHaveBeenCalledTimes(1);
    expect(log.warn).toHaveBeenCalledWith('PITR after backup failed', expect.objectContaining({ error: 'AccessDeniedException: UpdateContinuousBackups' }));
  });

  it('does not let a slow snapshot hold up the backup: past the deadline it reads the table and backs up', async () => {
    // Prepare
    const w = world();
    const { upkeep } = upkeepSpy();
    jest.mocked(upkeep.snapshotSettings).mockImplementationOnce(() => new Promise(() => undefined));
    const log = { info: jest.fn(), warn: jest.fn(), error: jest.fn() };
    // Act
    const result = await processJob({ ...w.worker, upkeep, log, snapshotDeadlineMs: 20 }, job('orders'));
    // Assess
    expect(result.status).toBe('backed-up');
    expect(w.backups.describeCalls).toBe(1);
    expect(log.warn).toHaveBeenCalledWith('settings snapshot before backup is slow; backing up without waiting', expect.objectContaining({ deadlineMs: 20 }));
  });

  it('reads the table at every backup of a size policy, whose size is the next growth baseline', async () => {
    // Prepare
    const w = world({ policies: { daily: { ...DAILY, size: { growthBytes: 1_000_000 } } } });
    w.ledger.states.set('orders|daily', { table: 'orders', policy: 'daily', lastSizeBytes: 1, lastItemCount: 42, itemCountAt: at(HOUR), settingsCapturedAt: at(HOUR) });
    // Act
    await processJob(w.worker, job('orders'));
    // Assess
    expect(w.backups.describeCalls).toBe(1);
    expect(w.ledger.recordBackup).toHaveBeenCalledWith(job('orders'), expect.objectContaining({ sizeBytes: 1000, itemCount: 10 }), expect.any(String));
  });

  it('over a day of hourly backups, reads the table once: the first backup, then the cached count', async () => {
    // Prepare
    const w = world();
    const { upkeep } = upkeepSpy(undefined, w.ledger);
    const start = new Date('2026-11-24T00:00:00.000Z');
    // Act
    for (let h = 0; h < 24; h++) {
      const t = new Date(start.getTime() + h * HOUR);
      const r = await processJob({ ...w.worker, upkeep, clock: { now: () => t } }, hourly('orders', t));
      expect(r.status).toBe('backed-up');
    }
    // Assess: one snapshot (with its DescribeTable), no other DescribeTable, every record counted.
    expect(upkeep.snapshotSettings).toHaveBeenCalledTimes(1);
    expect(w.backups.describeCalls).toBe(0);
    expect(w.ledger.recordBackup).toHaveBeenCalledTimes(24);
    for (const [, b] of w.ledger.recordBackup.mock.calls) expect(b).toMatchObject({ itemCount: 77, itemCountAt: start.toISOString() });
  });
});

// ---------------------------------------------------------------------------------------------
// runInProcess
// ---------------------------------------------------------------------------------------------

describe('runInProcess', () => {
  const tables = [tagged('a', 'daily'), tagged('b', 'daily'), tagged('c', 'daily')];

  it("never lets one table's failure stop the others", async () => {
    // Prepare
    const w = world({ tables });
    w.backups.describeErrors.set('a', new TableNotFoundError('a'));
    w.backups.failCreate('b', [new Error('ValidationException: something odd')]);
    // Act
    const report = await runInProcess(w.inProcess, request(), { retryDelayMs: 1 });
    // Assess
    expect(report.results.map((r) => [r.table, r.status])).toEqual([
      ['a', 'failed'],
      ['b', 'failed'],
      ['c', 'backed-up'],
    ]);
    expect(w.backups.created.map((c) => c.table)).toEqual(['c']);
  });

  it('retries a retryable failure and succeeds when it passes', async () => {
    // Prepare
    const w = world({ tables: [tagged('a', 'daily')] });
    w.backups.failCreate('a', [new RetryableError('BackupInUseException'), new RetryableError('LimitExceededException')]);
    // Act
    const report = await runInProcess(w.inProcess, request(), { retryDelayMs: 1, maxAttempts: 3 });
    // Assess
    expect(report.results).toEqual([expect.objectContaining({ table: 'a', status: 'backed-up' })]);
    expect(w.backups.createCalls.get('a')).toBe(3);
    expect(w.ledger.recordFailure).toHaveBeenCalledTimes(2);
  });

  it('gives up after maxAttempts with a failed result that says so, and notifies', async () => {
    // Prepare
    const w = world({ tables: [tagged('a', 'daily'), tagged('b', 'daily')] });
    w.backups.failCreate('a', [new RetryableError('CreateBackup a: ThrottlingException')], true);
    // Act
    const report = await runInProcess(w.inProcess, request(), { retryDelayMs: 1, maxAttempts: 3 });
    // Assess
    expect(report.results[0]).toEqual({
      table: 'a',
      policy: 'daily',
      status: 'failed',
      reason: 'RetryableError: CreateBackup a: ThrottlingException (gave up after 3 attempts)',
    });
    expect(report.results[1].status).toBe('backed-up');
    expect(w.backups.createCalls.get('a')).toBe(3);
    expect(w.notifier.publishRun).toHaveBeenCalledTimes(1);
  });

  it('retries an SSM outage (retryable PolicyUnavailableError) too', async () => {
    // Prepare
    const w = world({ tables: [tagged('a', 'daily')] });
    w.policies.failWith('daily', new PolicyUnavailableError('daily', 'SSM down', { retryable: true }));
    // Act
    const report = await runInProcess(w.inProcess, request(), { retryDelayMs: 1 });
    // Assess
    expect(w.policies.getEffectiveCalls).toBe(2);
    expect(report.results).toEqual([expect.objectContaining({ table: 'a', status: 'backed-up' })]);
  });

  it('publishes one summary when something failed (notify "failures")', async () => {
    // Prepare
    const w = world({ tables });
    w.backups.describeErrors.set('b', new TableNotFoundError('b'));
    // Act
    const report = await runInProcess(w.inProcess, request(), { retryDelayMs: 1 });
    // Assess
    expect(w.notifier.publishRun).toHaveBeenCalledTimes(1);
    expect(w.notifier.publishRun).toHaveBeenCalledWith(report);
    expect(report).toMatchObject({
      runId: `daily|schedule|${SLOT}`,
      policy: 'daily',
      trigger: 'schedule',
      startedAt: NOW.toISOString(),
      finishedAt: NOW.toISOString(),
    });
  });

  it('publishes nothing on an all-success run with notify "failures"', async () => {
    // Prepare
    const w = world({ tables });
    // Act
    const report = await runInProcess(w.inProcess, request(), { retryDelayMs: 1 });
    // Assess
    expect(report.results.every((r) => r.status === 'backed-up')).toBe(true);
    expect(w.notifier.publishRun).not.toHaveBeenCalled();
  });

  it('publishes an all-success run with notify "all"', async () => {
    // Prepare
    const w = world({ policies: { daily: { ...DAILY, notify: 'all' } }, tables });
    // Act
    await runInProcess(w.inProcess, request(), { retryDelayMs: 1 });
    // Assess
    expect(w.notifier.publishRun).toHaveBeenCalledTimes(1);
  });

  it('reports, but does not publish, a run whose only trouble is an unknown policy in a tag (a warning, notify: failures)', async () => {
    // Prepare
    const w = world({ tables: [tagged('a', 'daily'), tagged('b', 'dialy')] });
    // Act
    const report = await runInProcess(w.inProcess, request(), { retryDelayMs: 1 });
    // Assess
    expect(report.problems).toEqual([expect.objectContaining({ kind: 'unknown-policy', table: 'b' })]);
    expect(w.notifier.publishRun).not.toHaveBeenCalled();
    expect(report.notification).toBeUndefined();
  });

  it('publishes the problem of an invalid policy, and backs up nothing', async () => {
    // Prepare
    const w = world({ policies: { daily: { schedule: 'never' } }, tables });
    // Act
    const report = await runInProcess(w.inProcess, request(), { retryDelayMs: 1 });
    // Assess
    expect(report.results).toEqual([]);
    expect(report.problems).toEqual([expect.objectContaining({ kind: 'invalid-policy', policy: 'daily' })]);
    expect(w.backups.createCalls.size).toBe(0);
    expect(w.notifier.publishRun).toHaveBeenCalledTimes(1);
  });

  it('dry run: plans, backs up nothing and publishes nothing', async () => {
    // Prepare
    const w = world({ tables: [tagged('a', 'daily'), tagged('b', 'dialy')] });
    // Act
    const report = await runInProcess(w.inProcess, request(), { dryRun: true });
    // Assess
    expect(report.results).toEqual([{ table: 'a', policy: 'daily', status: 'skipped', reason: 'dry run: would back up' }]);
    expect(w.backups.createCalls.size).toBe(0);
    expect(w.ledger.claimCalls).not.toHaveBeenCalled();
    expect(w.notifier.publishRun).not.toHaveBeenCalled();
  });

  it('reports each result to onResult and keeps the input order under concurrency', async () => {
    // Prepare
    const many = Array.from({ length: 12 }, (_, i) => tagged(`t${String(i).padStart(2, '0')}`, 'daily'));
    const w = world({ tables: many });
    const seen: string[] = [];
    // Act
    const report = await runInProcess(w.inProcess, request(), { concurrency: 4, onResult: (r) => seen.push(r.table) });
    // Assess
    expect(report.results.map((r) => r.table)).toEqual(many.map((t) => t.table));
    expect([...seen].sort()).toEqual(many.map((t) => t.table));
  });
});

// ---------------------------------------------------------------------------------------------
// dispatchRun / finishJobResult (the queued path)
// ---------------------------------------------------------------------------------------------

describe('dispatchRun', () => {
  function dispatchWorld(opts: { policies?: Record<string, unknown>; tables?: TaggedTable[]; failing?: string[] } = {}) {
    const w = world(opts);
    const runs = new FakeRunLedger();
    const queue = new FakeQueue(new Set(opts.failing ?? []));
    const deps = { policies: w.policies, discovery: w.discovery, runs, queue, notifier: w.notifier, clock };
    return { ...w, runs, queue, deps };
  }

  it('with zero jobs and problems, the planner publishes the report itself (no run header, no queue)', async () => {
    // Prepare
    const d = dispatchWorld({ tables: [tagged('orders', 'daily')] });
    d.discovery.error = new Error('AccessDenied');
    // Act
    const outcome = await dispatchRun(d.deps, request());
    // Assess
    expect(outcome).toMatchObject({ enqueued: 0, enqueueFailures: 0, published: true });
    expect(d.notifier.publishRun).toHaveBeenCalledTimes(1);
    expect(d.notifier.publishRun.mock.calls[0][0].problems).toEqual([expect.objectContaining({ kind: 'discovery' })]);
    expect(d.runs.startRun).not.toHaveBeenCalled();
    expect(d.queue.enqueue).not.toHaveBeenCalled();
  });

  it('with zero jobs and only an unknown-policy warning, publishes nothing under notify: failures and the warning under notify: all', async () => {
    // Prepare
    const quiet = dispatchWorld({ tables: [tagged('orders', 'dialy')] });
    const chatty = dispatchWorld({ policies: { daily: { ...DAILY, notify: 'all' } }, tables: [tagged('orders', 'dialy')] });
    // Act
    const silent = await dispatchRun(quiet.deps, request());
    const told = await dispatchRun(chatty.deps, request());
    // Assess
    expect(silent).toMatchObject({ enqueued: 0, published: false });
    expect(quiet.notifier.publishRun).not.toHaveBeenCalled();
    expect(told).toMatchObject({ enqueued: 0, published: true });
    expect(chatty.notifier.publishRun.mock.calls[0][0].problems).toEqual([expect.objectContaining({ kind: 'unknown-policy', table: 'orders' })]);
  });

  it('with an invalid policy, publishes the problem and enqueues nothing', async () => {
    // Prepare
    const d = dispatchWorld({ policies: { daily: { retention: { keepLast: 'all' } } }, tables: [tagged('orders', 'daily')] });
    // Act
    const outcome = await dispatchRun(d.deps, request());
    // Assess
    expect(outcome.published).toBe(true);
    expect(outcome.plan.jobs).toEqual([]);
    expect(d.queue.enqueue).not.toHaveBeenCalled();
    expect(d.notifier.publishRun.mock.calls[0][0].problems[0].message).toContain('retention.keepLast');
  });

  it('with --table naming an untagged table, publishes the failed result', async () => {
    // Prepare
    const d = dispatchWorld({ tables: [tagged('orders', 'daily')] });
    // Act
    const outcome = await dispatchRun(d.deps, request({ table: 'ghost' }));
    // Assess
    expect(outcome.published).toBe(true);
    expect(d.notifier.publishRun.mock.calls[0][0].results).toEqual([expect.objectContaining({ table: 'ghost', status: 'failed' })]);
  });

  it('with zero jobs and nothing wrong, publishes nothing under notify "failures"', async () => {
    // Prepare
    const d = dispatchWorld({ tables: [] });
    // Act
    const outcome = await dispatchRun(d.deps, request());
    // Assess
    expect(outcome.published).toBe(false);
    expect(d.notifier.publishRun).not.toHaveBeenCalled();
  });

  it('records the run header, enqueues every job and leaves publishing to the last result', async () => {
    // Prepare
    const d = dispatchWorld({ tables: [tagged('a', 'daily'), tagged('b', 'daily'), tagged('c', 'dialy')] });
    // Act
    const outcome = await dispatchRun(d.deps, request());
    // Assess
    expect(outcome).toMatchObject({ enqueued: 2, enqueueFailures: 0, published: false });
    expect(d.runs.startRun).toHaveBeenCalledTimes(1);
    expect(d.runs.startRun).toHaveBeenCalledWith(
      expect.objectContaining({ runId: `daily|schedule|${SLOT}`, expected: 2, notify: 'failures', problems: [expect.objectContaining({ table: 'c' })] }),
      NOW,
    );
    expect(d.queue.enqueued).toEqual([job('a'), job('b')]);
    expect(d.notifier.publishRun).not.toHaveBeenCalled();
  });

  it('records jobs that could not be enqueued as failed; when none could, the run publishes once', async () => {
    // Prepare
    const d = dispatchWorld({ tables: [tagged('a', 'daily'), tagged('b', 'daily')], failing: ['a', 'b'] });
    // Act
    const outcome = await dispatchRun(d.deps, request());
    // Assess
    expect(outcome).toMatchObject({ enqueued: 0, enqueueFailures: 2, published: true });
    expect(d.notifier.publishRun).toHaveBeenCalledTimes(1);
    const published = d.notifier.publishRun.mock.calls[0][0];
    expect(published.results).toEqual([
      { table: 'a', policy: 'daily', status: 'failed', reason: 'could not enqueue the job: InvalidParameterValue: boom' },
      { table: 'b', policy: 'daily', status: 'failed', reason: 'could not enqueue the job: InvalidParameterValue: boom' },
    ]);
  });
});

describe('finishJobResult', () => {
  async function startedRun(expected: number, notify: 'failures' | 'all' = 'failures') {
    const runs = new FakeRunLedger();
    const notifier = fakeNotifier();
    const runId = `daily|schedule|${SLOT}`;
    await runs.startRun({ runId, policy: 'daily', trigger: 'schedule', startedAt: NOW.toISOString(), expected, problems: [], notify }, NOW);
    return { runs, notifier, runId, deps: { runs, notifier, clock } };
  }

  it('publishes exactly once, on the last result, with every result of the run', async () => {
    // Prepare
    const r = await startedRun(3);
    const results: JobResult[] = [
      { table: 'a', policy: 'daily', status: 'backed-up', backupArn: 'arn:a' },
      { table: 'b', policy: 'daily', status: 'failed', reason: 'boom' },
      { table: 'c', policy: 'daily', status: 'skipped', reason: 'cooldown' },
    ];
    // Act
    const published: boolean[] = [];
    for (const result of results) published.push(await finishJobResult(r.deps, r.runId, result));
    const again = await finishJobResult(r.deps, r.runId, results[2]);
    // Assess
    expect(published).toEqual([false, false, true]);
    expect(again).toBe(false);
    expect(r.notifier.publishRun).toHaveBeenCalledTimes(1);
    expect(r.notifier.publishRun).toHaveBeenCalledWith(
      expect.objectContaining({ runId: r.runId, policy: 'daily', trigger: 'schedule', results, problems: [] }),
    );
  });

  it('does not publish an all-success run under notify "failures", but claims it', async () => {
    // Prepare
    const r = await startedRun(1);
    // Act
    const published = await finishJobResult(r.deps, r.runId, { table: 'a', policy: 'daily', status: 'backed-up' });
    // Assess
    expect(published).toBe(false);
    expect(r.notifier.publishRun).not.toHaveBeenCalled();
    expect(r.runs.headers.get(r.runId)?.notifiedAt).toBe(NOW.toISOString());
  });

  it('publishes an all-success run under notify "all"', async () => {
    // Prepare
    const r = await startedRun(1, 'all');
    // Act
    const published = await finishJobResult(r.deps, r.runId, { table: 'a', policy: 'daily', status: 'backed-up' });
    // Assess
    expect(published).toBe(true);
    expect(r.notifier.publishRun).toHaveBeenCalledTimes(1);
  });

  it('publishes nothing for a run without a header (a CLI-only run)', async () => {
    // Prepare
    const r = await startedRun(1);
    // Act
    const published = await finishJobResult(r.deps, 'unknown-run', { table: 'a', policy: 'daily', status: 'failed', reason: 'x' });
    // Assess
    expect(published).toBe(false);
    expect(r.notifier.publishRun).not.toHaveBeenCalled();
  });

  it('failedAfterRetries names the attempts and the DLQ', () => {
    // Prepare
    const err = new RetryableError('CreateBackup a: ThrottlingException');
    // Act
    const result = failedAfterRetries(job('a'), err, 3);
    // Assess
    expect(result).toEqual({
      table: 'a',
      policy: 'daily',
      status: 'failed',
      reason: 'RetryableError: CreateBackup a: ThrottlingException (after 3 attempts; the job went to the dead-letter queue)',
    });
  });
});

// ---------------------------------------------------------------------------------------------
// The run summary: marked notified only after SNS accepted it
// ---------------------------------------------------------------------------------------------

describe('run summary notification', () => {
  const RUN_ID = `daily|schedule|${SLOT}`;
  const capturingLog = () => ({ info: jest.fn(), warn: jest.fn(), error: jest.fn() });
  const notPublishedLines = (log: ReturnType<typeof capturingLog>) => log.error.mock.calls.filter(([m]) => m === 'run summary not published');

  async function run(expected: number, notify: 'failures' | 'all' = 'failures') {
    const runs = new FakeRunLedger();
    const notifier = fakeNotifier();
    const log = capturingLog();
    await runs.startRun({ runId: RUN_ID, policy: 'daily', trigger: 'schedule', startedAt: NOW.toISOString(), expected, problems: [], notify }, NOW);
    return { runs, notifier, log, deps: { runs, notifier, clock, log } };
  }
  const failed: JobResult = { table: 'a', policy: 'daily', status: 'failed', reason: 'boom' };

  it('a failed publish leaves the run unnotified, logs one line and throws; the redelivered job publishes and marks it', async () => {
    // Prepare
    const r = await run(1);
    r.notifier.publishRun.mockRejectedValueOnce(new Error('SNS is down'));
    // Act
    const first = await rejectionOf(finishJobResult(r.deps, RUN_ID, failed));
    const afterFailure = r.runs.headers.get(RUN_ID);
    const again = await finishJobResult(r.deps, RUN_ID, failed); // the same job, redelivered
    // Assess
    expect((first as Error).message).toBe('SNS is down');
    expect(afterFailure?.notifiedAt).toBeUndefined();
    expect(afterFailure?.notifyClaimId).toBeUndefined(); // the lease was given back
    expect(notPublishedLines(r.log)).toEqual([
      ['run summary not published', expect.objectContaining({ runId: RUN_ID, policy: 'daily', error: 'SNS is down' })],
    ]);
    expect(again).toBe(true);
    expect(r.notifier.publishRun).toHaveBeenCalledTimes(2);
    expect(r.runs.headers.get(RUN_ID)).toMatchObject({ notifiedAt: NOW.toISOString(), notifyMessageId: 'message-id' });
    await expect(r.runs.listRunResults(RUN_ID)).resolves.toEqual([failed]);
  });

  it('marks the run notified only after the publish', async () => {
    // Prepare
    const r = await run(1);
    let notifiedDuringPublish: string | undefined = 'unset';
    r.notifier.publishRun.mockImplementationOnce(async () => {
      notifiedDuringPublish = r.runs.headers.get(RUN_ID)?.notifiedAt;
      return 'm-1';
    });
    // Act
    await finishJobResult(r.deps, RUN_ID, failed);
    // Assess
    expect(notifiedDuringPublish).toBeUndefined();
    expect(r.runs.markRunNotified).toHaveBeenCalledWith(RUN_ID, expect.any(String), NOW, 'm-1');
    expect(r.runs.headers.get(RUN_ID)?.notifyMessageId).toBe('m-1');
  });

  it('two racing finishers of the last results publish once', async () => {
    // Prepare
    const r = await run(2);
    // Act
    const published = await Promise.all([
      finishJobResult(r.deps, RUN_ID, failed),
      finishJobResult(r.deps, RUN_ID, { table: 'b', policy: 'daily', status: 'backed-up' }),
    ]);
    // Assess
    expect(published.filter(Boolean)).toHaveLength(1);
    expect(r.notifier.publishRun).toHaveBeenCalledTimes(1);
    expect(r.notifier.publishRun.mock.calls[0][0].results).toHaveLength(2);
  });

  it('while another publisher holds the lease: a first delivery leaves it to them, a redelivery throws to come back later', async () => {
    // Prepare
    const r = await run(2);
    await finishJobResult(r.deps, RUN_ID, failed);
    r.runs.headers.set(RUN_ID, { ...r.runs.headers.get(RUN_ID)!, notifyClaimedAt: NOW.toISOString(), notifyClaimId: 'other' });
    // Act
    const fresh = await finishJobResult(r.deps, RUN_ID, { table: 'b', policy: 'daily', status: 'backed-up' });
    const redelivered = await rejectionOf(finishJobResult(r.deps, RUN_ID, failed));
    // Assess
    expect(fresh).toBe(false);
    expect(redelivered).toBeInstanceOf(RetryableError);
    expect(r.notifier.publishRun).not.toHaveBeenCalled();
  });

  it('a lease older than the lease time is taken over by the redelivered job', async () => {
    // Prepare
    const r = await run(1);
    await r.runs.recordRunResult(RUN_ID, failed, NOW);
    const stale = new Date(NOW.getTime() - FakeRunLedger.LEASE_MS - 1000).toISOString();
    r.runs.headers.set(RUN_ID, { ...r.runs.headers.get(RUN_ID)!, notifyClaimedAt: stale, notifyClaimId: 'crashed' });
    // Act
    const published = await finishJobResult(r.deps, RUN_ID, failed);
    // Assess
    expect(published).toBe(true);
    expect(r.runs.headers.get(RUN_ID)?.notifiedAt).toBe(NOW.toISOString());
  });

  it("the planner's own publish (a plan without jobs) logs the line and fails the invocation", async () => {
    // Prepare
    const w = world({ tables: [tagged('orders', 'daily')] });
    w.discovery.error = new Error('AccessDenied');
    const log = capturingLog();
    w.notifier.publishRun.mockRejectedValueOnce(new Error('NotFound: Topic does not exist'));
    const deps = { policies: w.policies, discovery: w.discovery, runs: new FakeRunLedger(), queue: new FakeQueue(), notifier: w.notifier, clock, log };
    // Act
    const err = await rejectionOf(dispatchRun(deps, request()));
    // Assess
    expect((err as Error).message).toContain('Topic does not exist');
    expect(notPublishedLines(log)).toEqual([
      ['run summary not published', expect.objectContaining({ runId: RUN_ID, policy: 'daily', error: 'NotFound: Topic does not exist' })],
    ]);
  });

  it('runInProcess returns the report with the notification that failed, and with the MessageId of one that did not', async () => {
    // Prepare
    const failing = world({ tables: [tagged('a', 'daily')] });
    failing.backups.describeErrors.set('a', new TableNotFoundError('a'));
    failing.notifier.publishRun.mockRejectedValueOnce(new Error('NotFound: Topic does not exist'));
    const ok = world({ tables: [tagged('a', 'daily')] });
    ok.backups.describeErrors.set('a', new TableNotFoundError('a'));
    // Act
    const notPublished = await runInProcess(failing.inProcess, request(), { retryDelayMs: 1 });
    const published = await runInProcess(ok.inProcess, request(), { retryDelayMs: 1 });
    // Assess
    expect(notPublished.results).toEqual([expect.objectContaining({ table: 'a', status: 'failed' })]);
    expect(notPublished.notification).toEqual({ published: false, error: 'NotFound: Topic does not exist' });
    expect(published.notification).toEqual({ published: true, messageId: 'message-id' });
  });
});
