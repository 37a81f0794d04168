import { RetryableError, errorMessage } from '../errors';
import type { BackupJob, JobResult } from '../jobs';
import { planRun, type Plan, type PlanRequest, type PlannerDeps } from './planner';
import type { Clock, JobSink, RunNotifier } from '../ports';
import { reportOf, shouldNotify } from './in-process';
import { isWarning, type RunProblem, type RunReport } from './summary';
import { silentLog, type Log } from '../log';

/**
 * The queued (Lambda) path: the planner records a run header, enqueues one job per table, and
 * the worker that records the run's last result publishes the run's one summary. The run is
 * marked notified only once SNS accepted it; until then any delivery of one of its jobs (a
 * redelivery included) publishes it.
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
  /**
   * A run planned page by page (the planner's fan-out): true until its last page is planned.
   * Until then its summary is not due, whatever the counts say.
   */
  readonly planning?: boolean;
  /** Set once SNS accepted the summary (or once the run turned out to need none). */
  readonly notifiedAt?: string;
  /** The SNS MessageId of the published summary. */
  readonly notifyMessageId?: string;
  /** The lease of the one publisher at work on the summary: when it was taken, and by whom. */
  readonly notifyClaimedAt?: string;
  readonly notifyClaimId?: string;
}

/** What `startRun` writes: the header before any result and any notification. */
export type RunStart = Omit<RunHeader, 'completed' | 'notifiedAt' | 'notifyMessageId' | 'notifyClaimedAt' | 'notifyClaimId'>;

/**
 * How long a claim to publish a run's summary excludes other publishers. Longer than any
 * publish takes; shorter than the job queue's visibility timeout, so a redelivered job finds the
 * lease of its failed (or crashed) attempt expired and publishes.
 */
export const NOTIFY_LEASE_MS = 5 * 60_000;

/** The one log message of a summary that was not published (a metric filter counts it). */
export const RUN_NOT_PUBLISHED = 'run summary not published';

export type RunNotificationClaim =
  /** This caller holds the lease and must publish (or settle) the run's summary. */
  | { readonly status: 'claimed'; readonly claimId: string; readonly header: RunHeader }
  /** Another publisher holds an unexpired lease on the summary. */
  | { readonly status: 'held'; readonly since?: string }
  /** Nothing to publish: no such run, results still missing, or already notified. */
  | { readonly status: 'not-due' };

/**
 * The run items in the ledger. A summary is marked notified only after SNS accepted it: the
 * publisher takes a lease, publishes, then marks the run; a failed publish gives the lease back.
 */
export interface RunLedger {
  startRun(header: RunStart, now: Date): Promise<void>;
  /**
   * Records a job's result in its run, once. True when this call recorded it; false when it was
   * already recorded (a redelivered job) or the run has no header (a CLI-only run).
   */
  recordRunResult(runId: string, result: JobResult, now: Date): Promise<boolean>;
  /**
   * Takes the lease to publish the run's summary: only when every result is in, the run is not
   * notified yet, and no other lease is younger than NOTIFY_LEASE_MS. One caller at a time wins.
   */
  claimRunNotification(runId: string, now: Date): Promise<RunNotificationClaim>;
  /** Marks the run notified under the lease `claimId`; false when that lease was lost meanwhile. */
  markRunNotified(runId: string, claimId: string, now: Date, messageId?: string): Promise<boolean>;
  /** Gives the lease back (its publish failed), so the next delivery publishes at once. */
  releaseRunNotification(runId: string, claimId: string): Promise<void>;
  listRunResults(runId: string): Promise<JobResult[]>;
  /** The problems the pages of a fanned-out run recorded (apart from the header's). */
  listRunProblems?(runId: string): Promise<RunProblem[]>;
}

