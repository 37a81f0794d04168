/**
 * `ddb-backup report`: compliance evidence per table over a window: policies, RPO target, recovery
 * points by source (the service's ledger, AWS Backup, made by hand), PITR, last backup, longest
 * gap, RPO breaches, last restore drill and a verdict. JSON, CSV (header row) or Markdown.
 */
import { Option, type Command } from 'commander';
import { gatherEvidence } from '../aws/evidence';
import { reportCsv, reportMarkdown, type EvidenceReport } from '../core/evidence/report';
import { humanMinutes } from '../core/coverage/coverage';
import { EXIT, policyNameArg, tableNameArg, type RegisterCommands } from './context';
import { renderTable } from './output';
import { sinceArg } from './program';

export const REPORT_FORMATS = ['table', 'json', 'csv', 'md'] as const;
type ReportFormat = (typeof REPORT_FORMATS)[number];

interface ReportOpts {
  since?: Date;
  table?: string;
  policy?: string;
  json?: boolean;
  format?: ReportFormat;
  strict?: boolean;
}

function renderHuman(report: EvidenceReport): string {
  const rows = report.tables.map((r) => [
    r.table,
    r.policies.join(' ') || '-',
    r.rpoMinutes !== undefined ? humanMinutes(r.rpoMinutes) : '-',
    `${r.recoveryPoints.service} / ${r.recoveryPoints['aws-backup']} / ${r.recoveryPoints.manual}`,
    r.pitr.enabled ? `on${r.pitr.earliestRestorable ? ` from ${r.pitr.earliestRestorable}` : ''}` : 'off',
    r.lastBackupAt ?? '-',
    r.longestGap ? humanMinutes(r.longestGap.minutes) : '-',
    r.breaches.length,
    r.lastDrill ? `${r.lastDrill.passed ? 'passed' : 'FAILED'} ${r.lastDrill.startedAt}` : '-',
    r.verdict,
    r.reasons.join('; '),
  ]);
  const v = report.verdicts;
  return [
    renderTable(['table', 'policies', 'RPO', 'points: service / AWS Backup / by hand', 'PITR', 'last backup (UTC)', 'longest gap', 'RPO breaches', 'last drill', 'verdict', 'why'], rows),
    `${report.tables.length} table(s) from ${report.window.from} to ${report.window.to}: ${v.ok} ok, ${v['at-risk']} at risk, ${v.unprotected} unprotected`,
  ].join('\n');
}

export const registerReportCommand: RegisterCommands = (program, ctx) => {
  program
    .command('report')
    .description('compliance evidence per table: recovery points by source, PITR, gaps and RPO breaches, last drill, verdict (ok, at-risk, unprotected)')
    .option('--since <when>', 'window start: an ISO time or an age such as 30d, 12h, 90m (default 30d)', (v: string) => sinceArg(v))
    .option('--table <name>', 'only this table', tableNameArg)
    .option('--policy <name>', 'only tables tagged with this policy', policyNameArg)
    .addOption(new Option('--json', 'print JSON (same as --format json)').conflicts('format'))
    .addOption(new Option('--format <format>', 'table, json, csv (with a header row) or md (a Markdown table)').choices(REPORT_FORMATS))
    .option('--strict', 'exit 1 when any table is not ok')
    .action(async (opts: ReportOpts, cmd: Command) => {
      const svc = ctx.service(cmd);
      const since = opts.since ?? sinceArg('30d', svc.clock.now());
      const report = await gatherEvidence(svc, { since, table: opts.table, policy: opts.policy });
      if (opts.strict && report.tables.some((t) => t.verdict !== 'ok')) ctx.fail(EXIT.FAILED);
      const format: ReportFormat = opts.json ? 'json' : (opts.format ?? 'table');
      if (format === 'json') ctx.io.out(JSON.stringify(report));
      else if (format === 'csv') ctx.io.out(reportCsv(report));
      else if (format === 'md') ctx.io.out(reportMarkdown(report));
      else ctx.io.out(report.tables.length === 0 ? 'no tables' : renderHuman(report));
    });
};
