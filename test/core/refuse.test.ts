/**
 * Refuse, never default: a per-table override that is invalid (a removed field that has a default,
 * a field of the wrong type, an unknown field) is a PolicyValidationError naming the field, the
 * table and the policy; it never becomes the schema's default. Policy text with a UTF-8 byte order
 * mark is read like any other.
 */
import { GetParameterCommand, GetParametersByPathCommand, SSMClient } from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import { PolicyStore } from '../../lambda/aws/policy-store';
import { PolicyUnavailableError, PolicyValidationError, errorMessage } from '../../lambda/core/errors';
import {
  mergeOverride,
  overrideIssues,
  parseOverrideJson,
  parsePolicyDocument,
  parsePolicyJson,
  resolveEffectivePolicy,
} from '../../lambda/core/policy';
import { DEFAULTS } from '../../lambda/env';

const BOM = '\uFEFF';

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

async function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (err) {
    return err;
  }
  throw new Error('expected a rejection, but the promise resolved');
}

const raw = {
  schedule: 'cron(0 3 * * ? *)',
  minIntervalMinutes: 60,
  retention: { keepDaily: 7, keepWeekly: 4 },
  pointInTimeRecovery: { enabled: true, recoveryPeriodDays: 14 },
  notify: 'all',
};

describe('resolveEffectivePolicy refuses an invalid override', () => {
  it.each([
    ['retention', { retention: null }],
    ['minIntervalMinutes', { minIntervalMinutes: null }],
    ['notify', { notify: null }],
    ['pointInTimeRecovery.recoveryPeriodDays', { pointInTimeRecovery: { recoveryPeriodDays: null } }],
    ['pointInTimeRecovery.enabled', { pointInTimeRecovery: { enabled: null } }],
    ['minIntervalMinutes', { minIntervalMinutes: 'x' }],
    ['retention', { retention: 7 }],
    ['retention.keepLast', { retention: { keepLast: 'three' } }],
    ['retentoin', { retentoin: { keepLast: 3 } }],
    ['retentoin', { retentoin: null }],
    ['retention.keepForever', { retention: { keepForever: true } }],
    ['retention.keepForver', { retention: { keepForver: null } }],
  ])('%s in %j: a PolicyValidationError naming the field, the table and the policy', (field, override) => {
    // Prepare (the table row)
    // Act
    const err = validationError(() => resolveEffectivePolicy('daily', raw, override as Record<string, unknown>, 'orders'));
    // Assess
    expect(err.issues.some((issue) => issue.startsWith(`${field}: `))).toBe(true);
    expect(err.message).toContain(field);
    expect(err.message).toContain('table "orders"');
    expect(err.message).toContain('"daily"');
    expect(errorMessage(err)).toMatch(/^PolicyValidationError: invalid policy "daily" with the override of table "orders": /);
  });

  it('never lets retention: null fall back to the default keepLast 7', () => {
    // Prepare
    const override = { retention: null };
    // Act
    const err = validationError(() => resolveEffectivePolicy('daily', raw, override, 'orders'));
    // Assess
    expect(err.issues).toEqual([expect.stringMatching(/^retention: null would remove it and put the default \(\{"keepLast":7\}\) in its place/)]);
  });

  it('lists every field at fault of one override', () => {
    // Prepare
    const override = { retention: null, notify: null, bogus: 1 };
    // Act
    const err = validationError(() => resolveEffectivePolicy('daily', raw, override, 'orders'));
    // Assess
    expect(err.issues.map((issue) => issue.split(':')[0]).sort()).toEqual(['bogus', 'notify', 'retention']);
  });

  it('is not an outage: nothing retries it into a default', () => {
    // Prepare
    const override = { retention: null };
    // Act
    const err = validationError(() => resolveEffectivePolicy('daily', raw, override, 'orders'));
    // Assess
    expect(err).not.toBeInstanceOf(PolicyUnavailableError);
    expect((err as unknown as { retryable?: boolean }).retryable).toBeUndefined();
  });
});

