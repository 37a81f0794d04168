import { RetryableError, errorMessage } from '../errors';
import type { BackupJob, JobResult } from '../jobs';
import type { Plan, PlanRequest, PlannerDeps } from './planner';
import { planRun } from './planner';
import type { RunNotifier } from '../ports';
import { hasFailures, type RunReport } from './summary';
import { processJob, type WorkerDeps } from './worker';

export interface InProcessOptions {
  /** Jobs run at once. The adapters' rate limiters keep each API within its account limit. */
  readonly concurrency?: number;
  /** Attempts per job for retryable failures (throttling, BackupInUseException). */
  readonly maxAttempts?: number;
  /** First back-off between attempts; doubles each time. */
  readonly retryDelayMs?: number;
  /** Plan only: no backups, no ledger writes, no notification. */
  readonly dryRun?: boolean;
  /** Called once the plan is made, with the number of jobs, for progress output. */
  readonly onPlan?: (jobs: number) => void;
  /** Called after each job, for progress output. */
  readonly onResult?: (result: JobResult) => void;
  /** Back up even inside the cooldown (an operator's explicit ask); a slot still gets one backup. */
  readonly force?: boolean;
}

export type InProcessDeps = PlannerDeps & WorkerDeps & { readonly notifier?: RunNotifier };

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Runs a job with in-process retries; the last retryable failure becomes a failed result. */
export async function runJobWithRetries(deps: WorkerDeps, job: BackupJob, opts: InProcessOptions): Promise<JobResult> {
  const attempts = Math.max(1, opts.maxAttempts ?? 3);
  let delay = opts.retryDelayMs ?? 1000;
  for (let attempt = 1; ; attempt++) {
    try {
      return await processJob(deps, job);
    } catch (err) {
      const retryable = err instanceof RetryableError;
      if (!retryable || attempt >= attempts) {
        return {
          table: job.table,
          policy: job.policy,
          status: 'failed',
          reason: retryable ? `${errorMessage(err)} (gave up after ${attempt} attempts)` : errorMessage(err),
        };
      }
      await sleep(delay);
      delay *= 2;
    }
  }
}

/** Runs `items` through `fn` with at most `concurrency` in flight; keeps input order. */
export async function mapPool<T, R>(items: readonly T[], concurrency: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const lanes = Array.from({ length: Math.min(Math.max(1, concurrency), items.length) }, async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]);
    }
  });
  await Promise.all(lanes);
  return out;
}

export function reportOf(plan: Plan, results: readonly JobResult[], startedAt: Date, finishedAt: Date): RunReport {
  return {
    runId: plan.runId,
    policy: plan.request.policy,
    trigger: plan.request.trigger,
    startedAt: startedAt.toISOString(),
    finishedAt: finishedAt.toISOString(),
    results: [...plan.results, ...results],
    problems: plan.problems,
  };
}

/**
 * Whether a finished run is published: failures and problems always, successes per `notify`.
 * Warnings (a tag naming an unknown policy) ride along in a published summary but never cause one.
 */
export function shouldNotify(report: RunReport, notify: 'failures' | 'all' | undefined): boolean {
  return hasFailures(report) || notify === 'all';
}

/** How the summary of an in-process run went: published (with SNS's MessageId), or not, and why. */
export type RunNotification =
  | { readonly published: true; readonly messageId?: string }
  | { readonly published: false; readonly error: string };

/** The run's report, and how its notification went (absent when none was due or none is configured). */
export type InProcessReport = RunReport & { notification?: RunNotification };

/**
 * The CLI's `run`: the same planner and worker code as the Lambdas, in one process, without the
 * queue. Publishes one summary per run when a notifier is given. A failed publish does not throw
 * the report away: it is returned with `notification.published` false and the error.
 */
export async function runInProcess(deps: InProcessDeps, req: PlanRequest, opts: InProcessOptions = {}): Promise<InProcessReport> {
  const startedAt = deps.clock.now();
  const plan = await planRun(deps, req);
  opts.onPlan?.(plan.jobs.length);
  let results: JobResult[];
  if (opts.dryRun) {
    results = plan.jobs.map((j) => ({ table: j.table, policy: j.policy, status: 'skipped' as const, reason: 'dry run: would back up' }));
  } else {
    results = await mapPool(plan.jobs, opts.concurrency ?? 8, async (job) => {
      const r = await runJobWithRetries(deps, opts.force ? { ...job, force: true } : job, opts);
      opts.onResult?.(r);
      return r;
    });
  }
  // The object published is the one returned, with how publishing went added to it.
  const report: InProcessReport = reportOf(plan, results, startedAt, deps.clock.now());
  if (!opts.dryRun && deps.notifier && shouldNotify(report, plan.policy?.notify)) {
    report.notification = await notifyRun(deps.notifier, report);
  }
  return report;
}

async function notifyRun(notifier: RunNotifier, report: RunReport): Promise<RunNotification> {
  try {
    const out = await notifier.publishRun(report);
    return typeof out === 'string' ? { published: true, messageId: out } : { published: true };
  } catch (err) {
    return { published: false, error: errorMessage(err) };
  }
}
