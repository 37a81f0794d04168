/* eslint-disable @typescript-eslint/no-require-imports -- the size adapters (and the SDK clients they
   import) load on first use, not at cold start. */
import { Logger } from '@aws-lambda-powertools/logger';
import { createClients } from '../aws/clients';
import { CallCounter, RateLimits } from '../aws/limits';
import { buildService, configFromEnv, type Service } from '../aws/service';
import type { SizeConfig } from '../aws/size-service';
import type { SizeProbeReport } from '../core/size-probe';

/**
 * The size probe (EventBridge schedule, hourly by default). Each run first reconciles the size
 * alarms with the tags and policies, then publishes per table TableSizeBytes and ItemCount and per
 * (table, policy) GrowthSinceLastBackupBytes/Percent, which the alarms watch.
 */

const logger = new Logger({ serviceName: 'ddb-backup-size-probe' });
const counter = new CallCounter();
let service: Service | undefined;
let config: SizeConfig | undefined;

const sizeService = () => require('../aws/size-service') as typeof import('../aws/size-service');

function getService(): Service {
  if (!service) {
    const { SIZE_RATES } = require('../aws/alarms') as typeof import('../aws/alarms');
    service = buildService(createClients({ limits: new RateLimits(SIZE_RATES), counter }), configFromEnv());
  }
  return service;
}

export async function probeHandler(
  _event: unknown,
  svc: Service = getService(),
  cfg: SizeConfig = (config ??= sizeService().sizeConfigFromEnv()),
): Promise<SizeProbeReport> {
  const { runSizeTrigger } = sizeService();
  const before = counter.snapshot();
  const report = await runSizeTrigger(svc, cfg, 'probe', logger);
  const after = counter.snapshot();
  const calls = Object.fromEntries(Object.entries(after).map(([k, v]) => [k, v - (before[k] ?? 0)]).filter(([, v]) => (v as number) > 0));
  logger.info('size probe done', {
    targets: report.targets.length,
    breaching: report.targets.filter((t) => t.breaching).map((t) => `${t.policy}/${t.table}`).slice(0, 50),
    alarms: report.alarms,
    points: report.points,
    putMetricDataCalls: report.putMetricDataCalls,
    problems: report.problems.length,
    calls,
  });
  return report;
}

export const handler = async (event: unknown) => {
  const r = await probeHandler(event);
  return { targets: r.targets.length, alarms: r.alarms, points: r.points, putMetricDataCalls: r.putMetricDataCalls, problems: r.problems.length };
};
