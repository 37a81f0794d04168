/* eslint-disable @typescript-eslint/no-require-imports -- each SDK client module is loaded on first
   use, not at cold start: a handler pays only for the clients its invocation touches. */
import type { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { ResourceGroupsTaggingAPIClient } from '@aws-sdk/client-resource-groups-tagging-api';
import type { SNSClient } from '@aws-sdk/client-sns';
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { SSMClient } from '@aws-sdk/client-ssm';
import { instrumentClient, RateLimits, type CallCounter } from './limits';

/** Where to reach AWS: a region and, for moto or LocalStack, an endpoint. */
export interface ClientOptions {
  readonly region?: string;
  /** Overrides every service endpoint (moto server, LocalStack). SDK v3 also honours AWS_ENDPOINT_URL. */
  readonly endpoint?: string;
  /** Attempts per call, including the first. Adaptive retry backs off on throttling. */
  readonly maxAttempts?: number;
  /** Per-API rate limiters; by default one set per `createClients` call, at the account rates. */
  readonly limits?: RateLimits;
  /** Counts every call by API name. */
  readonly counter?: CallCounter;
  /** Replaces the HTTP layer (benchmarks simulate AWS in-process with it). */
  readonly requestHandler?: unknown;
}

/** The SDK clients the service uses, created once and injected into the adapters. */
export interface Clients {
  readonly dynamodb: DynamoDBClient;
  readonly tagging: ResourceGroupsTaggingAPIClient;
  readonly ssm: SSMClient;
  readonly sns: SNSClient;
  readonly sqs: SQSClient;
  readonly cloudwatch: CloudWatchClient;
}

function baseConfig(opts: ClientOptions) {
  return {
    region: opts.region ?? process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION ?? 'us-east-1',
    ...(opts.endpoint ? { endpoint: opts.endpoint } : {}),
    // Adaptive retry adds a client-side token bucket that slows down when AWS throttles.
    retryMode: 'adaptive',
    maxAttempts: opts.maxAttempts ?? 8,
    ...(opts.requestHandler ? { requestHandler: opts.requestHandler as never } : {}),
  };
}

/**
 * Creates the clients lazily: a handler pays only for the clients it touches, which keeps
 * cold starts short.
 */
export function createClients(opts: ClientOptions = {}): Clients {
  const cfg = baseConfig(opts);
  const limits = opts.limits ?? new RateLimits();
  const cache = new Map<string, unknown>();
  const lazy = <T extends { middlewareStack: unknown }>(key: string, make: () => T): T => {
    if (!cache.has(key)) cache.set(key, instrumentClient(make(), limits, opts.counter));
    return cache.get(key) as T;
  };
  return {
    get dynamodb() {
      return lazy('dynamodb', () => new (require('@aws-sdk/client-dynamodb') as typeof import('@aws-sdk/client-dynamodb')).DynamoDBClient(cfg));
    },
    get tagging() {
      return lazy('tagging', () => new (require('@aws-sdk/client-resource-groups-tagging-api') as typeof import('@aws-sdk/client-resource-groups-tagging-api')).ResourceGroupsTaggingAPIClient(cfg));
    },
    get ssm() {
      return lazy('ssm', () => new (require('@aws-sdk/client-ssm') as typeof import('@aws-sdk/client-ssm')).SSMClient(cfg));
    },
    get sns() {
      return lazy('sns', () => new (require('@aws-sdk/client-sns') as typeof import('@aws-sdk/client-sns')).SNSClient(cfg));
    },
    get sqs() {
      return lazy('sqs', () => new (require('@aws-sdk/client-sqs') as typeof import('@aws-sdk/client-sqs')).SQSClient(cfg));
    },
    get cloudwatch() {
      return lazy('cloudwatch', () => new (require('@aws-sdk/client-cloudwatch') as typeof import('@aws-sdk/client-cloudwatch')).CloudWatchClient(cfg));
    },
  };
}
