import {
  assessTable,
  coverageReport,
  digestMessage,
  digestSubject,
  policyRpoMinutes,
  scheduleIntervalMinutes,
  type TableFactsForCoverage,
} from '../../lambda/core/coverage/coverage';
import {
  filterTags,
  gsiOverride,
  overrideProblem,
  planSettings,
  rewriteResourcePolicy,
  scalingResourceId,
  scalingScope,
  settingsReport,
  type TableSettings,
  type TargetFacts,
} from '../../lambda/core/restore/restore';

const arn = (t: string) => `arn:aws:dynamodb:us-east-1:123456789012:table/${t}`;

const none: TableSettings = {
  version: 1,
  table: 'orders',
  tableArn: arn('orders'),
  capturedAt: '2026-11-24T00:00:00.000Z',
  tags: {},
  ttl: null,
  pitr: null,
  stream: null,
  tableClass: null,
  deletionProtection: null,
  resourcePolicy: null,
  contributorInsights: null,
  kinesis: null,
  autoScaling: null,
};
const target: TargetFacts = { table: 'orders-r', tableArn: arn('orders-r'), billingMode: 'PAY_PER_REQUEST', indexes: ['byCustomer'] };

describe('restore: tags and resource policy', () => {
  it('drops the policy tag unless kept, and aws: tags always', () => {
    const tags = { 'backup:policy': 'daily', team: 'shop', 'aws:cloudformation:stack-id': 'x' };
    expect(filterTags(tags, 'backup:policy')).toEqual({ team: 'shop' });
    expect(filterTags(tags, 'backup:policy', true)).toEqual({ team: 'shop', 'backup:policy': 'daily' });
  });

  it('rewrites the source ARN (alone, /index/*, /stream/*) but not an ARN that only starts with it', () => {
    const policy = JSON.stringify({ Resource: [arn('orders'), `${arn('orders')}/index/*`, `${arn('orders')}/stream/*`, arn('orders-archive'), `${arn('orders')}*`] });
    const out = JSON.parse(rewriteResourcePolicy(policy, arn('orders'), arn('orders-r'))) as { Resource: string[] };
    expect(out.Resource).toEqual([arn('orders-r'), `${arn('orders-r')}/index/*`, `${arn('orders-r')}/stream/*`, arn('orders-archive'), `${arn('orders-r')}*`]);
  });

  it('maps auto scaling resource ids between tables', () => {
    expect(scalingScope('orders', 'table/orders')).toBe('table');
    expect(scalingScope('orders', 'table/orders/index/byCustomer')).toBe('index/byCustomer');
    expect(scalingScope('orders', 'table/orders-archive')).toBeUndefined();
    expect(scalingResourceId('orders-r', 'index/byCustomer')).toBe('table/orders-r/index/byCustomer');
  });
});

describe('restore: planSettings', () => {
  it('skips every setting the source had none of, with the reason', () => {
    const plan = planSettings(none, target, { tagKey: 'backup:policy' });
    expect(plan.apply).toEqual([]);
    expect(Object.fromEntries(plan.skipped.map((s) => [s.setting, s.detail]))).toEqual({
      tags: 'source had none',
      ttl: 'source had none',
      pitr: 'source had it off',
      stream: 'source had none',
      tableClass: 'target already is STANDARD',
      deletionProtection: 'source had it off',
      resourcePolicy: 'source had none',
      contributorInsights: 'source had none',
      kinesis: 'source had none',
      autoScaling: 'source had none',
    });
  });

  it('plans what the source had, skips what could not be read, and says when only the policy tag was there', () => {
    const settings: TableSettings = {
      ...none,
      tags: { 'backup:policy': 'daily' },
      ttl: { attributeName: 'exp' },
      pitr: { recoveryPeriodDays: 3 },
      stream: { viewType: 'NEW_IMAGE' },
      tableClass: 'STANDARD_INFREQUENT_ACCESS',
      deletionProtection: true,
      contributorInsights: undefined,
      unreadable: { contributorInsights: 'UnknownOperationException' },
    };
    const plan = planSettings(settings, { ...target, streamEnabled: true, streamViewType: 'NEW_IMAGE' }, { tagKey: 'backup:policy' });
    expect(plan.apply).toEqual([
      { setting: 'ttl', attributeName: 'exp' },
      { setting: 'pitr', recoveryPeriodDays: 3 },
      { setting: 'tableClass', tableClass: 'STANDARD_INFREQUENT_ACCESS' },
      { setting: 'deletionProtection' },
    ]);
    const why = Object.fromEntries(plan.skipped.map((s) => [s.setting, s.detail]));
    expect(why.tags).toContain('only the policy tag');
    expect(why.stream).toBe('target already has it');
    expect(why.contributorInsights).toBe('could not be read from the source: UnknownOperationException');
  });

  it('honours --only and orders the report by setting', () => {
    const plan = planSettings({ ...none, ttl: { attributeName: 'exp' }, pitr: {} }, target, { tagKey: 'k', only: ['pitr'] });
    expect(plan.apply).toEqual([{ setting: 'pitr' }]);
    const report = settingsReport([
      { setting: 'pitr', outcome: 'applied', detail: '' },
      { setting: 'tags', outcome: 'failed', detail: 'x' },
      { setting: 'ttl', outcome: 'skipped', detail: 'not requested' },
    ]);
    expect(report).toMatchObject({ applied: 1, skipped: 1, failed: 1 });
    expect(report.results.map((r) => r.setting)).toEqual(['tags', 'ttl', 'pitr']);
  });
});

