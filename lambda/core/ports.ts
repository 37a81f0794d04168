/**
 * The ports the planner and worker depend on. The adapters in lambda/aws implement them over
 * the SDK v3 clients; tests and benchmarks can substitute fakes. No SDK imports here.
 */
import type { BackupJob, JobResult } from './jobs';
import type { EffectivePolicy, Policy } from './policy';
import type { TaggedTable } from './tags';
import type { RunReport } from './backup/summary';
import type { CopyJobResult } from './copies/copies';

export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };

export interface PolicySource {
  /** Names of every named policy. */
  listNames(): Promise<Set<string>>;
  /** The named policy alone, validated. */
  getPolicy(name: string): Promise<Policy>;
  /** The named policy merged with the table's override, validated. */
  getEffective(name: string, table: string): Promise<EffectivePolicy>;
}

export interface TableDiscovery {
  /** Every table that carries the opt-in tag with a non-empty value. */
  discover(): Promise<TaggedTable[]>;
  /**
   * One page of them (GetResources pages of 100), from `token` (absent: the first page), with
   * the token of the next page when there is one. The planner's fan-out plans page by page.
   */
  discoverPage?(token?: string): Promise<{ tables: TaggedTable[]; next?: string }>;
}

export interface TableFacts {
  readonly table: string;
  readonly status?: string;
  readonly sizeBytes?: number;
  readonly itemCount?: number;
  /** Point-in-time recovery, when the same read also learnt it (the settings snapshot does). */
  readonly pitr?: { readonly enabled: boolean; readonly recoveryPeriodDays?: number };
}

export interface CreatedBackup {
  readonly backupArn: string;
  readonly backupName: string;
  readonly status: string;
  readonly createdAt: string;
  readonly sizeBytes?: number;
}

/** One backup as ListBackups reports it. */
export interface BackupInfo {
  readonly arn: string;
  readonly name?: string;
  readonly table: string;
  readonly createdAt: string;
  readonly status: string;
  readonly sizeBytes?: number;
}

/** Implementations throw TableNotFoundError and RetryableError from ./errors where they apply. */
export interface BackupApi {
  describeTable(table: string): Promise<TableFacts>;
  createBackup(table: string, backupName: string): Promise<CreatedBackup>;
  /** The backup's status, or undefined when it no longer exists. */
  describeBackupStatus(backupArn: string): Promise<string | undefined>;
  /** Deletes a backup; 'gone' when it was already deleted. Throws RetryableError on BackupInUseException. */
  deleteBackup(backupArn: string): Promise<'deleted' | 'gone'>;
  /**
   * USER backups of one table, or of the whole account and region; every page. A listing only
   * ever confirms that a ledger backup still exists: it never makes a backup the service's.
   */
  listBackups(table?: string): Promise<BackupInfo[]>;
}

/**
 * CLAIMED: a worker holds the slot (its attempt may have created the backup named in the claim).
 * CREATING / AVAILABLE: the backup exists (as last seen). FAILED: the attempt failed, no backup.
 * DELETED: the service deleted it. VANISHED: it was gone when the service looked (deleted by
 * hand or by another tool); it never counts toward a keep rule again.
 */
export type LedgerStatus = 'CLAIMED' | 'CREATING' | 'AVAILABLE' | 'FAILED' | 'DELETED' | 'VANISHED';

/** Ledger statuses of a backup that exists (or is being created): the only ones that count. */
export const LIVE_STATUSES: ReadonlySet<LedgerStatus> = new Set<LedgerStatus>(['CREATING', 'AVAILABLE']);

/** True for a record of a backup that exists, as far as the ledger knows. */
export function isLive(record: Pick<LedgerBackupRecord, 'status' | 'backupArn'>): boolean {
  return record.backupArn !== undefined && LIVE_STATUSES.has(record.status);
}

/** The live records with a creation time, newest first (what restore --latest and status read). */
export function liveNewestFirst<R extends Pick<LedgerBackupRecord, 'status' | 'backupArn' | 'createdAt'>>(records: readonly R[]): R[] {
  return records.filter((r) => isLive(r) && r.createdAt).sort((a, b) => b.createdAt!.localeCompare(a.createdAt!));
}

