/**
 * CloudTrail table events into the ledger (lambda/core/events/table-events.ts), over the in-memory
 * ledger and a fake feed store: no SDK, no network.
 */
import fc from 'fast-check';
import { TableNotFoundError } from '../../lambda/core/errors';
import { handleTableEvent, readTableEvent, tableOfBackupArn, type KnownTable, type TableEventPorts, type TableFeedStore } from '../../lambda/core/events/table-events';
import type { LedgerBackupRecord, LedgerStatus } from '../../lambda/core/ports';
import { MemoryLedger } from '../support/memory-ledger';

const NOW = new Date('2026-11-24T12:00:00.000Z');
const ACCOUNT = 'arn:aws:dynamodb:us-east-1:123456789012';
const CALLER = 'arn:aws:iam::123456789012:user/alice';
const TAG_KEY = 'backup:policy';
const arnOf = (table: string, id: string) => `${ACCOUNT}:table/${table}/backup/${id}`;

/** An EventBridge event of a CloudTrail-recorded call. */
function cloudTrail(eventName: string, requestParameters: Record<string, unknown>, extra: Record<string, unknown> = {}, source = 'aws.dynamodb') {
  return {
    version: '0',
    id: 'e1',
    'detail-type': 'AWS API Call via CloudTrail',
    source,
    account: '123456789012',
    time: '2026-11-24T11:59:00Z',
    region: 'us-east-1',
    resources: [],
    detail: {
      eventVersion: '1.08',
      userIdentity: { type: 'IAMUser', arn: CALLER },
      eventTime: '2026-11-24T11:58:59Z',
      eventSource: source === 'aws.dynamodb' ? 'dynamodb.amazonaws.com' : 'application-autoscaling.amazonaws.com',
      eventName,
      requestParameters,
      ...extra,
    },
  };
}

function record(table: string, id: string, status: LedgerStatus = 'AVAILABLE', policy = 'daily'): LedgerBackupRecord {
  const at = new Date(NOW.getTime() - Number(id.replace(/\D/g, '') || 1) * 60_000).toISOString();
  return {
    table,
    policy,
    slot: `schedule:${id}`,
    trigger: 'schedule',
    runId: `run-${id}`,
    requestedAt: at,
    status,
    claimedAt: at,
    backupArn: arnOf(table, id),
    backupName: `ddbbk.${policy}.schedule.${id}`,
    createdAt: at,
  };
}

class FakeFeed implements TableFeedStore {
  readonly known = new Map<string, KnownTable>();
  readonly beats: Date[] = [];
  snapshotResult: 'captured' | 'not-ready' | Error = 'captured';
  readonly snapshot = jest.fn(async (_table: string, _now: Date): Promise<'captured' | 'not-ready'> => {
    if (this.snapshotResult instanceof Error) throw this.snapshotResult;
    return this.snapshotResult;
  });
  readonly redoUpkeep = jest.fn(async (_table: string, _policies: readonly string[], _what: { settings: boolean; pitr: boolean }) => undefined);
  readonly beat = jest.fn(async (at: Date) => {
    this.beats.push(at);
  });
  readonly knownTable = jest.fn(async (table: string) => this.known.get(table) ?? { policies: [], snapshot: false });
}

function world(records: readonly LedgerBackupRecord[] = []) {
  const ledger = new MemoryLedger();
  for (const r of records) ledger.seed(r);
  const feed = new FakeFeed();
  const ports: TableEventPorts = { ledger, feed, clock: { now: () => NOW }, tagKey: TAG_KEY };
  return { ledger, feed, ports };
}

