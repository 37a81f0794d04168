import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Table from 'cli-table3';
import { loadavg } from 'node:os';
import { runColdStart } from './coldstart';
import { runTopology, type TopologyResult } from './topology';
import { runStream } from './stream';
import type { Cadence, SweepResult } from './sweep';

/**
 * `npm run bench`: fleet sweeps (100, 1,000, 5,000 tables) against a simulated AWS that enforces
 * the account rates, stream-handler throughput, cold start against a naive build, and memory.
 * Prints tables and writes bench/results.json. Not part of `npm test`.
 *
 * Env: BENCH_SIZES (default "100,1000,5000"), BENCH_TIME_SCALE (default 10: simulated time runs
 * 10x faster, rates x10 and latencies /10, so the bound/ratio comparisons are unchanged),
 * BENCH_COLD_RUNS (default 10).
 */

const sizes = (process.env.BENCH_SIZES ?? '100,1000,5000').split(',').map(Number);
const scale = Number(process.env.BENCH_TIME_SCALE ?? 10);
const coldRuns = Number(process.env.BENCH_COLD_RUNS ?? 10);
/**
 * The sweep runs with a bounded heap, as in Lambda (where the runtime sizes V8's heap to the
 * function's memory): with V8's desktop defaults, peak RSS mostly measures how much garbage the
 * collector lets pile up, not what the sweep keeps.
 */
const SWEEP_NODE_FLAGS = ['--max-old-space-size=64', '--max-semi-space-size=4'];
/** The daily cycle the deployed topology is modelled at. */
const TOPOLOGY_TABLES = Number(process.env.BENCH_TOPOLOGY_TABLES ?? 100_000);
/** Ledger operations of the deployed worker that the in-process run does not make: the run result (a transaction) and the run header read. */
const RUN_TRACKING_OPS = 2;
const fmt = (n: number, d = 2) => (Number.isFinite(n) ? n.toFixed(d) : String(n));

