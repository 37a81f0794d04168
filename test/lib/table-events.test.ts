import { Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { AUTOSCALING_SETTINGS_EVENTS, DYNAMODB_SETTINGS_EVENTS } from '../../lambda/core/events/table-events';
import { ENV, FEED_ENV } from '../../lambda/env';
import { DynamoDbBackupService } from '../../lib';
import type { DynamoDbBackupServiceProps } from '../../lib';
import { actionsOn, allActions, logicalIdOf, newApp } from './helpers';

function synth(props: DynamoDbBackupServiceProps = {}) {
  const stack = new Stack(newApp(), 'Backups');
  const service = new DynamoDbBackupService(stack, 'Backups', props);
  return { stack, service, template: Template.fromStack(stack) };
}

const TABLES = 'arn:<AWS::Partition>:dynamodb:<AWS::Region>:<AWS::AccountId>:table/*';

describe('TableEvents (the CloudTrail feed)', () => {
  it('sends successful CloudTrail DeleteBackup and DynamoDB settings calls to the table-events function, with retries and the trigger DLQ', () => {
    // Prepare / Act
    const { service, template } = synth();

    // Assess
    const feed = service.tableEvents!;
    expect(feed).toBeDefined();
    template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: {
        source: ['aws.dynamodb'],
        'detail-type': ['AWS API Call via CloudTrail'],
        detail: {
          eventSource: ['dynamodb.amazonaws.com'],
          eventName: ['DeleteBackup', ...DYNAMODB_SETTINGS_EVENTS],
          errorCode: [{ exists: false }],
        },
      },
      Targets: [
        {
          Arn: { 'Fn::GetAtt': [logicalIdOf(feed.fn), 'Arn'] },
          RetryPolicy: { MaximumRetryAttempts: 2, MaximumEventAgeInSeconds: 7200 },
          DeadLetterConfig: { Arn: { 'Fn::GetAtt': [logicalIdOf(service.triggerDeadLetterQueue), 'Arn'] } },
        },
      ],
    });
    expect(DYNAMODB_SETTINGS_EVENTS).toEqual(
      expect.arrayContaining(['UpdateTable', 'TagResource', 'UntagResource', 'UpdateTimeToLive', 'UpdateContinuousBackups', 'PutResourcePolicy', 'DeleteResourcePolicy']),
    );
  });

  it('sends Application Auto Scaling calls on DynamoDB resources only', () => {
    // Prepare / Act
    const { service, template } = synth();

    // Assess
    template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: {
        source: ['aws.application-autoscaling'],
        'detail-type': ['AWS API Call via CloudTrail'],
        detail: {
          eventSource: ['application-autoscaling.amazonaws.com'],
          eventName: [...AUTOSCALING_SETTINGS_EVENTS],
          requestParameters: { serviceNamespace: ['dynamodb'] },
          errorCode: [{ exists: false }],
        },
      },
      Targets: [Match.objectLike({ Arn: { 'Fn::GetAtt': [logicalIdOf(service.tableEvents!.fn), 'Arn'] } })],
    });
  });

  it('gives the function the ledger and the snapshot\'s read-only calls, never a backup or table change', () => {
    // Prepare / Act
    const { service, template } = synth();

    // Assess
    const role = service.tableEvents!.fn.role!;
    const actions = allActions(template, role);
    expect(actionsOn(template, role, TABLES)).toEqual(expect.arrayContaining(['dynamodb:DescribeTable', 'dynamodb:DescribeTimeToLive', 'dynamodb:ListTagsOfResource']));
    expect(actions).toEqual(expect.arrayContaining(['dynamodb:UpdateItem', 'dynamodb:Query']));
    for (const never of ['dynamodb:DeleteBackup', 'dynamodb:CreateBackup', 'dynamodb:UpdateTable', 'dynamodb:UpdateContinuousBackups', 'dynamodb:ListBackups']) {
      expect(actions).not.toContain(never);
    }
    template.hasResourceProperties('AWS::Lambda::Function', {
      Role: { 'Fn::GetAtt': [logicalIdOf(role), 'Arn'] },
      Environment: { Variables: Match.objectLike({ [ENV.LEDGER_TABLE]: Match.anyValue() }) },
    });
  });

  it('tells the worker the refresh period (30 days by default, or settingsRefreshDays)', () => {
    // Prepare / Act
    const byDefault = synth();
    const weekly = synth({ settingsRefreshDays: 7 });

    // Assess
    for (const [s, days] of [[byDefault, '30'], [weekly, '7']] as const) {
      s.template.hasResourceProperties('AWS::Lambda::Function', {
        Role: { 'Fn::GetAtt': [logicalIdOf(s.service.worker.role!), 'Arn'] },
        Environment: { Variables: Match.objectLike({ [FEED_ENV.SETTINGS_REFRESH_DAYS]: days }) },
      });
    }
  });

  it('is off with tableEvents: false (no rules, no function, the worker refreshes daily)', () => {
    // Prepare / Act
    const { service, template } = synth({ tableEvents: false });

    // Assess
    expect(service.tableEvents).toBeUndefined();
    template.resourcePropertiesCountIs('AWS::Events::Rule', { EventPattern: Match.objectLike({ 'detail-type': ['AWS API Call via CloudTrail'] }) }, 0);
    template.hasResourceProperties('AWS::Lambda::Function', {
      Role: { 'Fn::GetAtt': [logicalIdOf(service.worker.role!), 'Arn'] },
      Environment: { Variables: Match.not(Match.objectLike({ [FEED_ENV.SETTINGS_REFRESH_DAYS]: Match.anyValue() })) },
    });
  });

  it('refuses a settingsRefreshDays that is not a whole number of days from 1 to 365, at synth', () => {
    // Prepare
    const stack = new Stack(newApp(), 'Backups');
    new DynamoDbBackupService(stack, 'Backups', { settingsRefreshDays: 0 });

    // Act / Assess
    expect(() => Template.fromStack(stack)).toThrow(/settingsRefreshDays: must be an integer from 1 to 365, got 0/);
  });
});
