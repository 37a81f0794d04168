import { LongTaskTimeoutError, clampWait, runLongTask, type LongTask, type LongTaskState } from '../../lambda/core/long-task';

/** A task that waits `polls` times, then finishes. */
const pollTask: LongTask<{ polls: number }> = {
  kind: 'poll',
  async step(deps, state) {
    const seen = (state.seen as number) ?? 0;
    if (seen < deps.polls) return { next: 'wait', waitSeconds: 30, state: { ...state, phase: 'waiting', seen: seen + 1 } };
    return { next: 'done', passed: true, summary: `done after ${seen} polls`, state: { ...state, phase: 'done' } };
  },
};

function fakeTime() {
  let t = Date.parse('2026-12-02T00:00:00Z');
  const slept: number[] = [];
  return { now: () => new Date(t), sleep: async (ms: number) => void (slept.push(ms), (t += ms)), slept };
}

const start: LongTaskState = { kind: 'poll', phase: 'start', startedAt: '2026-12-02T00:00:00Z' };

describe('runLongTask (the in-process runner of the waiter steps)', () => {
  it('sleeps where the waiter would wait and returns the final outcome', async () => {
    // Prepare
    const time = fakeTime();
    const steps: string[] = [];
    // Act
    const out = await runLongTask(pollTask, { polls: 3 }, start, { ...time, onStep: (o) => steps.push(o.next) });
    // Assess
    expect(out).toMatchObject({ next: 'done', passed: true, summary: 'done after 3 polls' });
    expect(time.slept).toEqual([30_000, 30_000, 30_000]);
    expect(steps).toEqual(['wait', 'wait', 'wait', 'done']);
  });

  it('gives up past its deadline with a typed error naming the phase', async () => {
    const time = fakeTime();
    await expect(runLongTask(pollTask, { polls: 100 }, start, { ...time, maxSeconds: 100 })).rejects.toThrow(LongTaskTimeoutError);
    await expect(runLongTask(pollTask, { polls: 100 }, start, { ...fakeTime(), maxSeconds: 100 })).rejects.toThrow(/within 100 s \(last phase: waiting\)/);
  });

  it('clamps waits to whole seconds from 1 to 300', () => {
    expect([clampWait(0), clampWait(2.4), clampWait(1e6), clampWait(Number.NaN)]).toEqual([1, 2, 300, 300]);
  });
});
