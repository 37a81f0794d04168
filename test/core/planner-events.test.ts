/**
 * The planner's event routing (lambda/core/backup/planner-events.ts) against in-memory ports: which
 * events plan a run, with which request, and which are ignored without touching any port.
 */
import { PolicyUnavailableError } from '../../lambda/core/errors';
import { parsePolicy, resolveEffectivePolicy, type Policy, type EffectivePolicy } from '../../lambda/core/policy';
import {
  handlePlannerEvent,
  parsePlannerInput,
  plannerSummary,
  type PlannerEventPorts,
  type PlannerOutcome,
  type PlannerRunDeps,
} from '../../lambda/core/backup/planner-events';
import type { BackupInfo, Clock, PolicySource } from '../../lambda/core/ports';
import { sizeAlarmName } from '../../lambda/core/triggers/size-alarms';
import type { TaggedTable } from '../../lambda/core/tags';
import { MemoryNotifier, MemoryQueue, MemoryRunLedger, memoryLog } from '../support/run-fakes';

const NOW = new Date('2026-11-24T03:00:07.000Z');
const PREFIX = 'ddb-backup-size-';
const clock: Clock = { now: () => NOW };
const arn = (table: string) => `arn:aws:dynamodb:us-east-1:123456789012:table/${table}`;

class Policies implements PolicySource {
  constructor(private readonly docs: Record<string, unknown>) {}
  async listNames(): Promise<Set<string>> {
    return new Set(Object.keys(this.docs));
  }
  async getPolicy(name: string): Promise<Policy> {
    if (!(name in this.docs)) throw new PolicyUnavailableError(name, `no policy named "${name}"`);
    return parsePolicy(this.docs[name], `"${name}"`);
  }
  async getEffective(name: string, table: string): Promise<EffectivePolicy> {
    return resolveEffectivePolicy(name, this.docs[name], undefined, table);
  }
}

function world(tagged: TaggedTable[] = [{ table: 'orders', arn: arn('orders'), policies: ['daily'] }, { table: 'users', arn: arn('users'), policies: ['daily'] }]) {
  const runs = new MemoryRunLedger();
  const queue = new MemoryQueue();
  const notifier = new MemoryNotifier();
  const log = memoryLog();
  const listBackups = jest.fn(async (_table?: string): Promise<BackupInfo[]> => []);
  const run = jest.fn(
    (): PlannerRunDeps => ({
      policies: new Policies({ daily: { schedule: 'rate(1 day)', notify: 'all' } }),
      discovery: { discover: async () => tagged },
      runs,
      queue,
      notifier,
      clock,
      log,
      backups: { listBackups },
    }),
  );
  const ports: PlannerEventPorts = { clock, log, run };
  return { ports, run, runs, queue, notifier, log, listBackups };
}

function alarmEvent(table: string, state = 'ALARM', prefix = PREFIX) {
  const alarmName = sizeAlarmName(prefix, 'daily', table);
  return {
    'detail-type': 'CloudWatch Alarm State Change',
    source: 'aws.cloudwatch',
    time: '2026-11-24T05:00:40Z',
    detail: {
      alarmName,
      state: { value: state, timestamp: '2026-11-24T05:00:40.123+0000' },
      configuration: { metrics: [{ metricStat: { metric: { dimensions: { TableName: table, Policy: 'daily' } } } }] },
    },
  };
}

const opts = { alarmPrefix: PREFIX };

describe('parsePlannerInput: a rule tick, or an error naming what is wrong', () => {
  it('reads policy, trigger and time; the trigger defaults to schedule', () => {
    // Prepare / Act
    const prune = parsePlannerInput({ policy: 'daily', trigger: 'prune', time: '2026-11-24T03:00:00Z' });
    const tick = parsePlannerInput({ policy: 'daily', time: '2026-11-24T03:00:00Z', extra: 'ignored' });

    // Assess
    expect(prune).toEqual({ policy: 'daily', trigger: 'prune', time: '2026-11-24T03:00:00Z' });
    expect(tick).toEqual({ policy: 'daily', trigger: 'schedule', time: '2026-11-24T03:00:00Z' });
  });

  it.each([
    [null, 'planner event lacks "policy"'],
    [{}, 'planner event lacks "policy"'],
    [{ policy: '' }, 'planner event lacks "policy"'],
    [{ policy: 'daily' }, 'planner event lacks a valid "time"'],
    [{ policy: 'daily', time: 'yesterday' }, 'planner event lacks a valid "time"'],
    [{ policy: 'daily', time: '2026-11-24T03:00:00Z', trigger: 'size' }, 'planner event has unknown trigger "size"'],
  ])('%j is refused: %s', (event, message) => {
    // Act / Assess
    expect(() => parsePlannerInput(event)).toThrow(message);
  });
});

