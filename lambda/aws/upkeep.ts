import type { TableUpkeep } from '../core/ports';
import type { Ledger } from './ledger';
import { ensurePitr } from './pitr';
import type { Service } from './service';
import { captureSettings, settingsClients } from './table-settings';

/**
 * The worker's post-backup upkeep over the real adapters: the change counter's baseline, PITR
 * per policy, and a daily settings snapshot stored in the ledger for restores.
 */
export function tableUpkeep(svc: Service, opts: { endpoint?: string; region?: string } = {}): TableUpkeep {
  const ledger = (): Ledger => svc.ledger();
  return {
    markChangesBaseline: (table, now) => ledger().markChangesBaseline(table, now),
    ensurePitr: (table, days) => ensurePitr(svc.clients.dynamodb, table, days),
    snapshotSettings: async (table, policy, now) => {
      const settings = await captureSettings(settingsClients(svc.clients, opts), table, now);
      await ledger().putSettingsSnapshot(table, settings, now);
      await ledger().markSettingsCaptured(table, policy, now);
    },
  };
}