describe('restore: overrides', () => {
  const indexes = [
    { name: 'a', keySchema: [{ AttributeName: 'a', KeyType: 'HASH' }], projection: { ProjectionType: 'ALL' } },
    { name: 'b', keySchema: [{ AttributeName: 'b', KeyType: 'HASH' }], projection: { ProjectionType: 'KEYS_ONLY' }, read: 7, write: 3 },
  ];

  it('lists the indexes to keep, with capacity only when provisioned, and rejects an unknown name', () => {
    expect(gsiOverride(indexes, ['a'], 'PAY_PER_REQUEST')).toEqual([{ IndexName: 'b', KeySchema: [{ AttributeName: 'b', KeyType: 'HASH' }], Projection: { ProjectionType: 'KEYS_ONLY' } }]);
    expect(gsiOverride(indexes, ['a'], 'PROVISIONED')[0].ProvisionedThroughput).toEqual({ ReadCapacityUnits: 7, WriteCapacityUnits: 3 });
    expect(() => gsiOverride(indexes, ['c'], undefined)).toThrow('no global secondary index named "c" (the source has: a, b)');
  });

  it('checks the flags together', () => {
    expect(overrideProblem({ read: 5 })).toBe('--read/--write need --billing-mode PROVISIONED');
    expect(overrideProblem({ billingMode: 'PROVISIONED', read: 5 })).toBe('--billing-mode PROVISIONED needs --read and --write');
    expect(overrideProblem({ sse: { type: 'DEFAULT', kmsKey: 'k' } })).toBe('--kms-key needs --sse KMS');
    expect(overrideProblem({ billingMode: 'PROVISIONED', read: 5, write: 5, sse: { type: 'KMS', kmsKey: 'k' } })).toBeUndefined();
  });
});

describe('coverage: RPO from the schedule', () => {
  it.each([
    ['rate(15 minutes)', 15],
    ['rate(1 hour)', 60],
    ['rate(2 days)', 2880],
    ['cron(0/10 * * * ? *)', 10],
    ['cron(0 * * * ? *)', 60],
    ['cron(0 */6 * * ? *)', 360],
    ['cron(0 3 * * ? *)', 1440],
    ['cron(0 2,14 * * ? *)', 720],
    ['cron(0 4 ? * SUN *)', 7 * 1440],
    ['cron(0 4 ? * MON-FRI *)', 3 * 1440],
    ['cron(0 4 1 * ? *)', 31 * 1440],
    ['cron(0 4 ? * 2#1 *)', 31 * 1440],
  ])('%s -> %i min', (expr, minutes) => {
    expect(scheduleIntervalMinutes(expr)).toBe(minutes);
  });

  it('takes the cooldown when longer, and has no RPO without a schedule', () => {
    expect(policyRpoMinutes({ schedule: 'rate(1 hour)', minIntervalMinutes: 180 })).toBe(180);
    expect(policyRpoMinutes({ schedule: undefined, minIntervalMinutes: 0 })).toBeUndefined();
  });
});

describe('coverage: flags', () => {
  const now = new Date('2026-11-24T12:00:00Z');
  const daily = { schedule: 'rate(1 day)', minIntervalMinutes: 0 };
  const facts = (over: Partial<TableFactsForCoverage>): TableFactsForCoverage => ({ table: 't', policies: [], pitr: { enabled: false }, streamEnabled: false, ...over });

  it('UNPROTECTED without a policy tag', () => {
    expect(assessTable(facts({}), now).flags).toEqual(['UNPROTECTED']);
  });

  it('STALE past 2x the RPO or with no backup; fine within it', () => {
    const at = (iso?: string) => assessTable(facts({ policies: [{ name: 'd', policy: daily, lastBackupAt: iso }] }), now).flags;
    expect(at('2026-11-23T00:00:00Z')).toEqual([]);
    expect(at('2026-11-22T11:00:00Z')).toEqual(['STALE']);
    expect(at(undefined)).toEqual(['STALE']);
  });

  it('FAILING, NO_STREAM, PITR_DRIFT and POLICY_ERROR', () => {
    const t = assessTable(
      facts({
        pitr: { enabled: true, recoveryPeriodDays: 35 },
        policies: [
          {
            name: 'd',
            policy: { ...daily, changes: { writes: 1000 }, pointInTimeRecovery: { enabled: true, recoveryPeriodDays: 7 } },
            lastBackupAt: '2026-11-24T03:00:00Z',
            lastAttemptStatus: 'failed',
            lastError: 'BackupInUseException',
          },
          { name: 'typo', error: 'no policy named "typo"' },
        ],
      }),
      now,
    );
    expect(t.flags).toEqual(['FAILING', 'NO_STREAM', 'PITR_DRIFT', 'POLICY_ERROR']);
    expect(t.reasons).toContain('PITR recovery period is 35 day(s); the policy wants 7');
  });

  it('summarises for the digest: subject with counts, text and a JSON block', () => {
    const report = coverageReport(
      [facts({ table: 'b' }), facts({ table: 'a', policies: [{ name: 'd', policy: daily, lastBackupAt: '2026-11-24T00:00:00Z' }] })],
      now,
    );
    expect(report.counts).toMatchObject({ tables: 2, ok: 1, UNPROTECTED: 1 });
    expect(digestSubject(report)).toBe('[ddb-backup] coverage: 1 of 2 table(s) need attention (1 UNPROTECTED)');
    const msg = digestMessage(report);
    expect(msg).toContain('UNPROTECTED:\n  - b: no backup policy tag');
    const json = JSON.parse(msg.split('```json')[1].split('```')[0]) as { tables: unknown[] };
    expect(json.tables).toEqual([{ table: 'b', flags: ['UNPROTECTED'], reasons: ['no backup policy tag'] }]);
  });
});
