import fc from 'fast-check';
import {
  cooldown,
  dedupeId,
  manualSlot,
  parseJob,
  runIdFor,
  scheduleSlot,
  type BackupJob,
} from '../../lambda/core/jobs';
import {
  TRIGGERS,
  backupName,
  compactUtc,
  looksLikeServiceName,
  parseBackupName,
  slotHash,
  type Trigger,
} from '../../lambda/core/naming';
import { parsePolicyTag, resolveTaggedTables, tableNameFromArn, type TaggedTable } from '../../lambda/core/tags';

const ARN = (table: string) => `arn:aws:dynamodb:us-east-1:123456789012:table/${table}`;
const tagged = (table: string, ...policies: string[]): TaggedTable => ({ table, arn: ARN(table), policies });

describe('parsePolicyTag', () => {
  it.each([
    ['daily', ['daily']],
    ['daily hourly', ['daily', 'hourly']],
    ['daily+hourly', ['daily', 'hourly']],
    ['  daily \t hourly  ', ['daily', 'hourly']],
    ['daily + hourly', ['daily', 'hourly']],
    ['+daily++hourly+', ['daily', 'hourly']],
  ])('splits %j into %j', (value, expected) => {
    // Prepare (the table row)
    // Act
    const names = parsePolicyTag(value);
    // Assess
    expect(names).toEqual(expected);
  });

  it('drops duplicates and keeps the first-seen order', () => {
    // Prepare
    const value = 'hourly daily+hourly daily weekly';
    // Act
    const names = parsePolicyTag(value);
    // Assess
    expect(names).toEqual(['hourly', 'daily', 'weekly']);
  });

  it.each([undefined, '', '   ', '+', ' + + '])('gives no names for %j', (value) => {
    // Prepare (the table row)
    // Act
    const names = parsePolicyTag(value);
    // Assess
    expect(names).toEqual([]);
  });

  it('keeps names that are not valid policy names, so that they can be reported', () => {
    // Prepare
    const value = 'daily dai/ly';
    // Act
    const names = parsePolicyTag(value);
    // Assess
    expect(names).toEqual(['daily', 'dai/ly']);
  });
});

describe('resolveTaggedTables', () => {
  const known = new Set(['daily', 'hourly', 'weekly']);

  it('matches every known policy of every table when no policy is wanted', () => {
    // Prepare
    const tables = [tagged('orders', 'daily', 'hourly'), tagged('users', 'weekly')];
    // Act
    const res = resolveTaggedTables(tables, known);
    // Assess
    expect(res.matched).toEqual([
      { table: 'orders', arn: ARN('orders'), policy: 'daily' },
      { table: 'orders', arn: ARN('orders'), policy: 'hourly' },
      { table: 'users', arn: ARN('users'), policy: 'weekly' },
    ]);
    expect(res.unknown).toEqual([]);
  });

  it('matches only the wanted policy', () => {
    // Prepare
    const tables = [tagged('orders', 'daily', 'hourly'), tagged('users', 'weekly'), tagged('carts', 'hourly')];
    // Act
    const res = resolveTaggedTables(tables, known, 'hourly');
    // Assess
    expect(res.matched.map((m) => `${m.table}:${m.policy}`)).toEqual(['orders:hourly', 'carts:hourly']);
  });

  it('reports unknown policy names, even on tables that the wanted filter leaves out', () => {
    // Prepare
    const tables = [tagged('orders', 'daily', 'dialy'), tagged('users', 'weekly', 'monthly'), tagged('carts', 'hourly')];
    // Act
    const res = resolveTaggedTables(tables, known, 'daily');
    // Assess
    expect(res.matched.map((m) => m.table)).toEqual(['orders']);
    expect(res.unknown).toEqual([
      { table: 'orders', policies: ['dialy'] },
      { table: 'users', policies: ['monthly'] },
    ]);
  });

  it('reports a tag value that is not a valid policy name as unknown, even when the set "knows" it', () => {
    // Prepare
    const weird = new Set([...known, 'dai/ly']);
    const tables = [tagged('orders', 'dai/ly')];
    // Act
    const res = resolveTaggedTables(tables, weird);
    // Assess
    expect(res.unknown).toEqual([{ table: 'orders', policies: ['dai/ly'] }]);
  });

  it('gives nothing for no tables', () => {
    // Prepare
    const tables: TaggedTable[] = [];
    // Act
    const res = resolveTaggedTables(tables, known, 'daily');
    // Assess
    expect(res).toEqual({ matched: [], unknown: [] });
  });
});

