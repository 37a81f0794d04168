import { DIGEST_FLAGS, flaggedTables, type CoverageFlag, type CoverageReport } from './coverage';
import { errorMessage } from '../errors';
import type { Log } from '../log';
import type { Clock } from '../ports';
import { RUN_NOT_PUBLISHED } from '../backup/runs';

/**
 * The daily coverage digest: the same report as `ddb-backup status`, and one message naming the
 * UNPROTECTED, STALE, FAILING, PITR_DRIFT and POLICY_ERROR tables. Nothing is sent when every
 * table is fine. A failure to list tables or publish throws: the async invocation is retried,
 * then lands in the trigger dead-letter queue, whose alarm notifies the topic. A failed publish is
 * also logged as RUN_NOT_PUBLISHED. A table whose facts cannot be read is reported, never skipped.
 */

export interface DigestPorts {
  readonly clock: Clock;
  readonly log: Log;
  /** The coverage of every table but those matching `ignore` (names, or `prefix*`). */
  collect(ignore: string[]): Promise<CoverageReport>;
  /** Publishes the tables with one of `flags` as one message; nothing when no table has one. */
  publish(report: CoverageReport, flags: readonly CoverageFlag[]): Promise<{ readonly flagged: number; readonly messageId?: string }>;
}

export interface DigestRequest {
  /** Comma-separated table names or `prefix*` patterns to leave out (DIGEST_ENV.IGNORE_TABLES). */
  readonly ignoreTables?: string;
  /** The service's own ledger: not a table to back up with the service, so always left out. */
  readonly ledgerTable?: string;
}

export interface DigestOutcome {
  readonly tables: number;
  readonly flagged: number;
  readonly messageId?: string;
}

/** `a, b*` -> ['a', 'b*']. */
export function ignoreList(value: string | undefined): string[] {
  return (value ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

export async function runCoverageDigest(ports: DigestPorts, req: DigestRequest): Promise<DigestOutcome> {
  const { log } = ports;
  const ignore = ignoreList(req.ignoreTables);
  if (req.ledgerTable) ignore.push(req.ledgerTable);
  const report = await ports.collect(ignore);
  const flagged = flaggedTables(report, DIGEST_FLAGS);
  let out: Awaited<ReturnType<DigestPorts['publish']>>;
  try {
    out = await ports.publish(report, DIGEST_FLAGS);
  } catch (err) {
    // The same line as an unpublished run summary: one metric filter and alarm count both.
    log.error(RUN_NOT_PUBLISHED, {
      runId: `coverage-digest|${ports.clock.now().toISOString()}`,
      policy: '(coverage digest)',
      flagged: flagged.length,
      error: errorMessage(err),
    });
    throw err;
  }
  log.info('coverage digest', { counts: report.counts, flagged: flagged.map((t) => ({ table: t.table, flags: t.flags })), messageId: out.messageId });
  return { tables: report.counts.tables, flagged: out.flagged, ...(out.messageId ? { messageId: out.messageId } : {}) };
}
