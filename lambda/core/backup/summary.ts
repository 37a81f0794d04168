import type { JobResult } from '../jobs';
import { copyFailed as copyStepFailed } from '../copies/copies';

/** Problems found before any job ran (planner level). */
export interface RunProblem {
  readonly kind: 'unknown-policy' | 'invalid-policy' | 'discovery' | 'listing' | 'orphaned';
  readonly table?: string;
  readonly policy?: string;
  readonly message: string;
}

export interface RunReport {
  readonly runId: string;
  readonly policy: string;
  readonly trigger: string;
  readonly startedAt: string;
  readonly finishedAt: string;
  readonly results: readonly JobResult[];
  readonly problems: readonly RunProblem[];
}

/**
 * Problems that are warnings: a tag naming a policy that does not exist concerns that one table,
 * not the run. Warnings are reported (counted, listed under "Warnings") but do not make a run
 * PARTIAL or FAILED and do not by themselves make a run worth telling `notify: failures` about.
 */
export function isWarning(problem: Pick<RunProblem, 'kind'>): boolean {
  return problem.kind === 'unknown-policy';
}

/** The report's problems split into real problems and warnings. */
export function splitProblems(problems: readonly RunProblem[]): { problems: RunProblem[]; warnings: RunProblem[] } {
  return { problems: problems.filter((p) => !isWarning(p)), warnings: problems.filter(isWarning) };
}

export type RunOutcome = 'OK' | 'PARTIAL' | 'FAILED' | 'NOTHING TO DO';

export interface RunCounts {
  readonly backedUp: number;
  readonly skipped: number;
  readonly failed: number;
  /** Run-level problems other than warnings. */
  readonly problems: number;
  /** Run-level warnings (tags naming unknown policies); they do not change the outcome. */
  readonly warnings: number;
  /** Backups deleted by retention. */
  readonly deleted: number;
  /** The service's backups found deleted outside the service (no longer counted by retention). */
  readonly vanished: number;
  /** Off-site copies that failed or were found FAILED or stuck (present when not 0); the backups stand. */
  readonly copyFailed?: number;
}

export function countResults(report: Pick<RunReport, 'results' | 'problems'>): RunCounts {
  let backedUp = 0;
  let skipped = 0;
  let failed = 0;
  let deleted = 0;
  let vanished = 0;
  let copyFailed = 0;
  for (const r of report.results) {
    if (copyStepFailed(r.copy)) copyFailed++;
    if (r.status === 'backed-up') backedUp++;
    else if (r.status === 'skipped' || r.status === 'pruned') skipped++;
    else failed++;
    deleted += r.deleted ?? 0;
    vanished += r.vanished ?? 0;
  }
  const warnings = report.problems.filter(isWarning).length;
  return { backedUp, skipped, failed, problems: report.problems.length - warnings, warnings, deleted, vanished, ...(copyFailed ? { copyFailed } : {}) };
}

export function outcomeOf(counts: RunCounts): RunOutcome {
  if (counts.failed > 0 || counts.problems > 0 || (counts.copyFailed ?? 0) > 0) {
    return counts.backedUp > 0 || counts.skipped > 0 ? 'PARTIAL' : 'FAILED';
  }
  return counts.backedUp + counts.skipped === 0 ? 'NOTHING TO DO' : 'OK';
}

/**
 * True when the run has something to say to people who asked only for failures: a failure, a
 * problem, or a backup of the service's that someone deleted outside it. Warnings alone are not.
 */
export function hasFailures(report: Pick<RunReport, 'results' | 'problems'>): boolean {
  const c = countResults(report);
  return c.failed > 0 || c.problems > 0 || c.vanished > 0 || (c.copyFailed ?? 0) > 0;
}

const SUBJECT_MAX = 100;

/** The SNS subject: ASCII, one line, at most 100 characters, outcome first. */
export function summarySubject(report: RunReport): string {
  const c = countResults(report);
  const outcome = outcomeOf(c);
  const parts = report.trigger === 'prune' ? [] : [`${c.backedUp} backed up`];
  if (c.deleted || report.trigger === 'prune') parts.push(`${c.deleted} deleted`);
  if (c.skipped && report.trigger !== 'prune') parts.push(`${c.skipped} skipped`);
  if (c.failed) parts.push(`${c.failed} failed`);
  if (c.copyFailed) parts.push(`${c.copyFailed} copy failed`);
  if (c.vanished) parts.push(`${c.vanished} vanished`);
  if (c.problems) parts.push(`${c.problems} problem${c.problems === 1 ? '' : 's'}`);
  if (c.warnings) parts.push(`${c.warnings} warning${c.warnings === 1 ? '' : 's'}`);
  const subject = `[ddb-backup] ${outcome}: ${report.policy} (${report.trigger}) - ${parts.join(', ')}`;
  const ascii = subject.replace(/[^\x20-\x7e]/g, '?');
  return ascii.length > SUBJECT_MAX ? `${ascii.slice(0, SUBJECT_MAX - 3)}...` : ascii;
}

