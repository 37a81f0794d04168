import { pruneSlot, scheduleSlot } from '../jobs';
import type { Log } from '../log';
import { runIdOfRequest, type PlanRequest } from './planner';
import type { BackupApi, Clock } from '../ports';
import { dispatchPlan, dispatchRun, type DispatchDeps, type DispatchOutcome } from './runs';
import { readAlarmEvent, sizeSlot } from '../triggers/size-alarms';
import { planSweep } from '../retention/sweep';
import { parsePlanPage, planPages, type FanoutOutcome, type PageSink, type PlanPage } from './fanout';
import type { PagedRunLedger } from './runs';

/**
 * What the planner Lambda receives, and what it makes of it:
 *  - a rule tick (CDK: RuleTargetInput with EventField.time): `schedule`, the policy's backup
 *    schedule, or `prune`, the policy's daily prune sweep;
 *  - an EventBridge `CloudWatch Alarm State Change` of a size alarm: an alarm of the prefix going
 *    into ALARM is a size job for exactly its (table, policy), slot `size:<state-change time>`,
 *    through the same dispatch (so the worker's cooldown and the ledger's idempotency apply). Any
 *    other alarm event is logged and ignored.
 *
 * A summary the planner publishes itself (a plan without jobs, or a run its enqueue failures
 * complete) that SNS does not take is logged as RUN_NOT_PUBLISHED and fails the invocation:
 * Lambda retries it, then the trigger dead-letter queue has it.
 */

export interface PlannerInput {
  readonly policy: string;
  readonly trigger: 'schedule' | 'prune';
  /** The rule's scheduled time: the idempotency slot of this tick. */
  readonly time: string;
}

/** A rule tick; anything else throws, naming what is wrong. */
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

/**
 * A planner outcome; `ignored` says why an event made no run (an alarm event not for us);
 * `fanout` what a fanned-out invocation planned (its jobs went out page by page).
 */
export type PlannerOutcome = DispatchOutcome & { readonly ignored?: string; readonly fanout?: FanoutOutcome };

/**
 * What a run needs: the dispatch path, and the backup listing of a prune sweep; with `pages`
 * (the plan queue) and paged discovery, rule ticks fan out page by page.
 */
export type PlannerRunDeps = DispatchDeps & {
  readonly backups: Pick<BackupApi, 'listBackups'>;
  readonly pages?: PageSink;
  /** Tag pages one invocation plans (default PAGES_PER_INVOCATION). */
  readonly pagesPerInvocation?: number;
};

export interface PlannerEventPorts {
  readonly clock: Clock;
  readonly log: Log;
  /** The ports of a run, asked for only once an event is known to plan one. */
  run(): PlannerRunDeps;
}

export interface PlannerEventOptions {
  /** Prefix of the size alarms the planner acts on. */
  readonly alarmPrefix: string;
}

function ignoredOutcome(reason: string, at: string): PlannerOutcome {
  const request: PlanRequest = { policy: '', trigger: 'size', slot: '', requestedAt: at };
  return { plan: { runId: '', request, jobs: [], results: [], problems: [] }, enqueued: 0, enqueueFailures: 0, published: false, ignored: reason };
}

function planned(log: Log, outcome: DispatchOutcome): DispatchOutcome {
  log.info('planned', { runId: outcome.plan.runId, jobs: outcome.plan.jobs.length, enqueued: outcome.enqueued, problems: outcome.plan.problems.length });
  return outcome;
}

/** An SQS event of the plan queue: the next pages of fanned-out runs. */
function planQueueBodies(event: unknown): string[] | undefined {
  const records = (event as { Records?: { eventSource?: string; body?: string }[] } | null)?.Records;
  if (!Array.isArray(records) || !records.every((r) => r.eventSource === 'aws:sqs' && typeof r.body === 'string')) return undefined;
  return records.map((r) => r.body as string);
}

