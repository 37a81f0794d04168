/**
 * The CloudTrail feed's clock (lambda/core/events/feed.ts) and what the worker does with it: while
 * the feed is alive the prune makes no confirming ListBackups and the settings upkeep is a slow
 * per-table refresh; while it is not, both are as without the feed. In-memory ports only.
 */
import fc from 'fast-check';
import { processJob, SETTINGS_SNAPSHOT_EVERY_MS, type WorkerDeps } from '../../lambda/core/backup/worker';
import { DAILY_UPKEEP_MS, FEED_ALIVE_WINDOW_MS, SETTINGS_REFRESH_MS, feedIsAlive, upkeepDue } from '../../lambda/core/events/feed';
import type { BackupJob } from '../../lambda/core/jobs';
import { resolveEffectivePolicy } from '../../lambda/core/policy';
import type { BackupApi, BackupInfo, CreatedBackup, ExistenceFeed, LedgerBackupRecord, PolicySource, TableFacts, TableUpkeep } from '../../lambda/core/ports';
import { pruneTable } from '../../lambda/core/retention/prune';
import { FEED_DEFAULTS } from '../../lambda/env';
import { MemoryLedger } from '../support/memory-ledger';

const NOW = new Date('2026-11-24T03:00:05.000Z');
const DAY = 86_400_000;
const ACCOUNT = 'arn:aws:dynamodb:us-east-1:123456789012';
const ago = (ms: number) => new Date(NOW.getTime() - ms);

describe('feedIsAlive', () => {
  it('is alive while the last event is younger than the window, and on no doubt otherwise', () => {
    // Prepare / Act / Assess
    expect(feedIsAlive(ago(60_000).toISOString(), NOW)).toBe(true);
    expect(feedIsAlive(ago(FEED_ALIVE_WINDOW_MS - 1000).toISOString(), NOW)).toBe(true);
    expect(feedIsAlive(ago(FEED_ALIVE_WINDOW_MS).toISOString(), NOW)).toBe(false);
    expect(feedIsAlive(undefined, NOW)).toBe(false);
    expect(feedIsAlive('garbage', NOW)).toBe(false);
    expect(feedIsAlive(new Date(NOW.getTime() + DAY).toISOString(), NOW)).toBe(false);
  });
});

describe('upkeepDue', () => {
  it('keeps the daily cadence when the feed is not alive', () => {
    // Prepare / Act / Assess
    expect(upkeepDue('orders', ago(DAY - 1000).toISOString(), NOW, DAILY_UPKEEP_MS)).toBe(false);
    expect(upkeepDue('orders', ago(DAY).toISOString(), NOW, DAILY_UPKEEP_MS)).toBe(true);
    expect(upkeepDue('orders', undefined, NOW, SETTINGS_REFRESH_MS)).toBe(true);
    expect(SETTINGS_SNAPSHOT_EVERY_MS).toBe(DAILY_UPKEEP_MS);
    expect(SETTINGS_REFRESH_MS).toBe(FEED_DEFAULTS.SETTINGS_REFRESH_DAYS * DAY);
  });

  it('property: with the slow refresh a table comes due exactly once per period, daily backups or not', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 3, maxLength: 40 }), fc.integer({ min: 0, max: 400 }), (table, startDay) => {
        // Prepare: a daily backup for 3 periods; the upkeep is done whenever due
        const start = Date.UTC(2026, 0, 1) + startDay * DAY;
        let captured: string | undefined = new Date(start).toISOString();
        let refreshes = 0;
        // Act
        for (let d = 1; d <= 90; d++) {
          const now = new Date(start + d * DAY);
          if (upkeepDue(table, captured, now, SETTINGS_REFRESH_MS)) {
            refreshes++;
            captured = now.toISOString();
          }
        }
        // Assess
        expect(refreshes).toBe(3);
      }),
      { numRuns: 200 },
    );
  });

  it('spreads a fleet captured on one day over the whole period after the first refresh', () => {
    // Prepare: 3,000 tables, all captured on day 0
    const t0 = Date.UTC(2026, 0, 1);
    const perDay = new Array<number>(30).fill(0);
    // Act: the day of the period on which each table first comes due
    for (let i = 0; i < 3000; i++) {
      const table = `table-${i}`;
      for (let d = 1; d <= 30; d++) {
        if (upkeepDue(table, new Date(t0).toISOString(), new Date(t0 + d * DAY), SETTINGS_REFRESH_MS)) {
          perDay[d - 1]++;
          break;
        }
      }
    }
    // Assess: every table once, about 100 a day, none over twice that
    expect(perDay.reduce((a, b) => a + b, 0)).toBe(3000);
    expect(Math.max(...perDay)).toBeLessThan(200);
    expect(Math.min(...perDay)).toBeGreaterThan(50);
  });
});

