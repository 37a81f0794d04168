/**
 * The safety promises in the pure core, over the one in-memory ledger and in-memory backups:
 * exactly one backup per slot under retries, lost records and races; the new backup counts as
 * the newest; a job message never decides a deletion; MessageGroupId fits SQS.
 */
import { RetryableError } from '../../lambda/core/errors';
import { messageGroupId, parseJob, type BackupJob } from '../../lambda/core/jobs';
import { PolicySchema, policyHash, type EffectivePolicy, type PolicyInput } from '../../lambda/core/policy';
import type { BackupApi, BackupInfo, Clock, CreatedBackup, PolicySource, TableFacts } from '../../lambda/core/ports';
import { processJob, type WorkerDeps } from '../../lambda/core/backup/worker';
import { runJobWithRetries } from '../../lambda/core/backup/in-process';
import { MemoryLedger } from '../support/memory-ledger';

const NOW = new Date('2026-11-24T03:00:05.000Z');
const ACCOUNT = 'arn:aws:dynamodb:us-east-1:123456789012';

class Backups implements BackupApi {
  readonly existing = new Map<string, BackupInfo>();
  private n = 0;
  creates = 0;
  constructor(private readonly clock: Clock) {}
  async describeTable(table: string): Promise<TableFacts> {
    return { table, status: 'ACTIVE', sizeBytes: 100, itemCount: 1 };
  }
  async createBackup(table: string, name: string): Promise<CreatedBackup> {
    this.creates++;
    const at = this.clock.now().toISOString();
    const arn = `${ACCOUNT}:table/${table}/backup/${this.clock.now().getTime()}-${++this.n}`;
    this.existing.set(arn, { arn, name, table, createdAt: at, status: 'CREATING' });
    return { backupArn: arn, backupName: name, status: 'CREATING', createdAt: at };
  }
  async describeBackupStatus(arn: string) {
    return this.existing.get(arn)?.status;
  }
  async deleteBackup(arn: string): Promise<'deleted' | 'gone'> {
    return this.existing.delete(arn) ? 'deleted' : 'gone';
  }
  async listBackups(table?: string) {
    return [...this.existing.values()].filter((b) => !table || b.table === table);
  }
  settle(): void {
    for (const [k, b] of this.existing) this.existing.set(k, { ...b, status: 'AVAILABLE' });
  }
}

function policies(input: PolicyInput): PolicySource {
  const policy = PolicySchema.parse(input);
  const eff: EffectivePolicy = { name: 'p', policy, hash: policyHash(policy), overridden: false };
  return { listNames: async () => new Set(['p']), getPolicy: async () => policy, getEffective: async () => eff };
}

function world(input: PolicyInput = { retention: { keepLast: 2 } }) {
  let now = NOW;
  const clock: Clock = { now: () => now };
  const ledger = new MemoryLedger();
  const backups = new Backups(clock);
  const deps: WorkerDeps = { policies: policies(input), backups, ledger, clock };
  return { deps, ledger, backups, advance: (ms: number) => (now = new Date(now.getTime() + ms)) };
}

const job = (slot: string, extra: Partial<BackupJob> = {}): BackupJob => ({
  table: 'orders',
  policy: 'p',
  trigger: 'schedule',
  slot,
  requestedAt: NOW.toISOString(),
  runId: `run-${slot}`,
  ...extra,
});