describe('tableNameFromArn', () => {
  it.each([
    ['arn:aws:dynamodb:us-east-1:123456789012:table/orders', 'orders'],
    ['arn:aws-cn:dynamodb:cn-north-1:123456789012:table/my.table_1-x', 'my.table_1-x'],
    ['arn:aws:dynamodb:us-east-1:123456789012:table/orders/stream/2026-01-01T00:00:00.000', 'orders'],
    ['arn:aws:dynamodb:us-east-1:123456789012:table/orders/backup/01700000000000-abcdef', 'orders'],
  ])('reads the table from %s', (arn, expected) => {
    // Prepare (the table row)
    // Act
    const table = tableNameFromArn(arn);
    // Assess
    expect(table).toBe(expected);
  });

  it.each(['arn:aws:s3:::bucket', 'arn:aws:dynamodb:us-east-1:123456789012:table/', 'orders', ''])(
    'gives undefined for %j',
    (arn) => {
      // Prepare (the table row)
      // Act
      const table = tableNameFromArn(arn);
      // Assess
      expect(table).toBeUndefined();
    },
  );
});

describe('backupName / parseBackupName', () => {
  const NAME_CHARS = /^[A-Za-z0-9_.-]{3,255}$/;

  it('builds the documented shape', () => {
    // Prepare
    const time = new Date('2026-11-24T03:00:00.789Z');
    // Act
    const name = backupName('daily', 'schedule', time, 'schedule:2026-11-24T03:00:00.000Z');
    // Assess
    expect(name).toBe(`ddbbk.daily.schedule.20261124T030000Z.${slotHash('schedule:2026-11-24T03:00:00.000Z')}`);
    expect(name).toMatch(NAME_CHARS);
  });

  it('round-trips policy, trigger, time (to the second) and slot hash', () => {
    // Prepare
    const time = new Date('2026-11-24T03:04:05.678Z');
    const name = backupName('hourly_2', 'size', time, 'size:alarm-1');
    // Act
    const parsed = parseBackupName(name);
    // Assess
    expect(parsed).toEqual({
      policy: 'hourly_2',
      trigger: 'size',
      time: new Date('2026-11-24T03:04:05.000Z'),
      slotHash: slotHash('size:alarm-1'),
    });
  });

  it('property: every name is valid for CreateBackup and round-trips', () => {
    // Prepare
    const policyArb = fc.stringMatching(/^[A-Za-z0-9_-]{1,64}$/);
    const triggerArb = fc.constantFrom<Trigger>(...TRIGGERS);
    const timeArb = fc.date({ min: new Date('1970-01-01T00:00:00.000Z'), max: new Date('9999-12-31T23:59:59.999Z'), noInvalidDate: true });
    const slotArb = fc.string({ maxLength: 300 });
    // Act + Assess
    fc.assert(
      fc.property(policyArb, triggerArb, timeArb, slotArb, (policy, trigger, time, slot) => {
        const name = backupName(policy, trigger, time, slot);
        const parsed = parseBackupName(name);
        expect(name).toMatch(NAME_CHARS);
        expect(parsed).toBeDefined();
        expect(parsed!.policy).toBe(policy);
        expect(parsed!.trigger).toBe(trigger);
        expect(parsed!.time.getTime()).toBe(Math.floor(time.getTime() / 1000) * 1000);
        expect(parsed!.slotHash).toBe(slotHash(slot));
        expect(looksLikeServiceName(name)).toBe(true);
      }),
      { numRuns: 500 },
    );
  });

  it.each([
    undefined,
    '',
    'manual-backup-2026',
    'daily.schedule.20261124T030000Z.abcdef',
    'ddbbk',
    'ddbbk.daily.schedule.20261124T030000Z',
    'ddbbk.daily.cron.20261124T030000Z.abcdef',
    'ddbbk.daily.schedule.2026-11-24T03:00:00Z.abcdef',
    'ddbbk.daily.schedule.20261124T030000Z.ABCDEF',
    'ddbbk.daily.schedule.20261124T030000Z.abcdef0',
    'ddbbk.daily.schedule.20261124T030000Z.abcdef.extra',
    'ddbbk.dai.ly.schedule.20261124T030000Z.abcdef',
    'xddbbk.daily.schedule.20261124T030000Z.abcdef',
    'ddbbk.daily.schedule.20261324T030000Z.abcdef',
    'DDBBK.daily.schedule.20261124T030000Z.abcdef',
  ])('does not claim the foreign name %j', (name) => {
    // Prepare (the table row)
    // Act
    const parsed = parseBackupName(name);
    // Assess
    expect(parsed).toBeUndefined();
    expect(looksLikeServiceName(name)).toBe(false);
  });

  it('compactUtc drops separators and milliseconds', () => {
    // Prepare
    const time = new Date('2026-01-02T03:04:05.999Z');
    // Act
    const compact = compactUtc(time);
    // Assess
    expect(compact).toBe('20260102T030405Z');
  });
});

