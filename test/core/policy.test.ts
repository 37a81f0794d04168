import { PolicyValidationError } from '../../lambda/core/errors';
import {
  DEFAULT_POLICIES,
  assertPolicyName,
  mergeOverride,
  parsePolicy,
  parsePolicyJson,
  policyHash,
  resolveEffectivePolicy,
  serialisePolicy,
  type Policy,
} from '../../lambda/core/policy';

/** Runs `fn`, expects a PolicyValidationError and returns it for further checks. */
function validationError(fn: () => unknown): PolicyValidationError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(PolicyValidationError);
    return err as PolicyValidationError;
  }
  throw new Error('expected a PolicyValidationError, but nothing was thrown');
}

describe('PolicySchema (parsePolicy)', () => {
  it('applies the defaults to an empty policy', () => {
    // Prepare
    const input = {};
    // Act
    const policy = parsePolicy(input);
    // Assess
    expect(policy).toEqual({ minIntervalMinutes: 0, retention: { keepLast: 7 }, notify: 'failures' });
  });

  it('defaults pointInTimeRecovery.recoveryPeriodDays to 35 when PITR is enabled', () => {
    // Prepare
    const input = { pointInTimeRecovery: { enabled: true } };
    // Act
    const policy = parsePolicy(input);
    // Assess
    expect(policy.pointInTimeRecovery).toEqual({ enabled: true, recoveryPeriodDays: 35 });
  });

  it('keeps a given retention as is (the keepLast default applies only when retention is absent)', () => {
    // Prepare
    const input = { retention: { keepDaily: 7 } };
    // Act
    const policy = parsePolicy(input);
    // Assess
    expect(policy.retention).toEqual({ keepDaily: 7 });
  });

  it('trims and accepts rate() and cron() schedules', () => {
    // Prepare
    const schedules = ['  rate(5 minutes) ', 'rate(1 day)', 'cron(0 3 * * ? *)', 'cron(0 4 ? * SUN *)'];
    // Act
    const parsed = schedules.map((schedule) => parsePolicy({ schedule }).schedule);
    // Assess
    expect(parsed).toEqual(['rate(5 minutes)', 'rate(1 day)', 'cron(0 3 * * ? *)', 'cron(0 4 ? * SUN *)']);
  });

  it.each([
    ['retention.keepLast', { retention: { keepLast: -1 } }],
    ['retention.keepDaily', { retention: { keepDaily: 1.5 } }],
    ['retention.maxAgeDays', { retention: { maxAgeDays: 0 } }],
    ['pointInTimeRecovery.recoveryPeriodDays', { pointInTimeRecovery: { enabled: true, recoveryPeriodDays: 36 } }],
    ['pointInTimeRecovery.recoveryPeriodDays', { pointInTimeRecovery: { enabled: true, recoveryPeriodDays: 0 } }],
    ['pointInTimeRecovery.enabled', { pointInTimeRecovery: { recoveryPeriodDays: 7 } }],
    ['schedule', { schedule: 'every day at 3' }],
    ['schedule', { schedule: 'cron(0 3 * *)' }],
    ['minIntervalMinutes', { minIntervalMinutes: -5 }],
    ['notify', { notify: 'always' }],
    ['size', { size: {} }],
    ['changes', { changes: {} }],
  ])('names the field at fault: %s', (field, input) => {
    // Prepare (the table row)
    // Act
    const err = validationError(() => parsePolicy(input, '"p"'));
    // Assess
    expect(err.issues.some((issue) => issue.startsWith(`${field}: `))).toBe(true);
    expect(err.message).toContain(field);
    expect(err.source).toBe('"p"');
  });

  it('reports every invalid field, not just the first', () => {
    // Prepare
    const input = { retention: { keepLast: -1 }, schedule: 'sometimes', notify: 'never' };
    // Act
    const err = validationError(() => parsePolicy(input));
    // Assess
    const fields = err.issues.map((issue) => issue.split(':')[0]);
    expect(fields).toEqual(expect.arrayContaining(['retention.keepLast', 'schedule', 'notify']));
  });

  it('rejects unknown keys at the top level (strict), naming the key', () => {
    // Prepare
    const input = { retention: { keepLast: 3 }, retentoin: { keepLast: 3 } };
    // Act
    const err = validationError(() => parsePolicy(input));
    // Assess
    expect(err.issues).toHaveLength(1);
    expect(err.issues[0]).toMatch(/^\(policy\): .*retentoin/);
  });

  it.each([
    ['retention', { retention: { keepLast: 1, keepForever: true } }, 'keepForever'],
    ['pointInTimeRecovery', { pointInTimeRecovery: { enabled: true, days: 7 } }, 'days'],
    ['size', { size: { growthBytes: 1, growthRows: 2 } }, 'growthRows'],
    ['changes', { changes: { writes: 1, updates: 2 } }, 'updates'],
  ])('rejects unknown keys inside %s (strict)', (field, input, key) => {
    // Prepare (the table row)
    // Act
    const err = validationError(() => parsePolicy(input));
    // Assess
    expect(err.issues.some((issue) => issue.startsWith(`${field}: `) && issue.includes(key))).toBe(true);
  });

  it('rejects a document that is not an object', () => {
    // Prepare
    const inputs: unknown[] = [null, [], 'daily', 42];
    // Act
    const errors = inputs.map((input) => validationError(() => parsePolicy(input)));
    // Assess
    for (const err of errors) expect(err.issues[0]).toMatch(/^\(policy\): /);
  });
});

