import { PolicyUnavailableError, RetryableError, errorMessage } from '../errors';
import { runIdFor, type BackupJob, type JobResult, type JobTrigger } from '../jobs';
import type { Policy } from '../policy';
import type { Clock, PolicySource, TableDiscovery } from '../ports';
import type { RunProblem } from './summary';
import { resolveTaggedTables } from '../tags';

export interface PlanRequest {
  readonly policy: string;
  readonly trigger: JobTrigger;
  readonly slot: string;
  /** When the trigger fired (ISO-8601). */
  readonly requestedAt: string;
  /** Restrict the run to one table (CLI `--table`, size alarms). */
  readonly table?: string;
}

export interface Plan {
  readonly runId: string;
  readonly request: PlanRequest;
  /** The policy as declared (without per-table overrides); undefined when it is unusable. */
  readonly policy?: Policy;
  readonly jobs: BackupJob[];
  /** Results known before any job runs (e.g. `--table` names a table without this policy). */
  readonly results: JobResult[];
  /**
   * Run-level problems: invalid/unreadable policy, discovery errors; and unknown policies in tags,
   * which are warnings (see `isWarning`): reported, but neither a failure nor a reason to notify.
   */
  readonly problems: RunProblem[];
}

export interface PlannerDeps {
  readonly policies: PolicySource;
  readonly discovery: TableDiscovery;
  readonly clock?: Clock;
}

/**
 * Resolves which tables are due under a policy: reads the policy, discovers tagged tables,
 * reports tags that name unknown policies (one warning per table), and emits one job per matched table.
 * A broken policy yields a problem and no jobs (never a deletion, never a silent skip).
 */
export async function planRun(deps: PlannerDeps, req: PlanRequest): Promise<Plan> {
  const runId = runIdOfRequest(req);
  const problems: RunProblem[] = [];
  const empty = (policy?: Policy): Plan => ({ runId, request: req, policy, jobs: [], results: [], problems });

  let policy: Policy;
  let known: Set<string>;
  try {
    policy = await deps.policies.getPolicy(req.policy);
    known = await deps.policies.listNames();
    known.add(req.policy);
  } catch (err) {
    // An outage is retried (Lambda async retry, then the trigger DLQ and its alarm); a missing or
    // invalid policy is reported at once.
    throwIfTransient(err);
    problems.push({ kind: 'invalid-policy', policy: req.policy, message: errorMessage(err) });
    return empty();
  }

  let tagged;
  try {
    tagged = await deps.discovery.discover();
  } catch (err) {
    throwIfTransient(err);
    problems.push({ kind: 'discovery', message: `cannot list tagged tables: ${errorMessage(err)}` });
    return empty(policy);
  }

  const resolution = resolveTaggedTables(tagged, known, req.policy);
  for (const u of resolution.unknown) {
    if (req.table && u.table !== req.table) continue;
    problems.push({
      kind: 'unknown-policy',
      table: u.table,
      message: `tag names unknown polic${u.policies.length === 1 ? 'y' : 'ies'} ${u.policies.map((p) => `"${p}"`).join(', ')}`,
    });
  }

  let matched = resolution.matched;
  const results: JobResult[] = [];
  if (req.table) {
    matched = matched.filter((m) => m.table === req.table);
    if (matched.length === 0) {
      results.push({
        table: req.table,
        policy: req.policy,
        status: 'failed',
        reason: `table "${req.table}" is not tagged with policy "${req.policy}" (or does not exist)`,
      });
    }
  }

  // A job names a table and a policy, nothing more: the worker plans any deletion from the ledger.
  const jobs: BackupJob[] = matched.map((m) => ({
    table: m.table,
    policy: m.policy,
    trigger: req.trigger,
    slot: req.slot,
    requestedAt: req.requestedAt,
    runId,
  }));
  return { runId, request: req, policy, jobs, results, problems };
}

/**
 * The run of a request. A size run (one alarm, one table) carries the table: two tables' alarms
 * can change state in the same millisecond under the same policy, and each is its own run with
 * its own summary. Other runs keep `policy|trigger|slot`.
 */
export function runIdOfRequest(req: Pick<PlanRequest, 'policy' | 'trigger' | 'slot' | 'table'>): string {
  const base = runIdFor(req.policy, req.trigger, req.slot);
  return req.trigger === 'size' && req.table ? `${base}|${req.table}` : base;
}

/** Rethrows errors that a later attempt may not meet (outages, throttling). */
export function throwIfTransient(err: unknown): void {
  if (err instanceof RetryableError) throw err;
  if (err instanceof PolicyUnavailableError && err.retryable) throw new RetryableError(err.message, { cause: err });
}
