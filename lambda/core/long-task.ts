/**
 * Long tasks: work that waits on AWS for minutes to hours (a restore drill, an export copy).
 * No Lambda ever sleeps through one. A task is a series of short steps over a JSON state:
 *  - deployed, one Step Functions state machine (the waiter) runs every kind: it invokes the
 *    step function, then waits `waitSeconds` in a Wait state, or goes on at once, or ends;
 *  - in the CLI (`--wait`), `runLongTask` runs the same steps in-process with real sleeps.
 * So a task's logic is written once, as `step`, and both runners only move it forward.
 */

/** The state a task carries between steps: plain JSON (it travels through Step Functions). */
export interface LongTaskState {
  /** Which task this is: the waiter's step function picks the task by it. */
  readonly kind: string;
  /** Where the task is (task-defined, e.g. 'restore', 'wait-active', 'verify', 'cleanup'). */
  readonly phase: string;
  /** When the task started (ISO-8601): every task's deadline counts from it. */
  readonly startedAt: string;
  readonly [key: string]: unknown;
}

/** What one step decides. */
export type StepOutcome =
  /** Not yet: look again after `waitSeconds` (the waiter's Wait state; the CLI sleeps). */
  | { readonly next: 'wait'; readonly state: LongTaskState; readonly waitSeconds: number }
  /** Run the next step at once. */
  | { readonly next: 'continue'; readonly state: LongTaskState }
  /** Finished: `passed` false is a failure the waiter notifies over SNS. */
  | { readonly next: 'done'; readonly state: LongTaskState; readonly passed: boolean; readonly summary: string };

/** One kind of long task. `D` is what its steps need (clients, ledger, clock). */
export interface LongTask<D> {
  readonly kind: string;
  step(deps: D, state: LongTaskState, now: Date): Promise<StepOutcome>;
}

/** The Wait state's bounds: Step Functions needs a whole number of seconds, and a task is polled at least this often. */
export const MIN_WAIT_SECONDS = 1;
export const MAX_WAIT_SECONDS = 300;

/** A wait the waiter (and the CLI loop) can use: whole seconds within the bounds. */
export function clampWait(seconds: number): number {
  if (!Number.isFinite(seconds)) return MAX_WAIT_SECONDS;
  return Math.min(MAX_WAIT_SECONDS, Math.max(MIN_WAIT_SECONDS, Math.round(seconds)));
}

/** A task that has not finished within its deadline. */
export class LongTaskTimeoutError extends Error {
  override readonly name = 'LongTaskTimeoutError';
}

export interface RunLongTaskOptions {
  readonly now: () => Date;
  readonly sleep: (ms: number) => Promise<void>;
  /** Give up after this long (from the first step). @default 24 hours, the waiter's own timeout */
  readonly maxSeconds?: number;
  /** Called after each step (progress lines in the CLI). */
  readonly onStep?: (outcome: StepOutcome) => void;
}

/** The deployed waiter's timeout: a task that is not done in a day has failed. */
export const LONG_TASK_MAX_SECONDS = 24 * 3600;

/**
 * Runs a task to its end in this process, step by step, sleeping where the waiter would wait.
 * Returns the final outcome; throws LongTaskTimeoutError past `maxSeconds`.
 */
export async function runLongTask<D>(
  task: LongTask<D>,
  deps: D,
  initial: LongTaskState,
  opts: RunLongTaskOptions,
): Promise<Extract<StepOutcome, { next: 'done' }>> {
  const deadline = opts.now().getTime() + (opts.maxSeconds ?? LONG_TASK_MAX_SECONDS) * 1000;
  let state = initial;
  const limit = () => new LongTaskTimeoutError(`${task.kind} did not finish within ${opts.maxSeconds ?? LONG_TASK_MAX_SECONDS} s (last phase: ${state.phase})`);
  for (;;) {
    if (opts.now().getTime() > deadline) throw limit();
    const outcome = await task.step(deps, state, opts.now());
    opts.onStep?.(outcome);
    if (outcome.next === 'done') return outcome;
    state = outcome.state;
    if (outcome.next === 'wait') {
      if (opts.now().getTime() + outcome.waitSeconds * 1000 > deadline) throw limit();
      await opts.sleep(clampWait(outcome.waitSeconds) * 1000);
    }
  }
}