/** Plans pages when the deployment fans out (a plan queue and paged discovery); else undefined. */
async function fanOut(deps: PlannerRunDeps, input: PlanPage): Promise<PlannerOutcome | undefined> {
  const discoverPage = deps.discovery.discoverPage?.bind(deps.discovery);
  const runs = deps.runs as Partial<PagedRunLedger>;
  if (!deps.pages || !discoverPage || !runs.addRunPage) return undefined;
  const fanout = await planPages({ ...deps, runs: deps.runs as PagedRunLedger, discovery: { discoverPage }, pages: deps.pages }, input, { pagesPerInvocation: deps.pagesPerInvocation });
  if (fanout.dispatched) return { ...fanout.dispatched, fanout };
  const request: PlanRequest = { policy: input.policy, trigger: input.trigger, slot: '', requestedAt: input.time };
  return { plan: { runId: fanout.runId, request, jobs: [], results: [], problems: [] }, enqueued: fanout.jobs - fanout.enqueueFailures, enqueueFailures: fanout.enqueueFailures, published: false, fanout };
}

/**
 * Routes one planner event: a plan queue batch (the next pages of fanned-out runs), a size
 * alarm's state change, else a rule tick (schedule or prune).
 */
export async function handlePlannerEvent(ports: PlannerEventPorts, event: unknown, opts: PlannerEventOptions): Promise<PlannerOutcome> {
  const { log } = ports;
  const bodies = planQueueBodies(event);
  if (bodies) {
    let last: PlannerOutcome | undefined;
    for (const body of bodies) {
      const input = parsePlanPage(body);
      last = await fanOut(ports.run(), input);
      if (!last) throw new Error('a plan queue message reached a planner without a plan queue or paged discovery');
      log.info('planned pages', { runId: last.fanout?.runId, fromPage: input.page, jobs: last.fanout?.jobs, next: last.fanout?.next?.page });
    }
    return last ?? ignoredOutcome('empty plan queue batch', ports.clock.now().toISOString());
  }
  const alarm = readAlarmEvent(event, opts.alarmPrefix);
  if (alarm.kind === 'ignored') {
    log.warn('alarm event ignored', { reason: alarm.reason });
    return ignoredOutcome(alarm.reason, ports.clock.now().toISOString());
  }
  if (alarm.kind === 'fired') {
    const req: PlanRequest = { policy: alarm.policy, trigger: 'size', slot: sizeSlot(alarm.time), requestedAt: alarm.time, table: alarm.table };
    log.info('size alarm fired', { alarm: alarm.alarmName, table: alarm.table, policy: alarm.policy, slot: req.slot, runId: runIdOfRequest(req) });
    return planned(log, await dispatchRun(ports.run(), req));
  }
  const input = parsePlannerInput(event);
  const time = new Date(input.time).toISOString();
  const deps = ports.run();
  const fanned = await fanOut(deps, { policy: input.policy, trigger: input.trigger, time, page: 0 });
  if (fanned) return planned(log, fanned);
  if (input.trigger === 'prune') {
    const plan = await planSweep(deps, { policy: input.policy, time, slot: pruneSlot(time) });
    return planned(log, await dispatchPlan(deps, plan, ports.clock.now()));
  }
  return planned(log, await dispatchRun(deps, { policy: input.policy, trigger: 'schedule', slot: scheduleSlot(time), requestedAt: time }));
}

/** What the planner Lambda returns. */
export interface PlannerSummary {
  readonly runId: string;
  readonly jobs: number;
  readonly problems: number;
  readonly ignored?: string;
}

export function plannerSummary(outcome: PlannerOutcome): PlannerSummary {
  return {
    runId: outcome.plan.runId,
    jobs: outcome.fanout?.jobs ?? outcome.plan.jobs.length,
    problems: outcome.plan.problems.length,
    ...(outcome.ignored ? { ignored: outcome.ignored } : {}),
  };
}
