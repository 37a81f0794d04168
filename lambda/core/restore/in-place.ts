/**
 * In-place (cut-over) restore: put a backup back under the table's own name, because
 * applications are configured with table names and DynamoDB cannot rename a table.
 *
 * Order, and why:
 *  1. refuse without confirmation, and under deletion protection unless told to lift it;
 *  2. a safety backup of the live table first, recorded in the ledger under the `pre-restore`
 *     policy with a hold, so nothing prunes it until an operator releases it;
 *  3. the settings snapshot (stored in the ledger too), then delete, restore under the same name,
 *     re-apply the settings with the policy tag (the table stays enrolled) and deletion protection;
 *  4. verify the item count; report the seconds from delete to ACTIVE-with-settings (the RTO).
 * Once the table is deleted, any failure says exactly how to finish by hand (`handSteps`).
 * The orchestration is here; every AWS call goes through InPlaceDeps (lambda/aws/in-place.ts).
 */
import { BackupServiceError, errorMessage } from '../errors';
import type { Clock } from '../ports';
import type { SettingResult, TableSettings } from './restore';

/** The policy name under which pre-restore safety backups are recorded (held, never pruned). */
export const PRE_RESTORE_POLICY = 'pre-restore';

/** An in-place restore that may not go ahead: nothing was changed. */
export class InPlaceRefusedError extends BackupServiceError {
  override readonly name: string = 'InPlaceRefusedError';

  constructor(
    message: string,
    readonly input: Record<string, unknown>,
  ) {
    super(message);
  }
}

/** A step after the delete failed: the table may be missing; `steps` say how to finish by hand. */
export class InPlaceIncompleteError extends BackupServiceError {
  override readonly name: string = 'InPlaceIncompleteError';