describe('readTableEvent', () => {
  it('reads the table of a backup ARN, and nothing from other ARNs', () => {
    // Prepare / Act / Assess
    expect(tableOfBackupArn(arnOf('orders', '01700000000000-abcdef'))).toBe('orders');
    expect(tableOfBackupArn(`${ACCOUNT}:table/orders`)).toBeUndefined();
    expect(tableOfBackupArn(`${ACCOUNT}:table/orders/stream/2026`)).toBeUndefined();
    expect(tableOfBackupArn('not an arn')).toBeUndefined();
  });

  it('reads a DeleteBackup, with its table, backup, caller and time', () => {
    // Prepare
    const arn = arnOf('orders', '017');
    // Act
    const ev = readTableEvent(cloudTrail('DeleteBackup', { backupArn: arn }));
    // Assess
    expect(ev).toEqual({ kind: 'backup-deleted', table: 'orders', backupArn: arn, by: CALLER, at: '2026-11-24T11:58:59Z' });
  });

  it('reads the table of each settings call: tableName, a table, index or stream ARN, an auto scaling resource id', () => {
    // Prepare
    const cases: [ReturnType<typeof cloudTrail>, string][] = [
      [cloudTrail('UpdateTimeToLive', { tableName: 'orders', timeToLiveSpecification: { enabled: true, attributeName: 'exp' } }), 'orders'],
      [cloudTrail('UpdateTable', { tableName: `${ACCOUNT}:table/orders` }), 'orders'],
      [cloudTrail('UntagResource', { resourceArn: `${ACCOUNT}:table/orders`, tagKeys: ['x'] }), 'orders'],
      [cloudTrail('PutResourcePolicy', { resourceArn: `${ACCOUNT}:table/orders/stream/2026-11-24T00:00:00.000` }), 'orders'],
      [cloudTrail('UpdateContributorInsights', { tableName: 'orders', indexName: 'gsi1' }), 'orders'],
      [cloudTrail('PutScalingPolicy', { serviceNamespace: 'dynamodb', resourceId: 'table/orders/index/gsi1' }, {}, 'aws.application-autoscaling'), 'orders'],
      [cloudTrail('RegisterScalableTarget', { serviceNamespace: 'dynamodb', resourceId: 'table/orders' }, {}, 'aws.application-autoscaling'), 'orders'],
    ];
    // Act
    const read = cases.map(([e]) => readTableEvent(e));
    // Assess
    read.forEach((ev, i) => expect(ev).toMatchObject({ kind: 'settings-changed', table: cases[i][1], pitr: false }));
  });

  it('marks UpdateContinuousBackups for a PITR re-check and reads the tags a TagResource adds', () => {
    // Prepare / Act
    const pitr = readTableEvent(cloudTrail('UpdateContinuousBackups', { tableName: 'orders' }));
    const tag = readTableEvent(cloudTrail('TagResource', { resourceArn: `${ACCOUNT}:table/orders`, tags: [{ key: TAG_KEY, value: 'daily' }, { key: 'team', value: 'x' }] }));
    // Assess
    expect(pitr).toMatchObject({ kind: 'settings-changed', pitr: true });
    expect(tag).toMatchObject({ kind: 'settings-changed', tagsAdded: [TAG_KEY, 'team'] });
  });

  it('ignores failed calls, other services\' resources, other calls and shapes it cannot read, without throwing', () => {
    // Prepare
    const events: unknown[] = [
      cloudTrail('DeleteBackup', { backupArn: arnOf('orders', '1') }, { errorCode: 'BackupNotFoundException' }),
      cloudTrail('PutScalingPolicy', { serviceNamespace: 'ecs', resourceId: 'service/c/s' }, {}, 'aws.application-autoscaling'),
      cloudTrail('DescribeTable', { tableName: 'orders' }),
      cloudTrail('DeleteBackup', { backupArn: `${ACCOUNT}:table/orders` }),
      cloudTrail('UpdateTable', {}),
      { hello: 'world' },
      null,
      'text',
    ];
    // Act
    const read = events.map((e) => readTableEvent(e));
    // Assess
    for (const ev of read) expect(ev.kind).toBe('ignored');
    expect(read.slice(0, 5).every((ev) => ev.kind === 'ignored' && !ev.unreadable)).toBe(true);
    expect(read.slice(5).every((ev) => ev.kind === 'ignored' && ev.unreadable)).toBe(true);
  });
});

