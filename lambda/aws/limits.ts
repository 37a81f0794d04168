import Bottleneck from 'bottleneck';

/**
 * DynamoDB and tagging control-plane rates per account and region (calls per second). The
 * service stays under them on its own, rather than learning them from throttling errors.
 */
export const ACCOUNT_RATES: Readonly<Record<string, number>> = {
  CreateBackup: 50,
  DeleteBackup: 10,
  ListBackups: 5,
  GetResources: 15,
};

/**
 * The account rates as each of `share` processes gets them: N worker containers, each limited to
 * 1/N of every account rate, stay within the account's rates together (rather than N times them,
 * learning the limit from throttling).
 */
export function sharedRates(share: number, rates: Readonly<Record<string, number>> = ACCOUNT_RATES): Record<string, number> {
  const n = Number.isFinite(share) && share > 1 ? share : 1;
  return Object.fromEntries(Object.entries(rates).map(([api, rate]) => [api, rate / n]));
}

/** Counts SDK calls per API, for metrics, the CLI's --json and the benchmarks. */
export class CallCounter {
  private readonly counts = new Map<string, number>();

  add(api: string): void {
    this.counts.set(api, (this.counts.get(api) ?? 0) + 1);
  }

  get(api: string): number {
    return this.counts.get(api) ?? 0;
  }

  snapshot(): Record<string, number> {
    return Object.fromEntries([...this.counts.entries()].sort(([a], [b]) => a.localeCompare(b)));
  }

  total(): number {
    let n = 0;
    for (const v of this.counts.values()) n += v;
    return n;
  }
}

/** One limiter per rate-limited API, shared by every client in the process. */
export class RateLimits {
  private readonly limiters = new Map<string, Bottleneck>();

  constructor(private readonly rates: Readonly<Record<string, number>> = ACCOUNT_RATES) {}

  /** Schedules `fn` within the API's rate; APIs without a rate run at once. */
  schedule<T>(api: string, fn: () => Promise<T>): Promise<T> {
    const rate = this.rates[api];
    if (!rate) return fn();
    let limiter = this.limiters.get(api);
    if (!limiter) {
      limiter = new Bottleneck({ minTime: Math.ceil(1000 / rate) });
      this.limiters.set(api, limiter);
    }
    return limiter.schedule(fn);
  }
}

interface MiddlewareStackLike {
  add(
    middleware: (next: (args: unknown) => Promise<unknown>, context: { commandName?: string }) => (args: unknown) => Promise<unknown>,
    options: { step: 'initialize'; name: string; override?: boolean },
  ): void;
}

/** Adds rate limiting and call counting to an SDK v3 client, keyed by the command name. */
export function instrumentClient<C extends { middlewareStack: unknown }>(client: C, limits?: RateLimits, counter?: CallCounter): C {
  const stack = client.middlewareStack as MiddlewareStackLike;
  stack.add(
    (next, context) => async (args) => {
      const api = (context.commandName ?? 'Unknown').replace(/Command$/, '');
      counter?.add(api);
      return limits ? limits.schedule(api, () => next(args)) : next(args);
    },
    { step: 'initialize', name: 'ddbBackupRateLimit', override: true },
  );
  return client;
}
