import { Match, Template } from 'aws-cdk-lib/assertions';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { parsePolicy, serialisePolicy } from '../../lambda/core/policy';
import type { PolicyInput } from '../../lambda/core/policy';
import { DEFAULT_PRUNE_SCHEDULE, PlannerRules } from '../../lib/service/planner-rules';
import type { DeployedPolicy } from '../../lib/service/policy-parameters';
import { logicalIdOf, partFixture } from './helpers';

function deployed(inputs: Record<string, PolicyInput>): DeployedPolicy[] {
  return Object.entries(inputs).map(([name, input]) => {
    const policy = parsePolicy(input);
    return { name, policy, document: serialisePolicy(policy) };
  });
}

function build(inputs: Record<string, PolicyInput>, pruneSchedule = DEFAULT_PRUNE_SCHEDULE) {
  const fixture = partFixture();
  const planner = new lambda.Function(fixture.stack, 'Planner', {
    runtime: lambda.Runtime.NODEJS_22_X,
    handler: 'index.handler',
    code: lambda.Code.fromInline('exports.handler = async () => ({})'),
  });
  const deadLetterQueue = new sqs.Queue(fixture.stack, 'TriggerDlq');
  const rules = new PlannerRules(fixture.scope, { pruneSchedule, planner, policies: deployed(inputs), deadLetterQueue });
  return { ...fixture, planner, deadLetterQueue, rules, template: Template.fromStack(fixture.stack) };
}

describe('PlannerRules', () => {
  it('creates a schedule rule per scheduled policy and a prune rule per policy, directly in the scope', () => {
    // Prepare / Act
    const { scope, rules, template } = build({ nightly: { schedule: 'rate(1 day)' }, sizeonly: { size: { growthPercent: 20 } } });

    // Assess
    expect(Object.keys(rules.scheduleRules)).toEqual(['nightly']);
    expect(Object.keys(rules.pruneRules)).toEqual(['nightly', 'sizeonly']);
    expect(scope.node.findChild('Schedule-nightly')).toBe(rules.scheduleRules.nightly);
    expect(scope.node.findChild('Prune-nightly')).toBe(rules.pruneRules.nightly);
    expect(scope.node.findChild('Prune-sizeonly')).toBe(rules.pruneRules.sizeonly);
    template.resourceCountIs('AWS::Events::Rule', 3);
    // Created in the order of the policies, each schedule before its sweep.
    expect(scope.node.children.map((c) => c.node.id)).toEqual(['Schedule-nightly', 'Prune-nightly', 'Prune-sizeonly']);
  });

  it.each([
    ['schedule', 'Schedule-nightly', 'rate(1 day)'],
    ['prune', 'Prune-nightly', 'rate(12 hours)'],
  ] as const)('invokes the planner with {policy, trigger: %s, time}, 2 retries within 2 hours, then the DLQ', (trigger, id, expression) => {
    // Prepare / Act
    const { scope, planner, deadLetterQueue, template } = build({ nightly: { schedule: 'rate(1 day)' } }, 'rate(12 hours)');

    // Assess
    const rule = template.findResources('AWS::Events::Rule')[logicalIdOf(scope.node.findChild(id))];
    expect(rule.Properties).toEqual({
      Description: trigger === 'schedule' ? 'DynamoDB backups: schedule of policy "nightly"' : 'DynamoDB backups: prune sweep of policy "nightly"',
      ScheduleExpression: expression,
      State: 'ENABLED',
      Targets: [
        {
          Arn: { 'Fn::GetAtt': [logicalIdOf(planner), 'Arn'] },
          Id: 'Target0',
          InputTransformer: {
            InputPathsMap: { time: '$.time' },
            InputTemplate: `{"policy":"nightly","trigger":"${trigger}","time":<time>}`,
          },
          RetryPolicy: { MaximumRetryAttempts: 2, MaximumEventAgeInSeconds: 7200 },
          DeadLetterConfig: { Arn: { 'Fn::GetAtt': [logicalIdOf(deadLetterQueue), 'Arn'] } },
        },
      ],
    });
  });

  it('lets each rule invoke the planner and deliver its failures to the DLQ', () => {
    // Prepare / Act
    const { planner, deadLetterQueue, rules, template } = build({ a: { schedule: 'rate(1 day)' }, b: { schedule: 'rate(2 days)' } });

    // Assess
    const all = [...Object.values(rules.scheduleRules), ...Object.values(rules.pruneRules)];
    template.resourceCountIs('AWS::Lambda::Permission', all.length);
    for (const rule of all) {
      template.hasResourceProperties('AWS::Lambda::Permission', {
        FunctionName: { 'Fn::GetAtt': [logicalIdOf(planner), 'Arn'] },
        Principal: 'events.amazonaws.com',
        SourceArn: { 'Fn::GetAtt': [logicalIdOf(rule), 'Arn'] },
      });
    }
    template.hasResourceProperties('AWS::SQS::QueuePolicy', {
      Queues: [{ Ref: logicalIdOf(deadLetterQueue) }],
      PolicyDocument: {
        Statement: Match.arrayWith([Match.objectLike({ Action: 'sqs:SendMessage', Principal: { Service: 'events.amazonaws.com' } })]),
      },
    });
  });
});
