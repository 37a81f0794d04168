import type { BackupJob, JobResult } from '../../lambda/core/jobs';
import type { Log } from '../../lambda/core/log';
import type { JobSink, RunNotifier } from '../../lambda/core/ports';
import type { PagedRunLedger, RunHeader, RunLedger, RunStart } from '../../lambda/core/backup/runs';
import type { RunProblem, RunReport } from '../../lambda/core/backup/summary';

/**
 * Small in-memory fakes of the run ports, for the core tests of the Lambdas' use-cases: a run
 * ledger (one lease, no expiry), a job queue, a notifier and a log that remember what they got.
 */

export class MemoryRunLedger implements PagedRunLedger {
  readonly headers = new Map<string, RunHeader>();
  readonly results = new Map<string, JobResult[]>();

  async startRun(header: RunStart, _now: Date): Promise<void> {
    if (!this.headers.has(header.runId)) this.headers.set(header.runId, { ...header, completed: 0 });
  }

  async addRunPage(runId: string, page: { index: number; expected: number; problems: readonly RunProblem[]; last: boolean }): Promise<boolean> {
    const header = this.headers.get(runId) as (RunHeader & { pages?: number[] }) | undefined;
    if (!header || header.pages?.includes(page.index)) return false;
    const { planning: _p, ...rest } = header;
    this.headers.set(runId, {
      ...(page.last ? rest : header),
      expected: header.expected + page.expected,
      pageProblems: [...((header as { pageProblems?: RunProblem[] }).pageProblems ?? []), ...page.problems],
      pages: [...(header.pages ?? []), page.index],
    } as unknown as RunHeader);
    return true;
  }

  async listRunProblems(runId: string): Promise<RunProblem[]> {
    return [...((this.headers.get(runId) as { pageProblems?: RunProblem[] } | undefined)?.pageProblems ?? [])];
  }

  async recordRunResult(runId: string, result: JobResult, _now: Date): Promise<boolean> {
    const header = this.headers.get(runId);
    if (!header) return false;
    const rows = this.results.get(runId) ?? [];
    if (rows.some((r) => r.table === result.table && r.policy === result.policy)) return false;
    this.results.set(runId, [...rows, result]);
    this.headers.set(runId, { ...header, completed: header.completed + 1 });
    return true;
  }

  async claimRunNotification(runId: string, now: Date): ReturnType<RunLedger['claimRunNotification']> {
    const header = this.headers.get(runId);
    if (!header || header.planning || header.completed < header.expected || header.notifiedAt) return { status: 'not-due' };
    if (header.notifyClaimId) return { status: 'held', since: header.notifyClaimedAt };
    const claimed = { ...header, notifyClaimedAt: now.toISOString(), notifyClaimId: `claim-${runId}` };
    this.headers.set(runId, claimed);
    return { status: 'claimed', claimId: claimed.notifyClaimId, header: claimed };
  }

  async markRunNotified(runId: string, claimId: string, now: Date, messageId?: string): Promise<boolean> {
    const header = this.headers.get(runId);
    if (!header || header.notifyClaimId !== claimId) return false;
    this.headers.set(runId, { ...header, notifiedAt: now.toISOString(), ...(messageId ? { notifyMessageId: messageId } : {}) });
    return true;
  }

  async releaseRunNotification(runId: string, claimId: string): Promise<void> {
    const header = this.headers.get(runId);
    if (!header || header.notifyClaimId !== claimId) return;
    const { notifyClaimedAt: _at, notifyClaimId: _id, ...rest } = header;
    this.headers.set(runId, rest);
  }

  async listRunResults(runId: string): Promise<JobResult[]> {
    return [...(this.results.get(runId) ?? [])];
  }
}

export class MemoryQueue implements JobSink {
  readonly enqueued: BackupJob[] = [];
  async enqueue(jobs: readonly BackupJob[]): Promise<{ job: BackupJob; error: string }[]> {
    this.enqueued.push(...jobs);
    return [];
  }
}

export class MemoryNotifier implements RunNotifier {
  readonly published: RunReport[] = [];
  error?: Error;
  async publishRun(report: RunReport): Promise<string> {
    if (this.error) throw this.error;
    this.published.push(report);
    return `message-${this.published.length}`;
  }
}

export type Line = [level: 'info' | 'warn' | 'error', message: string, extra: Record<string, unknown>];

/** A log that keeps its lines: `[level, message, fields]`. */
export function memoryLog(): Log & { readonly lines: Line[] } {
  const lines: Line[] = [];
  const at =
    (level: Line[0]) =>
    (message: string, ...extra: Record<string, unknown>[]) =>
      lines.push([level, message, Object.assign({}, ...extra) as Record<string, unknown>]);
  return { lines, info: at('info'), warn: at('warn'), error: at('error') };
}
