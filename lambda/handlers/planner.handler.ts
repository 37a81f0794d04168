import { Logger } from '@aws-lambda-powertools/logger';
import { createClients } from '../aws/clients';
import { buildService, configFromEnv, type Service } from '../aws/service';
import { scheduleSlot } from '../core/jobs';
import { dispatchRun, type DispatchOutcome } from '../core/runs';

/** What the schedule rule of each policy sends (CDK: RuleTargetInput with EventField.time). */
export interface ScheduleInput {
  readonly policy: string;
  readonly trigger: 'schedule';
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

export function parseScheduleInput(event: unknown): ScheduleInput {
  const e = event as Partial<ScheduleInput> | null;
  if (!e || typeof e.policy !== 'string' || e.policy === '') {
    throw new Error('planner event lacks "policy"');
  }
  const time = typeof e.time === 'string' && !Number.isNaN(Date.parse(e.time)) ? e.time : undefined;
  if (!time) throw new Error('planner event lacks a valid "time"');
  return { policy: e.policy, trigger: 'schedule', time };
}

/** Thin adapter: schedule tick -> planner core -> SQS FIFO jobs. */
export async function plannerHandler(event: unknown, svc: Service = getService()): Promise<DispatchOutcome> {
  const input = parseScheduleInput(event);
  const outcome = await dispatchRun(
    {
      policies: svc.policies,
      discovery: svc.discovery,
      runs: svc.ledger(),
      queue: svc.queue(),
      notifier: svc.notifier,
      clock: svc.clock,
      log: logger,
    },
    { policy: input.policy, trigger: 'schedule', slot: scheduleSlot(input.time), requestedAt: new Date(input.time).toISOString() },
  );
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
