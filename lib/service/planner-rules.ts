import { Duration } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import type { DeployedPolicy } from './policy-parameters';

/** Schedule of every policy's prune sweep: daily at 05:30 UTC. */
export const DEFAULT_PRUNE_SCHEDULE = 'cron(30 5 * * ? *)';

export interface PlannerRulesOptions {
  /**
   * EventBridge expression (`cron(...)` or `rate(...)`, UTC) of the prune sweep. Every policy, with
   * or without a `schedule`, gets one sweep rule on it: backups taken by size, change or manual
   * triggers need pruning too. Each sweep lists the account's backups once (ListBackups, paged)
   * and enqueues one prune job per tagged table. Validated like a policy's `schedule`.
   *
   * @default - 'cron(30 5 * * ? *)' (DEFAULT_PRUNE_SCHEDULE: daily at 05:30 UTC)
   */
  readonly pruneSchedule?: string;
}

export interface PlannerRulesProps extends Required<PlannerRulesOptions> {
  /** The planner: every rule invokes it with `{policy, trigger, time}`. */
  readonly planner: lambda.IFunction;
  /** The deployed policies: one schedule rule per policy with a `schedule`, one prune rule per policy. */
  readonly policies: readonly DeployedPolicy[];
  /** Dead-letter queue of failed deliveries (the trigger DLQ). */
  readonly deadLetterQueue: sqs.IQueue;
}

/**
 * The EventBridge rules that run the planner: one schedule rule per policy with a `schedule`
 * (`Schedule-<name>`) and one prune-sweep rule per policy (`Prune-<name>`), each delivering
 * `{policy, trigger, time}` with 2 retries within 2 hours, then to the dead-letter queue.
 *
 * Built in the service's scope, not as a child construct: the construct paths, and with them the
 * logical IDs of the deployed rules and their invoke permissions, stay as they are.
 */
export class PlannerRules {
  /** Schedule rules, by policy name (policies with a `schedule` only). */
  public readonly scheduleRules: Readonly<Record<string, events.Rule>>;
  /** Prune-sweep rules, by policy name (every policy). */
  public readonly pruneRules: Readonly<Record<string, events.Rule>>;

  constructor(scope: Construct, props: PlannerRulesProps) {
    const scheduleRules: Record<string, events.Rule> = {};
    const pruneRules: Record<string, events.Rule> = {};
    for (const { name, policy } of props.policies) {
      if (policy.schedule) {
        scheduleRules[name] = plannerRule(scope, `Schedule-${name}`, props, {
          description: `DynamoDB backups: schedule of policy "${name}"`,
          expression: policy.schedule,
          policy: name,
          trigger: 'schedule',
        });
      }
      // Every policy: backups from size, change and manual triggers need pruning too.
      pruneRules[name] = plannerRule(scope, `Prune-${name}`, props, {
        description: `DynamoDB backups: prune sweep of policy "${name}"`,
        expression: props.pruneSchedule,
        policy: name,
        trigger: 'prune',
      });
    }
    this.scheduleRules = scheduleRules;
    this.pruneRules = pruneRules;
  }
}

/** An EventBridge rule that invokes the planner with `{policy, trigger, time}`. */
function plannerRule(
  scope: Construct,
  id: string,
  props: PlannerRulesProps,
  opts: { description: string; expression: string; policy: string; trigger: 'schedule' | 'prune' },
): events.Rule {
  return new events.Rule(scope, id, {
    description: opts.description,
    schedule: events.Schedule.expression(opts.expression),
    targets: [
      new targets.LambdaFunction(props.planner, {
        event: events.RuleTargetInput.fromObject({
          policy: opts.policy,
          trigger: opts.trigger,
          time: events.EventField.time,
        }),
        retryAttempts: 2,
        maxEventAge: Duration.hours(2),
        deadLetterQueue: props.deadLetterQueue,
      }),
    ],
  });
}
