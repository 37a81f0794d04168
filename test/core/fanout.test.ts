import fc from 'fast-check';
import { parsePlanPage, planPages, type FanoutDeps, type PlanPage } from '../../lambda/core/backup/fanout';
import { parsePolicy, type Policy } from '../../lambda/core/policy';
import type { JobResult } from '../../lambda/core/jobs';
import type { TaggedTable } from '../../lambda/core/tags';
import { finishJobResult } from '../../lambda/core/backup/runs';
import { MemoryNotifier, MemoryQueue, MemoryRunLedger } from '../support/run-fakes';

const NOW = new Date('2026-11-24T03:00:05Z');
const TIME = '2026-11-24T03:00:00Z';
const RUN = 'daily|schedule|schedule:2026-11-24T03:00:00.000Z';

/** A tag index of `tables` tables, `perPage` per page; table 7 also names an unknown policy. */
function world(tables: number, perPage = 100) {
  const all: TaggedTable[] = Array.from({ length: tables }, (_, i) => ({
    table: `t${String(i).padStart(5, '0')}`,
    arn: `arn:aws:dynamodb:us-east-1:123456789012:table/t${i}`,
    policies: i === 7 ? ['daily', 'nosuch'] : ['daily'],
  }));
  const runs = new MemoryRunLedger();
  const queue = new MemoryQueue();
  const notifier = new MemoryNotifier();
  const sent: PlanPage[] = [];
  let policy: Policy | Error = parsePolicy({ schedule: 'rate(1 day)', notify: 'all' });
  let pageCalls = 0;
  const deps: FanoutDeps = {
    runs,
    queue,
    notifier,
    clock: { now: () => NOW },
    pages: { sendPage: async (p) => void sent.push(p) },
    policies: {
      getPolicy: async () => {
        if (policy instanceof Error) throw policy;
        return policy;
      },
      listNames: async () => new Set(['daily']),
      getEffective: async () => {
        throw new Error('not used');
      },
    },
    discovery: {
      discoverPage: async (token) => {
        pageCalls++;
        const from = token ? Number(token) : 0;
        const next = from + perPage < all.length ? String(from + perPage) : undefined;
        return { tables: all.slice(from, from + perPage), ...(next ? { next } : {}) };
      },
    },
  };
  return {
    deps,
    runs,
    queue,
    notifier,
    sent,
    breakPolicy: (err: Error) => void (policy = err),
    pageCalls: () => pageCalls,
  };
}

const tick: PlanPage = { policy: 'daily', trigger: 'schedule', time: TIME, page: 0 };

/** Drains the plan queue as the deployed planner would (one message per invocation). */
async function drain(w: ReturnType<typeof world>, perInvocation: number): Promise<number> {
  let invocations = 1;
  await planPages(w.deps, tick, { pagesPerInvocation: perInvocation });
  while (w.sent.length) {
    invocations++;
    await planPages(w.deps, parsePlanPage(JSON.stringify(w.sent.shift())), { pagesPerInvocation: perInvocation });
  }
  return invocations;
}

const ok = (table: string): JobResult => ({ table, policy: 'daily', status: 'backed-up', backupArn: `arn:${table}` });

