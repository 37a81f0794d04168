import { parsePolicy, policyHash, type EffectivePolicy, type PolicyInput } from '../../lambda/core/policy';
import {
  desiredStreams,
  diffStreams,
  filterKindOf,
  filterPatterns,
  reconcileStreams,
  type ExistingMapping,
  type StreamInfo,
  type StreamMappingApi,
} from '../../lambda/core/triggers/stream-reconcile';

const eff = (name: string, input: PolicyInput): EffectivePolicy => {
  const policy = parsePolicy(input);
  return { name, policy, hash: policyHash(policy), overridden: false };
};
const sArn = (t: string, ts = '2026-01-01T00:00:00.000') => `arn:aws:dynamodb:us-east-1:123456789012:table/${t}/stream/${ts}`;

describe('desired stream mappings', () => {
  it('wants a mapping for tables with a changes trigger, filtered to REMOVE when only deletes count', () => {
    const desired = desiredStreams([
      { table: 'orders', policies: [eff('daily', { schedule: 'rate(1 day)' }), eff('busy', { changes: { writes: 1000 } })] },
      { table: 'audit', policies: [eff('guard', { changes: { deleteStorm: 100 }, enableStream: true })] },
      { table: 'plain', policies: [eff('daily', { schedule: 'rate(1 day)' })] },
    ]);
    expect(desired).toEqual([
      { table: 'audit', policies: ['guard'], filter: 'REMOVE', enableStream: true },
      { table: 'orders', policies: ['busy'], filter: 'ALL', enableStream: false },
    ]);
    expect(filterKindOf(filterPatterns('REMOVE'))).toBe('REMOVE');
    expect(filterKindOf(filterPatterns('ALL'))).toBe('ALL');
    expect(filterKindOf(['{"eventName":["INSERT"]}'])).toBeUndefined();
  });
});

describe('diffing mappings', () => {
  const desired = [
    { table: 'a', policies: ['p'], filter: 'ALL' as const, enableStream: false },
    { table: 'b', policies: ['p'], filter: 'REMOVE' as const, enableStream: false },
    { table: 'c', policies: ['p'], filter: 'ALL' as const, enableStream: false },
    { table: 'd', policies: ['p'], filter: 'ALL' as const, enableStream: true },
    { table: 'e', policies: ['p'], filter: 'ALL' as const, enableStream: false },
  ];
  const streams: StreamInfo[] = [
    { table: 'a', exists: true, enabled: true, streamArn: sArn('a') },
    { table: 'b', exists: true, enabled: true, streamArn: sArn('b') },
    { table: 'c', exists: true, enabled: false },
    { table: 'd', exists: true, enabled: false },
    { table: 'e', exists: false, enabled: false },
  ];

  it('creates, fixes filters, deletes stale and untagged mappings, enables or reports missing streams', () => {
    const existing: ExistingMapping[] = [
      { uuid: '1', eventSourceArn: sArn('b'), filterPatterns: [], state: 'Enabled' },
      { uuid: '2', eventSourceArn: sArn('a', 'old'), filterPatterns: [], state: 'Enabled' },
      { uuid: '3', eventSourceArn: sArn('gone'), filterPatterns: [], state: 'Enabled' },
      { uuid: '4', eventSourceArn: sArn('x'), filterPatterns: [], state: 'Deleting' },
    ];
    const plan = diffStreams(desired, streams, existing);
    expect(plan.create).toEqual([{ table: 'a', streamArn: sArn('a'), filter: 'ALL' }]);
    expect(plan.update).toEqual([{ uuid: '1', table: 'b', filter: 'REMOVE', from: 'ALL' }]);
    expect(plan.delete.map((d) => [d.uuid, d.reason])).toEqual([
      ['2', 'not the latest stream of the table'],
      ['3', 'table no longer opted in to a changes trigger'],
    ]);
    expect(plan.enableStream).toEqual([{ table: 'd', policies: ['p'] }]);
    expect(plan.missingStream).toEqual([{ table: 'c', policies: ['p'] }]);
    expect(plan.missingTable).toEqual(['e']);
  });

  it('changes nothing when every mapping is in step, and drops duplicates', () => {
    const existing: ExistingMapping[] = [
      { uuid: '1', eventSourceArn: sArn('a'), filterPatterns: [] },
      { uuid: '2', eventSourceArn: sArn('b'), filterPatterns: filterPatterns('REMOVE') },
      { uuid: '3', eventSourceArn: sArn('b'), filterPatterns: filterPatterns('REMOVE') },
    ];
    const plan = diffStreams(desired.slice(0, 2), streams, existing);
    expect(plan).toMatchObject({ create: [], update: [], unchanged: 2 });
    expect(plan.delete.map((d) => d.uuid)).toEqual(['3']);
  });
});