// ---------------------------------------------------------------------------------------------
// The worker and the prune with and without the feed
// ---------------------------------------------------------------------------------------------

const arnOf = (table: string, id: string) => `${ACCOUNT}:table/${table}/backup/${id}`;

function ledgerRecord(daysOld: number, status: LedgerBackupRecord['status'] = 'AVAILABLE'): LedgerBackupRecord {
  const at = ago(daysOld * DAY).toISOString();
  return {
    table: 'orders',
    policy: 'daily',
    slot: `schedule:${at}`,
    trigger: 'schedule',
    runId: `run-${at}`,
    requestedAt: at,
    status,
    claimedAt: at,
    backupArn: arnOf('orders', `d${daysOld}`),
    backupName: `ddbbk.daily.schedule.d${daysOld}`,
    createdAt: at,
  };
}

class Backups implements BackupApi {
  readonly existing = new Map<string, BackupInfo>();
  readonly describeTable = jest.fn(async (table: string): Promise<TableFacts> => ({ table, status: 'ACTIVE', sizeBytes: 1000, itemCount: 10 }));
  readonly createBackup = jest.fn(async (table: string, name: string): Promise<CreatedBackup> => {
    const arn = arnOf(table, 'new');
    this.existing.set(arn, { arn, name, table, createdAt: NOW.toISOString(), status: 'CREATING' });
    return { backupArn: arn, backupName: name, status: 'CREATING', createdAt: NOW.toISOString() };
  });
  readonly describeBackupStatus = jest.fn(async (arn: string) => this.existing.get(arn)?.status);
  readonly deleteBackup = jest.fn(async (arn: string): Promise<'deleted' | 'gone'> => (this.existing.delete(arn) ? 'deleted' : 'gone'));
  readonly listBackups = jest.fn(async (table?: string) => [...this.existing.values()].filter((b) => table === undefined || b.table === table));
}

const policies = (doc: unknown): PolicySource => ({
  listNames: async () => new Set(['daily']),
  getPolicy: async () => resolveEffectivePolicy('daily', doc, undefined, 'orders').policy,
  getEffective: async (name, table) => resolveEffectivePolicy(name, doc, undefined, table),
});

const feed = (alive: boolean): ExistenceFeed & { eventsAlive: jest.Mock } => ({ eventsAlive: jest.fn(async () => alive) });

function world(records: readonly LedgerBackupRecord[]) {
  const ledger = new MemoryLedger();
  const backups = new Backups();
  for (const r of records) {
    ledger.seed(r);
    if (r.status === 'AVAILABLE') backups.existing.set(r.backupArn!, { arn: r.backupArn!, name: r.backupName, table: r.table, createdAt: r.createdAt!, status: 'AVAILABLE' });
  }
  return { ledger, backups, clock: { now: () => NOW } };
}

const JOB: BackupJob = { table: 'orders', policy: 'daily', trigger: 'schedule', slot: `schedule:${NOW.toISOString()}`, requestedAt: NOW.toISOString(), runId: 'daily|schedule' };

describe('pruneTable with the CloudTrail feed', () => {
  it('trusts the ledger while the feed is alive: no ListBackups, no DescribeBackup, keepLast real backups', async () => {
    // Prepare: 4 AVAILABLE records under keepLast 2; the second newest was deleted by hand and its event marked it VANISHED
    const w = world([ledgerRecord(1), { ...ledgerRecord(2), status: 'VANISHED' }, ledgerRecord(3), ledgerRecord(4)]);
    w.backups.existing.delete(arnOf('orders', 'd2'));
    const existence = feed(true);
    // Act
    const out = await pruneTable({ ...w, existence }, { table: 'orders', policy: 'daily', retention: { keepLast: 2 } });
    // Assess
    expect(w.backups.listBackups).not.toHaveBeenCalled();
    expect(w.backups.describeBackupStatus).not.toHaveBeenCalled();
    expect(out).toMatchObject({ confirmed: false, vanished: 0 });
    expect(out.deleted).toEqual([arnOf('orders', 'd4')]);
    expect([...w.backups.existing.keys()].sort()).toEqual([arnOf('orders', 'd1'), arnOf('orders', 'd3')]);
  });

  it('lists as before when the feed is not alive (or absent), and finds the hand deletion itself', async () => {
    // Prepare: the hand deletion of d2 never reached the ledger
    const w = world([ledgerRecord(1), ledgerRecord(2), ledgerRecord(3), ledgerRecord(4)]);
    w.backups.existing.delete(arnOf('orders', 'd2'));
    const existence = feed(false);
    // Act
    const out = await pruneTable({ ...w, existence }, { table: 'orders', policy: 'daily', retention: { keepLast: 2 } });
    // Assess
    expect(existence.eventsAlive).toHaveBeenCalledTimes(1);
    expect(w.backups.listBackups).toHaveBeenCalledTimes(1);
    expect(out).toMatchObject({ confirmed: true, vanished: 1 });
    expect(out.deleted).toEqual([arnOf('orders', 'd4')]);
    expect(w.ledger.record(ledgerRecord(2))?.status).toBe('VANISHED');
  });

  it('never asks the feed when nothing would be deleted', async () => {
    // Prepare
    const w = world([ledgerRecord(1), ledgerRecord(2)]);
    const existence = feed(true);
    // Act
    await pruneTable({ ...w, existence }, { table: 'orders', policy: 'daily', retention: { keepLast: 2 } });
    // Assess
    expect(existence.eventsAlive).not.toHaveBeenCalled();
  });
});

