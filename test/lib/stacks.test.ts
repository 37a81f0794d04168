import type { CfnElement } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { ENV } from '../../lambda/env';
import { BackupServiceStack, BackupStateStack } from '../../lib';
import { newApp } from './helpers';

function build() {
  const app = newApp();
  const stateStack = new BackupStateStack(app, 'State');
  const serviceStack = new BackupServiceStack(app, 'Service', { state: stateStack.state });
  return { app, stateStack, serviceStack };
}

describe('stacks', () => {
  it('turns termination protection on for the state stack only', () => {
    // Prepare / Act
    const { stateStack, serviceStack } = build();

    // Assess
    expect(stateStack.terminationProtection).toBe(true);
    expect(serviceStack.terminationProtection).toBe(false);
  });

  it('keeps the state (key, ledger, topic) in the state stack and the service in the other', () => {
    // Prepare / Act
    const { stateStack, serviceStack } = build();
    const state = Template.fromStack(stateStack);
    const service = Template.fromStack(serviceStack);

    // Assess
    state.resourceCountIs('AWS::KMS::Key', 1);
    state.resourceCountIs('AWS::DynamoDB::Table', 1);
    state.resourceCountIs('AWS::SNS::Topic', 1);
    state.resourceCountIs('AWS::Lambda::Function', 0);
    service.resourceCountIs('AWS::KMS::Key', 0);
    service.resourceCountIs('AWS::DynamoDB::Table', 0);
    service.resourceCountIs('AWS::SNS::Topic', 0);
    service.resourceCountIs('AWS::Lambda::Function', 7);
  });

  it('wires the service to the state stack resources', () => {
    // Prepare
    const { stateStack, serviceStack } = build();

    // Act: references (and the stack dependency) are resolved at synth time.
    const template = Template.fromStack(serviceStack);

    // Assess
    const { service } = serviceStack;
    expect(service.ledgerTable).toBe(stateStack.state.ledgerTable);
    expect(service.topic).toBe(stateStack.state.topic);
    expect(service.encryptionKey).toBe(stateStack.state.key);
    expect(service.state).toBeUndefined();
    expect(serviceStack.dependencies).toContain(stateStack);
    // cdk.json sets "@aws-cdk/core:defaultCrossStackReferences": "weak": the service reads the
    // state stack's outputs with Fn::GetStackOutput instead of exports.
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.objectLike({
          [ENV.LEDGER_TABLE]: { 'Fn::GetStackOutput': Match.objectLike({ StackName: stateStack.stackName }) },
          [ENV.TOPIC_ARN]: { 'Fn::GetStackOutput': Match.objectLike({ StackName: stateStack.stackName }) },
        }),
      },
    });
  });

  it('outputs the ledger table name and topic ARN for the ddb-backup CLI (state stack), without exports', () => {
    // Prepare / Act
    const { stateStack } = build();
    const template = Template.fromStack(stateStack);

    // Assess
    const { ledgerTable, topic } = stateStack.state;
    template.hasOutput('LedgerTableName', {
      Value: { Ref: stateStack.getLogicalId(ledgerTable.node.defaultChild as CfnElement) },
      Description: Match.stringLikeRegexp(`${ENV.LEDGER_TABLE}.*ddb-backup CLI`),
      Export: Match.absent(),
    });
    template.hasOutput('TopicArn', {
      Value: { Ref: stateStack.getLogicalId(topic.node.defaultChild as CfnElement) },
      Description: Match.stringLikeRegexp(`${ENV.TOPIC_ARN}.*ddb-backup CLI`),
      Export: Match.absent(),
    });
  });

  it('outputs the job queue, job DLQ, trigger DLQ and stream failure queue URLs (service stack)', () => {
    // Prepare / Act
    const { serviceStack } = build();
    const template = Template.fromStack(serviceStack);

    // Assess
    const { service } = serviceStack;
    for (const [outputId, queue] of [
      ['JobQueueUrl', service.jobQueue],
      ['JobDeadLetterQueueUrl', service.deadLetterQueue],
      ['TriggerDeadLetterQueueUrl', service.triggerDeadLetterQueue],
      ['StreamFailureQueueUrl', service.changeTrigger!.failureQueue],
    ] as const) {
      template.hasOutput(outputId, {
        Value: { Ref: serviceStack.getLogicalId(queue.node.defaultChild as CfnElement) },
        Description: Match.stringLikeRegexp('.{20,}'),
        Export: Match.absent(),
      });
    }
  });
});
