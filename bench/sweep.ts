import { createClients } from '../lambda/aws/clients';
import { BackupsAdapter } from '../lambda/aws/backups';
import { ACCOUNT_RATES, CallCounter, RateLimits } from '../lambda/aws/limits';
import { discoverTaggedTables } from '../lambda/aws/tagging';
import { manualSlot } from '../lambda/core/jobs';
import { parsePolicy, policyHash, type Policy } from '../lambda/core/policy';
import type { Clock, PolicySource } from '../lambda/core/ports';
import { runInProcess } from '../lambda/core/run';
import { MemoryLedger } from './memory-ledger';
import { SimulatedAws, seededBackupName } from './sim';

/**
 * Fleet sweep: the real planner, worker, retention and adapters (with their retry strategy and
 * rate limiters) over a simulated AWS that enforces the account rates by throttling.
 */

export interface SweepResult {
  readonly tables: number;
  readonly wallSeconds: number;
  readonly simSeconds: number;
  readonly boundSeconds: number;
  readonly boundApi: string;
  readonly ratio: number;
  readonly calls: Record<string, number>;
  readonly callsPerTable: Record<string, number>;
  readonly throttles: Record<string, number>;
  readonly ledgerReadsPerTable: number;
  readonly ledgerWritesPerTable: number;
  /** AWS calls beyond one CreateBackup per table and the DeleteBackups retention needs. */
  readonly beyondIrreducibleAwsPerTable: number;
  /** The same, counting ledger reads as well (ledger writes are irreducible). */
  readonly beyondIrreduciblePerTable: number;
  readonly backedUp: number;
  readonly deleted: number;
  readonly failed: number;
  readonly peakRssMiB: number;
  readonly baseRssMiB: number;
  /** Heap in use after the run above the heap before it (simulator state included; no forced GC). */
  readonly heapGrowthMiB: number;
}

const POLICY = 'bench';
const KEEP = 3;

export async function runSweep(tables: number, timeScale: number): Promise<SweepResult> {
  // The simulator needs no credentials, but the SDK signs requests: give it fake ones.
  process.env.AWS_ACCESS_KEY_ID ??= 'bench';
  process.env.AWS_SECRET_ACCESS_KEY ??= 'bench';
  const sim = new SimulatedAws({ rates: ACCOUNT_RATES, latencyMs: [10, 60], timeScale, availableAfterMs: 5_000 });
  const ledger = new MemoryLedger();
  const tagKey = 'backup:policy';
  const day = 86_400_000;
  const start = Date.now();

  // Steady state: each table holds retention's worth plus the one the last run added, which the
  // ledger still records as CREATING (as CreateBackup answered) while AWS has it AVAILABLE.
  for (let t = 0; t < tables; t++) {
    const name = `bench-table-${String(t).padStart(5, '0')}`;
    sim.addTable(name, { [tagKey]: POLICY });
    for (let i = KEEP; i >= 0; i--) {
      const at = new Date(start - (i + 1) * day);
      const bName = seededBackupName(POLICY, at, i);
      const b = sim.addBackup(name, bName, at.getTime(), 'AVAILABLE');
      ledger.seed({
        table: name,
        policy: POLICY,
        slot: `seed:${i}`,
        trigger: 'schedule',
        runId: 'seed',
        requestedAt: at.toISOString(),
        status: i === 0 ? 'CREATING' : 'AVAILABLE',
        claimedAt: at.toISOString(),
        backupArn: b.arn,
        backupName: bName,
        createdAt: at.toISOString(),
      });
    }
    ledger.seedState({ table: name, policy: POLICY, lastBackupAt: new Date(start - day).toISOString(), lastAttemptStatus: 'succeeded', lastAttemptAt: new Date(start - day).toISOString() });
  }

  const policy: Policy = parsePolicy({ retention: { keepLast: KEEP } });
  const policies: PolicySource = {
    getPolicy: async () => policy,
    listNames: async () => new Set([POLICY]),
    getEffective: async (name) => ({ name, policy, hash: policyHash(policy), overridden: false }),
  };
  const counter = new CallCounter();
  const scaledRates = Object.fromEntries(Object.entries(ACCOUNT_RATES).map(([k, v]) => [k, v * timeScale]));
  const clients = createClients({ region: 'us-east-1', counter, limits: new RateLimits(scaledRates), requestHandler: sim.handler, maxAttempts: 10 });
  const clock: Clock = { now: () => new Date(start + (Date.now() - start) * timeScale) };

  // No forced GC: --expose-gc made V8's collector pathologically slow under this load.
  const baseRss = process.memoryUsage().rss;
  const baseHeap = process.memoryUsage().heapUsed;
  let peakRss = baseRss;
  const sampler = setInterval(() => {
    peakRss = Math.max(peakRss, process.memoryUsage().rss);
  }, 250);

  const t0 = performance.now();
  const report = await runInProcess(
    {
      policies,
      discovery: { discover: () => discoverTaggedTables(clients.tagging, tagKey) },
      backups: new BackupsAdapter(clients.dynamodb),
      ledger,
      clock,
    },
    { policy: POLICY, trigger: 'manual', slot: manualSlot(new Date()), requestedAt: new Date().toISOString() },
    { concurrency: 64, retryDelayMs: 1000 / timeScale },
  );
  const wallMs = performance.now() - t0;
  if (report.problems.length > 0) throw new Error(`sweep problems: ${JSON.stringify(report.problems)}`);
  clearInterval(sampler);
  peakRss = Math.max(peakRss, process.memoryUsage().rss);
  const heapGrowth = process.memoryUsage().heapUsed - baseHeap;

  const calls = Object.fromEntries([...sim.calls.entries()].sort());
  const throttles = Object.fromEntries([...sim.throttles.entries()].sort());
  let bound = 0;
  let boundApi = '';
  for (const [api, rate] of Object.entries(ACCOUNT_RATES)) {
    const b = (calls[api] ?? 0) / rate;
    if (b > bound) {
      bound = b;
      boundApi = api;
    }
  }
  const ok = (calls: Record<string, number>, api: string) => calls[api] ?? 0;
  const totalAws = Object.values(calls).reduce((a, b) => a + b, 0);
  const throttled = Object.values(throttles).reduce((a, b) => a + b, 0);
  const deleted = report.results.reduce((n, r) => n + (r.deleted ?? 0), 0);
  // Successful calls only: a throttled call is retried and appears twice.
  const irreducible = ok(calls, 'CreateBackup') - ok(throttles, 'CreateBackup') + deleted;
  const beyondAws = (totalAws - throttled - irreducible) / tables;
  const simSeconds = sim.simMs(wallMs) / 1000;
  return {
    tables,
    wallSeconds: wallMs / 1000,
    simSeconds,
    boundSeconds: bound,
    boundApi,
    ratio: bound > 0 ? simSeconds / bound : 0,
    calls,
    callsPerTable: Object.fromEntries(Object.entries(calls).map(([k, v]) => [k, v / tables])),
    throttles,
    ledgerReadsPerTable: ledger.reads / tables,
    ledgerWritesPerTable: ledger.writes / tables,
    beyondIrreducibleAwsPerTable: beyondAws,
    beyondIrreduciblePerTable: beyondAws + ledger.reads / tables,
    backedUp: report.results.filter((r) => r.status === 'backed-up').length,
    deleted,
    failed: report.results.filter((r) => r.status === 'failed').length,
    peakRssMiB: peakRss / 2 ** 20,
    baseRssMiB: baseRss / 2 ** 20,
    heapGrowthMiB: heapGrowth / 2 ** 20,
  };
}