describe('parsePolicyJson', () => {
  it('parses valid JSON text and applies the defaults', () => {
    // Prepare
    const text = '{"schedule":"rate(1 hour)","retention":{"keepHourly":24}}';
    // Act
    const policy = parsePolicyJson(text, '"hourly"');
    // Assess
    expect(policy).toEqual({ schedule: 'rate(1 hour)', retention: { keepHourly: 24 }, minIntervalMinutes: 0, notify: 'failures' });
  });

  it('reports malformed JSON as a validation error on "(json)", with the cause', () => {
    // Prepare
    const text = '{"retention": {"keepLast": 3}';
    // Act
    const err = validationError(() => parsePolicyJson(text, '"daily" (/dynamodb-backup/policies/daily)'));
    // Assess
    expect(err.issues).toHaveLength(1);
    expect(err.issues[0]).toMatch(/^\(json\): /);
    expect(err.message).toContain('"daily" (/dynamodb-backup/policies/daily)');
    expect(err.cause).toBeInstanceOf(SyntaxError);
  });

  it('reports a schema error in valid JSON with the field name', () => {
    // Prepare
    const text = '{"retention": {"keepLast": "seven"}}';
    // Act
    const err = validationError(() => parsePolicyJson(text));
    // Assess
    expect(err.issues[0]).toMatch(/^retention\.keepLast: /);
  });
});

describe('DEFAULT_POLICIES', () => {
  it.each(Object.entries(DEFAULT_POLICIES))('%s is valid, has a schedule, a cooldown and a retention', (name, input) => {
    // Prepare
    assertPolicyName(name);
    // Act
    const policy = parsePolicy(input, `"${name}"`);
    // Assess
    expect(policy.schedule).toBeDefined();
    expect(policy.minIntervalMinutes).toBeGreaterThan(0);
    expect(Object.keys(policy.retention).length).toBeGreaterThan(0);
  });

  it('contains hourly, daily and weekly', () => {
    // Prepare
    const names = Object.keys(DEFAULT_POLICIES);
    // Act
    const sorted = [...names].sort();
    // Assess
    expect(sorted).toEqual(['daily', 'hourly', 'weekly']);
  });
});

describe('mergeOverride', () => {
  const base = {
    schedule: 'cron(0 3 * * ? *)',
    minIntervalMinutes: 60,
    retention: { keepDaily: 7, keepWeekly: 4, keepMonthly: 6 },
    pointInTimeRecovery: { enabled: false },
  };

  it('merges objects key by key and replaces scalars', () => {
    // Prepare
    const override = { minIntervalMinutes: 30, retention: { keepDaily: 14 } };
    // Act
    const merged = mergeOverride(base, override);
    // Assess
    expect(merged).toEqual({
      schedule: 'cron(0 3 * * ? *)',
      minIntervalMinutes: 30,
      retention: { keepDaily: 14, keepWeekly: 4, keepMonthly: 6 },
      pointInTimeRecovery: { enabled: false },
    });
  });

  it('removes a key whose override is null, at any depth', () => {
    // Prepare
    const override = { retention: { keepWeekly: null, keepMonthly: null }, pointInTimeRecovery: null };
    // Act
    const merged = mergeOverride(base, override);
    // Assess
    expect(merged).toEqual({ schedule: 'cron(0 3 * * ? *)', minIntervalMinutes: 60, retention: { keepDaily: 7 } });
  });

  it('adds keys that the base lacks, and replaces arrays whole', () => {
    // Prepare
    const override = { size: { growthPercent: 20 }, tags: ['b'] };
    // Act
    const merged = mergeOverride({ ...base, tags: ['a', 'c'] }, override) as Record<string, unknown>;
    // Assess
    expect(merged.size).toEqual({ growthPercent: 20 });
    expect(merged.tags).toEqual(['b']);
  });

  it('never mutates its inputs', () => {
    // Prepare
    const baseCopy = structuredClone(base);
    const override = { retention: { keepDaily: null, keepLast: 2 } };
    const overrideCopy = structuredClone(override);
    // Act
    mergeOverride(base, override);
    // Assess
    expect(base).toEqual(baseCopy);
    expect(override).toEqual(overrideCopy);
  });

  it('returns the base for an undefined override', () => {
    // Prepare
    const override = undefined;
    // Act
    const merged = mergeOverride(base, override);
    // Assess
    expect(merged).toBe(base);
  });
});