describe('resolveEffectivePolicy still merges a valid override', () => {
  it('a partial retention override adds to the named policy', () => {
    // Prepare
    const override = { retention: { keepLast: 3 } };
    // Act
    const effective = resolveEffectivePolicy('daily', raw, override, 'orders');
    // Assess
    expect(effective.overridden).toBe(true);
    expect(effective.policy.retention).toEqual({ keepDaily: 7, keepWeekly: 4, keepLast: 3 });
    expect(effective.policy.minIntervalMinutes).toBe(60);
  });

  it('removes optional fields with null (a retention rule, PITR management)', () => {
    // Prepare
    const override = { retention: { keepWeekly: null }, pointInTimeRecovery: null, schedule: null };
    // Act
    const effective = resolveEffectivePolicy('daily', raw, override, 'orders');
    // Assess
    expect(effective.policy.retention).toEqual({ keepDaily: 7 });
    expect(effective.policy.pointInTimeRecovery).toBeUndefined();
    expect(effective.policy.schedule).toBeUndefined();
  });

  it('replaces a defaulted field with an explicit value', () => {
    // Prepare
    const override = { minIntervalMinutes: 0, notify: 'failures', pointInTimeRecovery: { recoveryPeriodDays: 35 } };
    // Act
    const effective = resolveEffectivePolicy('daily', raw, override, 'orders');
    // Assess
    expect(effective.policy).toMatchObject({ minIntervalMinutes: 0, notify: 'failures', pointInTimeRecovery: { enabled: true, recoveryPeriodDays: 35 } });
  });

  it('adds a trigger the named policy lacks, ignoring removals inside it', () => {
    // Prepare
    const override = { size: { growthPercent: 20, growthBytes: null } };
    // Act
    const effective = resolveEffectivePolicy('daily', raw, override, 'orders');
    // Assess
    expect(effective.policy.size).toEqual({ growthPercent: 20 });
  });
});

describe('overrideIssues', () => {
  it('has nothing to say about a valid override, nor about values (the merged policy checks those)', () => {
    // Prepare
    const overrides = [{}, { retention: { keepLast: 3 } }, { size: null }, { minIntervalMinutes: -1 }];
    // Act
    const issues = overrides.map((o) => overrideIssues(o));
    // Assess
    expect(issues).toEqual([[], [], [], []]);
  });

  it('does not take inherited properties for fields', () => {
    // Prepare
    const override = JSON.parse('{"toString": null, "constructor": {"x": 1}}') as Record<string, unknown>;
    // Act
    const issues = overrideIssues(override);
    // Assess
    expect(issues.sort()).toEqual(['constructor: unknown field', 'toString: unknown field']);
  });
});

describe('mergeOverride over a missing object', () => {
  it('drops the removals inside an object the base lacks', () => {
    // Prepare
    const base = { retention: { keepLast: 3 } };
    // Act
    const merged = mergeOverride(base, { changes: { writes: 10, deletes: null } });
    // Assess
    expect(merged).toEqual({ retention: { keepLast: 3 }, changes: { writes: 10 } });
  });
});

describe('UTF-8 byte order mark', () => {
  it('parsePolicyJson reads a policy that starts with U+FEFF', () => {
    // Prepare
    const text = `${BOM}{"schedule":"rate(1 day)","retention":{"keepLast":3}}`;
    // Act
    const policy = parsePolicyJson(text, '"daily" (daily.json)');
    // Assess
    expect(policy).toEqual({ schedule: 'rate(1 day)', retention: { keepLast: 3 }, minIntervalMinutes: 0, notify: 'failures' });
  });

  it('parseOverrideJson and parsePolicyDocument read text that starts with U+FEFF', () => {
    // Prepare
    const text = `${BOM}{"retention":{"keepLast":3}}`;
    // Act
    const [override, doc] = [parseOverrideJson(text, 'override of table "orders"'), parsePolicyDocument(text)];
    // Assess
    expect(override).toEqual({ retention: { keepLast: 3 } });
    expect(doc).toEqual({ retention: { keepLast: 3 } });
  });

  it('strips one leading mark only: anything else that is not JSON is still an error on "(json)"', () => {
    // Prepare
    const texts = [`${BOM}${BOM}{}`, `{}${BOM}x`, BOM];
    // Act
    const errors = texts.map((text) => validationError(() => parsePolicyJson(text, '"daily"')));
    // Assess
    for (const err of errors) expect(err.issues).toEqual([expect.stringMatching(/^\(json\): /)]);
  });
});