export interface SummaryOptions {
  /**
   * List at most this many results (failures first) in the text and the JSON block. Counts and the
   * outcome always come from the whole report; the JSON says `truncated: true` when rows are left out.
   */
  readonly maxResults?: number;
}

function rankForTruncation(status: string): number {
  return status === 'failed' ? 0 : status === 'skipped' ? 1 : 2;
}

/** Human-readable text, then a fenced JSON block for machines. */
export function summaryMessage(full: RunReport, opts: SummaryOptions = {}): string {
  const c = countResults(full);
  const truncated = opts.maxResults !== undefined && full.results.length > opts.maxResults;
  const report: RunReport = truncated
    ? {
        ...full,
        results: [...full.results]
          .sort((a, b) => rankForTruncation(a.status) - rankForTruncation(b.status))
          .slice(0, opts.maxResults),
      }
    : full;
  const lines: string[] = [];
  lines.push(`DynamoDB backup run ${outcomeOf(c)}`);
  lines.push(`policy: ${report.policy}   trigger: ${report.trigger}`);
  lines.push(`started: ${report.startedAt}   finished: ${report.finishedAt}`);
  lines.push(
    [
      `backed up: ${c.backedUp}`,
      `skipped: ${c.skipped}`,
      `failed: ${c.failed}`,
      `problems: ${c.problems}`,
      ...(c.warnings ? [`warnings: ${c.warnings}`] : []),
      `deleted by retention: ${c.deleted}`,
    ].join('   '),
  );
  if (c.vanished) {
    lines.push(`vanished outside the service: ${c.vanished} backup(s) the ledger recorded no longer exist (deleted by hand or by another tool); they no longer count toward retention`);
  }
  const section = (title: string, rows: string[]) => {
    if (rows.length === 0) return;
    lines.push('', `${title}:`);
    for (const row of rows) lines.push(`  - ${row}`);
  };
  const split = splitProblems(report.problems);
  const problemRow = (p: RunProblem) => [p.table && `table ${p.table}`, p.policy && `policy ${p.policy}`, p.message].filter(Boolean).join(': ');
  section('Problems', split.problems.map(problemRow));
  section(
    'Failed',
    report.results.filter((r) => r.status === 'failed').map((r) => `${r.table} [${r.policy}]: ${r.reason ?? 'unknown error'}`),
  );
  section(
    'Copies failed',
    report.results.filter((r) => copyStepFailed(r.copy)).map((r) => `${r.table} [${r.policy}]: ${[r.copy?.status === 'failed' ? r.copy.reason : '', ...(r.copy?.alerts ?? [])].filter(Boolean).join('; ')}`),
  );
  section('Warnings', split.warnings.map(problemRow));
  section(
    'Skipped',
    report.results.filter((r) => r.status === 'skipped').map((r) => `${r.table} [${r.policy}]: ${r.reason ?? ''}`),
  );
  section(
    'Backed up',
    report.results
      .filter((r) => r.status === 'backed-up')
      .map((r) => `${r.table} [${r.policy}]: ${r.backupArn ?? ''}${r.deleted ? ` (pruned ${r.deleted})` : ''}`),
  );
  section(
    'Pruned',
    report.results.filter((r) => r.status === 'pruned').map((r) => `${r.table} [${r.policy}]: ${r.reason ?? `${r.deleted ?? 0} deleted`}`),
  );
  if (truncated) {
    lines.push('', `(${full.results.length - report.results.length} of ${full.results.length} results left out: the message would exceed SNS's size limit)`);
  }
  const machine = {
    version: 1,
    ...(truncated ? { truncated: true } : {}),
    runId: report.runId,
    policy: report.policy,
    trigger: report.trigger,
    outcome: outcomeOf(c),
    startedAt: report.startedAt,
    finishedAt: report.finishedAt,
    counts: c,
    problems: split.problems,
    warnings: split.warnings,
    results: report.results,
  };
  lines.push('', '--- machine-readable ---', '```json', JSON.stringify(machine, null, 2), '```');
  return lines.join('\n');
}

/** Extracts the JSON block from a summary message (for consumers and tests). */
export function parseSummaryJson(message: string): unknown {
  const m = /```json\n([\s\S]*?)\n```/.exec(message);
  if (!m) throw new Error('no JSON block in message');
  return JSON.parse(m[1]);
}