describe('resolveEffectivePolicy', () => {
  const raw = { schedule: 'cron(0 3 * * ? *)', retention: { keepDaily: 7, keepWeekly: 4 }, minIntervalMinutes: 60 };

  it('validates the named policy alone when the table has no override', () => {
    // Prepare
    const override = undefined;
    // Act
    const effective = resolveEffectivePolicy('daily', raw, override, 'orders');
    // Assess
    expect(effective).toEqual({
      name: 'daily',
      policy: parsePolicy(raw),
      hash: policyHash(parsePolicy(raw)),
      overridden: false,
    });
  });

  it('merges the override over the named policy, then validates the whole', () => {
    // Prepare
    const override = { retention: { keepWeekly: null, keepLast: 3 }, notify: 'all' };
    // Act
    const effective = resolveEffectivePolicy('daily', raw, override, 'orders');
    // Assess
    expect(effective.overridden).toBe(true);
    expect(effective.policy.retention).toEqual({ keepDaily: 7, keepLast: 3 });
    expect(effective.policy.notify).toBe('all');
    expect(effective.hash).not.toBe(resolveEffectivePolicy('daily', raw).hash);
  });

  it('names the table and the field when the override makes the policy invalid', () => {
    // Prepare
    const override = { retention: { keepDaily: -1 } };
    // Act
    const err = validationError(() => resolveEffectivePolicy('daily', raw, override, 'orders'));
    // Assess
    expect(err.message).toContain('"daily"');
    expect(err.message).toContain('table "orders"');
    expect(err.issues).toEqual([expect.stringMatching(/^retention\.keepDaily: /)]);
  });

  it('rejects an override that introduces an unknown key', () => {
    // Prepare
    const override = { retention: { keepEverything: true } };
    // Act
    const err = validationError(() => resolveEffectivePolicy('daily', raw, override, 'orders'));
    // Assess
    expect(err.issues.join()).toContain('keepEverything');
  });

  it('names the policy when the named policy itself is invalid', () => {
    // Prepare
    const broken = { schedule: 'whenever' };
    // Act
    const err = validationError(() => resolveEffectivePolicy('nightly', broken));
    // Assess
    expect(err.source).toBe('"nightly"');
    expect(err.issues).toEqual([expect.stringMatching(/^schedule: /)]);
  });
});

describe('policyHash', () => {
  const policy: Policy = parsePolicy({
    schedule: 'cron(0 3 * * ? *)',
    minIntervalMinutes: 60,
    retention: { keepDaily: 7, keepWeekly: 4 },
    pointInTimeRecovery: { enabled: true, recoveryPeriodDays: 14 },
  });

  it('is a 12-character hex string', () => {
    // Prepare (the policy above)
    // Act
    const hash = policyHash(policy);
    // Assess
    expect(hash).toMatch(/^[0-9a-f]{12}$/);
  });

  it('does not depend on key order, at any depth', () => {
    // Prepare
    const reordered = parsePolicy({
      pointInTimeRecovery: { recoveryPeriodDays: 14, enabled: true },
      retention: { keepWeekly: 4, keepDaily: 7 },
      minIntervalMinutes: 60,
      schedule: 'cron(0 3 * * ? *)',
    });
    // Act
    const [a, b] = [policyHash(policy), policyHash(reordered)];
    // Assess
    expect(b).toBe(a);
  });

  it('is equal for a policy that spells out the defaults and one that leaves them out', () => {
    // Prepare
    const implicit = parsePolicy({});
    const explicit = parsePolicy({ minIntervalMinutes: 0, retention: { keepLast: 7 }, notify: 'failures' });
    // Act
    const [a, b] = [policyHash(implicit), policyHash(explicit)];
    // Assess
    expect(b).toBe(a);
  });

  it.each([
    ['retention', { retention: { keepDaily: 8, keepWeekly: 4 } }],
    ['minIntervalMinutes', { minIntervalMinutes: 61 }],
    ['pointInTimeRecovery', { pointInTimeRecovery: { enabled: true, recoveryPeriodDays: 15 } }],
    ['notify', { notify: 'all' as const }],
    ['schedule', { schedule: 'cron(0 4 * * ? *)' }],
  ])('changes when %s changes', (_field, change) => {
    // Prepare
    const changed = parsePolicy({ ...policy, ...change });
    // Act
    const [a, b] = [policyHash(policy), policyHash(changed)];
    // Assess
    expect(b).not.toBe(a);
  });

  it('matches the hash of the policy read back from its serialised form', () => {
    // Prepare
    const text = serialisePolicy(policy);
    // Act
    const readBack = parsePolicyJson(text);
    // Assess
    expect(policyHash(readBack)).toBe(policyHash(policy));
  });
});

describe('assertPolicyName', () => {
  it.each(['daily', 'a', 'hourly_2', 'tier-1', 'A'.repeat(64)])('accepts %s', (name) => {
    // Prepare (the table row)
    // Act
    const act = () => assertPolicyName(name);
    // Assess
    expect(act).not.toThrow();
  });

  it.each(['', 'A'.repeat(65), 'daily hourly', 'daily+hourly', 'daily.v2', '../daily', 'daily/x', 'tägl'])(
    'rejects %j with a PolicyValidationError on "name"',
    (name) => {
      // Prepare (the table row)
      // Act
      const err = validationError(() => assertPolicyName(name));
      // Assess
      expect(err.issues).toEqual([expect.stringMatching(/^name: /)]);
      expect(err.source).toBe(`"${name}"`);
    },
  );
});