/** A legal hold: the backup is never deleted by any path until released. */
export interface BackupHold {
  readonly reason: string;
  readonly by: string;
  readonly at: string;
}

/** A backup record in the ledger: one per (table, policy, slot). */
export interface LedgerBackupRecord {
  readonly table: string;
  readonly policy: string;
  readonly slot: string;
  readonly trigger: string;
  readonly runId: string;
  readonly requestedAt: string;
  readonly status: LedgerStatus;
  readonly claimedAt: string;
  readonly policyHash?: string;
  readonly backupArn?: string;
  readonly backupName?: string;
  readonly createdAt?: string;
  readonly sizeBytes?: number;
  readonly itemCount?: number;
  /** When DynamoDB reported `itemCount` (it refreshes the figure about every six hours). */
  readonly itemCountAt?: string;
  readonly error?: string;
  readonly deletedAt?: string;
  readonly deleteReason?: string;
  /** The claim's attempt token: a retried claim knows its own write, and adoption matches it. */
  readonly attemptId?: string;
  /** The hold, while one is in force. */
  readonly hold?: BackupHold;
  /** Past holds, released: who held and released it, when and why. */
  readonly holdHistory?: readonly (BackupHold & { readonly releasedBy: string; readonly releasedAt: string })[];
}

/** The latest state of (table, policy). */
export interface TableState {
  readonly table: string;
  readonly policy: string;
  readonly lastBackupAt?: string;
  readonly lastBackupArn?: string;
  readonly lastSizeBytes?: number;
  readonly lastItemCount?: number;
  /** When DynamoDB reported `lastItemCount`; the worker reuses it for a day. */
  readonly itemCountAt?: string;
  readonly lastAttemptAt?: string;
  readonly lastAttemptStatus?: 'succeeded' | 'failed';
  readonly lastError?: string;
  /** Pruning is frozen until then (delete storm). */
  readonly pruneFrozenUntil?: string;
  /** When the table's settings were last captured for restore fidelity. */
  readonly settingsCapturedAt?: string;
  /** When PITR was last checked against the policy, and the policy's hash then. */
  readonly pitrCheckedAt?: string;
  readonly pitrCheckedHash?: string;
  /** The cooldown's in-flight mark: the slot whose claim is live, and since when. */
  readonly claimSlot?: string;
  readonly claimAt?: string;
}

/**
 * Upkeep around a backup, each step optional and none able to fail the backup: a daily settings
 * snapshot for restores after the source table is gone (taken before CreateBackup, so its
 * DescribeTable also gives the ledger the item count), then the change counter's baseline
 * (stream triggers) and PITR as the policy asks.
 */
export interface TableUpkeep {
  markChangesBaseline?(table: string, now: Date): Promise<unknown>;
  /** `known`: PITR as just read (by the snapshot), so it need not be read again. */
  ensurePitr?(table: string, recoveryPeriodDays: number | undefined, known?: TableFacts['pitr']): Promise<unknown>;
  /** Captures and stores the settings; returns the table's facts from the same DescribeTable. */
  snapshotSettings?(table: string, policy: string, now: Date): Promise<TableFacts | void>;
}

/** What the ledger records of a created backup. */
export type RecordedBackup = CreatedBackup & {
  readonly itemCount?: number;
  readonly itemCountAt?: string;
};

/** What a worker asks for when it claims a slot. */
export interface ClaimRequest {
  readonly policyHash: string;
  readonly now: Date;
  /** This attempt's token (random, unique per attempt). */
  readonly attemptId: string;
  /** The backup name this attempt will use; it carries the token, so only this attempt's backup matches. */
  readonly backupName: string;
  /**
   * The cooldown, held by the same conditional write: no other slot of this (table, policy) may
   * be claimed while its last backup is younger than this, or while another slot's claim is live.
   * 0 or absent: no cooldown.
   */
  readonly minIntervalMinutes?: number;
  /** Take over a claim of this (older, stale) attempt. */
  readonly takeOver?: string;
}