describe('handlePlannerEvent: routing', () => {
  it('a schedule tick plans the policy over its tagged tables, slot schedule:<time>', async () => {
    // Prepare
    const w = world();

    // Act
    const outcome = await handlePlannerEvent(w.ports, { policy: 'daily', trigger: 'schedule', time: '2026-11-24T03:00:00Z' }, opts);

    // Assess
    const slot = 'schedule:2026-11-24T03:00:00.000Z';
    expect(outcome.plan.runId).toBe(`daily|schedule|${slot}`);
    expect(w.queue.enqueued.map((j) => [j.table, j.trigger, j.slot, j.requestedAt])).toEqual([
      ['orders', 'schedule', slot, '2026-11-24T03:00:00.000Z'],
      ['users', 'schedule', slot, '2026-11-24T03:00:00.000Z'],
    ]);
    expect(outcome).toMatchObject({ enqueued: 2, enqueueFailures: 0 });
    expect(outcome.ignored).toBeUndefined();
    expect(w.listBackups).not.toHaveBeenCalled();
    expect(w.log.lines).toContainEqual(['info', 'planned', { runId: outcome.plan.runId, jobs: 2, enqueued: 2, problems: 0 }]);
  });

  it('a prune tick plans the sweep: prune jobs, the account listing read, the run started at the clock', async () => {
    // Prepare
    const w = world();

    // Act
    const outcome = await handlePlannerEvent(w.ports, { policy: 'daily', trigger: 'prune', time: '2026-11-24T04:00:00Z' }, opts);

    // Assess
    const slot = 'prune:2026-11-24T04:00:00.000Z';
    expect(w.queue.enqueued.map((j) => [j.table, j.trigger, j.kind, j.slot])).toEqual([
      ['orders', 'prune', 'prune', slot],
      ['users', 'prune', 'prune', slot],
    ]);
    expect(w.listBackups).toHaveBeenCalledWith(undefined);
    expect(w.runs.headers.get(outcome.plan.runId)).toMatchObject({ trigger: 'prune', startedAt: NOW.toISOString(), expected: 2 });
  });

  it('a size alarm going into ALARM is a size run of exactly its table, slot size:<state-change time>', async () => {
    // Prepare
    const w = world();

    // Act
    const outcome = await handlePlannerEvent(w.ports, alarmEvent('orders'), opts);

    // Assess
    const slot = 'size:2026-11-24T05:00:40.123Z';
    expect(outcome.plan.runId).toBe(`daily|size|${slot}|orders`);
    expect(w.queue.enqueued).toEqual([expect.objectContaining({ table: 'orders', policy: 'daily', trigger: 'size', slot, requestedAt: '2026-11-24T05:00:40.123Z' })]);
    expect(w.log.lines).toContainEqual([
      'info',
      'size alarm fired',
      { alarm: sizeAlarmName(PREFIX, 'daily', 'orders'), table: 'orders', policy: 'daily', slot, runId: outcome.plan.runId },
    ]);
  });

  it.each([
    ['an OK transition', alarmEvent('orders', 'OK'), /went to OK, not ALARM/],
    ['an alarm of another prefix', alarmEvent('orders', 'ALARM', 'someone-else-'), /is not a size alarm of prefix ddb-backup-size-/],
  ])('%s is ignored and logged, touching no run port', async (_what, event, reason) => {
    // Prepare
    const w = world();

    // Act
    const outcome = await handlePlannerEvent(w.ports, event, opts);

    // Assess
    expect(outcome.ignored).toMatch(reason);
    expect(outcome).toMatchObject({ enqueued: 0, enqueueFailures: 0, published: false, plan: { runId: '', jobs: [], results: [], problems: [] } });
    expect(outcome.plan.request).toEqual({ policy: '', trigger: 'size', slot: '', requestedAt: NOW.toISOString() });
    expect(w.run).not.toHaveBeenCalled();
    expect(w.log.lines).toEqual([['warn', 'alarm event ignored', { reason: outcome.ignored }]]);
  });

  it('an event that is neither an alarm nor a valid tick throws before any run port is asked for', async () => {
    // Prepare
    const w = world();

    // Act
    const err = await handlePlannerEvent(w.ports, { policy: 'daily' }, opts).then(
      () => undefined,
      (e: unknown) => e,
    );

    // Assess
    expect((err as Error).message).toBe('planner event lacks a valid "time"');
    expect(w.run).not.toHaveBeenCalled();
  });

  it('a plan without jobs is reported by the planner itself (a tag naming no table)', async () => {
    // Prepare
    const w = world([]);

    // Act
    const outcome = await handlePlannerEvent(w.ports, { policy: 'daily', time: '2026-11-24T03:00:00Z' }, opts);

    // Assess
    expect(outcome).toMatchObject({ enqueued: 0, published: true });
    expect(w.notifier.published).toEqual([expect.objectContaining({ runId: outcome.plan.runId, results: [], problems: [] })]);
  });
});

describe('plannerSummary: what the planner Lambda returns', () => {
  it('counts the plan, and says why an event was ignored', async () => {
    // Prepare
    const w = world();
    const planned = await handlePlannerEvent(w.ports, { policy: 'daily', time: '2026-11-24T03:00:00Z' }, opts);
    const ignored: PlannerOutcome = await handlePlannerEvent(w.ports, alarmEvent('orders', 'OK'), opts);

    // Act / Assess
    expect(plannerSummary(planned)).toEqual({ runId: 'daily|schedule|schedule:2026-11-24T03:00:00.000Z', jobs: 2, problems: 0 });
    expect(plannerSummary(ignored)).toEqual({ runId: '', jobs: 0, problems: 0, ignored: expect.stringMatching(/went to OK/) });
  });
});
