import { Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import type { PolicyInput } from '../../lambda/core/policy';
import { DynamoDbBackupService } from '../../lib';
import type { DynamoDbBackupServiceProps } from '../../lib';
import { newApp } from './helpers';

function synthesise(props: DynamoDbBackupServiceProps): () => void {
  const app = newApp();
  const stack = new Stack(app, 'Backups');
  new DynamoDbBackupService(stack, 'Backups', props);
  return () => app.synth();
}

describe('DynamoDbBackupService synth-time validation', () => {
  it('builds the construct tree and fails at synth, not at construction', () => {
    // Prepare
    const stack = new Stack(newApp(), 'Backups');

    // Act
    const build = () =>
      new DynamoDbBackupService(stack, 'Backups', { policies: { bad: { retention: { keepLast: -1 } } } });

    // Assess
    expect(build).not.toThrow();
    expect(() => Template.fromStack(stack)).toThrow(/retention\.keepLast/);
  });

  it('rejects retention.keepLast -1, naming the policy and the field', () => {
    // Prepare
    const synth = synthesise({ policies: { bad: { retention: { keepLast: -1 } } } });

    // Act / Assess
    expect(synth).toThrow(/Validation failed/);
    expect(synth).toThrow(/\[Backups\/Backups\] invalid policy "bad": retention\.keepLast: /);
  });

  it('rejects a bad policy name', () => {
    // Prepare
    const synth = synthesise({ policies: { 'no spaces!': { schedule: 'rate(1 day)' } } });

    // Act / Assess
    expect(synth).toThrow(/invalid policy "no spaces!": name: must match/);
  });

  it('rejects a schedule that is not an EventBridge expression', () => {
    // Prepare
    const synth = synthesise({ policies: { nightly: { schedule: 'every night' } } });

    // Act / Assess
    expect(synth).toThrow(/invalid policy "nightly": schedule: must be an EventBridge expression/);
  });

  it('rejects unknown fields (strict schema)', () => {
    // Prepare
    const synth = synthesise({ policies: { daily: { schedule: 'rate(1 day)', retain: 3 } as unknown as PolicyInput } });

    // Act / Assess
    expect(synth).toThrow(/invalid policy "daily": \(policy\): .*retain/);
  });

  it('reports every invalid policy at once', () => {
    // Prepare
    const synth = synthesise({
      policies: {
        one: { retention: { keepLast: -1 } },
        two: { pointInTimeRecovery: { enabled: true, recoveryPeriodDays: 99 } },
      },
    });

    // Act / Assess
    expect(synth).toThrow(/"one": retention\.keepLast[\s\S]*"two": pointInTimeRecovery\.recoveryPeriodDays/);
  });

  it('rejects a reserved or empty tag key', () => {
    // Prepare / Act / Assess
    expect(synthesise({ tagKey: 'aws:backup' })).toThrow(/tagKey: the "aws:" prefix is reserved/);
    expect(synthesise({ tagKey: '' })).toThrow(/tagKey: must be 1-128 characters/);
  });

  it('rejects maxReceiveCount outside 1-1000', () => {
    // Prepare / Act / Assess
    expect(synthesise({ maxReceiveCount: 0 })).toThrow(/maxReceiveCount: must be an integer from 1 to 1000/);
    expect(synthesise({ maxReceiveCount: 2.5 })).toThrow(/maxReceiveCount/);
  });

  it.each([['every day'], ['cron(30 5 * *)'], ['rate(0 days)'], ['']])('rejects pruneSchedule %j', (pruneSchedule) => {
    // Prepare
    const synth = synthesise({ pruneSchedule });

    // Act / Assess
    expect(synth).toThrow(/pruneSchedule: must be an EventBridge expression/);
  });

  it.each([['digestSchedule'], ['probeSchedule'], ['reconcileSchedule']] as const)('rejects a bad %s at synth', (prop) => {
    // Prepare
    const synth = synthesise({ [prop]: 'every day' });

    // Act / Assess
    expect(synth).toThrow(new RegExp(`${prop}: must be an EventBridge expression`));
  });

  it('rejects a bad size alarm prefix and digest ignore pattern at synth', () => {
    // Prepare / Act / Assess
    expect(synthesise({ sizeAlarmPrefix: 'bad prefix!' })).toThrow(/alarmPrefix: must match/);
    expect(synthesise({ digestIgnoreTables: ['a,b'] })).toThrow(/digestIgnoreTables: "a,b" is not a table name/);
  });

  it('rejects sizeAlarmTables naming an unknown policy, a policy without size, or without sizeTriggers', () => {
    // Prepare / Act / Assess
    expect(synthesise({ sizeAlarmTables: [{ table: 'orders', policy: 'nope' }] })).toThrow(/sizeAlarmTables\[0\]\.policy: "nope" is not a declared policy \(daily, hourly, weekly\)/);
    expect(synthesise({ sizeAlarmTables: [{ table: 'orders', policy: 'daily' }] })).toThrow(/"daily" has no size trigger/);
    expect(synthesise({ sizeTriggers: false, sizeAlarmTables: [{ table: 'orders', policy: 'daily' }] })).toThrow(/sizeAlarmTables: needs sizeTriggers/);
  });

  it('reports a bad pruneSchedule together with a bad policy', () => {
    // Prepare
    const synth = synthesise({ pruneSchedule: 'daily', policies: { bad: { retention: { keepLast: -1 } } } });

    // Act / Assess
    expect(synth).toThrow(/pruneSchedule: [\s\S]*"bad": retention\.keepLast|"bad": retention\.keepLast[\s\S]*pruneSchedule: /);
  });

  it('rejects a configuration with no policy at all', () => {
    // Prepare
    const synth = synthesise({ includeDefaultPolicies: false });

    // Act / Assess
    expect(synth).toThrow(/policies: no policy to deploy/);
  });

  it('accepts the defaults', () => {
    // Prepare
    const synth = synthesise({});

    // Act / Assess
    expect(synth).not.toThrow();
  });
});