  constructor(
    message: string,
    readonly steps: readonly string[],
    readonly safetyBackupArn: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export interface InPlaceRequest {
  readonly table: string;
  /** `latest` or a backup ARN. */
  readonly backup: string;
  /** The operator confirmed (--yes). */
  readonly confirmed: boolean;
  /** Lift deletion protection (it is put back with the settings). */
  readonly disableDeletionProtection: boolean;
  /** Who runs it, for the safety backup's hold. */
  readonly by: string;
}

export interface InPlaceDeps {
  readonly clock: Clock;
  /** The live table, or undefined when it does not exist. */
  describe(table: string): Promise<{ deletionProtection: boolean } | undefined>;
  /** The backup to restore and its recorded item count; throws when there is none. */
  resolveBackup(table: string, backup: string): Promise<{ backupArn: string; itemCount?: number }>;
  /** Backs the live table up, records it under PRE_RESTORE_POLICY and holds it. */
  safetyBackup(table: string, hold: { reason: string; by: string }): Promise<{ backupArn: string }>;
  /** Captures the table's settings and stores them in the ledger (the snapshot a hand finish uses). */
  snapshotSettings(table: string): Promise<TableSettings>;
  disableDeletionProtection(table: string): Promise<void>;
  /** Deletes the table and waits until it is gone. */
  deleteTable(table: string): Promise<void>;
  restoreFromBackup(backupArn: string, table: string): Promise<void>;
  waitActive(table: string): Promise<void>;
  /** Re-applies every setting, the policy tag and deletion protection included. */
  applySettings(table: string, settings: TableSettings): Promise<SettingResult[]>;
  countItems(table: string): Promise<number>;
  progress?(line: string): void;
}

export interface InPlaceResult {
  readonly table: string;
  readonly backupArn: string;
  readonly safetyBackupArn: string;
  /** Seconds from the delete to the table ACTIVE with its settings. */
  readonly restoreSeconds: number;
  readonly itemCount: { readonly restored: number; readonly recorded?: number; readonly passed: boolean | null };
  readonly settings: readonly SettingResult[];
  readonly deletionProtectionLifted: boolean;
  readonly passed: boolean;
}

const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/**
 * How to finish by hand after a failure past the delete: restore (the chosen backup, or the
 * safety backup to go back), wait, re-apply the recorded settings with the AWS CLI, and release
 * the safety backup's hold when satisfied.
 */
export function handSteps(table: string, backupArn: string, safetyBackupArn: string, settings: TableSettings | undefined): string[] {
  const steps = [
    `1. If table ${table} does not exist, restore it (the chosen backup, or the safety backup ${safetyBackupArn} to go back to what it held):`,
    `   aws dynamodb restore-table-from-backup --target-table-name ${table} --backup-arn ${backupArn}`,
    `2. Wait until it is ACTIVE: aws dynamodb wait table-exists --table-name ${table}`,
    `3. Re-apply the settings a restore drops (recorded in the ledger as the settings snapshot of ${table}):`,
  ];
  const s = settings;
  const cmds: string[] = [];
  const tags = Object.entries(s?.tags ?? {}).filter(([k]) => !k.startsWith('aws:'));
  if (tags.length > 0) {
    cmds.push(`aws dynamodb tag-resource --resource-arn <the table's ARN> --tags ${tags.map(([k, v]) => `Key=${q(k)},Value=${q(v)}`).join(' ')}`);
  }
  if (s?.ttl) cmds.push(`aws dynamodb update-time-to-live --table-name ${table} --time-to-live-specification Enabled=true,AttributeName=${q(s.ttl.attributeName)}`);
  if (s?.stream) cmds.push(`aws dynamodb update-table --table-name ${table} --stream-specification StreamEnabled=true,StreamViewType=${s.stream.viewType}`);
  if (s?.pitr) {
    cmds.push(
      `aws dynamodb update-continuous-backups --table-name ${table} --point-in-time-recovery-specification PointInTimeRecoveryEnabled=true${s.pitr.recoveryPeriodDays ? `,RecoveryPeriodInDays=${s.pitr.recoveryPeriodDays}` : ''}`,
    );
  }
  if (s?.resourcePolicy) cmds.push(`aws dynamodb put-resource-policy --resource-arn <the table's ARN> --policy <the policy in the snapshot, with the table's ARN>`);
  if (s?.deletionProtection) cmds.push(`aws dynamodb update-table --table-name ${table} --deletion-protection-enabled`);
  const other = ['contributorInsights', 'kinesis', 'autoScaling'].filter((k) => {
    const v = (s as unknown as Record<string, unknown> | undefined)?.[k];
    return Array.isArray(v) ? v.length > 0 : Boolean(v);
  });
  if (other.length > 0) cmds.push(`also re-apply: ${other.join(', ')} (see ddb-backup snapshot in the ledger)`);
  steps.push(...(cmds.length > 0 ? cmds.map((c) => `   ${c}`) : ['   (the snapshot holds no setting to re-apply)']));
  steps.push(`4. When the table is right, release the safety backup: ddb-backup backups release ${safetyBackupArn}`);
  return steps;
}

/** Runs an in-place restore; throws InPlaceRefusedError (nothing changed) or InPlaceIncompleteError (finish by hand). */
export async function restoreInPlace(deps: InPlaceDeps, req: InPlaceRequest): Promise<InPlaceResult> {
  const input = { table: req.table, backup: req.backup };
  if (!req.confirmed) {
    throw new InPlaceRefusedError(
      `refusing to restore ${req.table} in place without --yes: it deletes the table and restores the backup under its name (a safety backup is taken first)`,
      input,
    );
  }
  const live = await deps.describe(req.table);
  if (!live) {
    throw new InPlaceRefusedError(`no table named "${req.table}": an in-place restore replaces a live table (restore --target creates a new one)`, input);
  }
  if (live.deletionProtection && !req.disableDeletionProtection) {
    throw new InPlaceRefusedError(
      `refusing to restore ${req.table} in place: it has deletion protection; pass --disable-deletion-protection to lift it for the cut-over (it is turned back on afterwards)`,
      input,
    );
  }
  const chosen = await deps.resolveBackup(req.table, req.backup);
  const say = (l: string) => deps.progress?.(l);

  const safety = await deps.safetyBackup(req.table, { reason: `pre-restore backup before in-place restore of ${req.table}`, by: req.by });
  say(`safety backup of ${req.table}: ${safety.backupArn} (held; release it with: ddb-backup backups release ${safety.backupArn})`);
  const settings = await deps.snapshotSettings(req.table);
  if (live.deletionProtection) {
    await deps.disableDeletionProtection(req.table);
    say(`deletion protection lifted on ${req.table}`);
  }

  const deletedAt = deps.clock.now();
  try {
    await deps.deleteTable(req.table);
  } catch (err) {
    throw new InPlaceIncompleteError(
      `the delete of ${req.table} failed (${errorMessage(err)}); the table may still be there${live.deletionProtection ? ' without its deletion protection' : ''}`,
      handSteps(req.table, chosen.backupArn, safety.backupArn, settings),
      safety.backupArn,
      { cause: err },
    );
  }
  say(`deleted ${req.table}; restoring ${chosen.backupArn} under the same name`);
  try {
    await deps.restoreFromBackup(chosen.backupArn, req.table);
    await deps.waitActive(req.table);
    const results = await deps.applySettings(req.table, settings);
    const restoreSeconds = Math.round((deps.clock.now().getTime() - deletedAt.getTime()) / 100) / 10;
    const restored = await deps.countItems(req.table);
    const countOk = chosen.itemCount === undefined ? null : restored === chosen.itemCount;
    const failed = results.filter((r) => r.outcome === 'failed');
    return {
      table: req.table,
      backupArn: chosen.backupArn,
      safetyBackupArn: safety.backupArn,
      restoreSeconds,
      itemCount: { restored, ...(chosen.itemCount !== undefined ? { recorded: chosen.itemCount } : {}), passed: countOk },
      settings: results,
      deletionProtectionLifted: live.deletionProtection,
      passed: failed.length === 0 && countOk !== false,
    };
  } catch (err) {
    throw new InPlaceIncompleteError(
      `the in-place restore of ${req.table} did not finish after the table was deleted: ${errorMessage(err)}`,
      handSteps(req.table, chosen.backupArn, safety.backupArn, settings),
      safety.backupArn,
      { cause: err },
    );
  }
}