describe('one backup per slot', () => {
  it('a record lost after CreateBackup is adopted by the exact name the claim chose: one backup, recorded once', async () => {
    // Prepare: the first recordBackup fails (throttled) after CreateBackup succeeded
    const { deps, ledger, backups } = world();
    const real = ledger.recordBackup.bind(ledger);
    const spy = jest.spyOn(ledger, 'recordBackup').mockRejectedValueOnce(new RetryableError('ledger throttled')).mockImplementation(real);

    // Act
    const first = processJob(deps, job('s1'));
    await expect(first).rejects.toBeInstanceOf(RetryableError);
    const second = await processJob(deps, job('s1'));

    // Assess
    expect(backups.creates).toBe(1);
    expect(second).toMatchObject({ status: 'backed-up' });
    const [rec] = ledger.all('orders');
    expect(rec).toMatchObject({ status: 'CREATING', backupArn: second.backupArn });
    expect(backups.existing.get(second.backupArn!)?.name).toBe(rec.backupName);
    expect(spy).toHaveBeenCalledTimes(2);
  });

  it('in-process retries (the CLI) adopt too: one backup after a lost record', async () => {
    const { deps, ledger, backups } = world();
    const real = ledger.recordBackup.bind(ledger);
    jest.spyOn(ledger, 'recordBackup').mockRejectedValueOnce(new Error('socket hang up')).mockImplementation(real);

    const result = await runJobWithRetries(deps, job('s1'), { maxAttempts: 3, retryDelayMs: 1 });

    expect(result.status).toBe('backed-up');
    expect(backups.creates).toBe(1);
  });

  it("a claim whose write landed but answered an error is recognised as this attempt's own on retry", async () => {
    // Prepare: the claim's write lands, then the client sees a failure and retries the same write
    const { deps, ledger, backups } = world();
    const real = ledger.claim.bind(ledger);
    jest.spyOn(ledger, 'claim').mockImplementationOnce(async (j, r) => {
      await real(j, r); // landed
      return real(j, r); // the retried write meets its own record
    });

    const result = await processJob(deps, job('s1'));

    expect(result.status).toBe('backed-up');
    expect(backups.creates).toBe(1);
  });

  it('a live claim of another attempt is left to finish (retry later); a stale one without its backup is taken over', async () => {
    const { deps, ledger, backups, advance } = world();
    await ledger.claim(job('s1'), { policyHash: 'h', now: NOW, attemptId: 'other-attempt', backupName: 'ddbbk.p.schedule.20261124T030000Z.aaaaaaaaaaaa' });

    await expect(processJob(deps, job('s1'))).rejects.toThrow(/claimed by another attempt/);
    advance(16 * 60_000);
    const later = await processJob(deps, job('s1'));

    expect(later.status).toBe('backed-up');
    expect(backups.creates).toBe(1);
  });

  it('an attempt whose claim was taken over reports its backup and leaves the winner\'s record and state alone', async () => {
    // Prepare: attempt A hangs in CreateBackup past the claim's staleness; B takes over and records
    const { deps, ledger, backups, advance } = world();
    const realCreate = backups.createBackup.bind(backups);
    let releaseA!: () => void;
    const aWaits = new Promise<void>((r) => (releaseA = r));
    let n = 0;
    jest.spyOn(backups, 'createBackup').mockImplementation(async (t, name) => {
      if (++n === 1) await aWaits;
      return realCreate(t, name);
    });
    const a = processJob(deps, job('s1'));
    await new Promise((r) => setTimeout(r, 10));
    advance(16 * 60_000);

    // Act
    const b = await processJob(deps, job('s1'));
    releaseA();
    const lost = await a;

    // Assess
    expect(b.status).toBe('backed-up');
    expect(lost).toMatchObject({ status: 'failed', reason: expect.stringContaining('was made but not recorded') });
    expect(ledger.all('orders')[0]).toMatchObject({ status: 'CREATING', backupArn: b.backupArn });
    expect(await ledger.getState('orders', 'p')).toMatchObject({ lastAttemptStatus: 'succeeded', lastBackupArn: b.backupArn });
  });

  it('a job finding the slot done is a duplicate, whatever its status', async () => {
    const { deps, backups } = world();
    await processJob(deps, job('s1'));
    const again = await processJob(deps, job('s1'));
    expect(again).toMatchObject({ status: 'skipped', reason: expect.stringContaining('duplicate') });
    expect(backups.creates).toBe(1);
  });

  it('two jobs of different slots at once under a cooldown make one backup', async () => {
    const { deps, backups } = world({ minIntervalMinutes: 60, retention: { keepLast: 5 } });
    const results = await Promise.all([processJob(deps, job('manual:a', { trigger: 'manual' })), processJob(deps, job('manual:b', { trigger: 'manual' }))]);
    expect(backups.creates).toBe(1);
    expect(results.map((r) => r.status).sort()).toEqual(['backed-up', 'skipped']);
    expect(results.find((r) => r.status === 'skipped')?.reason).toContain('cooldown');
  });
});

describe('the cooldown and --force', () => {
  it('a skip inside the cooldown says until when; force backs up anyway, once per slot', async () => {
    const { deps, backups, advance } = world({ minIntervalMinutes: 60, retention: { keepLast: 5 } });
    await processJob(deps, job('manual:a', { trigger: 'manual' }));
    advance(10 * 60_000);

    const skipped = await processJob(deps, job('manual:b', { trigger: 'manual' }));
    const forced = await processJob(deps, job('manual:c', { trigger: 'manual', force: true }));
    const again = await processJob(deps, job('manual:c', { trigger: 'manual', force: true }));

    expect(skipped).toMatchObject({ status: 'skipped', reason: expect.stringContaining(`next backup allowed after ${new Date(NOW.getTime() + 3_600_000).toISOString()}`) });
    expect(forced.status).toBe('backed-up');
    expect(again).toMatchObject({ status: 'skipped', reason: expect.stringContaining('duplicate') });
    expect(backups.creates).toBe(2);
  });

  it('parseJob keeps force only when it is true', () => {
    expect(parseJob(JSON.stringify({ ...job('s1'), force: true })).force).toBe(true);
    expect(parseJob(JSON.stringify({ ...job('s1'), force: 'yes' }))).not.toHaveProperty('force');
  });
});

describe('retention right after a backup', () => {
  it('keepLast 2 holds 2 backups, not 3: the new backup still CREATING counts as the newest', async () => {
    const { deps, backups, advance } = world({ retention: { keepLast: 2 } });
    for (let i = 0; i < 4; i++) {
      await processJob(deps, job(`s${i}`));
      backups.settle(); // earlier backups became AVAILABLE; the next one starts CREATING
      advance(3_600_000);
    }
    await processJob(deps, job('s4'));
    expect([...backups.existing.values()].map((b) => b.status).sort()).toEqual(['AVAILABLE', 'CREATING']);
  });
});

describe('job messages', () => {
  it('parseJob keeps only the known fields: a listing or a backup ARN in a message is never read', () => {
    const parsed = parseJob(JSON.stringify({ ...job('s1'), kind: 'backup', listing: [{ arn: 'x' }], backupArn: 'y' }));
    expect(parsed).toEqual({ ...job('s1'), kind: 'backup' });
  });

  it('MessageGroupId is the table up to 128 characters, its SHA-256 beyond, one group per table', () => {
    const long = 'a'.repeat(255);
    expect(messageGroupId('orders')).toBe('orders');
    expect(messageGroupId('b'.repeat(128))).toBe('b'.repeat(128));
    expect(messageGroupId(long)).toMatch(/^[a-f0-9]{64}$/);
    expect(messageGroupId(long)).toBe(messageGroupId(long));
    expect(messageGroupId(long)).not.toBe(messageGroupId(`${'a'.repeat(254)}b`));
  });
});
