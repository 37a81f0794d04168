/* eslint-disable @typescript-eslint/no-require-imports -- PITR and settings capture (with the Auto
   Scaling client) load on first use, not at the worker's cold start. */
import type { TableUpkeep } from '../core/ports';
import type { Ledger } from './ledger';
import type { Service } from './service';

/**
 * The worker's post-backup upkeep over the real adapters: the change counter's baseline, PITR
 * per policy, and a daily settings snapshot stored in the ledger for restores.
 */
export function tableUpkeep(svc: Service, opts: { endpoint?: string; region?: string } = {}): TableUpkeep {
  const ledger = (): Ledger => svc.ledger();
  return {
    markChangesBaseline: (table, now) => ledger().markChangesBaseline(table, now),
    ensurePitr: (table, days) => (require('./pitr') as typeof import('./pitr')).ensurePitr(svc.clients.dynamodb, table, days),
    snapshotSettings: async (table, policy, now) => {
      const { captureSettings, settingsClients } = require('./table-settings') as typeof import('./table-settings');
      const settings = await captureSettings(settingsClients(svc.clients, opts), table, now);
      await ledger().putSettingsSnapshot(table, settings, now);
      await ledger().markSettingsCaptured(table, policy, now);
    },
  };
}
