import type { TableUpkeep } from '../core/ports';
import type { Ledger } from './ledger';
import { ensurePitr } from './pitr';
import type { Service } from './service';
import { captureSettingsAndFacts, settingsClients } from './table-settings';

/**
 * The worker's upkeep over the real adapters: a daily settings snapshot stored in the ledger for
 * restores (its DescribeTable also gives the backup's item count), the change counter's baseline,
 * and PITR per policy.
 */
export function tableUpkeep(svc: Service, opts: { endpoint?: string; region?: string } = {}): TableUpkeep {
  const ledger = (): Ledger => svc.ledger();
  return {
    markChangesBaseline: (table, now) => ledger().markChangesBaseline(table, now),
    ensurePitr: (table, days, known) => ensurePitr(svc.clients.dynamodb, table, days, { before: known }),
    snapshotSettings: async (table, policy, now) => {
      const { settings, facts } = await captureSettingsAndFacts(settingsClients(svc.clients, opts), table, now);
      // A table still being created or updated may not answer every read yet: keep the last
      // snapshot and try again at the next backup.
      if (facts.status === 'ACTIVE') {
        await ledger().putSettingsSnapshot(table, settings, now);
        await ledger().markSettingsCaptured(table, policy, now);
      }
      return facts;
    },
  };
}
