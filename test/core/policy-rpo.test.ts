import { PolicyValidationError } from '../../lambda/core/errors';
import { rpoTargetMinutes } from '../../lambda/core/evidence/rpo';
import { DEFAULT_POLICIES, parsePolicy } from '../../lambda/core/policy';

describe('policy rpoHours', () => {
  it('accepts a positive number of hours, fractions too', () => {
    // Act
    const policy = parsePolicy({ schedule: 'rate(1 hour)', rpoHours: 1.5 });
    // Assess
    expect(policy.rpoHours).toBe(1.5);
  });

  it('is absent unless given (no default)', () => {
    expect(parsePolicy({}).rpoHours).toBeUndefined();
  });

  it.each([0, -2, 9000, '4'])('refuses %p, naming the field', (rpoHours) => {
    // Act
    const act = () => parsePolicy({ rpoHours });
    // Assess
    expect(act).toThrow(PolicyValidationError);
    expect(act).toThrow(/rpoHours/);
  });
});

describe('rpoTargetMinutes', () => {
  it('is rpoHours when set', () => {
    expect(rpoTargetMinutes({ schedule: 'rate(1 day)', minIntervalMinutes: 0, rpoHours: 4 })).toBe(240);
  });

  it("is the schedule's interval × 1.5 otherwise", () => {
    expect(rpoTargetMinutes(parsePolicy(DEFAULT_POLICIES.daily))).toBe(36 * 60);
    expect(rpoTargetMinutes(parsePolicy(DEFAULT_POLICIES.hourly))).toBe(90);
    expect(rpoTargetMinutes(parsePolicy(DEFAULT_POLICIES.weekly))).toBe(7 * 36 * 60);
  });

  it('takes the cooldown when it is longer than the schedule', () => {
    expect(rpoTargetMinutes({ schedule: 'rate(1 hour)', minIntervalMinutes: 120 })).toBe(180);
  });

  it('is undefined for a policy without a schedule or rpoHours', () => {
    expect(rpoTargetMinutes({ minIntervalMinutes: 60 })).toBeUndefined();
  });
});
