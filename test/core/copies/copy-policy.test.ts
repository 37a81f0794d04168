import { PolicyValidationError } from '../../../lambda/core/errors';
import { parsePolicy, resolveEffectivePolicy } from '../../../lambda/core/policy';

const PITR = { pointInTimeRecovery: { enabled: true } };

function issuesOf(fn: () => unknown): string[] {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(PolicyValidationError);
    return [...(err as PolicyValidationError).issues];
  }
  throw new Error('expected a PolicyValidationError');
}

describe('policy copy field', () => {
  it('applies the defaults: minIntervalHours 24, keepDays 35', () => {
    // Prepare
    const input = { ...PITR, copy: { to: 's3://vault-bucket/copies' } };
    // Act
    const policy = parsePolicy(input);
    // Assess
    expect(policy.copy).toEqual({ to: 's3://vault-bucket/copies', minIntervalHours: 24, keepDays: 35 });
  });

  it('accepts an owner account and a region', () => {
    // Prepare
    const input = { ...PITR, copy: { to: 's3://vault-bucket', owner: '123456789012', region: 'eu-west-1', minIntervalHours: 6, keepDays: 90 } };
    // Act
    const policy = parsePolicy(input);
    // Assess
    expect(policy.copy).toMatchObject({ owner: '123456789012', region: 'eu-west-1', minIntervalHours: 6, keepDays: 90 });
  });

  it('refuses copy without pointInTimeRecovery.enabled, naming PITR', () => {
    // Prepare
    const without = { copy: { to: 's3://vault-bucket/p' } };
    const disabled = { pointInTimeRecovery: { enabled: false }, copy: { to: 's3://vault-bucket/p' } };
    // Act
    const a = issuesOf(() => parsePolicy(without));
    const b = issuesOf(() => parsePolicy(disabled));
    // Assess
    expect(a).toEqual([expect.stringMatching(/^copy: needs pointInTimeRecovery\.enabled/)]);
    expect(b).toEqual(a);
  });

  it.each([
    ['copy.to', { to: 'https://vault-bucket/p' }],
    ['copy.to', { to: 's3://Vault_Bucket/p' }],
    ['copy.to', { to: 's3://vault-bucket/p/' }],
    ['copy.owner', { to: 's3://vault-bucket', owner: '1234' }],
    ['copy.region', { to: 's3://vault-bucket', region: 'Europe' }],
    ['copy.minIntervalHours', { to: 's3://vault-bucket', minIntervalHours: 0 }],
    ['copy.keepDays', { to: 's3://vault-bucket', keepDays: 0 }],
    ['copy', { to: 's3://vault-bucket', every: 3 }],
  ])('refuses a bad %s', (field, copy) => {
    // Act
    const issues = issuesOf(() => parsePolicy({ ...PITR, copy }));
    // Assess
    expect(issues.some((i) => i.startsWith(`${field}:`))).toBe(true);
  });

  it('refuses an override that adds copy to a policy without PITR', () => {
    // Act
    const issues = issuesOf(() => resolveEffectivePolicy('daily', { schedule: 'rate(1 day)' }, { copy: { to: 's3://vault-bucket' } }, 'orders'));
    // Assess
    expect(issues[0]).toMatch(/pointInTimeRecovery/);
  });
});
