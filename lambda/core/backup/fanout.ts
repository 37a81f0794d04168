import { errorMessage } from '../errors';
import { pruneSlot, runIdFor, scheduleSlot, type BackupJob, type JobResult } from '../jobs';
import type { Policy } from '../policy';
import type { TableDiscovery } from '../ports';
import { resolveTaggedTables } from '../tags';
import { throwIfTransient, type Plan, type PlanRequest } from './planner';
import { dispatchPlan, finishJobResult, publishRunIfDue, type DispatchDeps, type DispatchOutcome, type PagedRunLedger } from './runs';
import type { RunProblem } from './summary';
import { silentLog } from '../log';

/**
 * The planner's fan-out: a fleet of any size is planned a few tag pages per invocation, never in
 * one loop that outgrows a Lambda's timeout. A rule tick plans its first pages; when the tag
 * index has more, the planner sends itself the next page's token through the plan queue, and so
 * on to the last page. No invocation lists backups: the ledger is the index of what exists.
 *
 * The run is counted page by page: its header is written (planning) before the first job, each
 * page adds its jobs to `expected` once (a page planned twice counts once), and the last page
 * ends the planning, so the summary is due only when every page is planned and every job is in.
 */

/** Where a fanned-out run goes on: the tick, and the page this invocation starts at. */
export interface PlanPage {
  readonly policy: string;
  readonly trigger: 'schedule' | 'prune';
  /** The rule's scheduled time (ISO-8601): the run's idempotency slot. */
  readonly time: string;
  /** Index of the page (0 for the tick itself). */
  readonly page: number;
  /** The GetResources token of that page (absent for page 0). */
  readonly token?: string;
}

/** The plan queue: the planner sends itself the next page. */
export interface PageSink {
  sendPage(next: PlanPage): Promise<void>;
}

export interface FanoutDeps extends Omit<DispatchDeps, 'runs' | 'discovery'> {
  readonly runs: PagedRunLedger;
  readonly discovery: Required<Pick<TableDiscovery, 'discoverPage'>>;
  readonly pages: PageSink;
}

/** Tag pages (100 tables each) one invocation plans: 1,000 tables, a few seconds of work. */
export const PAGES_PER_INVOCATION = 10;

export interface FanoutOutcome {
  readonly runId: string;
  /** Pages this invocation planned. */
  readonly pages: number;
  readonly jobs: number;
  readonly enqueueFailures: number;
  /** The next page handed to the plan queue, when there is one. */
  readonly next?: PlanPage;
  /** A run that ended before any page (an unusable policy): reported as the unpaged path does. */
  readonly dispatched?: DispatchOutcome;
}

/** Reads a plan queue message; anything else throws, naming what is wrong. */
export function parsePlanPage(body: string): PlanPage {
  const p = JSON.parse(body) as Partial<PlanPage>;
  if (!p || typeof p.policy !== 'string' || !p.policy) throw new Error('plan page lacks "policy"');
  if (p.trigger !== 'schedule' && p.trigger !== 'prune') throw new Error(`plan page has unknown trigger "${String(p.trigger)}"`);
  if (typeof p.time !== 'string' || Number.isNaN(Date.parse(p.time))) throw new Error('plan page lacks a valid "time"');
  if (!Number.isInteger(p.page) || (p.page as number) < 0) throw new Error('plan page lacks a valid "page"');
  if (p.page !== 0 && (typeof p.token !== 'string' || !p.token)) throw new Error('plan page after the first lacks its "token"');
  return { policy: p.policy, trigger: p.trigger, time: p.time, page: p.page as number, ...(p.token ? { token: p.token } : {}) };
}