/** A run ledger that takes runs planned page by page (the planner's fan-out). */
export interface PagedRunLedger extends RunLedger {
  /**
   * Adds one planned page to a run started with `planning`: its jobs to `expected` and its
   * problems, once per page index (a page planned twice counts once); `last` ends the planning.
   * False when the page was already added.
   */
  addRunPage(runId: string, page: { index: number; expected: number; problems: readonly RunProblem[]; last: boolean }): Promise<boolean>;
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
    const fields = { runId: plan.runId, kind: p.kind, table: p.table, policy: p.policy, problem: p.message };
    if (isWarning(p)) log.warn('run warning', fields);
    else log.error('run problem', fields);
  }

  if (plan.jobs.length === 0) {
    // Nothing queued: the planner itself reports (problems and pre-known failures included; warnings
    // alone are published only under `notify: all`).
    const report = reportOf(plan, [], startedAt, deps.clock.now());
    const published = shouldNotify(report, plan.policy?.notify);
    // A failed publish fails the invocation: Lambda retries it, then the trigger DLQ has it.
    if (published) await publishOrLog(deps.notifier, report, log);
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

export interface FinishDeps {
  readonly runs: RunLedger;
  readonly notifier: RunNotifier;
  readonly clock: Clock;
  readonly log?: Log;
}

/**
 * Records a job's final result in its run, then publishes the run's summary when it is due:
 * every result in, not yet notified (failures always, successes per the policy's `notify`). A
 * redelivered job whose result is already recorded checks too, so a summary whose publish failed
 * is published by the next delivery. Returns true when this call published.
 *
 * A failed publish is logged (RUN_NOT_PUBLISHED), its lease given back, and the error thrown:
 * the job's message is redelivered (or the planner's invocation retried) and publishes again.
 */
export async function finishJobResult(deps: FinishDeps, runId: string, result: JobResult): Promise<boolean> {
  const now = deps.clock.now();
  const recorded = await deps.runs.recordRunResult(runId, result, now);
  return publishRunIfDue(deps, runId, now, { redelivered: !recorded });
}

/**
 * Publishes a complete run's summary once, under the ledger's lease. `redelivered`: the caller's
 * result was recorded by an earlier attempt, which may have failed to publish while holding the
 * lease; when the lease is still held it throws a RetryableError, so it comes back after the lease.
 */
export async function publishRunIfDue(deps: FinishDeps, runId: string, now: Date, opts: { redelivered?: boolean } = {}): Promise<boolean> {
  const log = deps.log ?? silentLog;
  const claim = await deps.runs.claimRunNotification(runId, now);
  if (claim.status === 'held') {
    if (!opts.redelivered) return false; // the winner of the race publishes
    throw new RetryableError(`the summary of run ${runId} is being published by another attempt (lease since ${claim.since ?? 'just now'})`);
  }
  if (claim.status !== 'claimed') return false;
  const { header, claimId } = claim;

  let published = false;
  let messageId: string | undefined;
  try {
    const report: RunReport = {
      runId,
      policy: header.policy,
      trigger: header.trigger,
      startedAt: header.startedAt,
      finishedAt: now.toISOString(),
      results: await deps.runs.listRunResults(runId),
      problems: [...(header.problems ?? []), ...((await deps.runs.listRunProblems?.(runId)) ?? [])],
    };
    // A run with nothing to say is settled (marked) without a message.
    if (shouldNotify(report, header.notify)) {
      const out = await deps.notifier.publishRun(report);
      messageId = typeof out === 'string' ? out : undefined;
      published = true;
    }
  } catch (err) {
    let releaseError: string | undefined;
    try {
      await deps.runs.releaseRunNotification(runId, claimId);
    } catch (e) {
      releaseError = errorMessage(e); // the lease then expires by itself
    }
    log.error(RUN_NOT_PUBLISHED, {
      runId,
      policy: header.policy,
      trigger: header.trigger,
      error: errorMessage(err),
      ...(releaseError ? { releaseError } : {}),
    });
    throw err;
  }

  try {
    const marked = await deps.runs.markRunNotified(runId, claimId, now, messageId);
    if (!marked) log.warn('run summary lease lost before it was marked notified', { runId, policy: header.policy, messageId });
  } catch (err) {
    // SNS has the summary: failing the job now would only publish it a second time.
    log.error('run summary published but not marked notified', { runId, policy: header.policy, messageId, error: errorMessage(err) });
  }
  return published;
}

/** Publishes a summary outside the run ledger (a plan without jobs); a failure is logged and thrown. */
export async function publishOrLog(notifier: RunNotifier, report: RunReport, log: Log = silentLog): Promise<string | undefined> {
  try {
    const out = await notifier.publishRun(report);
    return typeof out === 'string' ? out : undefined;
  } catch (err) {
    log.error(RUN_NOT_PUBLISHED, { runId: report.runId, policy: report.policy, trigger: report.trigger, error: errorMessage(err) });
    throw err;
  }
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
