import { Logger } from '@aws-lambda-powertools/logger';
import { createClients } from '../aws/clients';
import { buildService, configFromEnv, type Service } from '../aws/service';
import { pruneSlot, scheduleSlot } from '../core/jobs';
import { runIdOfRequest, type PlanRequest } from '../core/planner';
import { dispatchPlan, dispatchRun, type DispatchDeps, type DispatchOutcome } from '../core/runs';
import { readAlarmEvent, sizeSlot } from '../core/size-alarms';
import { planSweep } from '../core/sweep';
import { SIZE_DEFAULTS, SIZE_ENV } from '../env';

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

/** A planner outcome; `ignored` says why an event made no run (an alarm event not for us). */
export type PlannerOutcome = DispatchOutcome & { readonly ignored?: string };

export interface PlannerOptions {
  /** Prefix of the size alarms the planner acts on. @default env DDB_BACKUP_SIZE_ALARM_PREFIX, else 'ddb-backup-size-' */
  readonly alarmPrefix?: string;
}

function ignoredOutcome(reason: string, at: string): PlannerOutcome {
  const request: PlanRequest = { policy: '', trigger: 'size', slot: '', requestedAt: at };
  return { plan: { runId: '', request, jobs: [], results: [], problems: [] }, enqueued: 0, enqueueFailures: 0, published: false, ignored: reason };
}

function dispatchDeps(svc: Service): DispatchDeps {
  return {
    policies: svc.policies,
    discovery: svc.discovery,
    runs: svc.ledger(),
    queue: svc.queue(),
    notifier: svc.notifier,
    clock: svc.clock,
    log: logger,
  };
}

/**
 * Thin adapter: rule tick -> planner core -> SQS FIFO jobs.
 *
 * Also takes EventBridge `CloudWatch Alarm State Change` events of the size alarms: an alarm of
 * the prefix going into ALARM is a size job for exactly its (table, policy), slot
 * `size:<state-change time>`, through the same dispatch (so the worker's cooldown and the
 * ledger's idempotency apply). Any other alarm event is logged and ignored.
 *
 * A summary the planner publishes itself (a plan without jobs, or a run its enqueue failures
 * complete) that SNS does not take is logged as RUN_NOT_PUBLISHED and fails the invocation:
 * Lambda retries it, then the trigger dead-letter queue has it.
 */
export async function plannerHandler(event: unknown, svc: Service = getService(), opts: PlannerOptions = {}): Promise<PlannerOutcome> {
  const alarm = readAlarmEvent(event, opts.alarmPrefix ?? (process.env[SIZE_ENV.ALARM_PREFIX] || SIZE_DEFAULTS.ALARM_PREFIX));
  if (alarm.kind === 'ignored') {
    logger.warn('alarm event ignored', { reason: alarm.reason });
    return ignoredOutcome(alarm.reason, svc.clock.now().toISOString());
  }
  if (alarm.kind === 'fired') {
    const req: PlanRequest = { policy: alarm.policy, trigger: 'size', slot: sizeSlot(alarm.time), requestedAt: alarm.time, table: alarm.table };
    logger.info('size alarm fired', { alarm: alarm.alarmName, table: alarm.table, policy: alarm.policy, slot: req.slot, runId: runIdOfRequest(req) });
    const outcome = await dispatchRun(dispatchDeps(svc), req);
    logger.info('planned', { runId: outcome.plan.runId, jobs: outcome.plan.jobs.length, enqueued: outcome.enqueued, problems: outcome.plan.problems.length });
    return outcome;
  }
  const input = parsePlannerInput(event);
  const time = new Date(input.time).toISOString();
  const deps = dispatchDeps(svc);
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

export const handler = async (event: unknown): Promise<{ runId: string; jobs: number; problems: number; ignored?: string }> => {
  const outcome = await plannerHandler(event);
  return {
    runId: outcome.plan.runId,
    jobs: outcome.plan.jobs.length,
    problems: outcome.plan.problems.length,
    ...(outcome.ignored ? { ignored: outcome.ignored } : {}),
  };
};
