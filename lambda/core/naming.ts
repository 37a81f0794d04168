import { createHash } from 'node:crypto';
import { DEFAULTS } from '../env';
import { attemptHash } from './backup/claim';
import { TRIGGERS, type Trigger } from './triggers/triggers';

export { TRIGGERS, type Trigger };

const PREFIX = DEFAULTS.BACKUP_NAME_PREFIX;
const NAME_RE = new RegExp(`^${PREFIX}\\.([A-Za-z0-9_-]{1,64})\\.(${TRIGGERS.join('|')})\\.(\\d{8}T\\d{6}Z)\\.([a-f0-9]{6}|[a-f0-9]{12})$`);

export interface ParsedBackupName {
  readonly policy: string;
  readonly trigger: Trigger;
  /** The UTC time in the name (second precision). */
  readonly time: Date;
  /** Short hash of the job slot (and, in names since attempt tokens, of the attempt). */
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
 * Backup name: `ddbbk.<policy>.<trigger>.<YYYYMMDDTHHMMSSZ>.<hash>`, the hash of the slot and,
 * when given, of the claim's attempt token (12 hex digits), so that exactly one attempt's backup
 * has that name. Only [A-Za-z0-9_.-], 3–255 characters, as CreateBackup requires.
 *
 * The name is for people reading a listing. It never proves ownership: anyone can create a
 * backup with any name. The ledger does (it records the ARN at creation).
 */
export function backupName(policy: string, trigger: Trigger, time: Date, slot: string, attemptId?: string): string {
  const tail = attemptId ? attemptHash(slot, attemptId) : slotHash(slot);
  return `${PREFIX}.${policy}.${trigger}.${compactUtc(time)}.${tail}`;
}

/** Parses a name of `backupName`'s form; undefined for anything else. A match proves nothing about who made it. */
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

/** True when the name has the form of the service's names (for display; never for ownership). */
export function looksLikeServiceName(name: string | undefined): boolean {
  return parseBackupName(name) !== undefined;
}
