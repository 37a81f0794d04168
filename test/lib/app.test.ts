import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { RemovalPolicy } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as logs from 'aws-cdk-lib/aws-logs';
import { createApp } from '../../bin/ddb-backup-app';
import { parseAppConfig } from '../../lib';
import { CDK_JSON_APP, CDK_JSON_CONTEXT, appProps } from './helpers';

describe('app config (context "ddbBackup")', () => {
  it('parses the config in cdk.json', () => {
    // Prepare / Act
    const config = parseAppConfig(CDK_JSON_CONTEXT.ddbBackup);

    // Assess
    expect(config).toMatchObject({
      tagKey: 'backup:policy',
      ledgerRemovalPolicy: RemovalPolicy.RETAIN,
      stackPrefix: 'DdbBackup',
      pruneSchedule: 'cron(30 5 * * ? *)',
      sizeTriggers: true,
      changeTriggers: true,
      coverageDigest: true,
      digestSchedule: 'cron(0 7 * * ? *)',
    });
    expect(CDK_JSON_APP).toBe('npx tsx bin/ddb-backup-app.ts');
  });

  it('defaults everything when absent', () => {
    // Prepare / Act
    const config = parseAppConfig(undefined);

    // Assess
    expect(config).toEqual(expect.objectContaining({ stackPrefix: 'DdbBackup', policies: undefined, tagKey: undefined }));
  });

  it('accepts a JSON string (cdk synth -c ddbBackup=...) and maps removal policy and retention', () => {
    // Prepare / Act
    const config = parseAppConfig('{"ledgerRemovalPolicy":"destroy","logRetentionDays":365,"maxReceiveCount":5}');

    // Assess
    expect(config.ledgerRemovalPolicy).toBe(RemovalPolicy.DESTROY);
    expect(config.logRetention).toBe(logs.RetentionDays.ONE_YEAR);
    expect(config.maxReceiveCount).toBe(5);
  });

  it.each([
    ['an unknown key', { tagkey: 'x' }, /ddbBackup: Unrecognized key/],
    ['a bad removal policy', { ledgerRemovalPolicy: 'snapshot' }, /ddbBackup\.ledgerRemovalPolicy/],
    ['a bad email', { notificationEmails: ['not-an-email'] }, /ddbBackup\.notificationEmails\.0/],
    ['a retention CloudWatch does not offer', { logRetentionDays: 31 }, /ddbBackup\.logRetentionDays/],
    ['a prune schedule that is not an EventBridge expression', { pruneSchedule: 'daily' }, /ddbBackup\.pruneSchedule: must be an EventBridge expression/],
    ['a size alarm table without a policy', { sizeAlarmTables: [{ table: 'orders' }] }, /ddbBackup\.sizeAlarmTables\.0\.policy/],
    ['malformed JSON', '{', /not valid JSON/],
  ])('rejects %s', (_what, raw, message) => {
    // Prepare / Act / Assess
    expect(() => parseAppConfig(raw)).toThrow(message);
  });
});

describe('app', () => {
  it('builds the state stack (termination protection) and the service stack from context', () => {
    // Prepare / Act
    const { stateStack, serviceStack } = createApp(
      appProps({ ddbBackup: { stackPrefix: 'Acme', policies: { nightly: { schedule: 'rate(1 day)' } } } }),
    );

    // Assess
    expect(stateStack.stackName).toBe('AcmeState');
    expect(serviceStack.stackName).toBe('AcmeService');
    expect(stateStack.terminationProtection).toBe(true);
    Template.fromStack(serviceStack).hasResourceProperties('AWS::SSM::Parameter', {
      Name: '/dynamodb-backup/policies/nightly',
    });
  });

  it('passes pruneSchedule to the prune rule of every policy', () => {
    // Prepare / Act
    const { serviceStack } = createApp(
      appProps({ ddbBackup: { pruneSchedule: 'cron(15 1 * * ? *)', policies: { sizeonly: { size: { growthPercent: 20 } } } } }),
    );

    // Assess: the three built-in policies and sizeonly.
    const template = Template.fromStack(serviceStack);
    expect(Object.keys(serviceStack.service.pruneRules).sort()).toEqual(['daily', 'hourly', 'sizeonly', 'weekly']);
    expect(Object.keys(template.findResources('AWS::Events::Rule', { Properties: { ScheduleExpression: 'cron(15 1 * * ? *)' } }))).toHaveLength(4);
    template.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'cron(15 1 * * ? *)',
      Targets: [Match.objectLike({ InputTransformer: Match.objectLike({ InputTemplate: '{"policy":"sizeonly","trigger":"prune","time":<time>}' }) })],
    });
  });

  it('creates the size alarms of sizeAlarmTables from context and tells the probe', () => {
    // Prepare / Act
    const { serviceStack } = createApp(
      appProps({ ddbBackup: { policies: { sizeonly: { size: { growthPercent: 20 } } }, sizeAlarmTables: [{ table: 'orders', policy: 'sizeonly' }] } }),
    );

    // Assess
    const template = Template.fromStack(serviceStack);
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmName: 'ddb-backup-size-sizeonly.orders',
      MetricName: 'GrowthSinceLastBackupPercent',
      Threshold: 20,
      ActionsEnabled: false,
    });
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ DDB_BACKUP_SIZE_STATIC_ALARMS: 'sizeonly.orders' }) },
    });
  });

  it('bundles every handler (planner, worker, probe, stream, stream reconciler, digest, table events) with the local esbuild (no Docker)', () => {
    // Prepare
    const { app, serviceStack } = createApp(appProps({}, { bundle: true }));

    // Act
    const assembly = app.synth();

    // Assess: the asset manifest lists one zipped directory per function, each with the bundle.
    const manifest = JSON.parse(
      readFileSync(path.join(assembly.directory, `${serviceStack.artifactId}.assets.json`), 'utf8'),
    ) as { files: Record<string, { source: { path: string; packaging?: string } }> };
    const bundles = Object.values(manifest.files).filter((f) => f.source.packaging === 'zip');
    expect(bundles).toHaveLength(7);
    for (const { source } of bundles) {
      const dir = path.join(assembly.directory, source.path);
      expect(existsSync(path.join(dir, 'index.js'))).toBe(true);
      expect(existsSync(path.join(dir, 'index.js.map'))).toBe(true);
    }
  });
});