describe('PolicyStore over SSM (mocked)', () => {
  const ssmMock = mockClient(SSMClient);
  const store = () =>
    new PolicyStore(new SSMClient({ region: 'us-east-1', credentials: { accessKeyId: 'AKIAFAKE', secretAccessKey: 'fake' }, endpoint: 'http://127.0.0.1:9', maxAttempts: 1 }), {
      cacheSeconds: 0,
    });
  const policyPath = `${DEFAULTS.POLICY_PREFIX}daily`;
  const overridePath = `${DEFAULTS.TABLE_OVERRIDE_PREFIX}orders`;

  beforeEach(() => ssmMock.reset());
  afterAll(() => ssmMock.restore());

  function answer(policy: string, override?: string): void {
    ssmMock.on(GetParameterCommand).resolves({ Parameter: { Name: policyPath, Value: policy } });
    ssmMock.on(GetParametersByPathCommand).resolves({ Parameters: override === undefined ? [] : [{ Name: overridePath, Value: override }] });
  }

  it('getEffective refuses a table override with "retention": null, naming the field, the table and the policy', async () => {
    // Prepare
    answer('{"retention":{"keepDaily":7}}', '{"retention":null}');
    // Act
    const err = await rejectionOf(store().getEffective('daily', 'orders'));
    // Assess
    expect(err).toBeInstanceOf(PolicyValidationError);
    expect((err as PolicyValidationError).issues).toEqual([expect.stringMatching(/^retention: /)]);
    expect((err as Error).message).toContain('table "orders"');
    expect((err as Error).message).toContain('"daily"');
  });

  it('getEffective refuses an override with a field of the wrong type or an unknown field', async () => {
    // Prepare
    const overrides = ['{"minIntervalMinutes":"x"}', '{"keepLast":3}'];
    // Act
    const errors: unknown[] = [];
    for (const o of overrides) {
      answer('{"retention":{"keepDaily":7}}', o);
      errors.push(await rejectionOf(store().getEffective('daily', 'orders')));
    }
    // Assess
    expect(errors.map((e) => (e as PolicyValidationError).issues[0]?.split(':')[0])).toEqual(['minIntervalMinutes', 'keepLast']);
    for (const e of errors) expect((e as Error).message).toContain('table "orders"');
  });

  it('getEffective merges a valid partial override', async () => {
    // Prepare
    answer('{"retention":{"keepDaily":7}}', '{"retention":{"keepLast":3}}');
    // Act
    const effective = await store().getEffective('daily', 'orders');
    // Assess
    expect(effective.policy.retention).toEqual({ keepDaily: 7, keepLast: 3 });
  });

  it('getPolicy and getEffective read a policy and an override that start with U+FEFF', async () => {
    // Prepare
    answer(`${BOM}{"retention":{"keepDaily":7}}`, `${BOM}{"retention":{"keepLast":3}}`);
    // Act
    const [policy, effective] = [await store().getPolicy('daily'), await store().getEffective('daily', 'orders')];
    // Assess
    expect(policy.retention).toEqual({ keepDaily: 7 });
    expect(effective.policy.retention).toEqual({ keepDaily: 7, keepLast: 3 });
  });
});