describe('planner fan-out: a fleet planned a few tag pages per invocation', () => {
  it('plans 2,500 tables in 3 invocations of 10 pages, each job once, and publishes one summary after the last page and the last job', async () => {
    // Prepare
    const w = world(2500);
    // Act
    const invocations = await drain(w, 10);
    // Assess: three invocations (pages 0-9, 10-19, 20-24); every table once
    expect(invocations).toBe(3);
    expect(w.pageCalls()).toBe(25);
    expect(new Set(w.queue.enqueued.map((j) => j.table)).size).toBe(2500);
    expect(w.queue.enqueued).toHaveLength(2500);
    expect(w.runs.headers.get(RUN)).toMatchObject({ expected: 2500, completed: 0 });
    expect(w.runs.headers.get(RUN)?.planning).toBeUndefined();
    expect(w.notifier.published).toHaveLength(0);
    // Act: the jobs finish
    for (const j of w.queue.enqueued) await finishJobResult({ ...w.deps }, j.runId, ok(j.table));
    // Assess: one summary, with the unknown-policy warning of page 0
    expect(w.notifier.published).toHaveLength(1);
    expect(w.notifier.published[0].results).toHaveLength(2500);
    expect(w.notifier.published[0].problems).toEqual([expect.objectContaining({ kind: 'unknown-policy', table: 't00007' })]);
  });

  it('never publishes while pages remain, even when every job so far has finished', async () => {
    const w = world(250);
    await planPages(w.deps, tick, { pagesPerInvocation: 1 });
    for (const j of w.queue.enqueued) await finishJobResult(w.deps, j.runId, ok(j.table));
    expect(w.runs.headers.get(RUN)).toMatchObject({ expected: 100, completed: 100, planning: true });
    expect(w.notifier.published).toHaveLength(0);
    // The remaining pages: the summary goes out when the last job of the last page is in.
    while (w.sent.length) await planPages(w.deps, w.sent.shift()!, { pagesPerInvocation: 1 });
    for (const j of w.queue.enqueued.slice(100)) await finishJobResult(w.deps, j.runId, ok(j.table));
    expect(w.notifier.published).toHaveLength(1);
  });

  it('counts a page planned twice (a redelivered plan message) once; its jobs are sent again for SQS to deduplicate', () =>
    fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 900 }), fc.integer({ min: 1, max: 4 }), fc.array(fc.nat(), { maxLength: 5 }), async (tables, per, repeats) => {
        const w = world(tables, 50);
        const seen: PlanPage[] = [];
        await planPages(w.deps, tick, { pagesPerInvocation: per });
        while (w.sent.length) {
          const next = w.sent.shift()!;
          seen.push(next);
          await planPages(w.deps, next, { pagesPerInvocation: per });
        }
        // Redeliver some plan messages (and the tick) after the run was planned
        for (const r of repeats) await planPages(w.deps, [tick, ...seen][r % (seen.length + 1)], { pagesPerInvocation: per });
        w.sent.length = 0;
        expect(w.runs.headers.get(RUN)?.expected).toBe(tables);
        expect(new Set(w.queue.enqueued.map((j) => j.table)).size).toBe(tables);
      }),
      { numRuns: 40 },
    ));

  it('a policy that breaks between pages ends the run with the problem; the planned pages stand', async () => {
    const w = world(250);
    await planPages(w.deps, tick, { pagesPerInvocation: 1 });
    w.breakPolicy(new Error('policy "daily" is invalid: retention.keepLast: too big'));
    await planPages(w.deps, w.sent.shift()!, { pagesPerInvocation: 1 });
    for (const j of w.queue.enqueued) await finishJobResult(w.deps, j.runId, ok(j.table));
    expect(w.queue.enqueued).toHaveLength(100);
    expect(w.sent).toHaveLength(0);
    expect(w.notifier.published).toHaveLength(1);
    expect(w.notifier.published[0].problems).toEqual(expect.arrayContaining([expect.objectContaining({ kind: 'invalid-policy', message: expect.stringContaining('too big') })]));
  });

  it('an unusable policy at the tick is reported at once, with no run and no job', async () => {
    const w = world(10);
    w.breakPolicy(new Error('no such policy "daily"'));
    const out = await planPages(w.deps, tick);
    expect(out.dispatched?.published).toBe(true);
    expect(w.queue.enqueued).toHaveLength(0);
    expect(w.runs.headers.size).toBe(0);
  });

  it('prune ticks fan out too: one prune job per tagged table, no listing', async () => {
    const w = world(120);
    await drain(w, 1);
    const prune = world(120);
    await planPages(prune.deps, { ...tick, trigger: 'prune' }, { pagesPerInvocation: 5 });
    expect(prune.queue.enqueued).toHaveLength(120);
    expect(prune.queue.enqueued.every((j) => j.kind === 'prune' && j.trigger === 'prune')).toBe(true);
  });

  it('refuses a malformed plan queue message, naming what is wrong', () => {
    expect(() => parsePlanPage('{"policy":"daily","trigger":"schedule","time":"2026-11-24T03:00:00Z","page":3}')).toThrow(/lacks its "token"/);
    expect(() => parsePlanPage('{"policy":"daily","trigger":"size","time":"2026-11-24T03:00:00Z","page":0}')).toThrow(/unknown trigger "size"/);
    expect(() => parsePlanPage('{"policy":"","trigger":"schedule","time":"x","page":0}')).toThrow(/lacks "policy"/);
    expect(parsePlanPage('{"policy":"daily","trigger":"prune","time":"2026-11-24T03:00:00Z","page":2,"token":"abc","extra":1}')).toEqual({
      policy: 'daily',
      trigger: 'prune',
      time: '2026-11-24T03:00:00Z',
      page: 2,
      token: 'abc',
    });
  });
});
