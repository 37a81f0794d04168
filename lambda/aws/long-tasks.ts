/**
 * The long tasks the deployed waiter runs, by kind: each kind's task and the deps its steps need,
 * built over one Service. The waiter's step handler (lambda/handlers/long-task.handler.ts) looks
 * the task up by `state.kind` here. A new kind is one more entry in `TASKS` (and the actions it
 * needs granted to the step function, see LongTaskWaiter.grantTaskActions in lib/).
 */
import { BackupServiceError } from '../core/errors';
import type { LongTask, LongTaskState, StepOutcome } from '../core/long-task';
import { drillTask } from '../core/restore/drill';
import { drillDeps } from './drills';
import type { Service } from './service';
import { settingsClients } from './table-settings';

/** A state whose kind no task is registered for: the waiter fails the execution and notifies. */
export class UnknownLongTaskError extends BackupServiceError {
  override readonly name: string = 'UnknownLongTaskError';
}

/** One registered kind: its task, and how to build what its steps need. */
export interface RegisteredTask<D = never> {
  readonly task: LongTask<D>;
  deps(svc: Service): D;
}

const register = <D>(task: LongTask<D>, deps: (svc: Service) => D): RegisteredTask<unknown> => ({ task, deps }) as unknown as RegisteredTask<unknown>;

/** Every kind the waiter runs. */
export const TASKS: Readonly<Record<string, RegisteredTask<unknown>>> = {
  drill: register(drillTask, (svc) => drillDeps(svc, settingsClients(svc.clients))),
};

export interface LongTaskRegistry {
  readonly kinds: readonly string[];
  step(state: LongTaskState, now: Date): Promise<StepOutcome>;
}

/** The registry over one Service: deps are built once per kind and reused across steps. */
export function longTaskRegistry(svc: Service, tasks: Readonly<Record<string, RegisteredTask<unknown>>> = TASKS): LongTaskRegistry {
  const built = new Map<string, unknown>();
  return {
    kinds: Object.keys(tasks),
    async step(state, now) {
      const entry = Object.prototype.hasOwnProperty.call(tasks, state?.kind) ? tasks[state.kind] : undefined;
      if (!entry) throw new UnknownLongTaskError(`no long task of kind "${String(state?.kind)}" (known: ${Object.keys(tasks).join(', ')})`);
      if (!built.has(state.kind)) built.set(state.kind, entry.deps(svc));
      return entry.task.step(built.get(state.kind) as never, state, now);
    },
  };
}
