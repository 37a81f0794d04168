import { STREAM_DEFAULTS } from '../../env';
import {
  changesSlot,
  freezeHoursOf,
  shouldEnqueue,
  sinceBaseline,
  stormCrossings,
  stormEstimate,
  stormSlot,
  stormWindow,
  stormWindowLengths,
  thresholdCrossing,
  writesOf,
  type ChangeCounts,
  type CounterSnapshot,
  type StormWindow,
  type TableBatch,
} from './changes';
import { errorMessage } from '../errors';
import { silentLog, type Log } from '../log';
import type { PlanRequest } from '../backup/planner';
import type { EffectivePolicy } from '../policy';
import type { Clock } from '../ports';
import { dispatchRun, type DispatchDeps, type DispatchOutcome } from '../backup/runs';

/**
 * The stream trigger's per-table step: resolve the table's policies, count the batch with ONE
 * atomic write, then act on threshold crossings and delete storms through the normal dispatch path
 * (planner -> SQS FIFO -> worker). It never creates a backup itself.
 *
 * Failure semantics: anything that fails BEFORE the counter write fails the table's records (the
 * batch is retried and nothing was counted). Anything after it is logged and reported on SNS but
 * does not fail the records (a retry would count them twice); the counters stay crossed, so the
 * next batch of the table acts again.
 */

export interface ChangeCounterPort {
  /**
   * Adds a batch's counts to the table's counter in one atomic write; REMOVEs also go into the
   * current window of each listed storm window length. Returns the counter after the write.
   */
  add(table: string, counts: ChangeCounts, stormWindows: readonly StormWindow[], now: Date): Promise<CounterSnapshot>;
  /** Remembers that a crossing was enqueued (policy, slot), so re-crossings do not re-send it. */
  markEnqueued(table: string, policy: string, slot: string, now: Date): Promise<void>;
  /** Claims the handling of a storm in this window: false when this or the previous window already handled one. */
  claimStorm(table: string, window: StormWindow, now: Date): Promise<boolean>;
  /** Gives a claim back (its handling failed), so the next batch tries again. */
  releaseStorm(table: string, window: StormWindow): Promise<void>;
  /** Sets `pruneFrozenUntil` on the (table, policy) state items; never moves it earlier. */
  freezePruning(table: string, policies: readonly string[], until: Date): Promise<void>;
}

export interface TablePolicies {
  /** Policy names on the table's tag. */
  readonly tagged: readonly string[];
  /** The effective (override merged) policies that could be read and validated. */
  readonly effective: readonly EffectivePolicy[];
  /** Policies of the tag that are unknown or invalid (logged and reported, never silently dropped). */
  readonly problems: readonly { policy: string; message: string }[];
}

export interface TablePolicySource {
  /** Throws RetryableError (or a retryable PolicyUnavailableError) when the answer may come later. */
  policiesOf(table: string, tableArn: string): Promise<TablePolicies>;
}

export interface StormAlert {
  readonly table: string;
  readonly windowMinutes: number;
  readonly windowStart: string;
  /** Estimated REMOVEs in the sliding window. */
  readonly removes: number;
  readonly policies: readonly { policy: string; deleteStorm: number }[];
  readonly frozenPolicies: readonly string[];
  readonly frozenUntil: string;
  readonly enqueued: readonly string[];
  readonly batch: ChangeCounts;
  readonly since: { writes: number; deletes: number };
}

export interface ChangeNotifier {
  publishStorm(alert: StormAlert): Promise<unknown>;
  /** A change trigger problem that a retry will not fix by itself (logged too). */
  publishProblem(table: string, message: string): Promise<unknown>;
}

export interface StreamTriggerDeps {
  readonly counter: ChangeCounterPort;
  readonly tables: TablePolicySource;
  /** The dispatch path (run ledger, job queue, notifier, policies); discovery is set per table. */
  readonly dispatch: Omit<DispatchDeps, 'discovery' | 'clock' | 'log'>;
  readonly notifier: ChangeNotifier;
  readonly clock: Clock;
  readonly log?: Log;
  readonly rearmMinutes?: number;
}

