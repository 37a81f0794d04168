/**
 * `ddb-backup runs`: the recent runs the deployed service recorded in the ledger, newest first,
 * with what each did and whether its notice went out. (Runs of `ddb-backup run` are reported by
 * that command itself and are not recorded as runs.)
 */
import type { Command } from 'commander';
import { mapPool } from '../core/backup/in-process';
import { countResults, outcomeOf } from '../core/backup/summary';
import { policyNameArg, positiveInt, type RegisterCommands } from './context';
import { renderTable } from './output';

export interface RunRow {
  readonly runId: string;
  readonly policy: string;
  readonly trigger: string;
  readonly startedAt: string;
  readonly finishedAt?: string;
  readonly durationSeconds?: number;
  readonly outcome: string;
  readonly complete: boolean;
  readonly counts: { backedUp: number; skipped: number; failed: number; pruned: number; deleted: number; vanished: number; problems: number; warnings: number };
  readonly notified: boolean;
  readonly notifiedAt?: string;
}

export const registerRunsCommand: RegisterCommands = (program, ctx) => {
  program
    .command('runs')
    .description('recent runs of the deployed service, from the ledger, newest first: outcome, counts, duration, and whether the notice went out')
    .option('--policy <name>', 'only this policy', policyNameArg)
    .option('--limit <n>', 'how many (default 20)', positiveInt(1000))
    .option('--json', 'print JSON')
    .action(async (opts: { policy?: string; limit?: number; json?: boolean }, cmd: Command) => {
      const ledger = ctx.service(cmd).ledger();
      const headers = await ledger.listRuns({ policy: opts.policy, limit: opts.limit ?? 20 });
      const rows: RunRow[] = await mapPool(headers, 4, async (h) => {
        const { results, finishedAt } = await ledger.runResultTimes(h.runId);
        const c = countResults({ results, problems: h.problems ?? [] });
        const complete = h.completed >= h.expected;
        const end = complete ? finishedAt : undefined;
        return {
          runId: h.runId,
          policy: h.policy,
          trigger: h.trigger,
          startedAt: h.startedAt,
          ...(end ? { finishedAt: end, durationSeconds: Math.max(0, Math.round((Date.parse(end) - Date.parse(h.startedAt)) / 1000)) } : {}),
          outcome: complete ? outcomeOf(c) : `RUNNING (${h.completed}/${h.expected})`,
          complete,
          counts: {
            backedUp: c.backedUp,
            skipped: results.filter((r) => r.status === 'skipped').length,
            failed: c.failed,
            pruned: results.filter((r) => r.status === 'pruned').length,
            deleted: c.deleted,
            vanished: c.vanished,
            problems: c.problems,
            warnings: c.warnings,
          },
          notified: Boolean(h.notifiedAt),
          ...(h.notifiedAt ? { notifiedAt: h.notifiedAt } : {}),
        };
      });
      if (opts.json) {
        ctx.io.out(JSON.stringify({ runs: rows }));
        return;
      }
      if (rows.length === 0) {
        ctx.io.out(`no runs recorded${opts.policy ? ` for policy "${opts.policy}"` : ''} (runs are kept ${30} days)`);
        return;
      }
      ctx.io.out(
        renderTable(
          ['started (UTC)', 'policy', 'trigger', 'duration', 'outcome', 'backed up / skipped / failed / pruned', 'deleted', 'notice'],
          rows.map((r) => [
            r.startedAt,
            r.policy,
            r.trigger,
            r.durationSeconds !== undefined ? `${r.durationSeconds} s` : '-',
            r.outcome,
            `${r.counts.backedUp} / ${r.counts.skipped} / ${r.counts.failed} / ${r.counts.pruned}`,
            `${r.counts.deleted}${r.counts.vanished ? ` (+${r.counts.vanished} vanished)` : ''}`,
            r.notified ? 'sent' : r.complete ? 'NOT SENT' : '-',
          ]),
        ),
      );
    });
};
