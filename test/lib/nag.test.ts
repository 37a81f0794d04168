import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { Validations } from 'aws-cdk-lib';
import type { App } from 'aws-cdk-lib';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { AwsSolutionsChecks } from 'cdk-nag';
import { createApp } from '../../bin/ddb-backup-app';
import { appProps } from './helpers';

interface ReportFile {
  pluginReports: Array<{ pluginName: string; violations?: Array<{ ruleName: string; severity: string }> }>;
}

/** Findings the AwsSolutions pack still reports after acknowledgements (errors and warnings). */
function unacknowledged(app: App): string[] {
  return new AwsSolutionsChecks().validateScope(app).violations.flatMap((v) =>
    v.violatingResources.map((r) => `${v.severity} ${v.ruleName} at ${r.constructPath}`),
  );
}

function withEnv<T>(vars: Record<string, string | undefined>, fn: () => T): T {
  const saved = Object.fromEntries(Object.keys(vars).map((k) => [k, process.env[k]]));
  Object.assign(process.env, vars);
  for (const [k, v] of Object.entries(vars)) if (v === undefined) delete process.env[k];
  try {
    return fn();
  } finally {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
}

describe('cdk-nag AwsSolutions', () => {
  it('synthesises the app with zero unacknowledged errors and warnings', () => {
    // Prepare: as `cdk synth` runs it, built-in CloudFormation validation included.
    const { app } = withEnv({ CDK_DEFAULT_ACCOUNT: undefined, CDK_DEFAULT_REGION: undefined }, () =>
      createApp(appProps({}, { cfnValidation: true })),
    );

    // Act: in-memory synth throws on any unacknowledged error.
    const assembly = app.synth();

    // Assess
    expect(unacknowledged(app)).toEqual([]);
    const report = JSON.parse(readFileSync(path.join(assembly.directory, 'validation-report.json'), 'utf8')) as ReportFile;
    const nagViolations = report.pluginReports.filter((p) => p.pluginName === 'AwsSolutions').flatMap((p) => p.violations ?? []);
    expect(nagViolations).toEqual([]);
    const errors = report.pluginReports.flatMap((p) => p.violations ?? []).filter((v) => v.severity === 'error');
    expect(errors).toEqual([]);
  });

  it('stays clean when the stacks are bound to an account and region (acknowledgements follow the ARNs)', () => {
    // Prepare
    const { app } = withEnv({ CDK_DEFAULT_ACCOUNT: '123456789012', CDK_DEFAULT_REGION: 'eu-west-1' }, () =>
      createApp(appProps()),
    );

    // Act
    app.synth();

    // Assess
    expect(unacknowledged(app)).toEqual([]);
  });

  it('stays clean with user policies (one without a schedule), a prune schedule, another tag key and emails', () => {
    // Prepare
    const { app } = createApp(
      appProps({
        ddbBackup: {
          policies: {
            nightly: { schedule: 'cron(0 2 * * ? *)', retention: { keepLast: 3 } },
            sizeonly: { size: { growthPercent: 20 } },
          },
          pruneSchedule: 'rate(12 hours)',
          tagKey: 'team:backup',
          notificationEmails: ['ops@example.com'],
          ledgerRemovalPolicy: 'destroy',
        },
      }),
    );

    // Act
    app.synth();

    // Assess
    expect(unacknowledged(app)).toEqual([]);
  });

  it('fails the synth on an unacknowledged error', () => {
    // Prepare
    const { app, serviceStack } = createApp(appProps());
    new sqs.Queue(serviceStack, 'Unencrypted', { encryption: sqs.QueueEncryption.UNENCRYPTED });

    // Act / Assess
    expect(() => app.synth()).toThrow(/AwsSolutions-SQS2/);
  });

  it('gives every acknowledgement a reason', () => {
    // Prepare
    const { app } = createApp(appProps());

    // Act
    const acknowledgements = app.node
      .findAll()
      .flatMap((c) => c.node.metadata.filter((m) => m.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY))
      .flatMap((m) => Object.entries(m.data as Record<string, string>));

    // Assess
    expect(acknowledgements.length).toBeGreaterThan(0);
    for (const [id, reason] of acknowledgements) {
      expect({ id, reason: reason.length >= 40 }).toEqual({ id, reason: true });
    }
  });
});