describe('cooldown', () => {
  const now = new Date('2026-11-24T12:00:00.000Z');
  const minutesAgo = (m: number) => new Date(now.getTime() - m * 60_000).toISOString();

  it('is due when there was no backup yet', () => {
    // Prepare
    const last = undefined;
    // Act
    const decision = cooldown(last, 60, now);
    // Assess
    expect(decision).toEqual({ due: true });
  });

  it('0 disables the cooldown, even for a backup made this instant', () => {
    // Prepare
    const last = now.toISOString();
    // Act
    const decision = cooldown(last, 0, now);
    // Assess
    expect(decision).toEqual({ due: true });
  });

  it('is due at exactly minIntervalMinutes (the boundary is inclusive)', () => {
    // Prepare
    const last = minutesAgo(60);
    // Act
    const decision = cooldown(last, 60, now);
    // Assess
    expect(decision).toEqual({ due: true });
  });

  it('is not due one millisecond before the boundary, and says why', () => {
    // Prepare
    const last = new Date(now.getTime() - 60 * 60_000 + 1).toISOString();
    // Act
    const decision = cooldown(last, 60, now);
    // Assess
    expect(decision.due).toBe(false);
    expect(decision.due === false && decision.reason).toBe(
      `cooldown: last backup 59 min ago (${last}), minIntervalMinutes is 60; next backup allowed after ${new Date(new Date(last).getTime() + 3_600_000).toISOString()}`,
    );
  });

  it('is due well after the boundary', () => {
    // Prepare
    const last = minutesAgo(61);
    // Act
    const decision = cooldown(last, 60, now);
    // Assess
    expect(decision).toEqual({ due: true });
  });

  it('treats an unreadable last-backup time as due rather than blocking backups forever', () => {
    // Prepare
    const last = 'not a date';
    // Act
    const decision = cooldown(last, 60, now);
    // Assess
    expect(decision).toEqual({ due: true });
  });

  it('property: due exactly when age >= minInterval (or the interval is 0)', () => {
    // Prepare
    const ageArb = fc.integer({ min: 0, max: 10 * 24 * 60 * 60_000 });
    const intervalArb = fc.integer({ min: 0, max: 7 * 24 * 60 });
    // Act + Assess
    fc.assert(
      fc.property(ageArb, intervalArb, (ageMs, interval) => {
        const decision = cooldown(new Date(now.getTime() - ageMs).toISOString(), interval, now);
        expect(decision.due).toBe(interval === 0 || ageMs >= interval * 60_000);
      }),
    );
  });
});

