/**
 * The reads behind `ddb-backup report` and `ddb-backup cost`: which tables, their policies, the
 * ledger's backups (through `Ledger.listBackupRecords`), every recovery point DynamoDB lists
 * (ListBackups, BackupType ALL), PITR (DescribeContinuousBackups), the table (DescribeTable) and
 * the newest restore drill (ledger item pk=DRILL#<table>, when drills exist).
 */
import { DescribeContinuousBackupsCommand, ListBackupsCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { mapPool } from '../core/backup/in-process';
import type { PolicyForCost, TableForCost } from '../core/cost/forecast';
import type { Policy } from '../core/policy';
import { RetryableError, UsageError, errorMessage } from '../core/errors';
import { rpoTargetMinutes } from '../core/evidence/rpo';
import { evidenceReport, verdictSection, type DrillFacts, type EvidenceFacts, type EvidenceReport, type ListedBackup } from '../core/evidence/report';
import type { CoverageFlag, CoverageReport } from '../core/coverage/coverage';
import { listAllTables, publishDigest } from './coverage';
import { translateError } from './errors';
import { findTable } from './restore';
import type { Service } from './service';

export interface TableSelection {
  /** Only this table (it must exist). */
  readonly table?: string;
  /** Only tables whose tag names this policy (it must exist). */
  readonly policy?: string;
}

/** A table and the policies its opt-in tag names. */
interface Selected {
  readonly table: string;
  readonly policies: readonly string[];
}

/**
 * The tables a command reports on: every table of the account and region but the ledger
 * (`allTables`) or the tagged ones, narrowed by `--table` / `--policy`. An unknown table or policy
 * is a usage error.
 */
export async function selectTables(svc: Service, sel: TableSelection, allTables: boolean): Promise<Selected[]> {
  if (sel.policy !== undefined && !(await svc.policies.listNames()).has(sel.policy)) {
    throw Object.assign(new UsageError(`unknown policy "${sel.policy}": no parameter ${svc.policies.policyPrefix}${sel.policy}`), { input: { policy: sel.policy } });
  }
  if (sel.table !== undefined && !(await findTable(svc.clients.dynamodb, sel.table))) {
    throw Object.assign(new UsageError(`unknown table "${sel.table}": no such table in this account and region`), { input: { table: sel.table } });
  }
  const tagged = await svc.discovery.discover();
  const policiesOf = new Map(tagged.map((t) => [t.table, t.policies]));
  // The service's own ledger is no table to protect with the service (the digest leaves it out too).
  const names = sel.table !== undefined ? [sel.table] : allTables ? (await listAllTables(svc)).filter((t) => t !== svc.config.ledgerTable) : tagged.map((t) => t.table);
  return names
    .map((table) => ({ table, policies: policiesOf.get(table) ?? [] }))
    .filter((t) => sel.policy === undefined || t.policies.includes(sel.policy))
    .sort((a, b) => a.table.localeCompare(b.table));
}

/** Every backup DynamoDB lists for the table, of every type (USER, SYSTEM, AWS_BACKUP); every page. */
export async function listAllBackupTypes(ddb: DynamoDBClient, table: string): Promise<ListedBackup[]> {
  const out: ListedBackup[] = [];
  const seen = new Set<string>();
  let start: string | undefined;
  try {
    do {
      const page = await ddb.send(new ListBackupsCommand({ TableName: table, BackupType: 'ALL', Limit: 100, ...(start ? { ExclusiveStartBackupArn: start } : {}) }));
      for (const b of page.BackupSummaries ?? []) {
        if (!b.BackupArn || !b.BackupCreationDateTime || (b.TableName !== undefined && b.TableName !== table)) continue;
        out.push({ arn: b.BackupArn, createdAt: b.BackupCreationDateTime.toISOString(), type: b.BackupType ?? 'USER', ...(b.BackupStatus ? { status: b.BackupStatus } : {}) });
      }
      start = page.LastEvaluatedBackupArn || undefined;
      if (start && seen.has(start)) throw new RetryableError(`ListBackups ${table}: the cursor ${start} came back; listing abandoned`);
      if (start) seen.add(start);
    } while (start);
  } catch (err) {
    throw translateError(err, table, 'ListBackups');
  }
  return out;
}

/** PITR with its restorable window, as DescribeContinuousBackups reports it. */
async function pitrWindow(ddb: DynamoDBClient, table: string): Promise<NonNullable<EvidenceFacts['pitr']>> {
  const out = await ddb.send(new DescribeContinuousBackupsCommand({ TableName: table })).catch((err: unknown) => {
    throw translateError(err, table, 'DescribeContinuousBackups');
  });
  const d = out.ContinuousBackupsDescription?.PointInTimeRecoveryDescription;
  const enabled = d?.PointInTimeRecoveryStatus === 'ENABLED';
  return {
    enabled,
    ...(enabled && d?.EarliestRestorableDateTime ? { earliestRestorable: d.EarliestRestorableDateTime.toISOString() } : {}),
    ...(enabled && d?.LatestRestorableDateTime ? { latestRestorable: d.LatestRestorableDateTime.toISOString() } : {}),
  };
}

/** The newest drill record of a table (pk=DRILL#<table>, sk=<startedAt>), or undefined when none was recorded. */
export async function newestDrill(ddb: DynamoDBClient, ledgerTable: string, table: string): Promise<DrillFacts | undefined> {
  const doc = DynamoDBDocumentClient.from(ddb);
  const out = await doc.send(
    new QueryCommand({ TableName: ledgerTable, KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': `DRILL#${table}` }, ScanIndexForward: false, Limit: 1 }),
  );
  const item = out.Items?.[0] as { startedAt?: string; sk?: string; passed?: boolean; outcome?: string } | undefined;
  if (!item) return undefined;
  return { startedAt: item.startedAt ?? item.sk ?? '', passed: item.passed === true, ...(item.outcome !== undefined ? { outcome: String(item.outcome) } : {}) };
}

/** Runs a read, noting its failure in `errors` (a fact that cannot be read is shown, never fatal). */
async function noted<T>(errors: string[], what: string, read: () => Promise<T>): Promise<T | undefined> {
  try {
    return await read();
  } catch (err) {
    errors.push(`${what}: ${errorMessage(err)}`);
    return undefined;
  }
}

async function evidenceFacts(svc: Service, t: Selected): Promise<EvidenceFacts> {
  const errors: string[] = [];
  const ddb = svc.clients.dynamodb;
  const ledgerTable = svc.config.ledgerTable;
  const [described, pitr, listed, ledger, lastDrill] = await Promise.all([
    noted(errors, 'DescribeTable', () => findTable(ddb, t.table)),
    noted(errors, 'DescribeContinuousBackups', () => pitrWindow(ddb, t.table)),
    noted(errors, 'ListBackups', () => listAllBackupTypes(ddb, t.table)),
    ledgerTable ? noted(errors, 'ledger', () => svc.ledger().listBackupRecords(t.table)) : Promise.resolve([]),
    ledgerTable ? noted(errors, 'drills', () => newestDrill(ddb, ledgerTable, t.table)) : Promise.resolve(undefined),
  ]);
  const policies = await Promise.all(
    t.policies.map(async (name) => {
      try {
        const { policy } = await svc.policies.getEffective(name, t.table);
        const rpoMinutes = rpoTargetMinutes(policy);
        return { name, ...(rpoMinutes !== undefined ? { rpoMinutes } : {}) };
      } catch (err) {
        return { name, error: errorMessage(err) };
      }
    }),
  );
  return {
    table: t.table,
    ...(described?.CreationDateTime ? { createdAt: described.CreationDateTime.toISOString() } : {}),
    policies,
    ledger: ledger ?? [],
    listed: listed ?? [],
    ...(pitr ? { pitr } : {}),
    ...(lastDrill ? { lastDrill } : {}),
    ...(errors.length > 0 ? { errors } : {}),
  };
}

/** The evidence report of the selected tables over `[since, now]`. */
export async function gatherEvidence(svc: Service, sel: TableSelection & { since: Date }, concurrency = 4): Promise<EvidenceReport> {
  const tables = await selectTables(svc, sel, true);
  const facts = await mapPool(tables, concurrency, (t) => evidenceFacts(svc, t));
  return evidenceReport(facts, { from: sel.since, to: svc.clock.now() });
}

/** The copy settings of a policy, when it has them. */
function copyOf(policy: Policy): PolicyForCost['copy'] {
  return policy.copy ? { minIntervalHours: policy.copy.minIntervalHours, keepDays: policy.copy.keepDays } : undefined;
}

async function costFacts(svc: Service, t: Selected, onlyPolicy: string | undefined): Promise<TableForCost> {
  const ddb = svc.clients.dynamodb;
  const [facts, pitr] = await Promise.all([svc.backups.describeTable(t.table), pitrWindow(ddb, t.table)]);
  const names = onlyPolicy !== undefined ? t.policies.filter((p) => p === onlyPolicy) : t.policies;
  const policies = await Promise.all(
    names.map(async (name): Promise<PolicyForCost> => {
      try {
        const { policy } = await svc.policies.getEffective(name, t.table);
        const copy = copyOf(policy);
        return { name, schedule: policy.schedule, minIntervalMinutes: policy.minIntervalMinutes, retention: policy.retention, ...(copy ? { copy } : {}) };
      } catch (err) {
        return { name, error: errorMessage(err) };
      }
    }),
  );
  return { table: t.table, ...(facts.sizeBytes !== undefined ? { sizeBytes: facts.sizeBytes } : {}), pitrEnabled: pitr.enabled, policies };
}

/** The cost facts of the selected tagged tables (or the one named, tagged or not). */
export async function gatherCostFacts(svc: Service, sel: TableSelection, concurrency = 4): Promise<TableForCost[]> {
  const tables = await selectTables(svc, sel, false);
  return mapPool(tables, concurrency, (t) => costFacts(svc, t, sel.policy));
}

/** The window of the digest's verdicts: the report's default, so `ddb-backup report` shows the same. */
export const DIGEST_EVIDENCE_DAYS = 30;

/** How long the digest spends on verdicts: ListBackups runs at 5 calls/s per account, so a large account gets part. */
export const DIGEST_EVIDENCE_BUDGET_MS = 180_000;

/**
 * The daily digest with the evidence verdicts of the same tables appended (the same verdicts as
 * `ddb-backup report --since 30d`), as many tables as fit in `budgetMs` (the message says how many).
 * Verdicts that cannot be gathered are said so; the digest goes out either way.
 */
export async function publishDigestWithVerdicts(
  svc: Service,
  report: CoverageReport,
  flags: readonly CoverageFlag[],
  budgetMs = DIGEST_EVIDENCE_BUDGET_MS,
): Promise<{ messageId?: string; flagged: number }> {
  let appendix: string;
  try {
    const since = new Date(svc.clock.now().getTime() - DIGEST_EVIDENCE_DAYS * 86_400_000);
    const tables = report.tables.map((t) => ({ table: t.table, policies: t.policies.map((p) => p.name) }));
    const deadline = Date.now() + budgetMs;
    const gathered = await mapPool(tables, 4, (t) => (Date.now() < deadline ? evidenceFacts(svc, t) : Promise.resolve(undefined)));
    const facts = gathered.filter((f): f is EvidenceFacts => f !== undefined);
    const part = facts.length < tables.length ? `Verdicts of ${facts.length} of ${tables.length} tables (the rest did not fit the time budget).\n` : '';
    appendix = part + verdictSection(evidenceReport(facts, { from: since, to: svc.clock.now() }), `ddb-backup report --since ${DIGEST_EVIDENCE_DAYS}d`);
  } catch (err) {
    appendix = `Evidence verdicts unavailable: ${errorMessage(err)}`;
  }
  return publishDigest(svc, report, flags, appendix);
}
