import { Logger } from '@aws-lambda-powertools/logger';
import type { Service } from '../aws/service';
import type { SizeConfig } from '../aws/size-service';
import { lazy } from '../core/lazy';
import type { SizeProbeReport } from '../core/triggers/size-probe';
import { sizeReconcileOutput, type SizeReconcileOutput } from '../core/triggers/size-summary';

/**
 * The size-alarm reconciler alone: makes the alarms of the prefix match the tags and policies
 * (create, update on drift, delete), without publishing metrics or calling DescribeTable.
 * The deployed service runs the same reconcile at the start of every probe run (SizeTrigger);
 * this entry point is for running it on its own (another schedule, a tag-change rule, by hand).
 */

const logger = new Logger({ serviceName: 'ddb-backup-size-reconciler' });
/** The service at the size trigger's rates; it loads on first use, not at cold start. */
const service = lazy(async () => {
  const [{ serviceFromEnv }, { RateLimits }, { SIZE_RATES }] = await Promise.all([import('../aws/service'), import('../aws/limits'), import('../aws/alarms')]);
  return serviceFromEnv({ limits: new RateLimits(SIZE_RATES) });
});
const config = lazy(async () => (await import('../aws/size-service')).sizeConfigFromEnv());

export async function sizeReconcilerHandler(_event: unknown, svc?: Service, cfg?: SizeConfig): Promise<SizeProbeReport> {
  const s = svc ?? (await service());
  const c = cfg ?? (await config());
  const report = await (await import('../aws/size-service')).runSizeTrigger(s, c, 'reconcile', logger);
  logger.info('size alarms reconciled', { ...sizeReconcileOutput(report) });
  return report;
}

export const handler = async (event: unknown): Promise<SizeReconcileOutput> => sizeReconcileOutput(await sizeReconcilerHandler(event));
