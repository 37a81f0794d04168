import type { StreamReconcileReport } from '../../lambda/core/triggers/stream-reconcile';
import { streamReconcileSummary } from '../../lambda/core/triggers/stream-reconcile-summary';

describe('streamReconcileSummary: what the stream reconciler logs and returns', () => {
  it('counts the changes and names the tables without a stream or gone', () => {
    // Prepare
    const report: StreamReconcileReport = {
      plan: { create: [], update: [], delete: [], enableStream: [], unchanged: 4, missingStream: [{ table: 'no-stream', policies: ['busy'] }], missingTable: ['gone'] },
      created: ['a', 'b'],
      updated: ['c'],
      deleted: [],
      streamsEnabled: ['d'],
      errors: [{ table: 'e', message: 'AccessDenied' }],
      notified: true,
    };

    // Act
    const summary = streamReconcileSummary(report);

    // Assess
    expect(summary).toEqual({
      created: 2,
      updated: 1,
      deleted: 0,
      unchanged: 4,
      streamsEnabled: ['d'],
      missingStream: ['no-stream'],
      missingTable: ['gone'],
      errors: 1,
      notified: true,
    });
  });
});