/** Plans up to `pagesPerInvocation` pages of a run, from `input.page`, and hands on the rest. */
export async function planPages(deps: FanoutDeps, input: PlanPage, opts: { pagesPerInvocation?: number } = {}): Promise<FanoutOutcome> {
  const log = deps.log ?? silentLog;
  const now = deps.clock.now();
  const slot = input.trigger === 'prune' ? pruneSlot(input.time) : scheduleSlot(input.time);
  const runId = runIdFor(input.policy, input.trigger, slot);
  const request: PlanRequest = { policy: input.policy, trigger: input.trigger, slot, requestedAt: input.time };

  let policy: Policy;
  let known: Set<string>;
  try {
    policy = await deps.policies.getPolicy(input.policy);
    known = await deps.policies.listNames();
    known.add(input.policy);
  } catch (err) {
    throwIfTransient(err);
    const problem: RunProblem = { kind: 'invalid-policy', policy: input.policy, message: `${input.trigger === 'prune' ? 'nothing pruned: ' : ''}${errorMessage(err)}` };
    if (input.page === 0) {
      const plan: Plan = { runId, request, jobs: [], results: [], problems: [problem] };
      return { runId, pages: 0, jobs: 0, enqueueFailures: 0, dispatched: await dispatchPlan({ ...deps, runs: deps.runs }, plan, now) };
    }
    // The policy broke in the middle of the run: the pages so far stand; the run ends here.
    await deps.runs.addRunPage(runId, { index: input.page, expected: 0, problems: [problem], last: true });
    await publishRunIfDue(deps, runId, now);
    return { runId, pages: 0, jobs: 0, enqueueFailures: 0 };
  }

  if (input.page === 0) {
    await deps.runs.startRun({ runId, policy: input.policy, trigger: input.trigger, startedAt: now.toISOString(), expected: 0, problems: [], notify: policy.notify, planning: true }, now);
  }
  let index = input.page;
  let token = input.token;
  let jobs = 0;
  let enqueueFailures = 0;
  for (let n = 0; n < (opts.pagesPerInvocation ?? PAGES_PER_INVOCATION); n++) {
    const page = await deps.discovery.discoverPage(token);
    const resolution = resolveTaggedTables(page.tables, known, input.policy);
    const problems: RunProblem[] = resolution.unknown.map((u) => ({
      kind: 'unknown-policy',
      table: u.table,
      message: `tag names unknown polic${u.policies.length === 1 ? 'y' : 'ies'} ${u.policies.map((p) => `"${p}"`).join(', ')}`,
    }));
    const pageJobs: BackupJob[] = resolution.matched.map((m) => ({
      table: m.table,
      policy: m.policy,
      trigger: input.trigger,
      ...(input.trigger === 'prune' ? { kind: 'prune' as const } : {}),
      slot,
      requestedAt: input.time,
      runId,
    }));
    const last = !page.next;
    const added = await deps.runs.addRunPage(runId, { index, expected: pageJobs.length, problems, last });
    // A page planned before (a redelivery) is enqueued again: SQS and the ledger's slots make
    // the repeats harmless, and a crash between counting and sending loses no job.
    const failures = await deps.queue.enqueue(pageJobs);
    if (failures.length && !added) throw new Error(`could not enqueue ${failures.length} job(s) of page ${index} of run ${runId}: ${failures[0].error}`);
    for (const f of failures) {
      log.error('could not enqueue job', { runId, table: f.job.table, error: f.error });
      const failed: JobResult = { table: f.job.table, policy: f.job.policy, status: 'failed', reason: `could not enqueue the job: ${f.error}` };
      await finishJobResult(deps, runId, failed);
    }
    jobs += pageJobs.length;
    enqueueFailures += failures.length;
    if (last) {
      log.info('run planned', { runId, lastPage: index, jobs });
      await publishRunIfDue(deps, runId, deps.clock.now());
      return { runId, pages: n + 1, jobs, enqueueFailures };
    }
    index += 1;
    token = page.next;
  }
  const next: PlanPage = { policy: input.policy, trigger: input.trigger, time: input.time, page: index, token };
  await deps.pages.sendPage(next);
  log.info('run planning goes on', { runId, nextPage: index, jobs });
  return { runId, pages: opts.pagesPerInvocation ?? PAGES_PER_INVOCATION, jobs, enqueueFailures, next };
}
