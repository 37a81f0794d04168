import { RemovalPolicy, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as kms from 'aws-cdk-lib/aws-kms';
import { BackupState } from '../../lib';
import { newApp } from './helpers';

function synth(props: ConstructorParameters<typeof BackupState>[2] = {}) {
  const stack = new Stack(newApp(), 'State');
  const state = new BackupState(stack, 'State', props);
  return { stack, state, template: Template.fromStack(stack) };
}

describe('BackupState', () => {
  it('creates a rotating KMS key whose policy lets CloudWatch alarms and EventBridge publish to the encrypted topic', () => {
    // Prepare / Act
    const { template } = synth();

    // Assess
    template.resourceCountIs('AWS::KMS::Key', 1);
    template.hasResourceProperties('AWS::KMS::Key', {
      EnableKeyRotation: true,
      KeyPolicy: {
        Statement: Match.arrayWith([
          // CloudWatch for the alarms of this account only (see safety.test.ts for the conditions).
          Match.objectLike({
            Effect: 'Allow',
            Principal: { Service: 'cloudwatch.amazonaws.com' },
            Action: ['kms:Decrypt', 'kms:GenerateDataKey*'],
            Condition: Match.objectLike({ StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } } }),
          }),
          Match.objectLike({
            Effect: 'Allow',
            Principal: { Service: 'events.amazonaws.com' },
            Action: ['kms:Decrypt', 'kms:GenerateDataKey*'],
          }),
        ]),
      },
    });
  });

  it('creates the ledger: pk/sk strings, on-demand, PITR, TTL on expiresAt, encrypted with the key, retained and deletion-protected', () => {
    // Prepare / Act
    const { stack, state, template } = synth();

    // Assess
    const keyId = stack.getLogicalId(state.key.node.defaultChild as kms.CfnKey);
    template.hasResource('AWS::DynamoDB::Table', {
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
      Properties: {
        KeySchema: [
          { AttributeName: 'pk', KeyType: 'HASH' },
          { AttributeName: 'sk', KeyType: 'RANGE' },
        ],
        AttributeDefinitions: [
          { AttributeName: 'pk', AttributeType: 'S' },
          { AttributeName: 'sk', AttributeType: 'S' },
          { AttributeName: 'livePk', AttributeType: 'S' },
        ],
        // The live index: a job's one read of its policy's live records and state.
        GlobalSecondaryIndexes: [
          {
            IndexName: 'live',
            KeySchema: [
              { AttributeName: 'livePk', KeyType: 'HASH' },
              { AttributeName: 'sk', KeyType: 'RANGE' },
            ],
            Projection: { ProjectionType: 'ALL' },
          },
        ],
        BillingMode: 'PAY_PER_REQUEST',
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
        TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
        SSESpecification: { SSEEnabled: true, SSEType: 'KMS', KMSMasterKeyId: { 'Fn::GetAtt': [keyId, 'Arn'] } },
        DeletionProtectionEnabled: true,
      },
    });
  });

  it('honours ledgerRemovalPolicy DESTROY (and drops deletion protection)', () => {
    // Prepare / Act
    const { template } = synth({ ledgerRemovalPolicy: RemovalPolicy.DESTROY });

    // Assess
    template.hasResource('AWS::DynamoDB::Table', {
      DeletionPolicy: 'Delete',
      Properties: Match.objectLike({ DeletionProtectionEnabled: false }),
    });
  });

  it('encrypts the topic with the key, enforces SSL and subscribes each email once', () => {
    // Prepare / Act
    const { stack, state, template } = synth({ notificationEmails: ['ops@example.com', 'dba@example.com', 'ops@example.com'] });

    // Assess
    const keyId = stack.getLogicalId(state.key.node.defaultChild as kms.CfnKey);
    template.hasResourceProperties('AWS::SNS::Topic', { KmsMasterKeyId: { 'Fn::GetAtt': [keyId, 'Arn'] } });
    template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Effect: 'Deny',
            Action: 'sns:Publish',
            Condition: { Bool: { 'aws:SecureTransport': 'false' } },
          }),
        ]),
      },
    });
    template.resourceCountIs('AWS::SNS::Subscription', 2);
    template.hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'email', Endpoint: 'ops@example.com' });
    template.hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'email', Endpoint: 'dba@example.com' });
  });

  it('uses a given key instead of creating one', () => {
    // Prepare
    const stack = new Stack(newApp(), 'State');
    const key = kms.Key.fromKeyArn(stack, 'Given', 'arn:aws:kms:eu-west-1:111111111111:key/abcd');

    // Act
    const state = new BackupState(stack, 'State', { encryptionKey: key });

    // Assess
    const template = Template.fromStack(stack);
    expect(state.key).toBe(key);
    template.resourceCountIs('AWS::KMS::Key', 0);
    template.hasResourceProperties('AWS::SNS::Topic', { KmsMasterKeyId: 'arn:aws:kms:eu-west-1:111111111111:key/abcd' });
  });
});
