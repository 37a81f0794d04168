import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sns from 'aws-cdk-lib/aws-sns';
import { DIGEST_ENV, ENV, SIZE_ENV } from '../../lambda/env';
import { createApp } from '../../bin/ddb-backup-app';
import { DynamoDbBackupService } from '../../lib';
import type { AppConfig, BackupServiceStackProps, DynamoDbBackupServiceProps } from '../../lib';
import { appProps, logicalIdOf, newApp } from './helpers';

describe('props', () => {
  it('keeps the props of DynamoDbBackupService, each declared once (type-checked)', () => {
    // Prepare: every prop, and no other (an object literal of a Required<> type).
    const stack = new Stack(newApp(), 'Backups');
    const key = kms.Key.fromKeyArn(stack, 'Key', 'arn:aws:kms:eu-west-1:111111111111:key/1234abcd-12ab-34cd-56ef-1234567890ab');
    const every: Required<DynamoDbBackupServiceProps> = {
      policies: { nightly: { schedule: 'rate(1 day)' } },
      includeDefaultPolicies: true,
      tagKey: 'team:backup',
      notificationEmails: [],
      encryptionKey: key,
      ledgerRemovalPolicy: RemovalPolicy.RETAIN,
      ledgerTable: dynamodb.Table.fromTableAttributes(stack, 'Ledger', { tableName: 'ledger', encryptionKey: key }),
      topic: sns.Topic.fromTopicArn(stack, 'Topic', 'arn:aws:sns:eu-west-1:111111111111:backups'),
      logRetention: logs.RetentionDays.ONE_WEEK,
      maxReceiveCount: 3,
      workerConcurrency: 10,
      auditPeriod: Duration.days(400),
      pruneSchedule: 'rate(1 day)',
      sizeTriggers: true,
      probeSchedule: 'rate(1 hour)',
      sizeAlarmPrefix: 'ddb-backup-size-',
      sizeAlarmTables: [],
      changeTriggers: true,
      reconcileSchedule: 'rate(15 minutes)',
      coverageDigest: true,
      digestSchedule: 'cron(0 7 * * ? *)',
      digestIgnoreTables: [],
      tableEvents: true,
      settingsRefreshDays: 30,
    };

    // Act
    const service = new DynamoDbBackupService(stack, 'Backups', every);

    // Assess
    expect(Object.keys(every)).toHaveLength(24);
    expect(service.encryptionKey).toBe(key);
    expect(() => Template.fromStack(stack)).not.toThrow();
  });

  it('derives the service stack props and the app config from them (type-checked)', () => {
    // Prepare / Act: exactly these props of the construct are not the service stack's (they come
    // from `state`) or not the app config's; each Record literal must name every key, and no other.
    const notTheStacks: Record<Exclude<keyof DynamoDbBackupServiceProps, keyof BackupServiceStackProps>, true> = {
      encryptionKey: true,
      ledgerRemovalPolicy: true,
      notificationEmails: true,
      ledgerTable: true,
      topic: true,
    };
    const notTheConfigs: Record<Exclude<keyof DynamoDbBackupServiceProps, keyof AppConfig>, true> = {
      encryptionKey: true,
      ledgerTable: true,
      topic: true,
    };
    const onlyTheConfigs: Record<Exclude<keyof AppConfig, keyof DynamoDbBackupServiceProps>, true> = { stackPrefix: true, vault: true };

    // Assess
    expect([notTheStacks, notTheConfigs, onlyTheConfigs].map((r) => Object.keys(r).length)).toEqual([5, 3, 2]);
  });

  it('passes every option of the app config through the stacks to the construct', () => {
    // Prepare / Act
    const { stateStack, serviceStack } = createApp(
      appProps({
        ddbBackup: {
          policies: { sizeonly: { size: { growthPercent: 20 } } },
          includeDefaultPolicies: false,
          tagKey: 'team:backup',
          notificationEmails: ['ops@example.com'],
          ledgerRemovalPolicy: 'destroy',
          logRetentionDays: 7,
          maxReceiveCount: 5,
          workerConcurrency: 4,
          pruneSchedule: 'rate(12 hours)',
          probeSchedule: 'rate(30 minutes)',
          sizeAlarmPrefix: 'acme-size-',
          sizeAlarmTables: [{ table: 'orders', policy: 'sizeonly' }],
          reconcileSchedule: 'rate(1 hour)',
          digestSchedule: 'cron(30 6 * * ? *)',
          digestIgnoreTables: ['scratch'],
        },
      }),
    );

    // Assess
    const service = serviceStack.service;
    const state = Template.fromStack(stateStack);
    const template = Template.fromStack(serviceStack);
    expect(Object.keys(service.policies)).toEqual(['sizeonly']);
    expect(service.tagKey).toBe('team:backup');
    expect(service.pruneSchedule).toBe('rate(12 hours)');
    state.hasResource('AWS::DynamoDB::Table', { DeletionPolicy: 'Delete' });
    state.hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'email', Endpoint: 'ops@example.com' });
    template.allResourcesProperties('AWS::Logs::LogGroup', { RetentionInDays: 7 });
    template.hasResourceProperties('AWS::SQS::Queue', { RedrivePolicy: Match.objectLike({ maxReceiveCount: 5 }) });
    template.hasResourceProperties('AWS::Lambda::Function', {
      Role: { 'Fn::GetAtt': [logicalIdOf(service.worker.role!), 'Arn'] },
      ReservedConcurrentExecutions: 4,
      Environment: { Variables: Match.objectLike({ [ENV.TAG_KEY]: 'team:backup', [ENV.MAX_RECEIVE_COUNT]: '5' }) },
    });
    template.hasResourceProperties('AWS::Lambda::Function', {
      Role: { 'Fn::GetAtt': [logicalIdOf(service.planner.role!), 'Arn'] },
      Environment: { Variables: Match.objectLike({ [SIZE_ENV.ALARM_PREFIX]: 'acme-size-' }) },
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', { AlarmName: 'acme-size-sizeonly.orders' });
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ [DIGEST_ENV.IGNORE_TABLES]: 'scratch' }) },
    });
    for (const expression of ['rate(30 minutes)', 'rate(1 hour)', 'cron(30 6 * * ? *)']) {
      template.hasResourceProperties('AWS::Events::Rule', { ScheduleExpression: expression });
    }
  });

  it('passes the switches of the app config through to the construct', () => {
    // Prepare / Act
    const { serviceStack } = createApp(appProps({ ddbBackup: { sizeTriggers: false, changeTriggers: false, coverageDigest: false } }));

    // Assess
    expect(serviceStack.service.sizeTrigger).toBeUndefined();
    expect(serviceStack.service.changeTrigger).toBeUndefined();
    expect(serviceStack.service.digest).toBeUndefined();
  });
});
