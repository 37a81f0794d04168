/**
 * The long task of kind 'copy': waits for one copy's export and records how it ended.
 *   phase 'wait-export': DescribeExport; IN_PROGRESS → wait; COMPLETED/FAILED → ledger, done.
 * Run by the deployed waiter, or in-process by `ddb-backup copy --wait`.
 */
import { errorMessage } from '../errors';
import { clampWait, type LongTask, type LongTaskState, type StepOutcome } from '../long-task';
import { COPY_STUCK_AFTER_HOURS, type CopyDeps, type CopyKey, type CopyRecord } from './copies';

export const COPY_TASK_KIND = 'copy';

/** The copy task's state: the ledger key of the copy and its export. */
export interface CopyTaskState extends LongTaskState {
  readonly kind: typeof COPY_TASK_KIND;
  readonly phase: 'wait-export';
  readonly table: string;
  readonly copyId: string;
  readonly requestedAt: string;
  readonly exportArn: string;
  readonly polls?: number;
}

/** What the copy task needs: DescribeExport and the copy records. */
export type CopyTaskDeps = Pick<CopyDeps, 'ledger'> & { readonly api: Pick<CopyDeps['api'], 'describeExport'> };

/** The first state of the task for a copy just requested. */
export function copyTaskState(record: CopyRecord): CopyTaskState {
  if (!record.exportArn) throw new Error(`copy ${record.copyId} has no export to wait for`);
  return { kind: COPY_TASK_KIND, phase: 'wait-export', startedAt: record.requestedAt, table: record.table, copyId: record.copyId, requestedAt: record.requestedAt, exportArn: record.exportArn };
}

/** Polls every 20 s for the first few minutes, then every 2 minutes, then every 5. */
export function copyPollSeconds(polls: number): number {
  return clampWait(polls < 10 ? 20 : polls < 40 ? 120 : 300);
}

function asCopyState(state: LongTaskState): CopyTaskState {
  const s = state as Partial<CopyTaskState>;
  if (s.kind !== COPY_TASK_KIND || !s.table || !s.copyId || !s.requestedAt || !s.exportArn) {
    throw new Error(`not a copy task state: ${JSON.stringify(state)}`);
  }
  return state as CopyTaskState;
}

export const copyTask: LongTask<CopyTaskDeps> = {
  kind: COPY_TASK_KIND,
  async step(deps: CopyTaskDeps, raw: LongTaskState, now: Date): Promise<StepOutcome> {
    const state = asCopyState(raw);
    const key: CopyKey = { table: state.table, copyId: state.copyId, requestedAt: state.requestedAt };
    const polls = (state.polls ?? 0) + 1;
    const export_ = await deps.api.describeExport(state.exportArn);
    if (export_.status === 'IN_PROGRESS') {
      const hours = (now.getTime() - Date.parse(state.requestedAt)) / 3_600_000;
      if (hours > COPY_STUCK_AFTER_HOURS) {
        return { next: 'done', state, passed: false, summary: `copy ${state.copyId} of ${state.table} is stuck: export still IN_PROGRESS after ${Math.floor(hours)} h` };
      }
      return { next: 'wait', state: { ...state, polls }, waitSeconds: copyPollSeconds(polls) };
    }
    try {
      await deps.ledger.finishCopy(key, export_);
    } catch (err) {
      // The export's end is known; a later step (or the next run) records it.
      return { next: 'wait', state: { ...state, polls, lastError: errorMessage(err) }, waitSeconds: copyPollSeconds(polls) };
    }
    const ok = export_.status === 'COMPLETED';
    const size = export_.billedSizeBytes !== undefined ? `, ${export_.billedSizeBytes} bytes` : '';
    return {
      next: 'done',
      state: { ...state, polls },
      passed: ok,
      summary: ok
        ? `copy ${state.copyId} of ${state.table} COMPLETED: ${export_.itemCount ?? '?'} items${size}`
        : `copy ${state.copyId} of ${state.table} FAILED: ${export_.error ?? 'no reason given'}`,
    };
  },
};
