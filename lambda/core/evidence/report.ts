/**
 * Compliance evidence: per table, every recovery point in a window by where it came from (the
 * service's ledger, AWS Backup, made by hand), PITR, gaps against the RPO, the last drill, and a
 * verdict. Pure: lambda/aws/evidence.ts gathers the facts; the CLI renders JSON, CSV or Markdown.
 */
import { gapsAndBreaches, type Gap } from './gaps';

export const VERDICTS = ['ok', 'at-risk', 'unprotected'] as const;
export type Verdict = (typeof VERDICTS)[number];

export const SOURCES = ['service', 'aws-backup', 'manual'] as const;
export type PointSource = (typeof SOURCES)[number];

/** One recovery point: a backup that existed, from one source. */
export interface RecoveryPoint {
  readonly at: string;
  readonly source: PointSource;
  readonly arn: string;
}

/** One ListBackups (BackupType ALL) entry. */
export interface ListedBackup {
  readonly arn: string;
  readonly createdAt: string;
  /** USER, SYSTEM or AWS_BACKUP. */
  readonly type: string;
  readonly status?: string;
}

/** One ledger backup record, as much as evidence needs. */
export interface LedgerPoint {
  readonly backupArn?: string;
  readonly createdAt?: string;
  readonly status: string;
  readonly policy: string;
}

export interface DrillFacts {
  readonly startedAt: string;
  readonly passed: boolean;
  readonly outcome?: string;
}

export interface EvidenceFacts {
  readonly table: string;
  /** When the table was created (DescribeTable). */
  readonly createdAt?: string;
  /** The policies of the opt-in tag, with their RPO target or why it is unknown. */
  readonly policies: readonly { readonly name: string; readonly rpoMinutes?: number; readonly error?: string }[];
  readonly ledger: readonly LedgerPoint[];
  readonly listed: readonly ListedBackup[];
  readonly pitr?: { readonly enabled: boolean; readonly earliestRestorable?: string; readonly latestRestorable?: string };
  readonly lastDrill?: DrillFacts;
  /** Facts that could not be read. */
  readonly errors?: readonly string[];
}

export interface ReportRow {
  readonly table: string;
  readonly policies: readonly string[];
  /** The strictest RPO target of the table's policies, minutes. */
  readonly rpoMinutes?: number;
  readonly recoveryPoints: Readonly<Record<PointSource, number>>;
  readonly pitr: { readonly enabled: boolean; readonly earliestRestorable?: string };
  /** The newest recovery point of any source (in the window or before it). */
  readonly lastBackupAt?: string;
  readonly longestGap?: Gap;
  readonly breaches: readonly Gap[];
  readonly lastDrill?: DrillFacts;
  readonly verdict: Verdict;
  readonly reasons: readonly string[];
  readonly errors?: readonly string[];
}

export interface EvidenceReport {
  readonly generatedAt: string;
  readonly window: { readonly from: string; readonly to: string };
  readonly tables: readonly ReportRow[];
  readonly verdicts: Readonly<Record<Verdict, number>>;
}

/** Ledger statuses of a backup that was made (it may have been pruned since). */
const MADE = new Set(['CREATING', 'AVAILABLE', 'DELETED', 'VANISHED']);

/**
 * The table's recovery points by source: the ledger's backups are the service's (ownership comes
 * from the ledger only, never from a name); AWS_BACKUP entries are AWS Backup's; USER backups the
 * ledger does not know were made by hand. SYSTEM backups (left by a table deletion) are not points.
 */
export function recoveryPoints(facts: Pick<EvidenceFacts, 'ledger' | 'listed'>): RecoveryPoint[] {
  const points: RecoveryPoint[] = [];
  const ours = new Set<string>();
  for (const r of facts.ledger) {
    if (!r.backupArn || !r.createdAt || !MADE.has(r.status)) continue;
    ours.add(r.backupArn);
    points.push({ at: r.createdAt, source: 'service', arn: r.backupArn });
  }
  for (const b of facts.listed) {
    if (ours.has(b.arn)) continue;
    if (b.type === 'AWS_BACKUP') points.push({ at: b.createdAt, source: 'aws-backup', arn: b.arn });
    else if (b.type === 'USER') points.push({ at: b.createdAt, source: 'manual', arn: b.arn });
  }
  return points;
}