export interface TableBatchOutcome {
  readonly table: string;
  readonly counts: ChangeCounts;
  readonly since?: { writes: number; deletes: number };
  /** Crossings enqueued in this batch: `<policy>@<slot>`. */
  readonly enqueued: string[];
  /** Crossings still pending from an earlier batch (not re-sent). */
  readonly pending: string[];
  readonly storm?: StormAlert;
  /** Problems after the counter write (reported, not retried). */
  readonly problems: string[];
  /** Storm claims that could not be given back after a failed handling (logged and reported). */
  stormReleaseFailures?: number;
}

/** Processes one table's records of a batch. Throws only when nothing was counted. */
export async function processTableBatch(deps: StreamTriggerDeps, batch: TableBatch): Promise<TableBatchOutcome> {
  const log = deps.log ?? silentLog;
  const { table } = batch;

  // Before counting: a failure here fails the table's records, and the retry counts them once.
  const policies = await deps.tables.policiesOf(table, batch.tableArn);
  for (const p of policies.problems) log.error('change trigger: policy problem', { table, policy: p.policy, problem: p.message });

  const now = deps.clock.now();
  const withStorm = policies.effective.filter((p) => p.policy.changes?.deleteStorm !== undefined);
  const windows = batch.counts.removes > 0 ? stormWindowLengths(withStorm.map((p) => p.policy)).map((m) => stormWindow(now, m)) : [];

  const snapshot = await deps.counter.add(table, batch.counts, windows, now);

  // After counting: report, never fail the records.
  const outcome: TableBatchOutcome = {
    table,
    counts: batch.counts,
    since: sinceBaseline(snapshot),
    enqueued: [],
    pending: [],
    problems: policies.problems.map((p) => `policy "${p.policy}": ${p.message}`),
  };
  const dispatchDeps: DispatchDeps = {
    ...deps.dispatch,
    // The job is for this table only: no account-wide tag discovery per crossing.
    discovery: { discover: () => Promise.resolve([{ table, arn: batch.tableArn, policies: policies.tagged }]) },
    clock: deps.clock,
    log,
  };
  const dispatch = (req: PlanRequest): Promise<DispatchOutcome> => dispatchRun(dispatchDeps, req);

  try {
    await handleThresholds(deps, dispatch, policies, snapshot, now, outcome);
  } catch (err) {
    outcome.problems.push(`threshold handling failed: ${errorMessage(err)}`);
  }
  for (const w of windows) {
    try {
      const storm = await handleStorm(deps, dispatch, table, policies, snapshot, w, now, batch.counts, outcome);
      if (storm) (outcome as { storm?: StormAlert }).storm = storm;
    } catch (err) {
      outcome.problems.push(`delete storm handling failed: ${errorMessage(err)}`);
    }
  }

  const afterCount = outcome.problems.slice(policies.problems.length);
  if (afterCount.length > 0) {
    log.error('change trigger: problems after counting', { table, problems: afterCount });
    try {
      await deps.notifier.publishProblem(table, afterCount.join('; '));
    } catch (err) {
      log.error('change trigger: could not publish the problem', { table, error: errorMessage(err) });
    }
  }
  if (outcome.enqueued.length || outcome.storm) {
    log.info('change trigger fired', { table, enqueued: outcome.enqueued, storm: outcome.storm?.removes, since: outcome.since });
  }
  return outcome;
}

async function handleThresholds(
  deps: StreamTriggerDeps,
  dispatch: (req: PlanRequest) => Promise<DispatchOutcome>,
  policies: TablePolicies,
  snapshot: CounterSnapshot,
  now: Date,
  outcome: TableBatchOutcome,
): Promise<void> {
  const since = sinceBaseline(snapshot);
  const slot = changesSlot(snapshot);
  for (const p of policies.effective) {
    const crossing = thresholdCrossing(p.policy.changes, since);
    if (!crossing.crossed) continue;
    if (!shouldEnqueue(snapshot.enqueued[p.name], slot, now, deps.rearmMinutes ?? STREAM_DEFAULTS.REARM_MINUTES)) {
      outcome.pending.push(`${p.name}@${slot}`);
      continue;
    }
    const sent = await dispatch({ policy: p.name, trigger: 'changes', slot, requestedAt: now.toISOString(), table: outcome.table });
    if (sent.enqueued > 0) {
      await deps.counter.markEnqueued(outcome.table, p.name, slot, now);
      outcome.enqueued.push(`${p.name}@${slot}`);
    } else {
      outcome.problems.push(`policy "${p.name}" crossed (${crossing.reason}) but no job was enqueued`);
    }
  }
}

