import { createClients } from '../lambda/aws/clients';
import { CallCounter, RateLimits } from '../lambda/aws/limits';
import { buildService, configFromEnv } from '../lambda/aws/service';
import { DEFAULTS } from '../lambda/env';
import { buildStreamDeps } from '../lambda/handlers/stream-deps';
import { processStreamBatch } from '../lambda/handlers/stream.handler';
import { SimulatedAws } from './sim';
import { streamBatch } from '../test/support/stream-event';

/**
 * Stream handler throughput: one batch of 10,000 records over 10 tables through the real handler
 * code, its counter adapter and SDK clients, against the simulator. The goal is one counter write
 * per table per batch.
 */

export interface StreamResult {
  readonly records: number;
  readonly tables: number;
  readonly wallMs: number;
  readonly recordsPerSecond: number;
  readonly counterWrites: number;
  readonly cpuMs: number;
  readonly calls: Record<string, number>;
}


export async function runStream(records = 10_000, tableCount = 10): Promise<StreamResult> {
  process.env.AWS_ACCESS_KEY_ID ??= 'bench';
  process.env.AWS_SECRET_ACCESS_KEY ??= 'bench';
  process.env.POWERTOOLS_LOG_LEVEL ??= 'SILENT';
  const sim = new SimulatedAws({ rates: {}, latencyMs: [10, 60], timeScale: 1, availableAfterMs: 0 });
  const tables = Array.from({ length: tableCount }, (_, i) => `stream-table-${i}`);
  for (const t of tables) sim.addTable(t, { [DEFAULTS.TAG_KEY]: 'busy' });
  // A threshold the batch does not reach: the measurement is the counting itself.
  sim.parameters.set(`${DEFAULTS.POLICY_PREFIX}busy`, JSON.stringify({ changes: { writes: 10_000_000 } }));
  const counter = new CallCounter();
  const clients = createClients({ region: 'us-east-1', counter, limits: new RateLimits({}), requestHandler: sim.handler, maxAttempts: 3 });
  const svc = buildService(clients, {
    ...configFromEnv({}),
    ledgerTable: 'ledger',
    jobQueueUrl: 'https://sqs.us-east-1.amazonaws.com/123456789012/jobs.fifo',
    cacheSeconds: 300,
  });
  const deps = buildStreamDeps(svc, {});
  const event = streamBatch(tables, records / tableCount);
  // Warm the tag and policy caches, as a running function has them, then measure a fresh batch.
  await processStreamBatch(streamBatch(tables, 1), undefined, deps);
  sim.calls.clear();
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const result = await processStreamBatch(event, undefined, deps);
  const wallMs = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  if (result.failed.length > 0) throw new Error(`stream batch failed: ${JSON.stringify(result.failed)}`);
  const calls = Object.fromEntries([...sim.calls.entries()].sort());
  return {
    records: event.Records.length,
    tables: tableCount,
    wallMs,
    recordsPerSecond: event.Records.length / (wallMs / 1000),
    counterWrites: calls.UpdateItem ?? 0,
    cpuMs: (cpu.user + cpu.system) / 1000,
    calls,
  };
}
