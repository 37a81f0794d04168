import { Stack } from 'aws-cdk-lib';
import * as logs from 'aws-cdk-lib/aws-logs';
import {
  DEFAULT_DIGEST_SCHEDULE,
  DEFAULT_PROBE_SCHEDULE,
  DEFAULT_PRUNE_SCHEDULE,
  DEFAULT_RECONCILE_SCHEDULE,
  DEFAULT_WORKER_CONCURRENCY,
  DynamoDbBackupService,
} from '../../lib';
import type { DynamoDbBackupServiceProps } from '../../lib';
import { resolveOptions } from '../../lib/service/options';
import { newApp } from './helpers';

function synthesise(props: DynamoDbBackupServiceProps): () => void {
  const app = newApp();
  new DynamoDbBackupService(new Stack(app, 'Backups'), 'Backups', props);
  return () => app.synth();
}

describe('resolveOptions', () => {
  it('applies the defaults', () => {
    // Prepare
    const errors: string[] = [];

    // Act
    const options = resolveOptions({}, errors);

    // Assess
    expect(errors).toEqual([]);
    expect(options).toEqual({
      tagKey: 'backup:policy',
      auditDays: 400,
      maxReceiveCount: 3,
      workerConcurrency: DEFAULT_WORKER_CONCURRENCY,
      logRetention: logs.RetentionDays.ONE_MONTH,
      pruneSchedule: DEFAULT_PRUNE_SCHEDULE,
      probeSchedule: DEFAULT_PROBE_SCHEDULE,
      reconcileSchedule: DEFAULT_RECONCILE_SCHEDULE,
      digestSchedule: DEFAULT_DIGEST_SCHEDULE,
    });
  });

  it('trims the schedules and keeps the values given', () => {
    // Prepare
    const errors: string[] = [];

    // Act
    const options = resolveOptions(
      { tagKey: 'team:backup', maxReceiveCount: 1000, workerConcurrency: 2, pruneSchedule: ' rate(12 hours) ', digestSchedule: 'cron(0 6 * * ? *)' },
      errors,
    );

    // Assess
    expect(errors).toEqual([]);
    expect(options).toMatchObject({
      tagKey: 'team:backup',
      maxReceiveCount: 1000,
      workerConcurrency: 2,
      pruneSchedule: 'rate(12 hours)',
      digestSchedule: 'cron(0 6 * * ? *)',
    });
  });

  it('reports every invalid value at once and uses the default instead, so the tree is built in full', () => {
    // Prepare
    const errors: string[] = [];

    // Act
    const options = resolveOptions(
      { maxReceiveCount: 2.5, workerConcurrency: 1001, pruneSchedule: 'daily', probeSchedule: 'hourly', digestIgnoreTables: ['ok', 'a,b', 'x*y'] },
      errors,
    );

    // Assess
    expect(errors).toEqual([
      'maxReceiveCount: must be an integer from 1 to 1000, got 2.5',
      'workerConcurrency: must be an integer from 2 to 1000, got 1001',
      expect.stringMatching(/^pruneSchedule: must be an EventBridge expression.*, got "daily"$/),
      expect.stringMatching(/^probeSchedule: must be an EventBridge expression.*, got "hourly"$/),
      'digestIgnoreTables: "a,b" is not a table name or a "prefix*" pattern',
      'digestIgnoreTables: "x*y" is not a table name or a "prefix*" pattern',
    ]);
    expect(options).toMatchObject({ maxReceiveCount: 3, workerConcurrency: DEFAULT_WORKER_CONCURRENCY, pruneSchedule: DEFAULT_PRUNE_SCHEDULE });
  });

  it.each<[string, DynamoDbBackupServiceProps, RegExp]>([
    ['digestSchedule', { coverageDigest: false, digestSchedule: 'every day' }, /digestSchedule: must be an EventBridge expression/],
    ['digestIgnoreTables', { coverageDigest: false, digestIgnoreTables: ['a,b'] }, /digestIgnoreTables: "a,b"/],
    ['probeSchedule', { sizeTriggers: false, probeSchedule: 'every hour' }, /probeSchedule: must be an EventBridge expression/],
    ['reconcileSchedule', { changeTriggers: false, reconcileSchedule: 'often' }, /reconcileSchedule: must be an EventBridge expression/],
  ])('rejects a bad %s at synth even when its feature is not deployed', (_prop, props, message) => {
    // Prepare
    const synth = synthesise(props);

    // Act / Assess
    expect(synth).toThrow(message);
  });
});