export type ClaimOutcome =
  | { readonly claimed: true }
  | { readonly claimed: false; readonly existing: LedgerBackupRecord }
  | { readonly claimed: false; readonly cooldown: string };

export interface LedgerPort {
  claim(job: BackupJob, req: ClaimRequest): Promise<ClaimOutcome>;
  /**
   * Records a created backup and moves the state forward. `attemptId` is the claim's token: the
   * write holds only while the claim is still that attempt's (ClaimLostError otherwise).
   */
  recordBackup(job: BackupJob, backup: RecordedBackup, attemptId: string): Promise<void>;
  recordFailure(job: BackupJob, error: string, now: Date): Promise<void>;
  getState(table: string, policy: string): Promise<TableState | undefined>;
  /**
   * The (table, policy) state and that policy's live records (CLAIMED, CREATING, AVAILABLE), in
   * one read bounded by what retention keeps, not by the table's history. Eventually consistent:
   * a record may lag its last write, so the caller adds what it just wrote itself.
   */
  readLive?(table: string, policy: string): Promise<{ state?: TableState; records: LedgerBackupRecord[] }>;
  /** Notes on the (table, policy) state that PITR was checked against the policy with this hash. */
  markPitrChecked?(table: string, policy: string, policyHash: string, at: Date): Promise<void>;
  /** The backup records of a table, of one policy or (without it) of all; every page. */
  listBackupRecords(table: string, policy?: string): Promise<LedgerBackupRecord[]>;
  /** Moves a record's status (AVAILABLE after creation, DELETED when pruned, VANISHED when gone). */
  setBackupStatus(
    record: Pick<LedgerBackupRecord, 'table' | 'policy' | 'slot'>,
    status: LedgerStatus,
    deletion?: { at: string; reason: string },
    from?: readonly LedgerStatus[],
  ): Promise<boolean>;
  /**
   * Marks a live, unheld record DELETED before its backup is deleted, in one conditional write:
   * a hold placed at any moment wins. 'held' or 'not-live': do not delete.
   */
  markDeleting(record: Pick<LedgerBackupRecord, 'table' | 'policy' | 'slot'>, deletion: { at: string; reason: string }): Promise<'marked' | 'held' | 'not-live'>;
  /** Undoes markDeleting when the deletion did not happen. */
  unmarkDeleting(record: Pick<LedgerBackupRecord, 'table' | 'policy' | 'slot'>): Promise<void>;
  /** Places a legal hold on a live record; false when it is not live or already held. */
  placeHold(record: Pick<LedgerBackupRecord, 'table' | 'policy' | 'slot'>, hold: BackupHold): Promise<boolean>;
  /** Releases a hold (kept in the record's history with who released it and when); the hold released, or undefined when none was. */
  releaseHold(record: Pick<LedgerBackupRecord, 'table' | 'policy' | 'slot'>, by: string, at: Date): Promise<BackupHold | undefined>;
}

/**
 * Whether deletions and settings changes made outside the service reach the ledger as CloudTrail
 * events (lambda/core/events). Absent, or not alive: the prune confirms what exists by listing and
 * the upkeep runs daily, as without the feed.
 */
export interface ExistenceFeed {
  /** True while the feed's heartbeat is younger than FEED_ALIVE_WINDOW_MS; false on any doubt. */
  eventsAlive(now: Date): Promise<boolean>;
  /** Safety refresh period of the settings snapshot and PITR check while alive (default SETTINGS_REFRESH_MS). */
  readonly settingsRefreshMs?: number;
}

/**
 * Off-site copies after a backup (lambda/core/copies): moves the table's earlier copies forward
 * and makes a copy when the policy's `copy` is due. Never throws; undefined when the policy has
 * no `copy`.
 */
export interface CopyPort {
  copyIfDue(table: string, effective: EffectivePolicy, now: Date): Promise<CopyJobResult | undefined>;
}

export interface JobSink {
  /** Enqueues jobs; returns the jobs that could not be enqueued, with the error. */
  enqueue(jobs: readonly BackupJob[]): Promise<{ job: BackupJob; error: string }[]>;
}

export interface RunNotifier {
  publishRun(report: RunReport): Promise<unknown>;
}

export type { JobResult };
