/* eslint-disable @typescript-eslint/no-require-imports -- the coverage adapter (and the SDK clients it
   imports) loads on first use, not at cold start. */
import { Logger } from '@aws-lambda-powertools/logger';
import { createClients } from '../aws/clients';
import { buildService, configFromEnv, type Service } from '../aws/service';
import { DIGEST_FLAGS, flaggedTables } from '../core/coverage';
import { errorMessage } from '../core/errors';
import { RUN_NOT_PUBLISHED } from '../core/runs';
import { DIGEST_ENV } from '../env';

const logger = new Logger({ serviceName: 'ddb-backup-digest' });
let service: Service | undefined;

/** Module-scope composition, created on first use and reused across invocations. */
function getService(): Service {
  service ??= buildService(createClients(), configFromEnv());
  return service;
}

/** `a, b*` -> ['a', 'b*']. */
export function ignoreList(value: string | undefined): string[] {
  return (value ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

export interface DigestOutcome {
  readonly tables: number;
  readonly flagged: number;
  readonly messageId?: string;
}

/**
 * Daily coverage digest: the same report as `ddb-backup status`, and one SNS message naming the
 * UNPROTECTED, STALE, FAILING, PITR_DRIFT and POLICY_ERROR tables. Nothing is sent when every
 * table is fine. A failure to list tables or publish throws: the async invocation is retried,
 * then lands in the trigger dead-letter queue, whose alarm notifies the topic. A failed publish is
 * also logged as RUN_NOT_PUBLISHED. A table whose facts cannot be read is reported, never skipped.
 */
export async function digestHandler(_event: unknown = {}, svc: Service = getService(), env: NodeJS.ProcessEnv = process.env): Promise<DigestOutcome> {
  const ignore = ignoreList(env[DIGEST_ENV.IGNORE_TABLES]);
  // The service's own ledger is not a table to back up with the service.
  if (svc.config.ledgerTable) ignore.push(svc.config.ledgerTable);
  const { collectCoverage, publishDigest } = require('../aws/coverage') as typeof import('../aws/coverage');
  const report = await collectCoverage(svc, { ignore });
  const flagged = flaggedTables(report, DIGEST_FLAGS);
  let out: Awaited<ReturnType<typeof publishDigest>>;
  try {
    out = await publishDigest(svc, report, DIGEST_FLAGS);
  } catch (err) {
    // The same line as an unpublished run summary: one metric filter and alarm count both.
    logger.error(RUN_NOT_PUBLISHED, {
      runId: `coverage-digest|${svc.clock.now().toISOString()}`,
      policy: '(coverage digest)',
      flagged: flagged.length,
      error: errorMessage(err),
    });
    throw err;
  }
  logger.info('coverage digest', { counts: report.counts, flagged: flagged.map((t) => ({ table: t.table, flags: t.flags })), messageId: out.messageId });
  return { tables: report.counts.tables, flagged: out.flagged, ...(out.messageId ? { messageId: out.messageId } : {}) };
}

export const handler = (event: unknown): Promise<DigestOutcome> => digestHandler(event);
