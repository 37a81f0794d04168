/**
 * The AWS side of an in-place restore (lambda/core/restore/in-place.ts): the safety backup
 * recorded and held through the ledger's public methods, delete and wait, restore, re-apply.
 */
import {
  DeleteTableCommand,
  DescribeBackupCommand,
  RestoreTableFromBackupCommand,
  ScanCommand,
  UpdateTableCommand,
  waitUntilTableNotExists,
  type AttributeValue,
  type DynamoDBClient,
} from '@aws-sdk/client-dynamodb';
import { newAttemptId } from '../core/backup/claim';
import { manualSlot, type BackupJob } from '../core/jobs';
import { backupName } from '../core/naming';
import { PRE_RESTORE_POLICY, type InPlaceDeps } from '../core/restore/in-place';
import { NoBackupError, chooseBackup, findTable } from './restore';
import { liveNewestFirst } from '../core/ports';
import type { Service } from './service';
import { applySettings, captureSettings, waitForActive, type SettingsClients } from './table-settings';

/** Every item of a table, counted with paginated COUNT scans. */
export async function countItems(ddb: DynamoDBClient, table: string): Promise<number> {
  let n = 0;
  let start: Record<string, AttributeValue> | undefined;
  do {
    const out = await ddb.send(new ScanCommand({ TableName: table, Select: 'COUNT', ...(start ? { ExclusiveStartKey: start } : {}) }));
    n += out.Count ?? 0;
    start = out.LastEvaluatedKey;
  } while (start);
  return n;
}

export function inPlaceDeps(svc: Service, clients: SettingsClients, opts: { maxWaitMs?: number; progress?: (line: string) => void } = {}): InPlaceDeps {
  const ddb = svc.clients.dynamodb;
  const maxWaitMs = opts.maxWaitMs ?? 120 * 60_000;
  return {
    clock: svc.clock,
    progress: opts.progress,
    async describe(table) {
      const t = await findTable(ddb, table);
      return t ? { deletionProtection: t.DeletionProtectionEnabled === true } : undefined;
    },
    async resolveBackup(table, backup) {
      const ledger = svc.ledger();
      const records = await ledger.listBackupRecords(table);
      // `latest` is the newest backup taken by a policy: never an earlier in-place restore's
      // safety backup (a retry would otherwise put back the contents it replaced).
      const latest = liveNewestFirst(records.filter((r) => r.policy !== PRE_RESTORE_POLICY));
      let chosen: { backupArn: string } | undefined;
      if (backup !== 'latest') chosen = await chooseBackup({ ddb, backups: svc.backups, ledger }, table, { kind: 'backup', backupArn: backup });
      for (const r of backup === 'latest' ? latest : []) {
        if ((await svc.backups.describeBackupStatus(r.backupArn!)) === 'AVAILABLE') {
          chosen = { backupArn: r.backupArn! };
          break;
        }
      }
      if (!chosen) throw new NoBackupError(`no AVAILABLE backup of the service's own for table "${table}" in the ledger; pass --backup-arn to restore another`);
      const record = records.find((r) => r.backupArn === chosen.backupArn);
      const described = record?.itemCount === undefined ? (await ddb.send(new DescribeBackupCommand({ BackupArn: chosen.backupArn }))).BackupDescription : undefined;
      const itemCount = record?.itemCount ?? described?.SourceTableDetails?.ItemCount;
      return { backupArn: chosen.backupArn, ...(itemCount !== undefined ? { itemCount } : {}) };
    },
    async safetyBackup(table, hold) {
      const ledger = svc.ledger();
      const now = svc.clock.now();
      const slot = manualSlot(now);
      const job: BackupJob = { table, policy: PRE_RESTORE_POLICY, trigger: 'manual', slot, requestedAt: now.toISOString(), runId: `${PRE_RESTORE_POLICY}|${slot}` };
      const attemptId = newAttemptId();
      const name = backupName(PRE_RESTORE_POLICY, 'manual', now, slot, attemptId);
      const claim = await ledger.claim(job, { policyHash: PRE_RESTORE_POLICY, now, attemptId, backupName: name });
      if (!claim.claimed) throw new Error(`could not claim the safety backup of ${table} in the ledger`);
      const facts = await svc.backups.describeTable(table);
      const created = await svc.backups.createBackup(table, name);
      await ledger.recordBackup(job, { ...created, ...(facts.itemCount !== undefined ? { itemCount: facts.itemCount, itemCountAt: now.toISOString() } : {}) }, attemptId);
      const held = await ledger.placeHold(job, { ...hold, at: now.toISOString() });
      if (!held) throw new Error(`the safety backup ${created.backupArn} of ${table} was recorded but could not be held`);
      return { backupArn: created.backupArn };
    },
    async snapshotSettings(table) {
      const settings = await captureSettings(clients, table);
      await svc.ledger().putSettingsSnapshot(table, settings, svc.clock.now());
      return settings;
    },
    async disableDeletionProtection(table) {
      await ddb.send(new UpdateTableCommand({ TableName: table, DeletionProtectionEnabled: false }));
      await waitForActive(ddb, table, { maxWaitMs });
    },
    async deleteTable(table) {
      await ddb.send(new DeleteTableCommand({ TableName: table }));
      await waitUntilTableNotExists({ client: ddb, maxWaitTime: Math.round(maxWaitMs / 1000), minDelay: 1, maxDelay: 10 }, { TableName: table });
    },
    async restoreFromBackup(backupArn, table) {
      await ddb.send(new RestoreTableFromBackupCommand({ BackupArn: backupArn, TargetTableName: table }));
    },
    async waitActive(table) {
      await waitForActive(ddb, table, { maxWaitMs });
    },
    applySettings(table, settings) {
      return applySettings(clients, table, settings, { tagKey: svc.config.tagKey, keepPolicyTag: true, maxWaitMs, onProgress: opts.progress });
    },
    countItems: (table) => countItems(ddb, table),
  };
}
