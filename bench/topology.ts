import { ACCOUNT_RATES, sharedRates } from '../lambda/aws/limits';
import { PAGES_PER_INVOCATION } from '../lambda/core/backup/fanout';

/**
 * The deployed topology at fleet scale, as a discrete-event model (simulated time, no sleeping):
 *  - the planner's fan-out: a chain of invocations, each planning PAGES_PER_INVOCATION tag pages
 *    (GetResources at its account rate, one SendMessageBatch per 10 jobs, one ledger write per
 *    page) and handing the next page to the plan queue;
 *  - `workerConcurrency` worker containers, each taking SQS batches of up to 10 jobs and running
 *    them one after another (FIFO), each container limited to its share of every account rate
 *    (sharedRates, as the deployed worker's clients are);
 *  - per job, the AWS calls and ledger operations the real worker made in the same bench run
 *    (the in-process sweep), at the given latencies; a ledger operation costs `ledgerMs`
 *    (the p50 of a DynamoDB single-item write, about 5 ms).
 * It reports the cycle's wall time against the rate-limit bound and each invocation's longest
 * time against its timeout.
 */

export interface TopologyOptions {
  readonly tables: number;
  readonly workerConcurrency: number;
  /** Per job, from the real worker: CreateBackup, DeleteBackup, other AWS calls, ledger operations. */
  readonly perJob: { readonly create: number; readonly delete: number; readonly otherAws: number; readonly ledger: number };
  readonly ledgerMs: number;
  /** Latency ranges (ms) of the calls, drawn uniformly. */
  readonly latency: { readonly getResources: [number, number]; readonly sendBatch: [number, number]; readonly create: [number, number]; readonly delete: [number, number]; readonly other: [number, number] };
  readonly plannerTimeoutS: number;
  readonly workerTimeoutS: number;
  /** Seed of the latency draws. */
  readonly seed: number;
}

export interface TopologyResult {
  readonly tables: number;
  readonly workerConcurrency: number;
  readonly simSeconds: number;
  readonly boundSeconds: number;
  readonly boundApi: string;
  readonly ratio: number;
  readonly plannerInvocations: number;
  readonly maxPlannerSeconds: number;
  readonly plannerTimeoutS: number;
  readonly workerInvocations: number;
  readonly maxWorkerSeconds: number;
  readonly workerTimeoutS: number;
  readonly awsCallsPerTable: number;
  readonly ledgerOpsPerTable: number;
}

/** A small seeded generator (mulberry32): the same seed, the same draws. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A rate limiter in simulated time: the earliest moment a call may start, spaced 1/rate apart. */
class SimLimiter {
  private next = 0;
  constructor(private readonly gapMs: number) {}
  take(at: number): number {
    const start = Math.max(at, this.next);
    this.next = start + this.gapMs;
    return start;
  }
}

export function runTopology(o: TopologyOptions): TopologyResult {
  const random = rng(o.seed);
  const draw = ([lo, hi]: [number, number]) => lo + random() * (hi - lo);
  const pages = Math.ceil(o.tables / 100);

  // The planner chain: when each page's jobs are on the job queue.
  const tagLimiter = new SimLimiter(1000 / ACCOUNT_RATES.GetResources);
  const available: number[] = new Array(pages);
  let t = 0;
  let plannerInvocations = 0;
  let maxPlanner = 0;
  for (let p = 0; p < pages; ) {
    const start = t;
    plannerInvocations++;
    for (let n = 0; n < PAGES_PER_INVOCATION && p < pages; n++, p++) {
      t = tagLimiter.take(t) + draw(o.latency.getResources);
      t += o.ledgerMs; // the page's count on the run header
      const jobs = Math.min(100, o.tables - p * 100);
      for (let b = 0; b < Math.ceil(jobs / 10); b++) t += draw(o.latency.sendBatch);
      available[p] = t;
    }
    if (p < pages) t += draw(o.latency.sendBatch) + 50; // the next page through the plan queue, and the poller's pick-up
    maxPlanner = Math.max(maxPlanner, t - start);
  }

  // The workers: each container its own share of the account rates.
  const share = sharedRates(o.workerConcurrency);
  const containers = Array.from({ length: o.workerConcurrency }, () => ({
    free: 0,
    create: new SimLimiter(1000 / share.CreateBackup),
    delete: new SimLimiter(1000 / share.DeleteBackup),
  }));
  let workerInvocations = 0;
  let maxWorker = 0;
  let end = 0;
  const jobAvailable = (j: number) => available[Math.floor(j / 100)];
  for (let j = 0; j < o.tables; ) {
    // The container free first takes the next batch (up to 10 jobs already on the queue).
    const c = containers.reduce((a, b) => (b.free < a.free ? b : a));
    let now = Math.max(c.free, jobAvailable(j));
    const batchStart = now;
    workerInvocations++;
    for (let n = 0; n < 10 && j < o.tables && jobAvailable(j) <= batchStart; n++, j++) {
      now += o.perJob.ledger * o.ledgerMs;
      for (let k = 0; k < o.perJob.otherAws; k++) now += draw(o.latency.other);
      for (let k = 0; k < o.perJob.create; k++) now = c.create.take(now) + draw(o.latency.create);
      for (let k = 0; k < o.perJob.delete; k++) now = c.delete.take(now) + draw(o.latency.delete);
    }
    c.free = now;
    maxWorker = Math.max(maxWorker, now - batchStart);
    end = Math.max(end, now);
  }

  const perTable = { CreateBackup: o.perJob.create, DeleteBackup: o.perJob.delete, GetResources: pages / o.tables };
  let boundSeconds = 0;
  let boundApi = '';
  for (const [api, n] of Object.entries(perTable)) {
    const b = (n * o.tables) / ACCOUNT_RATES[api];
    if (b > boundSeconds) [boundSeconds, boundApi] = [b, api];
  }
  const simSeconds = end / 1000;
  return {
    tables: o.tables,
    workerConcurrency: o.workerConcurrency,
    simSeconds,
    boundSeconds,
    boundApi,
    ratio: simSeconds / boundSeconds,
    plannerInvocations,
    maxPlannerSeconds: maxPlanner / 1000,
    plannerTimeoutS: o.plannerTimeoutS,
    workerInvocations,
    maxWorkerSeconds: maxWorker / 1000,
    workerTimeoutS: o.workerTimeoutS,
    awsCallsPerTable: o.perJob.create + o.perJob.delete + o.perJob.otherAws + pages / o.tables,
    ledgerOpsPerTable: o.perJob.ledger + pages / o.tables,
  };
}
