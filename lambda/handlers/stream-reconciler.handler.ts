/* eslint-disable @typescript-eslint/no-require-imports -- the Lambda client and the stream adapters (and
   the SDK clients and lib-dynamodb they import) load on first use, not at cold start. */
import type { LambdaClient } from '@aws-sdk/client-lambda';
import { Logger } from '@aws-lambda-powertools/logger';
import { createClients } from '../aws/clients';
import { buildService, configFromEnv, required, type Service } from '../aws/service';
import { reconcileStreams, type StreamReconcileDeps, type StreamReconcileReport } from '../core/stream-reconcile';
import { STREAM_ENV } from '../env';

/**
 * Scheduled (default every 15 minutes): keeps the stream handler's event source mappings in step
 * with the tags and policies. Creates a mapping for each opted-in table's latest stream, fixes
 * its filter, deletes mappings of tables no longer opted in, enables KEYS_ONLY streams where a
 * policy says `enableStream`, and reports tables without a stream on SNS.
 */

const logger = new Logger({ serviceName: 'ddb-backup-stream-reconciler' });
let deps: StreamReconcileDeps | undefined;

export function buildReconcileDeps(svc: Service, lambda: LambdaClient, env: NodeJS.ProcessEnv = process.env): StreamReconcileDeps {
  const functionName = required(env[STREAM_ENV.FUNCTION_NAME], `stream handler function (${STREAM_ENV.FUNCTION_NAME})`);
  const { ChangeTopicNotifier } = require('../aws/change-notifier') as typeof import('../aws/change-notifier');
  const { StreamMappings, StreamReportPublisher } = require('../aws/stream-mappings') as typeof import('../aws/stream-mappings');
  const notifier = new ChangeTopicNotifier(svc.clients.sns, svc.config.topicArn);
  return {
    discovery: svc.discovery,
    policies: svc.policies,
    api: new StreamMappings(lambda, svc.clients.dynamodb, { functionName, onFailureArn: env[STREAM_ENV.ON_FAILURE_ARN] || undefined }),
    report: new StreamReportPublisher(notifier, svc.clients.dynamodb, svc.config.ledgerTable),
    log: logger,
  };
}

function getDeps(): StreamReconcileDeps {
  deps ??= buildReconcileDeps(
    buildService(createClients(), configFromEnv()),
    new (require('@aws-sdk/client-lambda') as typeof import('@aws-sdk/client-lambda')).LambdaClient({ retryMode: 'adaptive', maxAttempts: 8 }),
  );
  return deps;
}

export interface ReconcilerOutput {
  readonly created: number;
  readonly updated: number;
  readonly deleted: number;
  readonly unchanged: number;
  readonly streamsEnabled: string[];
  readonly missingStream: string[];
  readonly missingTable: string[];
  readonly errors: number;
  readonly notified: boolean;
}

export function outputOf(r: StreamReconcileReport): ReconcilerOutput {
  return {
    created: r.created.length,
    updated: r.updated.length,
    deleted: r.deleted.length,
    unchanged: r.plan.unchanged,
    streamsEnabled: r.streamsEnabled,
    missingStream: r.plan.missingStream.map((m) => m.table),
    missingTable: r.plan.missingTable,
    errors: r.errors.length,
    notified: r.notified,
  };
}

export async function reconcilerHandler(_event: unknown, d: StreamReconcileDeps = getDeps()): Promise<ReconcilerOutput> {
  const report = await reconcileStreams(d);
  const out = outputOf(report);
  logger.info('stream mappings reconciled', { ...out });
  return out;
}

export const handler = (event: unknown): Promise<ReconcilerOutput> => reconcilerHandler(event);