const minutesText = (m: number): string => (m < 120 ? `${Math.round(m)} min` : m < 2880 ? `${Math.round(m / 60)} h` : `${Math.round(m / 1440)} d`);

/** The evidence row of one table over `[from, to]`. */
export function evidenceRow(facts: EvidenceFacts, window: { from: Date; to: Date }): ReportRow {
  const points = recoveryPoints(facts);
  const from = window.from.getTime();
  const to = window.to.getTime();
  const inWindow = points.filter((p) => Date.parse(p.at) >= from && Date.parse(p.at) <= to);
  const counts = { service: 0, 'aws-backup': 0, manual: 0 } as Record<PointSource, number>;
  for (const p of inWindow) counts[p.source]++;
  const targets = facts.policies.map((p) => p.rpoMinutes).filter((m): m is number => m !== undefined);
  const rpoMinutes = targets.length > 0 ? Math.min(...targets) : undefined;
  const since = facts.createdAt ? new Date(facts.createdAt) : undefined;
  const { longestGap, breaches } = gapsAndBreaches(
    inWindow.map((p) => p.at),
    { ...window, ...(since && !Number.isNaN(since.getTime()) ? { since } : {}) },
    rpoMinutes,
  );
  const lastBackupAt = points.map((p) => p.at).sort().at(-1);

  const reasons: string[] = [];
  let verdict: Verdict = 'ok';
  if (facts.policies.length === 0) {
    verdict = 'unprotected';
    reasons.push('no backup policy tag');
  } else {
    for (const p of facts.policies) if (p.error) reasons.push(`policy ${p.name}: ${p.error}`);
    if (inWindow.length === 0) reasons.push('no recovery point in the window');
    if (breaches.length > 0) reasons.push(`${breaches.length} RPO breach(es), the longest ${minutesText(Math.max(...breaches.map((b) => b.minutes)))} against ${minutesText(rpoMinutes!)}`);
    if (facts.lastDrill && !facts.lastDrill.passed) reasons.push(`last restore drill failed (${facts.lastDrill.startedAt})`);
    for (const e of facts.errors ?? []) reasons.push(`unread: ${e}`);
    if (reasons.length > 0) verdict = 'at-risk';
  }
  return {
    table: facts.table,
    policies: facts.policies.map((p) => p.name),
    ...(rpoMinutes !== undefined ? { rpoMinutes } : {}),
    recoveryPoints: counts,
    pitr: { enabled: Boolean(facts.pitr?.enabled), ...(facts.pitr?.earliestRestorable ? { earliestRestorable: facts.pitr.earliestRestorable } : {}) },
    ...(lastBackupAt ? { lastBackupAt } : {}),
    ...(longestGap ? { longestGap } : {}),
    breaches,
    ...(facts.lastDrill ? { lastDrill: facts.lastDrill } : {}),
    verdict,
    reasons,
    ...(facts.errors?.length ? { errors: facts.errors } : {}),
  };
}

export function evidenceReport(facts: readonly EvidenceFacts[], window: { from: Date; to: Date }): EvidenceReport {
  const tables = facts.map((f) => evidenceRow(f, window)).sort((a, b) => a.table.localeCompare(b.table));
  const verdicts = { ok: 0, 'at-risk': 0, unprotected: 0 } as Record<Verdict, number>;
  for (const t of tables) verdicts[t.verdict]++;
  return { generatedAt: window.to.toISOString(), window: { from: window.from.toISOString(), to: window.to.toISOString() }, tables, verdicts };
}

// ---- renderings ----

/**
 * The verdicts as a section of the daily digest: the counts, then the tables that are not ok with
 * why (at most `maxTables`), and the command that gives the full evidence.
 */
