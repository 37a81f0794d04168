/* eslint-disable @typescript-eslint/no-require-imports -- the size adapters (and the SDK clients they
   import) load on first use, not at cold start. */
import { Logger } from '@aws-lambda-powertools/logger';
import { createClients } from '../aws/clients';
import { RateLimits } from '../aws/limits';
import { buildService, configFromEnv, type Service } from '../aws/service';
import type { SizeConfig } from '../aws/size-service';
import type { SizeProbeReport } from '../core/size-probe';

/**
 * The size-alarm reconciler alone: makes the alarms of the prefix match the tags and policies
 * (create, update on drift, delete), without publishing metrics or calling DescribeTable.
 * The deployed service runs the same reconcile at the start of every probe run (SizeTrigger);
 * this entry point is for running it on its own (another schedule, a tag-change rule, by hand).
 */

const logger = new Logger({ serviceName: 'ddb-backup-size-reconciler' });
let service: Service | undefined;
let config: SizeConfig | undefined;

const sizeService = () => require('../aws/size-service') as typeof import('../aws/size-service');

function getService(): Service {
  if (!service) {
    const { SIZE_RATES } = require('../aws/alarms') as typeof import('../aws/alarms');
    service = buildService(createClients({ limits: new RateLimits(SIZE_RATES) }), configFromEnv());
  }
  return service;
}

export async function reconcilerHandler(
  _event: unknown,
  svc: Service = getService(),
  cfg: SizeConfig = (config ??= sizeService().sizeConfigFromEnv()),
): Promise<SizeProbeReport> {
  const report = await sizeService().runSizeTrigger(svc, cfg, 'reconcile', logger);
  logger.info('size alarms reconciled', { targets: report.targets.length, alarms: report.alarms, problems: report.problems.length });
  return report;
}

export const handler = async (event: unknown) => {
  const r = await reconcilerHandler(event);
  return { targets: r.targets.length, alarms: r.alarms, problems: r.problems.length };
};
