import {
  changesSlot,
  countByTable,
  countsOnlyDeletes,
  shouldEnqueue,
  sinceBaseline,
  stormCrossings,
  stormEstimate,
  stormSlot,
  stormWindow,
  stormWindowLengths,
  tableArnFromStreamArn,
  thresholdCrossing,
} from '../../lambda/core/triggers/changes';
import { parsePolicy } from '../../lambda/core/policy';

const streamArn = (t: string) => `arn:aws:dynamodb:us-east-1:123456789012:table/${t}/stream/2026-11-24T00:00:00.000`;
const rec = (t: string, eventName: string, seq: string) => ({ eventName, eventSourceARN: streamArn(t), dynamodb: { SequenceNumber: seq } });

describe('counting a batch per table', () => {
  it('counts INSERT, MODIFY and REMOVE per table in a mixed batch over several tables', () => {
    // Prepare
    const records = [
      rec('orders', 'INSERT', '1'),
      rec('users', 'MODIFY', '2'),
      rec('orders', 'REMOVE', '3'),
      rec('orders', 'MODIFY', '4'),
      rec('users', 'REMOVE', '5'),
      rec('orders', 'INSERT', '6'),
      { eventName: 'INSERT', eventSourceARN: 'arn:aws:sqs:us-east-1:1:q', dynamodb: { SequenceNumber: '7' } },
    ];

    // Act
    const { tables, unknown } = countByTable(records);

    // Assess
    expect(tables).toEqual([
      {
        table: 'orders',
        tableArn: 'arn:aws:dynamodb:us-east-1:123456789012:table/orders',
        counts: { inserts: 2, modifies: 1, removes: 1 },
        sequenceNumbers: ['1', '3', '4', '6'],
      },
      {
        table: 'users',
        tableArn: 'arn:aws:dynamodb:us-east-1:123456789012:table/users',
        counts: { inserts: 0, modifies: 1, removes: 1 },
        sequenceNumbers: ['2', '5'],
      },
    ]);
    expect(unknown).toHaveLength(1);
  });

  it('derives the table ARN from a stream ARN', () => {
    expect(tableArnFromStreamArn(streamArn('a.b-c'))).toBe('arn:aws:dynamodb:us-east-1:123456789012:table/a.b-c');
    expect(tableArnFromStreamArn('nonsense')).toBeUndefined();
  });
});

describe('changes since the last backup', () => {
  const totals = { inserts: 100, modifies: 50, removes: 30 };

  it('counts writes as INSERT+MODIFY+REMOVE and deletes as REMOVE, above the baseline', () => {
    expect(sinceBaseline({ totals, baseline: { inserts: 0, modifies: 0, removes: 0 } })).toEqual({ writes: 180, deletes: 30 });
    expect(sinceBaseline({ totals, baseline: { inserts: 90, modifies: 50, removes: 25 } })).toEqual({ writes: 15, deletes: 5 });
  });

  it.each([
    [{ writes: 100 }, { writes: 99, deletes: 0 }, false],
    [{ writes: 100 }, { writes: 100, deletes: 0 }, true],
    [{ deletes: 10 }, { writes: 500, deletes: 9 }, false],
    [{ deletes: 10 }, { writes: 10, deletes: 10 }, true],
    [{ writes: 1000, deletes: 10 }, { writes: 20, deletes: 12 }, true],
    [{ deleteStorm: 5 }, { writes: 1e6, deletes: 1e6 }, false],
  ])('thresholds %j with %j: crossed=%s', (changes, since, crossed) => {
    expect(thresholdCrossing(changes, since).crossed).toBe(crossed);
  });

  it('keeps one slot from the baseline until the next backup moves it', () => {
    expect(changesSlot({ createdAt: '2026-11-24T00:00:00.000Z' })).toBe('changes:2026-11-24T00:00:00.000Z');
    expect(changesSlot({ createdAt: '2026-11-24T00:00:00.000Z', baselineAt: '2026-11-24T05:00:00.000Z' })).toBe('changes:2026-11-24T05:00:00.000Z');
  });

  it('re-sends a pending crossing only after the re-arm interval, and a new slot at once', () => {
    const now = new Date('2026-11-24T10:00:00Z');
    const last = { slot: 'changes:A', at: '2026-11-24T09:50:00.000Z' };
    expect(shouldEnqueue(undefined, 'changes:A', now, 15)).toBe(true);
    expect(shouldEnqueue(last, 'changes:A', now, 15)).toBe(false);
    expect(shouldEnqueue(last, 'changes:A', now, 10)).toBe(true);
    expect(shouldEnqueue(last, 'changes:B', now, 15)).toBe(true);
  });
});

describe('delete storm windows', () => {
  it('uses fixed windows aligned to the epoch', () => {
    const w = stormWindow(new Date('2026-11-24T10:07:30Z'), 5);
    expect(w.start).toBe('2026-11-24T10:05:00.000Z');
    expect(w.elapsed).toBeCloseTo(0.5);
    expect(stormWindow(new Date('2026-11-24T10:09:59.999Z'), 5).index).toBe(w.index);
    expect(stormWindow(new Date('2026-11-24T10:10:00Z'), 5).index).toBe(w.index + 1);
    expect(stormSlot(w)).toBe('storm:2026-11-24T10:05:00.000Z');
  });

  it('estimates the sliding window from the current and the overlapping share of the previous window', () => {
    expect(stormEstimate({ current: 10, previous: 100 }, 0)).toBe(110);
    expect(stormEstimate({ current: 10, previous: 100 }, 0.5)).toBe(60);
    expect(stormEstimate({ current: 10, previous: 100 }, 1)).toBe(10);
  });

  it('finds the crossing policies of a window length, and the distinct lengths', () => {
    const policies = [
      { name: 'a', policy: parsePolicy({ changes: { deleteStorm: 100 } }) },
      { name: 'b', policy: parsePolicy({ changes: { deleteStorm: 50, windowMinutes: 60 } }) },
      { name: 'c', policy: parsePolicy({ changes: { writes: 10 } }) },
    ];
    expect(stormWindowLengths(policies.map((p) => p.policy))).toEqual([5, 60]);
    expect(stormCrossings(policies, 5, 99).map((p) => p.name)).toEqual([]);
    expect(stormCrossings(policies, 5, 100).map((p) => p.name)).toEqual(['a']);
    expect(stormCrossings(policies, 60, 100).map((p) => p.name)).toEqual(['b']);
  });

  it('filters to REMOVE only when no policy counts writes', () => {
    expect(countsOnlyDeletes([{ changes: { deletes: 5 } }, { changes: { deleteStorm: 9 } }, {}])).toBe(true);
    expect(countsOnlyDeletes([{ changes: { deletes: 5 } }, { changes: { writes: 9 } }])).toBe(false);
    expect(countsOnlyDeletes([{}])).toBe(false);
  });
});
