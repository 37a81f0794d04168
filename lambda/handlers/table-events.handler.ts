import { Logger } from '@aws-lambda-powertools/logger';
import type { Service } from '../aws/service';
import { handleTableEvent, type TableEventOutcome } from '../core/events/table-events';
import { lazy } from '../core/lazy';

/**
 * CloudTrail management events through EventBridge (DeleteBackup, settings changes) into the
 * ledger (lambda/core/events/table-events.ts). Unknown shapes are logged and ignored; a ledger
 * error is thrown, so EventBridge retries the delivery and then dead-letters it.
 */

const logger = new Logger({ serviceName: 'ddb-backup-table-events' });
/** The service over this function's environment: it and its SDK clients load on first use, not at cold start. */
const service = lazy(async () => (await import('../aws/service')).serviceFromEnv());

export async function tableEventsHandler(event: unknown, svc?: Service): Promise<TableEventOutcome> {
  const s = svc ?? (await service());
  const { tableEventPorts } = await import('../aws/table-events');
  return handleTableEvent(tableEventPorts(s, logger), event);
}

export const handler = (event: unknown): Promise<TableEventOutcome> => tableEventsHandler(event);
