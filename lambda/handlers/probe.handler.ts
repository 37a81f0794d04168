import { Logger } from '@aws-lambda-powertools/logger';
import type { Service } from '../aws/service';
import type { SizeConfig } from '../aws/size-service';
import { lazy } from '../core/lazy';
import type { SizeProbeReport } from '../core/triggers/size-probe';
import { callsBetween, sizeProbeLog, sizeProbeOutput, type SizeProbeOutput } from '../core/triggers/size-summary';

/**
 * The size probe (EventBridge schedule, hourly by default). Each run first reconciles the size
 * alarms with the tags and policies, then publishes per table TableSizeBytes and ItemCount and per
 * (table, policy) GrowthSinceLastBackupBytes/Percent, which the alarms watch.
 */

const logger = new Logger({ serviceName: 'ddb-backup-size-probe' });
/** The service at the size trigger's rates, counting its calls; it loads on first use, not at cold start. */
const counted = lazy(async () => {
  const [{ serviceFromEnv }, { CallCounter, RateLimits }, { SIZE_RATES }] = await Promise.all([import('../aws/service'), import('../aws/limits'), import('../aws/alarms')]);
  const counter = new CallCounter();
  return { svc: serviceFromEnv({ limits: new RateLimits(SIZE_RATES), counter }), counter };
});
const config = lazy(async () => (await import('../aws/size-service')).sizeConfigFromEnv());

export async function probeHandler(_event: unknown, svc?: Service, cfg?: SizeConfig): Promise<SizeProbeReport> {
  const { svc: s, counter } = svc ? { svc, counter: undefined } : await counted();
  const c = cfg ?? (await config());
  const { runSizeTrigger } = await import('../aws/size-service');
  const before = counter?.snapshot() ?? {};
  const report = await runSizeTrigger(s, c, 'probe', logger);
  logger.info('size probe done', sizeProbeLog(report, callsBetween(before, counter?.snapshot() ?? {})));
  return report;
}

export const handler = async (event: unknown): Promise<SizeProbeOutput> => sizeProbeOutput(await probeHandler(event));