describe('handleTableEvent: DeleteBackup', () => {
  it('marks a live ledger backup deleted by hand VANISHED, with when and who', async () => {
    // Prepare
    const live = record('orders', '2');
    const { ledger, feed, ports } = world([record('orders', '1'), live]);
    // Act
    const out = await handleTableEvent(ports, cloudTrail('DeleteBackup', { backupArn: live.backupArn }));
    // Assess
    expect(out).toMatchObject({ action: 'vanished', table: 'orders' });
    expect(ledger.record(live)).toMatchObject({ status: 'VANISHED', deletedAt: '2026-11-24T11:58:59Z', deleteReason: expect.stringContaining(CALLER) });
    expect(ledger.record(record('orders', '1'))?.status).toBe('AVAILABLE');
    expect(feed.beats).toEqual([new Date('2026-11-24T11:58:59Z')]);
  });

  it('leaves a record the service deleted itself alone, and a backup the ledger never recorded', async () => {
    // Prepare
    const own = { ...record('orders', '3', 'DELETED'), deletedAt: 'x', deleteReason: 'pruned: keepLast' };
    const { ledger, ports } = world([own]);
    // Act
    const mine = await handleTableEvent(ports, cloudTrail('DeleteBackup', { backupArn: own.backupArn }));
    const stranger = await handleTableEvent(ports, cloudTrail('DeleteBackup', { backupArn: arnOf('orders', '99') }));
    // Assess
    expect(mine.action).toBe('not-live');
    expect(ledger.record(own)).toMatchObject({ status: 'DELETED', deleteReason: 'pruned: keepLast' });
    expect(stranger.action).toBe('not-recorded');
  });

  it('property: an event never moves a record the service deleted, nor a record of another table or backup', async () => {
    const statuses: LedgerStatus[] = ['CLAIMED', 'CREATING', 'AVAILABLE', 'FAILED', 'DELETED', 'VANISHED'];
    const tables = ['orders', 'users', 'carts'];
    const recordArb = fc.record({ table: fc.constantFrom(...tables), id: fc.integer({ min: 1, max: 30 }), status: fc.constantFrom(...statuses) });
    await fc.assert(
      fc.asyncProperty(fc.array(recordArb, { maxLength: 12 }), fc.constantFrom(...tables), fc.integer({ min: 1, max: 30 }), async (specs, evTable, evId) => {
        // Prepare: unique (table, id)
        const seen = new Set<string>();
        const records = specs.filter((s) => !seen.has(`${s.table}/${s.id}`) && seen.add(`${s.table}/${s.id}`)).map((s) => record(s.table, String(s.id), s.status));
        const { ledger, ports } = world(records);
        const target = arnOf(evTable, String(evId));
        // Act
        await handleTableEvent(ports, cloudTrail('DeleteBackup', { backupArn: target }));
        // Assess
        for (const r of records) {
          const now = ledger.record(r)!;
          const hit = r.backupArn === target && (r.status === 'AVAILABLE' || r.status === 'CREATING');
          expect(now.status).toBe(hit ? 'VANISHED' : r.status);
          if (r.status === 'DELETED') expect(now).toEqual(r);
        }
      }),
      { numRuns: 200 },
    );
  });

  it('throws a ledger error, so the delivery is retried', async () => {
    // Prepare
    const live = record('orders', '2');
    const { ledger, ports } = world([live]);
    jest.spyOn(ledger, 'listBackupRecords').mockRejectedValue(new Error('ledger unavailable'));
    // Act / Assess
    await expect(handleTableEvent(ports, cloudTrail('DeleteBackup', { backupArn: live.backupArn }))).rejects.toThrow('ledger unavailable');
  });
});

