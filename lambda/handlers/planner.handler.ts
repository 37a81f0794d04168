import { Logger } from '@aws-lambda-powertools/logger';
import type { Service } from '../aws/service';
import { lazy } from '../core/lazy';
import { metered, serviceMetrics } from '../aws/metrics';
import { handlePlannerEvent, plannerSummary, type PlannerEventPorts, type PlannerOutcome, type PlannerSummary } from '../core/backup/planner-events';
import { SIZE_DEFAULTS, SIZE_ENV } from '../env';

/**
 * The planner: a rule tick (schedule or prune) or a size alarm's state change -> the planner core
 * (lambda/core/backup/planner-events.ts: routing, planning, dispatch) -> SQS FIFO jobs.
 */

const logger = new Logger({ serviceName: 'ddb-backup-planner' });
const metrics = serviceMetrics('ddb-backup-planner');
/** The service over this function's environment: it and its SDK clients load on first use, not at cold start. */
const service = lazy(async () => (await import('../aws/service')).serviceFromEnv());

export interface PlannerOptions {
  /** Prefix of the size alarms the planner acts on. @default env DDB_BACKUP_SIZE_ALARM_PREFIX, else 'ddb-backup-size-' */
  readonly alarmPrefix?: string;
}

export async function plannerHandler(event: unknown, svc?: Service, opts: PlannerOptions = {}): Promise<PlannerOutcome> {
  const s = svc ?? (await service());
  const ports: PlannerEventPorts = {
    clock: s.clock,
    log: logger,
    run: () => ({ policies: s.policies, discovery: s.discovery, ...metered(s.ledger(), s.notifier, metrics), queue: s.queue(), clock: s.clock, log: logger, backups: s.backups, pages: s.planQueue(), pagesPerInvocation: s.config.pagesPerInvocation }),
  };
  return handlePlannerEvent(ports, event, { alarmPrefix: opts.alarmPrefix ?? (process.env[SIZE_ENV.ALARM_PREFIX] || SIZE_DEFAULTS.ALARM_PREFIX) });
}

export const handler = async (event: unknown): Promise<PlannerSummary> => plannerSummary(await plannerHandler(event));
