import { createHash, randomUUID } from 'node:crypto';
import { BackupServiceError } from '../errors';
import { cooldown } from '../jobs';
import type { TableState } from '../ports';

/**
 * The claim protocol of a backup slot (table, policy, slot), shared by every ledger adapter:
 *  - each attempt has its own token; the claim records it, and the backup name carries a hash of
 *    it, so a retried write recognises itself and a lost record is adopted by its exact name;
 *  - a claim whose attempt made no record for STALE_CLAIM_MS belongs to a worker that died: another
 *    attempt may take it over, but only after looking for the backup the old claim named.
 */

/** A claim without a backup this old belongs to a worker that died; it may be taken over. */
export const STALE_CLAIM_MS = 15 * 60_000;

export function newAttemptId(): string {
  return randomUUID();
}

/** True when a claim made at `claimedAt` may be taken over at `now`. */
export function claimIsStale(claimedAt: string | undefined, now: Date): boolean {
  const t = claimedAt ? new Date(claimedAt).getTime() : Number.NaN;
  return Number.isNaN(t) || now.getTime() - t >= STALE_CLAIM_MS;
}

/** The tail of a backup name: a hash of the slot and the attempt (12 hex digits). */
export function attemptHash(slot: string, attemptId: string): string {
  return createHash('sha256').update(`${slot}\n${attemptId}`).digest('hex').slice(0, 12);
}

/** The claim was taken over by another attempt before this one recorded its backup. */
export class ClaimLostError extends BackupServiceError {
  override readonly name = 'ClaimLostError';
  constructor(
    readonly table: string,
    readonly slot: string,
    options?: { cause?: unknown },
  ) {
    super(`the claim of slot ${slot} of ${table} was taken over by another attempt before this backup was recorded`, options);
  }
}

/** Why a claim's cooldown condition did not hold, from the (table, policy) state. */
export function cooldownReason(state: Pick<TableState, 'lastBackupAt' | 'claimSlot' | 'claimAt'> | undefined, minIntervalMinutes: number, now: Date): string {
  const due = cooldown(state?.lastBackupAt, minIntervalMinutes, now);
  if (!due.due) return due.reason;
  if (state?.claimSlot) return `cooldown: another backup of this table and policy is under way (slot ${state.claimSlot} since ${state.claimAt ?? '?'})`;
  return 'cooldown: another backup of this table and policy was claimed at the same moment';
}
