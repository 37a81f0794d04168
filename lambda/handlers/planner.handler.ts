import { Logger } from '@aws-lambda-powertools/logger';
import { createClients } from '../aws/clients';
import { buildService, configFromEnv, type Service } from '../aws/service';
import { pruneSlot, scheduleSlot } from '../core/jobs';
import { dispatchPlan, dispatchRun, type DispatchDeps, type DispatchOutcome } from '../core/runs';
import { planSweep } from '../core/sweep';

/**
 * What the rules send (CDK: RuleTargetInput with EventField.time):
 *  - `schedule`: the policy's backup schedule;
 *  - `prune`: the policy's daily prune sweep.
 */
export interface PlannerInput {
  readonly policy: string;
  readonly trigger: 'schedule' | 'prune';
  /** The rule's scheduled time: the idempotency slot of this tick. */
  readonly time: string;
}

const logger = new Logger({ serviceName: 'ddb-backup-planner' });
let service: Service | undefined;

/** Module-scope composition, created on first use and reused across invocations. */
function getService(): Service {
  service ??= buildService(createClients(), configFromEnv());
  return service;
}

export function parsePlannerInput(event: unknown): PlannerInput {
  const e = event as Partial<PlannerInput> | null;
  if (!e || typeof e.policy !== 'string' || e.policy === '') {
    throw new Error('planner event lacks "policy"');
  }
  const time = typeof e.time === 'string' && !Number.isNaN(Date.parse(e.time)) ? e.time : undefined;
  if (!time) throw new Error('planner event lacks a valid "time"');
  const trigger = e.trigger ?? 'schedule';
  if (trigger !== 'schedule' && trigger !== 'prune') throw new Error(`planner event has unknown trigger "${String(trigger)}"`);
  return { policy: e.policy, trigger, time };
}

/** Thin adapter: rule tick -> planner core -> SQS FIFO jobs. */
export async function plannerHandler(event: unknown, svc: Service = getService()): Promise<DispatchOutcome> {
  const input = parsePlannerInput(event);
  const time = new Date(input.time).toISOString();
  const deps: DispatchDeps = {
    policies: svc.policies,
    discovery: svc.discovery,
    runs: svc.ledger(),
    queue: svc.queue(),
    notifier: svc.notifier,
    clock: svc.clock,
    log: logger,
    backups: svc.backups,
  };
  const outcome =
    input.trigger === 'prune'
      ? await dispatchPlan(
          deps,
          await planSweep({ ...deps, backups: svc.backups }, { policy: input.policy, time, slot: pruneSlot(time) }),
          svc.clock.now(),
        )
      : await dispatchRun(deps, { policy: input.policy, trigger: 'schedule', slot: scheduleSlot(time), requestedAt: time });
  logger.info('planned', {
    runId: outcome.plan.runId,
    jobs: outcome.plan.jobs.length,
    enqueued: outcome.enqueued,
    problems: outcome.plan.problems.length,
  });
  return outcome;
}

export const handler = async (event: unknown): Promise<{ runId: string; jobs: number; problems: number }> => {
  const outcome = await plannerHandler(event);
  return { runId: outcome.plan.runId, jobs: outcome.plan.jobs.length, problems: outcome.plan.problems.length };
};
