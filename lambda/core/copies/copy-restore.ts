/**
 * The long task of kind 'copy-restore': after ImportTable has been asked to create the NEW
 * table from a copy, wait for the import, re-apply the copy's recorded settings, and check the
 * imported item count against the copy's.
 *   'wait-import' → 'settings' → done
 */
import { clampWait, type LongTask, type LongTaskState, type StepOutcome } from '../long-task';
import type { CopyKey } from './copies';

export const COPY_RESTORE_TASK_KIND = 'copy-restore';

export interface ImportState {
  readonly status: string;
  readonly importedItemCount?: number;
  readonly error?: string;
}

export interface CopyRestoreState extends LongTaskState {
  readonly kind: typeof COPY_RESTORE_TASK_KIND;
  readonly phase: 'wait-import' | 'settings';
  readonly table: string;
  readonly copyId: string;
  readonly requestedAt: string;
  readonly target: string;
  readonly importArn: string;
  /** The copy's item count (DescribeExport), when known. */
  readonly expectedItems?: number;
  readonly importedItems?: number;
}

export interface CopyRestoreDeps {
  describeImport(importArn: string): Promise<ImportState>;
  /** Re-applies the copy's recorded settings to the target (waiting until it is ACTIVE). */
  applySettings(target: string, copy: CopyKey): Promise<{ readonly applied: number; readonly skipped: number; readonly failed: number }>;
}

/** Seconds between two DescribeImport calls. */
export const IMPORT_POLL_SECONDS = 15;

/** Whether the imported count matches the copy's; a copy without a count cannot be checked. */
export function verifyItemCount(expected: number | undefined, imported: number | undefined): { ok: boolean; detail: string } {
  if (expected === undefined) return { ok: true, detail: `${imported ?? '?'} items imported (the copy recorded no item count to check against)` };
  if (imported === expected) return { ok: true, detail: `${imported} items imported, as in the copy` };
  return { ok: false, detail: `${imported ?? '?'} items imported, but the copy has ${expected}` };
}

export const copyRestoreTask: LongTask<CopyRestoreDeps> = {
  kind: COPY_RESTORE_TASK_KIND,
  async step(deps: CopyRestoreDeps, raw: LongTaskState): Promise<StepOutcome> {
    const state = raw as CopyRestoreState;
    if (state.phase === 'wait-import') {
      const imp = await deps.describeImport(state.importArn);
      if (imp.status === 'IN_PROGRESS' || imp.status === 'CANCELLING') return { next: 'wait', state, waitSeconds: clampWait(IMPORT_POLL_SECONDS) };
      if (imp.status !== 'COMPLETED') {
        return { next: 'done', state, passed: false, summary: `import into ${state.target} ${imp.status}: ${imp.error ?? 'no reason given'}` };
      }
      return { next: 'continue', state: { ...state, phase: 'settings', importedItems: imp.importedItemCount } };
    }
    const settings = await deps.applySettings(state.target, { table: state.table, copyId: state.copyId, requestedAt: state.requestedAt });
    const count = verifyItemCount(state.expectedItems, state.importedItems);
    const passed = count.ok && settings.failed === 0;
    return {
      next: 'done',
      state: { ...state, settings },
      passed,
      summary: `restored ${state.target} from copy ${state.copyId} of ${state.table}: ${count.detail}; settings ${settings.applied} applied, ${settings.skipped} skipped, ${settings.failed} failed`,
    };
  },
};
