import { DEFAULTS, ENV } from '../env';
import { systemClock, type Clock, type TableDiscovery } from '../core/ports';
import { BackupsAdapter } from './backups';
import { createClients, type ClientOptions, type Clients } from './clients';
import { JobQueue, PlanQueue } from './queue';
import { Ledger } from './ledger';
import { Notifier } from './notifier';
import { PolicyStore } from './policy-store';
import { discoverTaggedPage, discoverTaggedTables } from './tagging';

/** Where the service's state lives. The Lambdas read it from env; the CLI from flags and env. */
export interface ServiceConfig {
  readonly ledgerTable?: string;
  readonly topicArn?: string;
  readonly jobQueueUrl?: string;
  readonly planQueueUrl?: string;
  /** Tag pages one planner invocation plans (the fan-out). */
  readonly pagesPerInvocation?: number;
  readonly tagKey: string;
  readonly policyPrefix: string;
  readonly tablePrefix: string;
  readonly cacheSeconds: number;
  readonly maxReceiveCount: number;
  /** Days records out of use stay in the ledger (the audit period). */
  readonly auditDays?: number;
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
    planQueueUrl: env[ENV.PLAN_QUEUE_URL] || undefined,
    pagesPerInvocation: env[ENV.PAGES_PER_INVOCATION] ? intFrom(env[ENV.PAGES_PER_INVOCATION], 10, ENV.PAGES_PER_INVOCATION) : undefined,
    tagKey: env[ENV.TAG_KEY] || DEFAULTS.TAG_KEY,
    policyPrefix: env[ENV.POLICY_PREFIX] || DEFAULTS.POLICY_PREFIX,
    tablePrefix: env[ENV.TABLE_OVERRIDE_PREFIX] || DEFAULTS.TABLE_OVERRIDE_PREFIX,
    cacheSeconds: intFrom(env[ENV.POLICY_CACHE_SECONDS], DEFAULTS.POLICY_CACHE_SECONDS, ENV.POLICY_CACHE_SECONDS),
    maxReceiveCount: intFrom(env[ENV.MAX_RECEIVE_COUNT], DEFAULTS.MAX_RECEIVE_COUNT, ENV.MAX_RECEIVE_COUNT),
    auditDays: intFrom(env[ENV.AUDIT_DAYS], DEFAULTS.AUDIT_DAYS, ENV.AUDIT_DAYS),
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
  /** The plan queue of the planner's fan-out; undefined when none is configured (every page in one invocation). */
  planQueue(): PlanQueue | undefined;
}

/**
 * The adapters are created on first use, each with the one client it needs (itself created on
 * first use). The modules load with this one: the Lambdas import it with `await import()` on
 * their first invocation, never at cold start.
 */
export function buildService(clients: Clients, config: ServiceConfig, clock: Clock = systemClock): Service {
  const once = <T>(make: () => T): (() => T) => {
    let value: T | undefined;
    return () => (value ??= make());
  };
  const policies = once(
    () =>
      new PolicyStore(clients.ssm, {
        policyPrefix: config.policyPrefix,
        tablePrefix: config.tablePrefix,
        cacheSeconds: config.cacheSeconds,
      }),
  );
  const backups = once(() => new BackupsAdapter(clients.dynamodb));
  const notifier = once(() => new Notifier(clients.sns, config.topicArn));
  const ledger = once(() => new Ledger(clients.dynamodb, required(config.ledgerTable, `ledger table (${ENV.LEDGER_TABLE} or --ledger-table)`), { auditDays: config.auditDays }));
  const planQueue = once(() => (config.planQueueUrl ? new PlanQueue(clients.sqs, config.planQueueUrl) : undefined));
  const queue = once(() => new JobQueue(clients.sqs, required(config.jobQueueUrl, `job queue URL (${ENV.JOB_QUEUE_URL})`)));
  return {
    config,
    clients,
    clock,
    get policies() {
      return policies();
    },
    discovery: {
      discover: () => discoverTaggedTables(clients.tagging, config.tagKey),
      discoverPage: (token) => discoverTaggedPage(clients.tagging, config.tagKey, token),
    },
    get backups() {
      return backups();
    },
    get notifier() {
      return notifier();
    },
    ledger,
    queue,
    planQueue,
  };
}

/** A Lambda's service: its settings from the environment, its clients per `opts`. */
export function serviceFromEnv(opts: ClientOptions = {}, env: NodeJS.ProcessEnv = process.env): Service {
  return buildService(createClients(opts), configFromEnv(env));
}
