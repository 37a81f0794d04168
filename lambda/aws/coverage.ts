import { ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { CopyLedger } from './copy-ledger';
import { newestCompleted, type CopyRecord } from '../core/copies/copies';
import { PublishCommand } from '@aws-sdk/client-sns';
import {
  DIGEST_FLAGS,
  coverageReport,
  digestMessage,
  digestSubject,
  flaggedTables,
  type CoverageFlag,
  type CoverageReport,
  type PolicyFacts,
  type TableFactsForCoverage,
} from '../core/coverage/coverage';
import { errorMessage } from '../core/errors';
import { retryableOr } from './errors';
import { describePitr } from './pitr';
import { liveNewestFirst } from '../core/ports';
import type { Service } from './service';
import { DrillLedger } from './drills';
import { findTable } from './restore';

/** Every table of the account and region: ListTables, every page (100 per page). */
export async function listAllTables(svc: Pick<Service, 'clients'>): Promise<string[]> {
  const out: string[] = [];
  let start: string | undefined;
  try {
    do {
      const page = await svc.clients.dynamodb.send(new ListTablesCommand({ Limit: 100, ...(start ? { ExclusiveStartTableName: start } : {}) }));
      out.push(...(page.TableNames ?? []));
      start = page.LastEvaluatedTableName && page.LastEvaluatedTableName !== start ? page.LastEvaluatedTableName : undefined;
    } while (start);
  } catch (err) {
    throw retryableOr(err, 'ListTables');
  }
  return out;
}

/** `name` or a `prefix*` glob. */
export function matchesAny(table: string, patterns: readonly string[]): boolean {
  return patterns.some((p) => (p.endsWith('*') ? table.startsWith(p.slice(0, -1)) : table === p));
}

async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (t: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

export interface CoverageOptions {
  /** Tables to leave out of the report (`name` or `prefix*`). */
  readonly ignore?: readonly string[];
  /** Only these tables. */
  readonly only?: readonly string[];
  readonly concurrency?: number;
}

/** Gathers the facts of one table: stream, PITR, and per policy its effective policy and last backup. */
async function tableFacts(svc: Service, table: string, policyNames: readonly string[]): Promise<TableFactsForCoverage> {
  const errors: string[] = [];
  const ddb = svc.clients.dynamodb;
  const described = await findTable(ddb, table).catch((err: unknown) => {
    errors.push(`DescribeTable: ${errorMessage(err)}`);
    return undefined;
  });
  const pitr = await describePitr(ddb, table).catch((err: unknown) => {
    errors.push(`DescribeContinuousBackups: ${errorMessage(err)}`);
    return undefined;
  });
  const ledger = svc.config.ledgerTable ? svc.ledger() : undefined;
  const policies: PolicyFacts[] = [];
  // The table's copy records, read once for all its policies with `copy`.
  let copies: Promise<CopyRecord[]> | undefined;
  for (const name of policyNames) {
    let facts: PolicyFacts = { name };
    try {
      const eff = await svc.policies.getEffective(name, table);
      facts = { name, policy: eff.policy };
    } catch (err) {
      facts = { name, error: errorMessage(err) };
    }
    if (ledger) {
      try {
        // The last backup is the newest live ledger record: the service's own, still existing as
        // far as the ledger knows (a backup deleted by hand is VANISHED once noticed). A backup
        // merely named like ours never counts.
        const [st, records] = await Promise.all([ledger.getState(table, name), ledger.listBackupRecords(table, name)]);
        const newest = liveNewestFirst(records)[0];
        facts = {
          ...facts,
          ...(newest ? { lastBackupAt: newest.createdAt } : {}),
          ...(st?.lastAttemptStatus ? { lastAttemptStatus: st.lastAttemptStatus } : {}),
          ...(st?.lastError ? { lastError: st.lastError } : {}),
        };
      } catch (err) {
        errors.push(`ledger: ${errorMessage(err)}`);
      }
    }
    if (ledger && facts.policy?.copy) {
      try {
        const copy = newestCompleted((await (copies ??= new CopyLedger(ddb, ledger.tableName).listCopies(table))).filter((c) => c.policy === name));
        if (copy) facts = { ...facts, lastCopyAt: copy.requestedAt };
      } catch (err) {
        errors.push(`copies: ${errorMessage(err)}`);
      }
    }
    policies.push(facts);
  }
  let lastDrill: TableFactsForCoverage['lastDrill'];
  if (ledger && policies.some((p) => p.policy?.drill)) {
    try {
      const d = await new DrillLedger(ddb, ledger.tableName).latest(table);
      if (d) lastDrill = { startedAt: d.startedAt, passed: d.passed };
    } catch (err) {
      errors.push(`drills: ${errorMessage(err)}`);
    }
  }
  return {
    table,
    policies,
    ...(lastDrill ? { lastDrill } : {}),
    ...(pitr ? { pitr } : {}),
    ...(described ? { streamEnabled: described.StreamSpecification?.StreamEnabled ?? false } : {}),
    ...(errors.length ? { errors } : {}),
  };
}

/** The tables asked for by name (`only`) that do not exist in the account and region. */
export interface CoverageMissing {
  readonly missing?: readonly string[];
}

/**
 * The coverage report of every table in the account and region (ListTables, every page), with
 * its policies from the opt-in tag (GetResources). A table whose facts cannot all be read is
 * still reported, with the errors. Tables named in `only` that do not exist are listed in
 * `missing` (absent when there are none).
 */
export async function collectCoverage(svc: Service, opts: CoverageOptions = {}): Promise<CoverageReport & CoverageMissing> {
  const [all, tagged] = await Promise.all([listAllTables(svc), svc.discovery.discover()]);
  const policiesOf = new Map(tagged.map((t) => [t.table, t.policies]));
  const tables = all
    .filter((t) => !opts.ignore || !matchesAny(t, opts.ignore))
    .filter((t) => !opts.only || opts.only.includes(t));
  const facts = await mapLimit(tables, opts.concurrency ?? 4, (t) => tableFacts(svc, t, policiesOf.get(t) ?? []));
  const existing = new Set(all);
  const missing = [...new Set(opts.only ?? [])].filter((t) => !existing.has(t));
  return { ...coverageReport(facts, svc.clock.now()), ...(missing.length > 0 ? { missing } : {}) };
}

/** Publishes the flagged tables as one SNS message; undefined (nothing sent) when none is flagged. */
export async function publishDigest(
  svc: Service,
  report: CoverageReport,
  flags: readonly CoverageFlag[] = DIGEST_FLAGS,
  appendix = '',
): Promise<{ messageId?: string; flagged: number }> {
  const flagged = flaggedTables(report, flags).length;
  if (flagged === 0 || !svc.config.topicArn) return { flagged };
  let maxTables = 500;
  const compose = () => digestMessage(report, flags, maxTables) + (appendix ? `\n\n${appendix}` : '');
  let message = compose();
  while (Buffer.byteLength(message) > 240 * 1024 && maxTables > 1) {
    maxTables = Math.floor(maxTables / 2);
    message = compose();
  }
  const out = await svc.clients.sns.send(
    new PublishCommand({
      TopicArn: svc.config.topicArn,
      Subject: digestSubject(report, flags),
      Message: message,
      MessageAttributes: { kind: { DataType: 'String', StringValue: 'coverage' } },
    }),
  );
  return { messageId: out.MessageId, flagged };
}
