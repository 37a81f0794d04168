import { Logger } from '@aws-lambda-powertools/logger';
import { lazy } from '../core/lazy';
import { reconcileStreams, type StreamReconcileDeps } from '../core/triggers/stream-reconcile';
import { streamReconcileSummary, type StreamReconcileSummary } from '../core/triggers/stream-reconcile-summary';
import { STREAM_ENV } from '../env';

/**
 * Scheduled (default every 15 minutes): keeps the stream handler's event source mappings in step
 * with the tags and policies. Creates a mapping for each opted-in table's latest stream, fixes
 * its filter, deletes mappings of tables no longer opted in, enables KEYS_ONLY streams where a
 * policy says `enableStream`, and reports tables without a stream on SNS.
 */

const logger = new Logger({ serviceName: 'ddb-backup-stream-reconciler' });
/** The reconciler's ports over this function's environment; they and the SDK clients load on first use, not at cold start. */
const deps = lazy(async (): Promise<StreamReconcileDeps> => {
  const [{ required, serviceFromEnv }, { LambdaClient }, { ChangeTopicNotifier }, { StreamMappings, StreamReportPublisher }] = await Promise.all([
    import('../aws/service'),
    import('@aws-sdk/client-lambda'),
    import('../aws/change-notifier'),
    import('../aws/stream-mappings'),
  ]);
  const svc = serviceFromEnv();
  const lambda = new LambdaClient({ retryMode: 'adaptive', maxAttempts: 8 });
  const functionName = required(process.env[STREAM_ENV.FUNCTION_NAME], `stream handler function (${STREAM_ENV.FUNCTION_NAME})`);
  const api = new StreamMappings(lambda, svc.clients.dynamodb, { functionName, onFailureArn: process.env[STREAM_ENV.ON_FAILURE_ARN] || undefined });
  const report = new StreamReportPublisher(new ChangeTopicNotifier(svc.clients.sns, svc.config.topicArn), svc.clients.dynamodb, svc.config.ledgerTable);
  return { discovery: svc.discovery, policies: svc.policies, api, report, log: logger };
});

export async function streamReconcilerHandler(_event: unknown, d?: StreamReconcileDeps): Promise<StreamReconcileSummary> {
  const summary = streamReconcileSummary(await reconcileStreams(d ?? (await deps())));
  logger.info('stream mappings reconciled', { ...summary });
  return summary;
}

export const handler = (event: unknown): Promise<StreamReconcileSummary> => streamReconcilerHandler(event);