function sweepInChild(tables: number, cadence: Cadence): SweepResult {
  const out = execFileSync(process.execPath, [...SWEEP_NODE_FLAGS, '--import', 'tsx', join(__dirname, 'sweep-child.ts'), String(tables), String(scale), cadence], {
    encoding: 'utf8',
    env: { ...process.env, NODE_NO_WARNINGS: '1', POWERTOOLS_LOG_LEVEL: 'SILENT', AWS_SDK_JS_SUPPRESS_MAINTENANCE_MODE_MESSAGE: '1' },
    maxBuffer: 64 * 1024 * 1024,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return JSON.parse(out.trim().split('\n').pop()!) as SweepResult;
}

async function main(): Promise<void> {
  const started = new Date().toISOString();
  process.stderr.write(`sweeps ${sizes.join(', ')} at time scale ${scale}...\n`);
  const run = (cadence: Cadence) =>
    sizes.map((n) => {
      process.stderr.write(`  ${n} tables, ${cadence}\n`);
      return sweepInChild(n, cadence);
    });
  // The steady state (hourly, upkeep not due) is the main figure; memory is measured on it.
  const sweeps = run('hourly');
  const upkeepSweeps = run('daily');

  const sweepTable = new Table({
    head: ['run', 'tables', 'sim s', 'bound s (API)', 'ratio (goal <= 1.2)', 'beyond irreducible / table: AWS | + ledger reads', 'throttles', 'backed up', 'deleted', 'failed'],
    style: { head: [], border: [] },
  });
  for (const s of [...sweeps, ...upkeepSweeps]) {
    sweepTable.push([
      s.cadence === 'hourly' ? 'steady (upkeep not due)' : 'daily upkeep due',
      s.tables,
      fmt(s.simSeconds, 1),
      `${fmt(s.boundSeconds, 1)} (${s.boundApi})`,
      fmt(s.ratio),
      `${fmt(s.beyondIrreducibleAwsPerTable, 3)} | ${fmt(s.beyondIrreduciblePerTable, 3)}`,
      Object.values(s.throttles).reduce((a, b) => a + b, 0),
      s.backedUp,
      s.deleted,
      s.failed,
    ]);
  }
  const apis = [...new Set([...sweeps, ...upkeepSweeps].flatMap((s) => Object.keys(s.calls)))].sort();
  const callTable = new Table({ head: ['run', 'tables', ...apis, 'ledger reads', 'ledger writes'], style: { head: [], border: [] } });
  for (const s of [...sweeps, ...upkeepSweeps]) {
    callTable.push([
      s.cadence === 'hourly' ? 'steady' : 'upkeep',
      s.tables,
      ...apis.map((k) => `${s.calls[k] ?? 0} (${fmt(s.callsPerTable[k] ?? 0, 2)}/t)`),
      `${fmt(s.ledgerReadsPerTable, 2)}/t`,
      `${fmt(s.ledgerWritesPerTable, 2)}/t`,
    ]);
  }

  // The deployed topology at 100,000 tables, with the real worker's calls per job from this run.
  const steady = sweeps[sweeps.length - 1];
  const okCreate = (steady.calls.CreateBackup ?? 0) - (steady.throttles.CreateBackup ?? 0);
  const perJob = {
    create: okCreate / steady.tables,
    delete: steady.deleted / steady.tables,
    otherAws: Math.max(0, steady.beyondIrreducibleAwsPerTable - (steady.calls.GetResources ?? 0) / steady.tables),
    // The in-process run keeps no run items: the deployed worker also records its result (one
    // transaction) and reads the run header to see whether the summary is due.
    ledger: steady.ledgerReadsPerTable + steady.ledgerWritesPerTable + RUN_TRACKING_OPS,
  };
  const topologyRuns: TopologyResult[] = [1, 2, 3].map((seed) =>
    runTopology({
      tables: TOPOLOGY_TABLES,
      workerConcurrency: 10,
      perJob,
      ledgerMs: 5,
      latency: { getResources: [100, 400], sendBatch: [10, 40], create: [80, 250], delete: [60, 200], other: [20, 80] },
      plannerTimeoutS: 300,
      workerTimeoutS: 120,
      seed,
    }),
  );
  const topology = [...topologyRuns].sort((a, b) => a.ratio - b.ratio)[1];
  const load = loadavg().map((l) => l.toFixed(2)).join(' ');
  const topologyTable = new Table({
    head: ['tables', 'workers', 'wall s (median of 3)', 'bound s (API)', 'ratio (goal <= 1.1)', 'planner invocations', 'max planner s / timeout', 'max worker s / timeout', 'AWS calls/table', 'ledger ops/table'],
    style: { head: [], border: [] },
  });
  topologyTable.push([
    topology.tables,
    topology.workerConcurrency,
    fmt(topology.simSeconds, 0),
    `${fmt(topology.boundSeconds, 0)} (${topology.boundApi})`,
    fmt(topology.ratio, 3),
    topology.plannerInvocations,
    `${fmt(topology.maxPlannerSeconds, 1)} / ${topology.plannerTimeoutS} (${fmt((100 * topology.maxPlannerSeconds) / topology.plannerTimeoutS, 1)} %)`,
    `${fmt(topology.maxWorkerSeconds, 1)} / ${topology.workerTimeoutS} (${fmt((100 * topology.maxWorkerSeconds) / topology.workerTimeoutS, 1)} %)`,
    fmt(topology.awsCallsPerTable, 3),
    fmt(topology.ledgerOpsPerTable, 2),
  ]);

  process.stderr.write('stream handler...\n');
  const stream = await runStream();
  const streamTable = new Table({ head: ['records', 'tables', 'records/s', 'counter writes (goal 10)', 'CPU ms', 'wall ms'], style: { head: [], border: [] } });
  streamTable.push([stream.records, stream.tables, Math.round(stream.recordsPerSecond), stream.counterWrites, fmt(stream.cpuMs, 1), fmt(stream.wallMs, 1)]);

  process.stderr.write('cold start...\n');
  const cold = runColdStart(coldRuns);
  const coldTable = new Table({ head: ['handler', 'bundle KiB', 'init ms (median)', 'naive KiB', 'naive init ms', 'ratio (goal <= 0.6)'], style: { head: [], border: [] } });
  for (const c of cold) coldTable.push([c.handler, fmt(c.bundleKiB, 0), fmt(c.initMs, 1), fmt(c.naiveBundleKiB, 0), fmt(c.naiveInitMs, 1), fmt(c.ratio)]);

  // Memory: peak RSS growth per table between the smallest and the largest fleet.
  const small = sweeps[0];
  const large = sweeps[sweeps.length - 1];
  const growth = (s: SweepResult) => (s.peakRssMiB - s.baseRssMiB) * 2 ** 20;
  const bytesPerTable = large.tables > small.tables ? (growth(large) - growth(small)) / (large.tables - small.tables) : growth(large) / large.tables;
  const memTable = new Table({ head: ['tables', 'RSS before run MiB', 'peak RSS MiB', 'run growth MiB'], style: { head: [], border: [] } });
  for (const s of sweeps) memTable.push([s.tables, fmt(s.baseRssMiB, 1), fmt(s.peakRssMiB, 1), fmt(s.peakRssMiB - s.baseRssMiB, 1)]);

  console.log('\n## Sweep (real planner, worker and adapters; simulated AWS at the account rates)\n');
  console.log(sweepTable.toString());
  console.log('\nCalls per API (per table):\n');
  console.log(callTable.toString());
  const largest = (list: SweepResult[]) => list[list.length - 1];
  const steadyBeyond = largest(sweeps).beyondIrreducibleAwsPerTable;
  const upkeepBeyond = largest(upkeepSweeps).beyondIrreducibleAwsPerTable;
  const hourlyAmortized = (23 * steadyBeyond + upkeepBeyond) / 24;
  console.log(
    `\nAWS calls beyond the irreducible ones, per table, at ${largest(sweeps).tables} tables: ${fmt(steadyBeyond, 3)} in a steady-state run (goal <= 0.05); ` +
      `${fmt(upkeepBeyond, 2)} in the run that takes a table's daily upkeep (settings snapshot, PITR check); ` +
      `${fmt(hourlyAmortized, 3)} per run averaged over a day of hourly runs.`,
  );
  console.log(`\n## Deployed topology at ${TOPOLOGY_TABLES.toLocaleString('en')} tables (model; per-job calls from the ${steady.tables}-table run above; load average ${load})\n`);
  console.log(topologyTable.toString());
  console.log('\n## Stream handler\n');
  console.log(streamTable.toString());
  console.log('\n## Cold start\n');
  console.log(coldTable.toString());
  console.log('\n## Memory\n');
  console.log(memTable.toString());
  console.log(`\npeak RSS growth during the run, per table (${small.tables} -> ${large.tables} tables, heap capped at 64 MiB): ${fmt(bytesPerTable / 1024, 2)} KiB (goal: one small record, <= 4 KiB)`);

  const results = {
    started,
    finished: new Date().toISOString(),
    node: process.version,
    timeScale: scale,
    sweeps,
    upkeepSweeps,
    beyondIrreducible: { steady: steadyBeyond, upkeepDue: upkeepBeyond, hourlyAmortized },
    topology: { median: topology, runs: topologyRuns, perJob, loadAverage: load },
    stream,
    coldStart: cold,
    memory: { bytesPerTable, nodeFlags: SWEEP_NODE_FLAGS },
  };
  writeFileSync(join(__dirname, 'results.json'), `${JSON.stringify(results, null, 2)}\n`);
  console.log('\nwrote bench/results.json');
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
