import { errorMessage } from './errors';
import type { BackupJob, JobResult } from './jobs';
import { planRun, type Plan, type PlanRequest, type PlannerDeps } from './planner';
import type { Clock, JobSink, RunNotifier } from './ports';
import { reportOf, shouldNotify } from './run';
import type { RunProblem, RunReport } from './summary';
import { silentLog, type Log } from './log';

/**
 * The queued (Lambda) path: the planner records a run header, enqueues one job per table, and
 * the worker that records the run's last result publishes the run's one summary.
 */

export interface RunHeader {
  readonly runId: string;
  readonly policy: string;
  readonly trigger: string;
  readonly startedAt: string;
  readonly expected: number;
  readonly completed: number;
  readonly problems: RunProblem[];
  readonly notify?: 'failures' | 'all';
  readonly notifiedAt?: string;
}

export interface RunLedger {
  startRun(header: Omit<RunHeader, 'completed' | 'notifiedAt'>, now: Date): Promise<void>;
  /** Records a result once; returns the header when this was the last result and the caller must publish. */
  recordRunResult(runId: string, result: JobResult, now: Date): Promise<RunHeader | undefined>;
  claimRunNotification(runId: string, now: Date): Promise<boolean>;
  listRunResults(runId: string): Promise<JobResult[]>;
}

export interface DispatchDeps extends PlannerDeps {
  readonly runs: RunLedger;
  readonly queue: JobSink;
  readonly notifier: RunNotifier;
  readonly clock: Clock;
  readonly log?: Log;
}

export interface DispatchOutcome {
  readonly plan: Plan;
  readonly enqueued: number;
  readonly enqueueFailures: number;
  readonly published: boolean;
}

/** Planner Lambda: plan, record the run, enqueue. */
export async function dispatchRun(deps: DispatchDeps, req: PlanRequest): Promise<DispatchOutcome> {
  const startedAt = deps.clock.now();
  return dispatchPlan(deps, await planRun(deps, req), startedAt);
}

/** Records the plan's run and enqueues its jobs; a plan without jobs is reported at once. */
export async function dispatchPlan(deps: Omit<DispatchDeps, 'discovery' | 'policies'>, plan: Plan, startedAt: Date): Promise<DispatchOutcome> {
  const log = deps.log ?? silentLog;
  const req = plan.request;
  for (const p of plan.problems) {
    log.error('run problem', { runId: plan.runId, kind: p.kind, table: p.table, policy: p.policy, problem: p.message });
  }

  if (plan.jobs.length === 0) {
    // Nothing queued: the planner itself reports (problems and pre-known failures included).
    const report = reportOf(plan, [], startedAt, deps.clock.now());
    const published = shouldNotify(report, plan.policy?.notify);
    if (published) await deps.notifier.publishRun(report);
    return { plan, enqueued: 0, enqueueFailures: 0, published };
  }

  await deps.runs.startRun(
    {
      runId: plan.runId,
      policy: req.policy,
      trigger: req.trigger,
      startedAt: startedAt.toISOString(),
      expected: plan.jobs.length + plan.results.length,
      problems: plan.problems,
      notify: plan.policy?.notify,
    },
    startedAt,
  );
  let published = false;
  for (const r of plan.results) {
    published = (await finishJobResult(deps, plan.runId, r)) || published;
  }
  const failures = await deps.queue.enqueue(plan.jobs);
  for (const f of failures) {
    log.error('could not enqueue job', { table: f.job.table, policy: f.job.policy, error: f.error });
    published =
      (await finishJobResult(deps, plan.runId, {
        table: f.job.table,
        policy: f.job.policy,
        status: 'failed',
        reason: `could not enqueue the job: ${f.error}`,
      })) || published;
  }
  log.info('run dispatched', { runId: plan.runId, jobs: plan.jobs.length, enqueueFailures: failures.length });
  return { plan, enqueued: plan.jobs.length - failures.length, enqueueFailures: failures.length, published };
}

/**
 * Records a job's final result in its run; when it is the run's last, publishes the run summary
 * (failures always, successes per the policy's `notify`). Returns true when it published.
 */
export async function finishJobResult(
  deps: { runs: RunLedger; notifier: RunNotifier; clock: Clock },
  runId: string,
  result: JobResult,
): Promise<boolean> {
  const now = deps.clock.now();
  const header = await deps.runs.recordRunResult(runId, result, now);
  if (!header) return false;
  const results = await deps.runs.listRunResults(runId);
  const report: RunReport = {
    runId,
    policy: header.policy,
    trigger: header.trigger,
    startedAt: header.startedAt,
    finishedAt: now.toISOString(),
    results,
    problems: header.problems ?? [],
  };
  if (!shouldNotify(report, header.notify)) return false;
  await deps.notifier.publishRun(report);
  return true;
}

/** Worker side: the job's final result, whatever happened. */
export function failedAfterRetries(job: BackupJob, err: unknown, attempts: number): JobResult {
  return {
    table: job.table,
    policy: job.policy,
    status: 'failed',
    reason: `${errorMessage(err)} (after ${attempts} attempts; the job went to the dead-letter queue)`,
  };
}
