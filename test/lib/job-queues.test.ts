import { Duration } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import { ONLY_ALLOWED_SENDERS_SID } from '../../lib/private/queue-senders';
import { JobQueues, VISIBILITY_TIMEOUT_FACTOR } from '../../lib/service/job-queues';
import { logicalIdOf, partFixture } from './helpers';

function build(maxReceiveCount = 3, workerTimeout = Duration.minutes(2)) {
  const fixture = partFixture();
  const queues = new JobQueues(fixture.scope, { maxReceiveCount, workerTimeout, plannerTimeout: Duration.minutes(5), encryptionKey: fixture.encryptionKey, topic: fixture.topic });
  let template: Template | undefined;
  return {
    ...fixture,
    queues,
    get template() {
      return (template ??= Template.fromStack(fixture.stack));
    },
  };
}

describe('JobQueues', () => {
  it('creates the queues and their alarms directly in the scope, under the ids the deployed stacks know', () => {
    // Prepare / Act
    const { scope, queues } = build();

    // Assess
    expect(scope.node.findChild('JobQueue')).toBe(queues.jobQueue);
    expect(scope.node.findChild('JobDeadLetterQueue')).toBe(queues.deadLetterQueue);
    expect(scope.node.findChild('TriggerDeadLetterQueue')).toBe(queues.triggerDeadLetterQueue);
    expect(scope.node.findChild('JobDeadLetterAlarm')).toBe(queues.deadLetterAlarm);
    expect(scope.node.findChild('TriggerDeadLetterAlarm')).toBe(queues.triggerDeadLetterAlarm);
  });

  it('makes the job queue a high-throughput KMS FIFO queue, visible 6x the worker timeout, redriven after maxReceiveCount', () => {
    // Prepare / Act
    const { queues, encryptionKey, template } = build(5, Duration.minutes(3));

    // Assess
    expect(VISIBILITY_TIMEOUT_FACTOR).toBe(6);
    template.hasResourceProperties('AWS::SQS::Queue', {
      FifoQueue: true,
      ContentBasedDeduplication: false,
      DeduplicationScope: 'messageGroup',
      FifoThroughputLimit: 'perMessageGroupId',
      VisibilityTimeout: 1080,
      MessageRetentionPeriod: 345600,
      KmsMasterKeyId: { 'Fn::GetAtt': [logicalIdOf(encryptionKey), 'Arn'] },
      RedrivePolicy: { deadLetterTargetArn: { 'Fn::GetAtt': [logicalIdOf(queues.deadLetterQueue), 'Arn'] }, maxReceiveCount: 5 },
    });
    expect(queues.jobQueue.deadLetterQueue?.queue).toBe(queues.deadLetterQueue);
  });

  it('makes the job DLQ a KMS FIFO queue (14 days) and the trigger DLQ a standard SQS-managed one (14 days)', () => {
    // Prepare / Act
    const { queues, encryptionKey, template } = build();

    // Assess
    const resources = template.findResources('AWS::SQS::Queue');
    expect(resources[logicalIdOf(queues.deadLetterQueue)].Properties).toEqual({
      FifoQueue: true,
      KmsMasterKeyId: { 'Fn::GetAtt': [logicalIdOf(encryptionKey), 'Arn'] },
      MessageRetentionPeriod: 1209600,
    });
    expect(resources[logicalIdOf(queues.triggerDeadLetterQueue)].Properties).toEqual({
      MessageRetentionPeriod: 1209600,
      SqsManagedSseEnabled: true,
    });
  });

  it('enforces SSL on all three queues', () => {
    // Prepare / Act
    const { queues, template } = build();

    // Assess
    for (const queue of [queues.jobQueue, queues.deadLetterQueue, queues.triggerDeadLetterQueue]) {
      template.hasResourceProperties('AWS::SQS::QueuePolicy', {
        Queues: [{ Ref: logicalIdOf(queue) }],
        PolicyDocument: {
          Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Action: 'sqs:*', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]),
        },
      });
    }
  });

  it('denies SendMessage on the job queue to every principal but the senders allowed', () => {
    // Prepare
    const { stack, queues } = build();
    const sender = new iam.Role(stack, 'Sender', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });

    // Act
    queues.senders.allow(sender);

    // Assess
    Template.fromStack(stack).hasResourceProperties('AWS::SQS::QueuePolicy', {
      Queues: [{ Ref: logicalIdOf(queues.jobQueue) }],
      PolicyDocument: {
        Statement: Match.arrayWith([
          {
            Sid: ONLY_ALLOWED_SENDERS_SID,
            Effect: 'Deny',
            Principal: { AWS: '*' },
            Action: 'sqs:SendMessage',
            Resource: { 'Fn::GetAtt': [logicalIdOf(queues.jobQueue), 'Arn'] },
            Condition: { ArnNotEquals: { 'aws:PrincipalArn': [{ 'Fn::GetAtt': [logicalIdOf(sender), 'Arn'] }] } },
          },
        ]),
      },
    });
  });

  it('alarms to the topic (ALARM and OK) as soon as either dead-letter queue holds a message', () => {
    // Prepare / Act
    const { queues, topic, template } = build();

    // Assess
    for (const queue of [queues.deadLetterQueue, queues.triggerDeadLetterQueue]) {
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        Namespace: 'AWS/SQS',
        MetricName: 'ApproximateNumberOfMessagesVisible',
        Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [logicalIdOf(queue), 'QueueName'] } }],
        Statistic: 'Maximum',
        Period: 60,
        Threshold: 1,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        TreatMissingData: 'notBreaching',
        AlarmActions: [{ Ref: logicalIdOf(topic) }],
        OKActions: [{ Ref: logicalIdOf(topic) }],
      });
    }
  });
});

describe('JobQueues: the plan queue of the planner fan-out', () => {
  it('is an encrypted standard queue whose visibility is 6x the planner timeout and whose failures go to the trigger DLQ', () => {
    const { queues, template } = build();
    template.hasResourceProperties('AWS::SQS::Queue', {
      VisibilityTimeout: 1800,
      KmsMasterKeyId: Match.anyValue(),
      RedrivePolicy: { deadLetterTargetArn: { 'Fn::GetAtt': [logicalIdOf(queues.triggerDeadLetterQueue), 'Arn'] }, maxReceiveCount: 3 },
    });
    expect(queues.planQueue.fifo).toBe(false);
  });
});