describe('processJob: the settings upkeep with the CloudTrail feed', () => {
  const PITR_POLICY = { schedule: 'cron(0 3 * * ? *)', retention: { keepLast: 7 }, pointInTimeRecovery: { enabled: true } };

  function upkeepWorld(alive: boolean | undefined, capturedDaysAgo: number, pitrHash?: string) {
    const w = world([]);
    const pol = policies(PITR_POLICY);
    const at = ago(capturedDaysAgo * DAY).toISOString();
    const upkeep: Required<TableUpkeep> = {
      snapshotSettings: jest.fn(async (table: string) => ({ table, status: 'ACTIVE', sizeBytes: 1, itemCount: 1, pitr: { enabled: true } })),
      markChangesBaseline: jest.fn(async () => undefined),
      ensurePitr: jest.fn(async () => undefined),
    };
    const deps: WorkerDeps = { policies: pol, backups: w.backups, ledger: w.ledger, clock: w.clock, upkeep, ...(alive === undefined ? {} : { existence: feed(alive) }) };
    return { w, upkeep, deps, at, seed: async () => {
      const hash = pitrHash ?? (await pol.getEffective('daily', 'orders')).hash;
      w.ledger.seedState({ table: 'orders', policy: 'daily', lastItemCount: 5, itemCountAt: at, settingsCapturedAt: at, pitrCheckedAt: at, pitrCheckedHash: hash });
    } };
  }

  it('takes no snapshot, no PITR read and no DescribeTable 2 days after the last capture while the feed is alive', async () => {
    // Prepare
    const u = upkeepWorld(true, 2);
    await u.seed();
    expect(upkeepDue('orders', u.at, NOW, SETTINGS_REFRESH_MS)).toBe(false); // not this table's day of the cycle
    // Act
    const result = await processJob(u.deps, JOB);
    // Assess
    expect(result.status).toBe('backed-up');
    expect(u.upkeep.snapshotSettings).not.toHaveBeenCalled();
    expect(u.upkeep.ensurePitr).not.toHaveBeenCalled();
    expect(u.w.backups.describeTable).not.toHaveBeenCalled();
  });

  it('takes the daily snapshot and PITR check as before when the feed is not alive, or not wired', async () => {
    for (const alive of [false, undefined]) {
      // Prepare
      const u = upkeepWorld(alive, 2);
      await u.seed();
      // Act
      await processJob(u.deps, JOB);
      // Assess
      expect(u.upkeep.snapshotSettings).toHaveBeenCalledTimes(1);
      expect(u.upkeep.ensurePitr).toHaveBeenCalledTimes(1);
    }
  });

  it('re-checks PITR at once when an UpdateContinuousBackups event cleared the hash, even with the feed alive', async () => {
    // Prepare
    const u = upkeepWorld(true, 2, '');
    await u.seed();
    // Act
    await processJob(u.deps, JOB);
    // Assess
    expect(u.upkeep.snapshotSettings).not.toHaveBeenCalled();
    expect(u.upkeep.ensurePitr).toHaveBeenCalledTimes(1);
  });

  it('refreshes once the period has passed, while alive, with the configured period', async () => {
    // Prepare
    const u = upkeepWorld(true, 8);
    await u.seed();
    const deps: WorkerDeps = { ...u.deps, existence: { eventsAlive: async () => true, settingsRefreshMs: 7 * DAY } };
    // Act
    await processJob(deps, JOB);
    // Assess
    expect(u.upkeep.snapshotSettings).toHaveBeenCalledTimes(1);
  });
});
