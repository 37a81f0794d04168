import { Logger } from '@aws-lambda-powertools/logger';
import { ChangeCounter } from '../aws/change-counter';
import { ChangeTopicNotifier } from '../aws/change-notifier';
import { intFrom, required, type Service } from '../aws/service';
import { TablePolicyResolver } from '../aws/table-policies';
import type { Log } from '../core/log';
import type { StreamTriggerDeps } from '../core/triggers/stream-trigger';
import { ENV, STREAM_DEFAULTS, STREAM_ENV } from '../env';

/**
 * The stream handler's composition over one Service: the change counter, the table policy
 * resolver (tags cached), the dispatch path and the change notifier. The handler imports this
 * module with `await import()` on its first invocation, so none of it loads at cold start.
 */
export function buildStreamDeps(svc: Service, env: NodeJS.ProcessEnv = process.env, log: Log = new Logger({ serviceName: 'ddb-backup-stream' })): StreamTriggerDeps {
  const ledgerTable = required(svc.config.ledgerTable, `ledger table (${ENV.LEDGER_TABLE})`);
  return {
    counter: new ChangeCounter(svc.clients.dynamodb, ledgerTable),
    tables: new TablePolicyResolver(
      svc.clients.dynamodb,
      svc.policies,
      svc.config.tagKey,
      intFrom(env[STREAM_ENV.TAG_CACHE_SECONDS], STREAM_DEFAULTS.TAG_CACHE_SECONDS, STREAM_ENV.TAG_CACHE_SECONDS),
    ),
    dispatch: { policies: svc.policies, runs: svc.ledger(), queue: svc.queue(), notifier: svc.notifier },
    notifier: new ChangeTopicNotifier(svc.clients.sns, svc.config.topicArn),
    clock: svc.clock,
    log,
    rearmMinutes: intFrom(env[STREAM_ENV.REARM_MINUTES], STREAM_DEFAULTS.REARM_MINUTES, STREAM_ENV.REARM_MINUTES),
  };
}
