import { ApplicationAutoScalingClient } from '@aws-sdk/client-application-auto-scaling';
import { createClients } from '../lambda/aws/clients';
import { ensurePitr } from '../lambda/aws/pitr';
import { captureSettingsAndFacts, settingsClients, type SettingsClients } from '../lambda/aws/table-settings';
import { BackupsAdapter } from '../lambda/aws/backups';
import { ACCOUNT_RATES, CallCounter, RateLimits } from '../lambda/aws/limits';
import { discoverTaggedTables } from '../lambda/aws/tagging';
import { manualSlot } from '../lambda/core/jobs';
import { parsePolicy, policyHash, type Policy } from '../lambda/core/policy';
import type { Clock, PolicySource, TableUpkeep } from '../lambda/core/ports';
import { runInProcess } from '../lambda/core/backup/in-process';
import { MemoryLedger } from '../test/support/memory-ledger';
import { SimulatedAws, seededBackupName } from './sim';

/**
 * Fleet sweep: the real planner, worker, retention and adapters (with their retry strategy and
 * rate limiters) over a simulated AWS that enforces the account rates by throttling.
 */

/**
 * `hourly`: a run of an hourly policy on one of the 23 hours a day when the daily upkeep (settings
 * snapshot, PITR check) is not due; item counts come from the ledger. `daily`: a daily policy's
 * run, when the upkeep is due for every table, so each backup also takes a settings snapshot and
 * checks PITR.
 */
export type Cadence = 'hourly' | 'daily';

export interface SweepResult {
  readonly cadence: Cadence;
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

export async function runSweep(tables: number, timeScale: number, cadence: Cadence = 'hourly'): Promise<SweepResult> {
  // The simulator needs no credentials, but the SDK signs requests: give it fake ones.
  process.env.AWS_ACCESS_KEY_ID ??= 'bench';
  process.env.AWS_SECRET_ACCESS_KEY ??= 'bench';
  const sim = new SimulatedAws({ rates: ACCOUNT_RATES, latencyMs: [10, 60], timeScale, availableAfterMs: 5_000 });
  const ledger = new MemoryLedger();
  const tagKey = 'backup:policy';
  const hour = 3_600_000;
  const interval = cadence === 'hourly' ? hour : 24 * hour;
  const start = Date.now();
  const policy: Policy = parsePolicy({ retention: { keepLast: KEEP }, pointInTimeRecovery: { enabled: true, recoveryPeriodDays: 35 } });
  const hash = policyHash(policy);

  // Steady state: each table holds retention's worth (the backup a run makes counts as the
  // newest at once), the newest of which the ledger still records as CREATING (as CreateBackup
  // answered) while AWS has it AVAILABLE. PITR
  // is on as the policy asks. The last settings snapshot (which also read the item count) is a
  // day old for the daily policy, and between 1 and 23 hours old for the hourly one.
  for (let t = 0; t < tables; t++) {
    const name = `bench-table-${String(t).padStart(5, '0')}`;
    sim.addTable(name, { [tagKey]: POLICY }, { pitrDays: 35 });
    const snapshotAt = new Date(start - (cadence === 'hourly' ? (1 + (t % 23)) * hour : 24 * hour)).toISOString();
    for (let i = KEEP - 1; i >= 0; i--) {
      const at = new Date(start - (i + 1) * interval);
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
    const last = new Date(start - interval).toISOString();
    ledger.seedState({
      table: name,
      policy: POLICY,
      lastBackupAt: last,
      lastAttemptStatus: 'succeeded',
      lastAttemptAt: last,
      lastItemCount: 1000,
      itemCountAt: snapshotAt,
      settingsCapturedAt: snapshotAt,
      pitrCheckedAt: snapshotAt,
      pitrCheckedHash: hash,
    });
  }

  const policies: PolicySource = {
    getPolicy: async () => policy,
    listNames: async () => new Set([POLICY]),
    getEffective: async (name) => ({ name, policy, hash: policyHash(policy), overridden: false }),
  };
  const counter = new CallCounter();
  const scaledRates = Object.fromEntries(Object.entries(ACCOUNT_RATES).map(([k, v]) => [k, v * timeScale]));
  const clients = createClients({ region: 'us-east-1', counter, limits: new RateLimits(scaledRates), requestHandler: sim.handler, maxAttempts: 10 });
  const autoscaling = new ApplicationAutoScalingClient({ region: 'us-east-1', requestHandler: sim.handler, maxAttempts: 10 });
  const upkeep = benchUpkeep(settingsClients(clients, { autoscaling }), ledger);
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
      upkeep,
      // As deployed: the CloudTrail feed is alive, so prunes confirm from the ledger, not by listing.
      existence: { eventsAlive: async () => true },
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
    cadence,
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

/**
 * The worker's upkeep as tableUpkeep wires it, over the simulated AWS, with the in-memory ledger
 * standing in for the ledger's snapshot, state and change-counter writes.
 */
function benchUpkeep(clients: SettingsClients, ledger: MemoryLedger): TableUpkeep {
  return {
    markChangesBaseline: async () => {
      ledger.writes++; // a conditional UpdateItem on the change counter
    },
    ensurePitr: (table, days, known) => ensurePitr(clients.dynamodb, table, days, { before: known }),
    snapshotSettings: async (table, policy, now) => {
      const { facts } = await captureSettingsAndFacts(clients, table, now);
      if (facts.status === 'ACTIVE') {
        ledger.writes += 2; // putSettingsSnapshot, markSettingsCaptured
        ledger.seedState({ ...(ledger.states.get(`${table}|${policy}`) ?? { table, policy }), settingsCapturedAt: now.toISOString() });
      }
      return facts;
    },
  };
}
