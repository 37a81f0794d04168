import { DEFAULTS, ENV } from '../env';
import { systemClock, type Clock, type TableDiscovery } from '../core/ports';
/* eslint-disable @typescript-eslint/no-require-imports -- adapters (and the SDK clients they import)
   are loaded on first use, not at cold start. */
import type { BackupsAdapter } from './backups';
import type { Clients } from './clients';
import type { JobQueue } from './queue';
import type { Ledger } from './ledger';
import type { Notifier } from './notifier';
import type { PolicyStore } from './policy-store';

/** Where the service's state lives. The Lambdas read it from env; the CLI from flags and env. */
export interface ServiceConfig {
  readonly ledgerTable?: string;
  readonly topicArn?: string;
  readonly jobQueueUrl?: string;
  readonly tagKey: string;
  readonly policyPrefix: string;
  readonly tablePrefix: string;
  readonly cacheSeconds: number;
  readonly maxReceiveCount: number;
}

/** A whole number from a setting, or the fallback when unset; anything else is an error naming it. */
export function intFrom(value: string | undefined, fallback: number, name: string): number {
  if (value === undefined || value === '') return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new Error(`${name} must be a whole number, got "${value}"`);
  return n;
}

export function configFromEnv(env: NodeJS.ProcessEnv = process.env): ServiceConfig {
  return {
    ledgerTable: env[ENV.LEDGER_TABLE] || undefined,
    topicArn: env[ENV.TOPIC_ARN] || undefined,
    jobQueueUrl: env[ENV.JOB_QUEUE_URL] || undefined,
    tagKey: env[ENV.TAG_KEY] || DEFAULTS.TAG_KEY,
    policyPrefix: env[ENV.POLICY_PREFIX] || DEFAULTS.POLICY_PREFIX,
    tablePrefix: env[ENV.TABLE_OVERRIDE_PREFIX] || DEFAULTS.TABLE_OVERRIDE_PREFIX,
    cacheSeconds: intFrom(env[ENV.POLICY_CACHE_SECONDS], DEFAULTS.POLICY_CACHE_SECONDS, ENV.POLICY_CACHE_SECONDS),
    maxReceiveCount: intFrom(env[ENV.MAX_RECEIVE_COUNT], DEFAULTS.MAX_RECEIVE_COUNT, ENV.MAX_RECEIVE_COUNT),
  };
}

/** Fails fast, naming the variable, when a required setting is missing. */
export function required<T>(value: T | undefined, what: string): T {
  if (value === undefined || value === null || value === '') {
    throw new Error(`missing setting: ${what}`);
  }
  return value;
}

/** The adapters over one set of clients: the composition root of the Lambdas and the CLI. */
export interface Service {
  readonly config: ServiceConfig;
  readonly clients: Clients;
  readonly clock: Clock;
  readonly policies: PolicyStore;
  readonly discovery: TableDiscovery;
  readonly backups: BackupsAdapter;
  readonly notifier: Notifier;
  /** Throws when no ledger table is configured. */
  ledger(): Ledger;
  /** Throws when no job queue is configured. */
  queue(): JobQueue;
}

export function buildService(clients: Clients, config: ServiceConfig, clock: Clock = systemClock): Service {
  const once = <T>(make: () => T): (() => T) => {
    let value: T | undefined;
    return () => (value ??= make());
  };
  const policies = once(
    () =>
      new (require('./policy-store') as typeof import('./policy-store')).PolicyStore(clients.ssm, {
        policyPrefix: config.policyPrefix,
        tablePrefix: config.tablePrefix,
        cacheSeconds: config.cacheSeconds,
      }),
  );
  const backups = once(() => new (require('./backups') as typeof import('./backups')).BackupsAdapter(clients.dynamodb));
  const notifier = once(() => new (require('./notifier') as typeof import('./notifier')).Notifier(clients.sns, config.topicArn));
  const ledger = once(
    () =>
      new (require('./ledger') as typeof import('./ledger')).Ledger(
        clients.dynamodb,
        required(config.ledgerTable, `ledger table (${ENV.LEDGER_TABLE} or --ledger-table)`),
      ),
  );
  const queue = once(
    () => new (require('./queue') as typeof import('./queue')).JobQueue(clients.sqs, required(config.jobQueueUrl, `job queue URL (${ENV.JOB_QUEUE_URL})`)),
  );
  return {
    config,
    clients,
    clock,
    get policies() {
      return policies();
    },
    discovery: {
      discover: () => (require('./tagging') as typeof import('./tagging')).discoverTaggedTables(clients.tagging, config.tagKey),
    },
    get backups() {
      return backups();
    },
    get notifier() {
      return notifier();
    },
    ledger,
    queue,
  };
}
