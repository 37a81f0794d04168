import fc from 'fast-check';
import { runLongTask } from '../../lambda/core/long-task';
import {
  DrillRefusedError,
  drillChecks,
  drillRecordOf,
  drillState,
  drillTask,
  pickDrillTable,
  scratchTableName,
  type DrillActual,
  type DrillDeps,
  type DrillExpected,
  type DrillRecord,
} from '../../lambda/core/restore/drill';
import type { TableSettings } from '../../lambda/core/restore/restore';
import { parsePolicy } from '../../lambda/core/policy';

const tableName = fc.stringMatching(/^[A-Za-z0-9_.-]{3,255}$/);
const T0 = new Date('2026-12-02T10:00:00Z');

const settings = (extra: Partial<TableSettings> = {}): TableSettings => ({
  version: 1,
  table: 'orders',
  tableArn: 'arn:aws:dynamodb:us-east-1:123456789012:table/orders',
  capturedAt: T0.toISOString(),
  tags: { 'backup:policy': 'daily', team: 'shop' },
  ttl: { attributeName: 'exp' },
  stream: null,
  pitr: null,
  resourcePolicy: null,
  ...extra,
});

const shape = { keySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }], attributeTypes: { pk: 'S' }, gsis: [], lsis: [], sse: 'DEFAULT', billingMode: 'PAY_PER_REQUEST' };
const expected: DrillExpected = { itemCount: 3, itemCountSource: 'ledger', shape, settings: settings() };
const actual = (extra: Partial<DrillActual> = {}): DrillActual => ({
  itemCount: 3,
  shape: { ...shape, billingMode: undefined },
  settings: settings({ tags: { team: 'shop' } }),
  sample: { tried: 3, missing: [] },
  ...extra,
});

describe('drill names and rotation', () => {
  it('a scratch name is a valid table name, never the drilled table, and carries the UTC stamp', () => {
    fc.assert(
      fc.property(tableName, fc.date({ min: new Date('2000-01-01'), max: new Date('2099-12-31'), noInvalidDate: true }), (t, at) => {
        const s = scratchTableName(t, at);
        expect(s).toMatch(/^[A-Za-z0-9_.-]{3,255}$/);
        expect(s).not.toBe(t);
        expect(s.endsWith(`-drill-${at.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}Z$/, 'Z')}`)).toBe(true);
      }),
    );
  });

  it('picks a never-drilled table first, else the oldest drill; each table gets its turn', () => {
    fc.assert(
      fc.property(fc.uniqueArray(tableName, { minLength: 1, maxLength: 8 }), (tables) => {
        // Act: drill as many times as there are tables, each drill recorded as the newest.
        const last: Record<string, string | undefined> = Object.create(null) as Record<string, string | undefined>;
        const picked: string[] = [];
        for (let i = 0; i < tables.length; i++) {
          const t = pickDrillTable(tables, last)!;
          picked.push(t);
          last[t] = new Date(T0.getTime() + i * 1000).toISOString();
        }
        // Assess
        expect(new Set(picked).size).toBe(tables.length);
      }),
    );
    expect(pickDrillTable(['a-t', 'b-t', 'c-t'], { 'a-t': '2026-01-02', 'b-t': undefined, 'c-t': '2026-01-01' })).toBe('b-t');
    expect(pickDrillTable(['a-t', 'c-t'], { 'a-t': '2026-01-02', 'c-t': '2026-01-01' })).toBe('c-t');
    expect(pickDrillTable([], {})).toBeUndefined();
    expect(pickDrillTable(['toString', 'b-t'], { 'b-t': '2026-01-01' })).toBe('toString');
  });
});

describe('drillChecks', () => {
  it('passes a faithful restore; the policy tag and an empty billing summary are not failures', () => {
    const checks = drillChecks(expected, actual(), [{ setting: 'tags', outcome: 'applied', detail: '' }], 'backup:policy');
    expect(checks.filter((c) => c.passed === false)).toEqual([]);
    expect(checks.find((c) => c.name === 'billingMode')?.passed).toBeNull();
    expect(checks.find((c) => c.name === 'tags')).toMatchObject({ passed: true, detail: 'as recorded: {"team":"shop"}' });
  });

  it('fails what differs: count, missing GSI, TTL lost, unreadable sample, a setting that failed to apply', () => {
    const checks = drillChecks(
      { ...expected, shape: { ...shape, gsis: [{ name: 'byG', keySchema: [{ AttributeName: 'g', KeyType: 'HASH' }] }] } },
      actual({ itemCount: 2, settings: settings({ tags: { team: 'shop' }, ttl: null }), sample: { tried: 2, missing: ['{"pk":"a"}'] } }),
      [{ setting: 'stream', outcome: 'failed', detail: 'AccessDenied' }],
      'backup:policy',
    );
    const failed = checks.filter((c) => c.passed === false).map((c) => c.name);
    expect(failed).toEqual(['itemCount', 'globalSecondaryIndexes', 'ttl', 'settingsApplied', 'sampleReadable']);
    expect(checks.find((c) => c.name === 'globalSecondaryIndexes')!.detail).toBe('expected byG(g HASH), restored none');
  });

  it('reports what cannot be known as not checked, never as failed', () => {
    const checks = drillChecks(
      { shape: {}, settings: settings({ unreadable: { ttl: 'AccessDenied' }, deletionProtection: true }) },
      actual({ shape: {} }),
      [],
      'backup:policy',
    );
    const notChecked = checks.filter((c) => c.passed === null).map((c) => c.name);
    expect(notChecked).toEqual(expect.arrayContaining(['itemCount', 'keySchema', 'attributeTypes', 'globalSecondaryIndexes', 'sse', 'billingMode', 'ttl', 'deletionProtection']));
    expect(checks.some((c) => c.passed === false)).toBe(false);
  });
});

