import { errorMessage } from '../errors';
import { runIdFor, type BackupJob, type JobResult } from '../jobs';
import { throwIfTransient, type Plan } from '../backup/planner';
import type { Policy } from '../policy';
import type { BackupApi, BackupInfo, Clock, PolicySource, TableDiscovery } from '../ports';
import { orphanedTables, pruneTable, type PruneDeps, type PruneOutcome } from './prune';
import { mapPool, reportOf } from '../backup/in-process';
import type { RunProblem, RunReport } from '../backup/summary';

/**
 * The prune sweep of one policy: one prune job per tagged table, carrying only the table and the
 * policy (the worker plans from the ledger and confirms with the table's own listing).
 *
 * One account-wide ListBackups (every page) reports backups named for the policy whose tables
 * no longer carry its tag, as `orphaned`: they are kept (removing a tag opts a table out of new
 * backups, it never deletes its history). The listing only reports; it never decides a deletion.
 */

export interface SweepRequest {
  readonly policy: string;
  /** The sweep's time (the rule's scheduled time, or now for the CLI). */
  readonly time: string;
  readonly slot: string;
  /** Only this table; lists its backups alone. */
  readonly table?: string;
}

export interface SweepDeps {
  readonly policies: PolicySource;
  readonly discovery: TableDiscovery;
  readonly backups: Pick<BackupApi, 'listBackups'>;
  readonly clock: Clock;
}


export async function planSweep(deps: SweepDeps, req: SweepRequest): Promise<Plan> {
  const runId = runIdFor(req.policy, 'prune', req.slot);
  const request = { policy: req.policy, trigger: 'prune' as const, slot: req.slot, requestedAt: req.time, table: req.table };
  const problems: RunProblem[] = [];
  const done = (policy?: Policy, jobs: BackupJob[] = [], results: JobResult[] = []): Plan => ({
    runId,
    request,
    policy,
    jobs,
    results,
    problems,
  });

  let policy: Policy;
  try {
    policy = await deps.policies.getPolicy(req.policy);
  } catch (err) {
    throwIfTransient(err);
    problems.push({ kind: 'invalid-policy', policy: req.policy, message: `nothing pruned: ${errorMessage(err)}` });
    return done();
  }

  let tagged: Set<string>;
  try {
    tagged = new Set((await deps.discovery.discover()).filter((t) => t.policies.includes(req.policy)).map((t) => t.table));
  } catch (err) {
    throwIfTransient(err);
    problems.push({ kind: 'discovery', message: `nothing pruned: cannot list tagged tables: ${errorMessage(err)}` });
    return done(policy);
  }

  let listing: BackupInfo[];
  try {
    listing = await deps.backups.listBackups(req.table);
  } catch (err) {
    throwIfTransient(err);
    problems.push({ kind: 'listing', message: `nothing pruned: ListBackups failed: ${errorMessage(err)}` });
    return done(policy);
  }

  const results: JobResult[] = [];
  let tables = [...tagged].sort();
  if (req.table) {
    tables = tables.filter((t) => t === req.table);
    if (tables.length === 0) {
      results.push({
        table: req.table,
        policy: req.policy,
        status: 'skipped',
        reason: `table "${req.table}" is not tagged with policy "${req.policy}": its backups are kept`,
      });
    }
  }
  for (const o of orphanedTables(listing, req.policy, tagged)) {
    problems.push({
      kind: 'orphaned',
      table: o.table,
      policy: req.policy,
      message: `${o.backups} backup(s) of policy "${req.policy}" kept: the table is no longer tagged with it (delete them by hand, or tag it again)`,
    });
  }

  const jobs: BackupJob[] = tables.map((table) => ({
    table,
    policy: req.policy,
    trigger: 'prune',
    kind: 'prune',
    slot: req.slot,
    requestedAt: req.time,
    runId,
  }));
  return done(policy, jobs, results);
}

export interface SweepInProcessOptions {
  readonly dryRun?: boolean;
  readonly concurrency?: number;
}

export interface SweepReport extends RunReport {
  readonly outcomes: PruneOutcome[];
}

/**
 * The CLI's `prune`: the sweep's plan, carried out (or only shown, with `dryRun`) in-process,
 * with the same pruneTable the worker runs.
 */
export async function sweepInProcess(
  deps: SweepDeps & PruneDeps,
  req: SweepRequest,
  opts: SweepInProcessOptions = {},
): Promise<SweepReport> {
  const startedAt = deps.clock.now();
  const plan = await planSweep(deps, req);
  const outcomes: PruneOutcome[] = [];
  const results = await mapPool(plan.jobs, opts.concurrency ?? 4, async (job): Promise<JobResult> => {
    let retention;
    try {
      retention = (await deps.policies.getEffective(job.policy, job.table)).policy.retention;
    } catch (err) {
      return { table: job.table, policy: job.policy, status: 'failed', reason: `not pruned: ${errorMessage(err)}` };
    }
    const outcome = await pruneTable(deps, {
      table: job.table,
      policy: job.policy,
      retention,
      dryRun: opts.dryRun,
    });
    outcomes.push(outcome);
    const failedOne = outcome.failed[0];
    return {
      table: job.table,
      policy: job.policy,
      status: failedOne ? 'failed' : 'pruned',
      deleted: outcome.deleted.length,
      ...(outcome.deferred.length ? { deferred: outcome.deferred.length } : {}),
      ...(outcome.vanished ? { vanished: outcome.vanished } : {}),
      reason: failedOne
        ? `${outcome.failed.length} deletion(s) failed: ${failedOne.reason}`
        : `${opts.dryRun ? `would delete ${outcome.plan.delete.length}` : `${outcome.deleted.length} deleted`}, ${outcome.plan.keep.length} kept${
            outcome.plan.blocked ? ` (blocked: ${outcome.plan.blocked})` : ''
          }`,
    };
  });
  outcomes.sort((a, b) => a.table.localeCompare(b.table));
  return { ...reportOf(plan, results, startedAt, deps.clock.now()), outcomes };
}
