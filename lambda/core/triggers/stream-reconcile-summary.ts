import type { StreamReconcileReport } from './stream-reconcile';

/** What the stream reconciler logs and returns of a run. */
export interface StreamReconcileSummary {
  readonly created: number;
  readonly updated: number;
  readonly deleted: number;
  readonly unchanged: number;
  readonly streamsEnabled: string[];
  readonly missingStream: string[];
  readonly missingTable: string[];
  readonly errors: number;
  readonly notified: boolean;
}

export function streamReconcileSummary(r: StreamReconcileReport): StreamReconcileSummary {
  return {
    created: r.created.length,
    updated: r.updated.length,
    deleted: r.deleted.length,
    unchanged: r.plan.unchanged,
    streamsEnabled: r.streamsEnabled,
    missingStream: r.plan.missingStream.map((m) => m.table),
    missingTable: r.plan.missingTable,
    errors: r.errors.length,
    notified: r.notified,
  };
}