describe('handleTableEvent: settings changes', () => {
  it('snapshots a known table at once and asks nothing of the next backup', async () => {
    // Prepare
    const { feed, ports } = world();
    feed.known.set('orders', { policies: ['daily'], snapshot: true });
    // Act
    const out = await handleTableEvent(ports, cloudTrail('UpdateTimeToLive', { tableName: 'orders' }));
    // Assess
    expect(out.action).toBe('snapshot');
    expect(feed.snapshot).toHaveBeenCalledWith('orders', NOW);
    expect(feed.redoUpkeep).not.toHaveBeenCalled();
  });

  it('makes every policy of the table re-check PITR after UpdateContinuousBackups', async () => {
    // Prepare
    const { feed, ports } = world();
    feed.known.set('orders', { policies: ['daily', 'hourly'], snapshot: true });
    // Act
    await handleTableEvent(ports, cloudTrail('UpdateContinuousBackups', { tableName: 'orders' }));
    // Assess
    expect(feed.snapshot).toHaveBeenCalledTimes(1);
    expect(feed.redoUpkeep).toHaveBeenCalledWith('orders', ['daily', 'hourly'], { settings: false, pitr: true });
  });

  it('leaves the snapshot to the next backup when the table is still updating or the snapshot fails', async () => {
    // Prepare
    const { feed, ports } = world();
    feed.known.set('orders', { policies: ['daily'], snapshot: false });
    feed.snapshotResult = 'not-ready';
    // Act
    const updating = await handleTableEvent(ports, cloudTrail('UpdateTable', { tableName: 'orders' }));
    feed.snapshotResult = new Error('throttled');
    const failing = await handleTableEvent(ports, cloudTrail('TagResource', { resourceArn: `${ACCOUNT}:table/orders`, tags: [] }));
    // Assess
    expect([updating.action, failing.action]).toEqual(['redo-upkeep', 'redo-upkeep']);
    expect(feed.redoUpkeep).toHaveBeenNthCalledWith(1, 'orders', ['daily'], { settings: true, pitr: false });
    expect(feed.redoUpkeep).toHaveBeenNthCalledWith(2, 'orders', ['daily'], { settings: true, pitr: false });
  });

  it('ignores a table the service does not know, cheaply, unless the call adds the opt-in tag; and a table that is gone', async () => {
    // Prepare
    const { feed, ports } = world();
    // Act
    const unknown = await handleTableEvent(ports, cloudTrail('UpdateTimeToLive', { tableName: 'scratch' }));
    const optIn = await handleTableEvent(ports, cloudTrail('TagResource', { resourceArn: `${ACCOUNT}:table/fresh`, tags: [{ key: TAG_KEY, value: 'daily' }] }));
    feed.known.set('gone', { policies: ['daily'], snapshot: true });
    feed.snapshotResult = new TableNotFoundError('gone');
    const gone = await handleTableEvent(ports, cloudTrail('UpdateTable', { tableName: 'gone' }));
    // Assess
    expect(unknown).toMatchObject({ action: 'ignored', reason: 'a table the service does not back up' });
    expect(optIn.action).toBe('snapshot');
    expect(feed.snapshot.mock.calls.map((c) => c[0])).toEqual(['fresh', 'gone']);
    expect(gone).toMatchObject({ action: 'ignored', reason: 'the table is gone' });
    expect(feed.redoUpkeep).not.toHaveBeenCalled();
  });

  it('beats the heartbeat for every CloudTrail event, ignored ones included, never for an unreadable one; a failed beat fails nothing', async () => {
    // Prepare
    const { feed, ports } = world();
    // Act
    await handleTableEvent(ports, cloudTrail('DeleteBackup', { backupArn: arnOf('orders', '1') }, { errorCode: 'AccessDenied' }));
    await handleTableEvent(ports, { not: 'an event' });
    feed.beat.mockRejectedValueOnce(new Error('ledger throttled'));
    const out = await handleTableEvent(ports, cloudTrail('UpdateTable', { tableName: 'scratch' }));
    // Assess
    expect(feed.beat).toHaveBeenCalledTimes(2);
    expect(out.action).toBe('ignored');
  });
});