/** A fake AWS for the drill steps: tables by name, one backup, recorded drills. */
function fakeDeps(opts: { busyLooks?: number; failInspect?: boolean; backups?: string[] } = {}) {
  let t = T0.getTime();
  const tables = new Set(['orders']);
  let busy = opts.busyLooks ?? 0;
  const records: DrillRecord[] = [];
  const calls: string[] = [];
  const deps: DrillDeps = {
    clock: { now: () => new Date(t) },
    tagKey: 'backup:policy',
    async resolveBackup(_table, backup) {
      if (!(opts.backups ?? ['arn:b1']).includes(backup === 'latest' ? 'arn:b1' : backup)) throw new Error(`no backup ${backup}`);
      return { backupArn: backup === 'latest' ? 'arn:b1' : backup };
    },
    expected: async () => expected,
    tableExists: async (n) => tables.has(n),
    async startRestore(_arn, target) {
      calls.push(`restore ${target}`);
      tables.add(target);
    },
    async tableStatus(n) {
      if (!tables.has(n)) return 'GONE';
      return busy-- > 0 ? 'BUSY' : 'ACTIVE';
    },
    applySettings: async () => [{ setting: 'ttl', outcome: 'applied', detail: 'TTL' }],
    async inspect() {
      if (opts.failInspect) throw new Error('scan refused');
      return actual();
    },
    async deleteTable(n) {
      calls.push(`delete ${n}`);
      return tables.delete(n) ? 'deleted' : 'gone';
    },
    record: async (r) => void records.push(r),
    tablesOfPolicy: async () => ['orders', 'users'],
    lastDrilled: async () => ({ orders: '2026-11-01T00:00:00Z', users: undefined }),
  };
  const run = (state = drillState(T0, { table: 'orders', pollSeconds: 20 })) =>
    runLongTask(drillTask, deps, state, { now: deps.clock.now, sleep: async (ms) => void (t += ms) });
  return { deps, tables, records, calls, run };
}

describe('drillTask (the steps the waiter and the CLI run)', () => {
  it('waits while the restore runs, then checks, records the RTO and deletes the scratch table', async () => {
    // Prepare
    const world = fakeDeps({ busyLooks: 2 });
    // Act
    const out = await world.run();
    // Assess
    expect(out.passed).toBe(true);
    const record = drillRecordOf(out.state)!;
    expect(record).toMatchObject({ table: 'orders', backupArn: 'arn:b1', outcome: 'passed', kept: false, restoreSeconds: 40, scratchTable: 'orders-drill-20261202T100000Z' });
    expect(world.records).toEqual([record]);
    expect(world.calls).toEqual(['restore orders-drill-20261202T100000Z', 'delete orders-drill-20261202T100000Z']);
    expect([...world.tables]).toEqual(['orders']);
  });

  it('a step that throws after the restore started still cleans up and records a failed drill', async () => {
    const world = fakeDeps({ failInspect: true });
    const out = await world.run();
    expect(out.passed).toBe(false);
    expect(drillRecordOf(out.state)).toMatchObject({ outcome: 'error', error: 'verify: scan refused' });
    expect([...world.tables]).toEqual(['orders']);
  });

  it('keeps the scratch table with keep, and refuses a scratch name that exists without touching it', async () => {
    const world = fakeDeps();
    const kept = await world.run(drillState(T0, { table: 'orders', keep: true }));
    expect(drillRecordOf(kept.state)).toMatchObject({ kept: true, passed: true });
    expect(world.tables.size).toBe(2);
    await expect(world.run(drillState(T0, { table: 'orders', scratchTable: 'orders' }))).rejects.toThrow(DrillRefusedError);
    await expect(world.run(drillState(T0, { table: 'orders' }))).rejects.toThrow(/already exists/);
    expect(world.calls.filter((c) => c.startsWith('delete'))).toEqual([]);
  });

  it('a scheduled drill picks the policy\'s never-drilled table first', async () => {
    const world = fakeDeps();
    const out = await world.run(drillState(T0, { policy: 'daily' }));
    expect(drillRecordOf(out.state)).toMatchObject({ table: 'users', policy: 'daily' });
  });
});

describe('the policy\'s drill field', () => {
  it('takes a schedule expression and refuses anything else, naming the field', () => {
    expect(parsePolicy({ schedule: 'rate(1 day)', drill: { schedule: 'cron(0 6 ? * MON *)' } }).drill).toEqual({ schedule: 'cron(0 6 ? * MON *)' });
    expect(() => parsePolicy({ drill: { schedule: 'every monday' } })).toThrow(/drill\.schedule/);
    expect(() => parsePolicy({ drill: { schedule: 'rate(1 day)', keep: true } })).toThrow(/drill/);
  });
});
