import { Logger } from '@aws-lambda-powertools/logger';
import type { Service } from '../aws/service';
import { runCoverageDigest, type DigestOutcome, type DigestPorts } from '../core/coverage/digest';
import { lazy } from '../core/lazy';
import { DIGEST_ENV } from '../env';
import { isAgeTick, serviceMetrics, writeNewestBackupAges } from '../aws/metrics';

/** The daily coverage digest (lambda/core/coverage/digest.ts) over the coverage adapter. */

const logger = new Logger({ serviceName: 'ddb-backup-digest' });
const metrics = serviceMetrics('ddb-backup-digest');
/** The service over this function's environment: it and its SDK clients load on first use, not at cold start. */
const service = lazy(async () => (await import('../aws/service')).serviceFromEnv());

export async function digestHandler(event: unknown = {}, svc?: Service, env: NodeJS.ProcessEnv = process.env): Promise<DigestOutcome> {
  const s = svc ?? (await service());
  const { collectCoverage } = await import('../aws/coverage');
  const { publishDigestWithVerdicts } = await import('../aws/evidence');
  const ports: DigestPorts = {
    clock: s.clock,
    log: logger,
    collect: async (ignore) => writeNewestBackupAges(metrics, await collectCoverage(s, { ignore }), s.clock.now()),
    // The hourly tick publishes the ages only; the daily run the digest too, with the evidence verdicts.
    publish: (report, flags) => (isAgeTick(event) ? Promise.resolve({ flagged: 0 }) : publishDigestWithVerdicts(s, report, flags)),
  };
  return runCoverageDigest(ports, { ignoreTables: env[DIGEST_ENV.IGNORE_TABLES], ledgerTable: s.config.ledgerTable });
}

export const handler = (event: unknown): Promise<DigestOutcome> => digestHandler(event);