export function verdictSection(report: EvidenceReport, command: string, maxTables = 50): string {
  const v = report.verdicts;
  const notOk = report.tables.filter((t) => t.verdict !== 'ok');
  const lines = [
    `Evidence verdicts since ${report.window.from}: ${v.ok} ok, ${v['at-risk']} at risk, ${v.unprotected} unprotected (full evidence: ${command}).`,
    ...notOk.slice(0, maxTables).map((t) => `  ${t.verdict.toUpperCase()} ${t.table}: ${t.reasons.join('; ')}`),
  ];
  if (notOk.length > maxTables) lines.push(`  ... and ${notOk.length - maxTables} more`);
  return lines.join('\n');
}

const CSV_HEADER = [
  'table',
  'policies',
  'rpo_minutes',
  'service_points',
  'aws_backup_points',
  'manual_points',
  'pitr',
  'pitr_earliest_restorable',
  'last_backup_at',
  'longest_gap_minutes',
  'rpo_breaches',
  'last_drill_at',
  'last_drill_passed',
  'verdict',
  'reasons',
] as const;

function flat(r: ReportRow): (string | number)[] {
  return [
    r.table,
    r.policies.join(' '),
    r.rpoMinutes ?? '',
    r.recoveryPoints.service,
    r.recoveryPoints['aws-backup'],
    r.recoveryPoints.manual,
    r.pitr.enabled ? 'on' : 'off',
    r.pitr.earliestRestorable ?? '',
    r.lastBackupAt ?? '',
    r.longestGap ? Math.round(r.longestGap.minutes) : '',
    r.breaches.length,
    r.lastDrill?.startedAt ?? '',
    r.lastDrill ? String(r.lastDrill.passed) : '',
    r.verdict,
    r.reasons.join('; '),
  ];
}

/** RFC 4180: a field with a comma, quote or line break is quoted, its quotes doubled. */
function csvField(v: string | number): string {
  const s = String(v);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** CSV with a header row, one line per table, CRLF line ends (RFC 4180). */
export function reportCsv(report: EvidenceReport): string {
  return [CSV_HEADER.join(','), ...report.tables.map((r) => flat(r).map(csvField).join(','))].join('\r\n') + '\r\n';
}

function mdCell(v: string | number): string {
  return String(v).replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
}

/** A Markdown table an auditor can paste, under a line that says the window and when. */
export function reportMarkdown(report: EvidenceReport): string {
  const head = ['Table', 'Policies', 'RPO', 'Service', 'AWS Backup', 'Manual', 'PITR', 'Last backup (UTC)', 'Longest gap', 'RPO breaches', 'Last drill', 'Verdict', 'Why'];
  const rows = report.tables.map((r) => [
    r.table,
    r.policies.join(', ') || '-',
    r.rpoMinutes !== undefined ? minutesText(r.rpoMinutes) : '-',
    r.recoveryPoints.service,
    r.recoveryPoints['aws-backup'],
    r.recoveryPoints.manual,
    r.pitr.enabled ? `on${r.pitr.earliestRestorable ? ` since ${r.pitr.earliestRestorable}` : ''}` : 'off',
    r.lastBackupAt ?? '-',
    r.longestGap ? minutesText(r.longestGap.minutes) : '-',
    r.breaches.length,
    r.lastDrill ? `${r.lastDrill.passed ? 'passed' : 'FAILED'} ${r.lastDrill.startedAt}` : '-',
    r.verdict,
    r.reasons.join('; ') || '-',
  ]);
  const line = (cells: (string | number)[]) => `| ${cells.map(mdCell).join(' | ')} |`;
  const v = report.verdicts;
  return [
    `Backup evidence, ${report.window.from} to ${report.window.to} (UTC): ${v.ok} ok, ${v['at-risk']} at risk, ${v.unprotected} unprotected.`,
    '',
    line(head),
    line(head.map(() => '---')),
    ...rows.map(line),
    '',
  ].join('\n');
}
