import type { LongTaskRegistry } from '../aws/long-tasks';
import { lazy } from '../core/lazy';
import type { LongTaskState, StepOutcome } from '../core/long-task';

/**
 * One step of a long task (a restore drill, an export copy), for the waiter state machine: it
 * passes the task's state in, and waits, steps again or ends on the outcome's `next`. The task is
 * looked up by `state.kind` in lambda/aws/long-tasks.ts. Never sleeps: waiting is the state
 * machine's Wait state.
 */

/** The registry over this function's environment: built on the first invocation, not at cold start. */
const registry = lazy(async () => {
  const [{ serviceFromEnv }, { longTaskRegistry }] = await Promise.all([import('../aws/service'), import('../aws/long-tasks')]);
  return longTaskRegistry(serviceFromEnv());
});

export async function longTaskHandler(state: LongTaskState, reg?: LongTaskRegistry, now: Date = new Date()): Promise<StepOutcome> {
  return (reg ?? (await registry())).step(state, now);
}

export const handler = (event: LongTaskState): Promise<StepOutcome> => longTaskHandler(event);