describe('reconcileStreams', () => {
  function fakeApi(streams: Record<string, StreamInfo>, existing: ExistingMapping[] = []) {
    const calls: string[] = [];
    const api: StreamMappingApi = {
      describeStream: async (t) => streams[t] ?? { table: t, exists: false, enabled: false },
      enableStream: async (t) => void calls.push(`enable ${t}`),
      listMappings: async () => existing,
      createMapping: async (arn, f) => (calls.push(`create ${arn} ${f}`), 'uuid'),
      updateMapping: async (u, f) => void calls.push(`update ${u} ${f}`),
      deleteMapping: async (u) => void calls.push(`delete ${u}`),
    };
    return { api, calls };
  }
  const policies = {
    getEffective: async (name: string) => {
      if (name === 'counting') return eff(name, { changes: { writes: 10 } });
      if (name === 'auto') return eff(name, { changes: { deletes: 10 }, enableStream: true });
      return eff(name, { schedule: 'rate(1 day)' });
    },
  };

  it('maps opted-in tables, enables streams where allowed, and reports a table without a stream', async () => {
    // Prepare
    const { api, calls } = fakeApi(
      {
        a: { table: 'a', exists: true, enabled: true, streamArn: sArn('a') },
        b: { table: 'b', exists: true, enabled: false },
        c: { table: 'c', exists: true, enabled: false },
      },
      [{ uuid: 'old', eventSourceArn: sArn('untagged'), filterPatterns: [] }],
    );
    const reports: unknown[] = [];

    // Act
    const out = await reconcileStreams({
      discovery: {
        discover: async () => [
          { table: 'a', arn: 'arn:a', policies: ['counting'] },
          { table: 'b', arn: 'arn:b', policies: ['auto'] },
          { table: 'c', arn: 'arn:c', policies: ['counting', 'daily'] },
          { table: 'd', arn: 'arn:d', policies: ['daily'] },
        ],
      },
      policies,
      api,
      report: { reportMissingStreams: async (r) => (reports.push(r), true) },
    });

    // Assess
    expect(calls).toEqual([`create ${sArn('a')} ALL`, 'delete old', 'enable b']);
    expect(out.plan.missingStream).toEqual([{ table: 'c', policies: ['counting'] }]);
    expect(out.notified).toBe(true);
    expect(reports).toHaveLength(1);
  });

  it('keeps the mappings of a table whose policies cannot be read right now', async () => {
    // Prepare
    const { api, calls } = fakeApi({}, [{ uuid: 'm', eventSourceArn: sArn('a'), filterPatterns: [] }]);
    const { RetryableError } = await import('../../lambda/core/errors');

    // Act
    const out = await reconcileStreams({
      discovery: { discover: async () => [{ table: 'a', arn: 'arn:a', policies: ['counting'] }] },
      policies: { getEffective: async () => Promise.reject(new RetryableError('SSM throttled')) },
      api,
      report: { reportMissingStreams: async () => true },
    });

    // Assess
    expect(calls).toEqual([]);
    expect(out.errors).toEqual([expect.objectContaining({ table: 'a', message: expect.stringContaining('SSM throttled') })]);
  });
});
