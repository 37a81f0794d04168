import { createHash } from 'node:crypto';
import { DEFAULTS } from '../env';

/** What caused a backup. */
export const TRIGGERS = ['schedule', 'size', 'changes', 'manual'] as const;
export type Trigger = (typeof TRIGGERS)[number];

const PREFIX = DEFAULTS.BACKUP_NAME_PREFIX;
const NAME_RE = new RegExp(`^${PREFIX}\\.([A-Za-z0-9_-]{1,64})\\.(${TRIGGERS.join('|')})\\.(\\d{8}T\\d{6}Z)\\.([a-f0-9]{6})$`);

export interface ParsedBackupName {
  readonly policy: string;
  readonly trigger: Trigger;
  /** The UTC time in the name (second precision). */
  readonly time: Date;
  /** Short hash of the job slot the backup was made for. */
  readonly slotHash: string;
}

/** `20261124T030000Z` for a Date. */
export function compactUtc(time: Date): string {
  return time.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}Z$/, 'Z');
}

export function slotHash(slot: string): string {
  return createHash('sha256').update(slot).digest('hex').slice(0, 6);
}

/**
 * Backup name: `ddbbk.<policy>.<trigger>.<YYYYMMDDTHHMMSSZ>.<slot hash>`.
 * Only [A-Za-z0-9_.-], 3–255 characters, as CreateBackup requires. The prefix marks the backup
 * as the service's own; pruning never touches a backup whose name does not parse.
 */
export function backupName(policy: string, trigger: Trigger, time: Date, slot: string): string {
  return `${PREFIX}.${policy}.${trigger}.${compactUtc(time)}.${slotHash(slot)}`;
}

/** Parses a backup name made by `backupName`; undefined for anything else (a backup not ours). */
export function parseBackupName(name: string | undefined): ParsedBackupName | undefined {
  if (!name) return undefined;
  const m = NAME_RE.exec(name);
  if (!m) return undefined;
  const [, policy, trigger, ts, hash] = m;
  const iso = `${ts.slice(0, 4)}-${ts.slice(4, 6)}-${ts.slice(6, 8)}T${ts.slice(9, 11)}:${ts.slice(11, 13)}:${ts.slice(13, 15)}Z`;
  const time = new Date(iso);
  // Reject impossible timestamps (Feb 30 would roll over to March).
  if (Number.isNaN(time.getTime()) || compactUtc(time) !== ts) return undefined;
  return { policy, trigger: trigger as Trigger, time, slotHash: hash };
}

/** True when the backup name marks a backup the service created. */
export function isServiceBackup(name: string | undefined): boolean {
  return parseBackupName(name) !== undefined;
}