describe('job ids and slots', () => {
  const job = { table: 'orders', policy: 'daily', slot: 'schedule:2026-11-24T03:00:00.000Z' };

  it('dedupeId is stable for the same (table, policy, slot)', () => {
    // Prepare
    const copy = { ...job };
    // Act
    const [a, b] = [dedupeId(job), dedupeId(copy)];
    // Assess
    expect(b).toBe(a);
  });

  it('dedupeId differs when the table, policy or slot differs', () => {
    // Prepare
    const variants = [{ ...job, table: 'users' }, { ...job, policy: 'hourly' }, { ...job, slot: 'schedule:2026-11-25T03:00:00.000Z' }];
    // Act
    const ids = variants.map(dedupeId);
    // Assess
    expect(new Set([dedupeId(job), ...ids]).size).toBe(4);
  });

  it('property: dedupeId is at most 128 characters of SQS-safe text, however long the input', () => {
    // Prepare
    const partArb = fc.string({ minLength: 1, maxLength: 2000 });
    // Act + Assess
    fc.assert(
      fc.property(partArb, partArb, partArb, (table, policy, slot) => {
        const id = dedupeId({ table, policy, slot });
        expect(id.length).toBeLessThanOrEqual(128);
        expect(id).toMatch(/^[A-Za-z0-9!"#$%&'()*+,\-./:;<=>?@[\\\]^_`{|}~]+$/);
        expect(dedupeId({ table, policy, slot })).toBe(id);
      }),
    );
  });

  it('scheduleSlot normalises the scheduled time', () => {
    // Prepare
    const time = '2026-11-24T03:00:00Z';
    // Act
    const slot = scheduleSlot(time);
    // Assess
    expect(slot).toBe('schedule:2026-11-24T03:00:00.000Z');
  });

  it('manualSlot is unique per call', () => {
    // Prepare
    const now = new Date('2026-11-24T03:00:00Z');
    // Act
    const [a, b] = [manualSlot(now), manualSlot(now)];
    // Assess
    expect(a).toMatch(/^manual:2026-11-24T03:00:00\.000Z:[0-9a-f]{8}$/);
    expect(b).not.toBe(a);
  });

  it('runIdFor joins policy, trigger and slot', () => {
    // Prepare
    const slot = 'schedule:2026-11-24T03:00:00.000Z';
    // Act
    const runId = runIdFor('daily', 'schedule', slot);
    // Assess
    expect(runId).toBe('daily|schedule|schedule:2026-11-24T03:00:00.000Z');
  });
});

describe('parseJob', () => {
  const valid: BackupJob = {
    table: 'orders',
    policy: 'daily',
    trigger: 'schedule',
    slot: 'schedule:2026-11-24T03:00:00.000Z',
    requestedAt: '2026-11-24T03:00:00.000Z',
    runId: 'daily|schedule|schedule:2026-11-24T03:00:00.000Z',
  };

  it('reads a complete job', () => {
    // Prepare
    const body = JSON.stringify(valid);
    // Act
    const job = parseJob(body);
    // Assess
    expect(job).toEqual(valid);
  });

  it.each(['table', 'policy', 'trigger', 'slot', 'requestedAt', 'runId'] as const)('names a missing "%s"', (key) => {
    // Prepare
    const { [key]: _dropped, ...rest } = valid;
    // Act
    const act = () => parseJob(JSON.stringify(rest));
    // Assess
    expect(act).toThrow(`job message lacks "${key}"`);
  });

  it.each([
    ['an empty string', ''],
    ['a number', 42],
    ['null', null],
  ])('names a field that is %s', (_what, value) => {
    // Prepare
    const body = JSON.stringify({ ...valid, table: value });
    // Act
    const act = () => parseJob(body);
    // Assess
    expect(act).toThrow('job message lacks "table"');
  });

  it('throws on a body that is not JSON', () => {
    // Prepare
    const body = '{"table": "orders"';
    // Act
    const act = () => parseJob(body);
    // Assess
    expect(act).toThrow(/job message is not JSON/);
  });

  it('throws on a JSON body that is not an object', () => {
    // Prepare
    const bodies = ['null', '"orders"', '[]', '42'];
    // Act
    const acts = bodies.map((body) => () => parseJob(body));
    // Assess
    for (const act of acts) expect(act).toThrow();
  });
});