async function handleStorm(
  deps: StreamTriggerDeps,
  dispatch: (req: PlanRequest) => Promise<DispatchOutcome>,
  table: string,
  policies: TablePolicies,
  snapshot: CounterSnapshot,
  w: StormWindow,
  now: Date,
  batch: ChangeCounts,
  outcome: TableBatchOutcome,
): Promise<StormAlert | undefined> {
  const counts = snapshot.storm[w.minutes];
  if (!counts) return undefined;
  const estimate = stormEstimate(counts, w.elapsed);
  const crossing = stormCrossings(policies.effective, w.minutes, estimate);
  if (crossing.length === 0) return undefined;
  if (!(await deps.counter.claimStorm(table, w, now))) return undefined; // this storm is already handled

  try {
    // Freeze every policy of the table: the backups from before the storm are the ones to keep.
    const frozenPolicies = [...new Set([...policies.tagged.filter((n) => /^[A-Za-z0-9_-]{1,64}$/.test(n)), ...policies.effective.map((p) => p.name)])];
    const hours = Math.max(...crossing.map((p) => freezeHoursOf(p.policy.changes)));
    const until = new Date(now.getTime() + hours * 3_600_000);
    await deps.counter.freezePruning(table, frozenPolicies, until);

    const enqueued: string[] = [];
    const slot = stormSlot(w);
    for (const p of crossing) {
      const sent = await dispatch({ policy: p.name, trigger: 'changes', slot, requestedAt: now.toISOString(), table });
      if (sent.enqueued > 0) enqueued.push(`${p.name}@${slot}`);
    }
    const alert: StormAlert = {
      table,
      windowMinutes: w.minutes,
      windowStart: w.start,
      removes: estimate,
      policies: crossing.map((p) => ({ policy: p.name, deleteStorm: p.policy.changes!.deleteStorm! })),
      frozenPolicies,
      frozenUntil: until.toISOString(),
      enqueued,
      batch,
      since: sinceBaseline(snapshot),
    };
    await deps.notifier.publishStorm(alert);
    return alert;
  } catch (err) {
    // Give the claim back so the next batch of the storm tries again; the freeze only ever extends.
    try {
      await deps.counter.releaseStorm(table, w);
    } catch (releaseErr) {
      // The claim stays until its window passes: this storm is not handled again by later batches.
      (deps.log ?? silentLog).error('change trigger: could not release the storm claim', {
        table,
        windowMinutes: w.minutes,
        windowStart: w.start,
        error: errorMessage(releaseErr),
        cause: errorMessage(err),
      });
      outcome.stormReleaseFailures = (outcome.stormReleaseFailures ?? 0) + 1;
      outcome.problems.push(`the delete storm claim (${w.minutes} min window from ${w.start}) could not be released: ${errorMessage(releaseErr)}`);
    }
    throw err;
  }
}

/** Human summary of a storm (SNS subject and body). */
export function stormSubject(a: StormAlert): string {
  const s = `[ddb-backup] DELETE STORM: ${a.table} - ${a.removes} deletes in ${a.windowMinutes} min, pruning frozen`;
  return s.length <= 100 ? s : `${s.slice(0, 99)}…`;
}

export function stormMessage(a: StormAlert): string {
  return [
    `Delete storm on DynamoDB table ${a.table}`,
    '',
    `REMOVE events in the last ${a.windowMinutes} minutes (sliding, estimated): ${a.removes}`,
    `Thresholds crossed: ${a.policies.map((p) => `${p.policy} (deleteStorm ${p.deleteStorm})`).join(', ')}`,
    `This batch: ${a.batch.inserts} inserts, ${a.batch.modifies} modifies, ${a.batch.removes} removes (${writesOf(a.batch)} writes)`,
    `Since the last backup: ${a.since.writes} writes, ${a.since.deletes} deletes`,
    `Pruning frozen until ${a.frozenUntil} for: ${a.frozenPolicies.join(', ') || '(none)'}`,
    `Backup jobs enqueued: ${a.enqueued.join(', ') || '(none)'}`,
    '',
    'No backup of this table is deleted while pruning is frozen. Check the application or the TTL settings that delete these items.',
    '',
    JSON.stringify({ kind: 'delete-storm', ...a }),
  ].join('\n');
}
