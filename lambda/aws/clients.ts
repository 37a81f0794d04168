import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ResourceGroupsTaggingAPIClient } from '@aws-sdk/client-resource-groups-tagging-api';
import { SNSClient } from '@aws-sdk/client-sns';
import { SQSClient } from '@aws-sdk/client-sqs';
import { SSMClient } from '@aws-sdk/client-ssm';
import { ENV } from '../env';
import { instrumentClient, RateLimits, sharedRates, type CallCounter } from './limits';

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
 * Creates each client on first use. The SDK modules load with this module: the Lambdas import it
 * (through the service) with `await import()` on their first invocation, never at cold start.
 */
export function createClients(opts: ClientOptions = {}): Clients {
  const cfg = baseConfig(opts);
  // A function that runs as N containers at once (the worker) gets 1/N of each account rate.
  const limits = opts.limits ?? new RateLimits(sharedRates(Number(process.env[ENV.RATE_SHARE] ?? 1)));
  const cache = new Map<string, unknown>();
  const lazy = <T extends { middlewareStack: unknown }>(key: string, make: () => T): T => {
    if (!cache.has(key)) cache.set(key, instrumentClient(make(), limits, opts.counter));
    return cache.get(key) as T;
  };
  return {
    get dynamodb() {
      return lazy('dynamodb', () => new DynamoDBClient(cfg));
    },
    get tagging() {
      return lazy('tagging', () => new ResourceGroupsTaggingAPIClient(cfg));
    },
    get ssm() {
      return lazy('ssm', () => new SSMClient(cfg));
    },
    get sns() {
      return lazy('sns', () => new SNSClient(cfg));
    },
    get sqs() {
      return lazy('sqs', () => new SQSClient(cfg));
    },
    get cloudwatch() {
      return lazy('cloudwatch', () => new CloudWatchClient(cfg));
    },
  };
}
