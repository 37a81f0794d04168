/**
 * The ports the planner and worker depend on. The adapters in lambda/aws implement them over
 * the SDK v3 clients; tests and benchmarks can substitute fakes. No SDK imports here.
 */
import type { BackupJob, JobResult } from './jobs';
import type { EffectivePolicy, Policy } from './policy';
import type { TaggedTable } from './tags';
import type { RunReport } from './summary';

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
  /** USER backups of one table, or of the whole account and region; every page. */
  listBackups(table?: string): Promise<BackupInfo[]>;
}

export type LedgerStatus = 'CLAIMED' | 'CREATING' | 'AVAILABLE' | 'FAILED' | 'DELETED';

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

export type LedgerRecordLike = Pick<LedgerBackupRecord, 'status'> & Partial<Pick<LedgerBackupRecord, 'backupArn' | 'claimedAt'>>;

export interface LedgerPort {
  claim(job: BackupJob, policyHash: string, now: Date): Promise<{ claimed: true } | { claimed: false; existing: LedgerRecordLike }>;
  recordBackup(job: BackupJob, backup: RecordedBackup): Promise<void>;
  recordFailure(job: BackupJob, error: string, now: Date): Promise<void>;
  getState(table: string, policy: string): Promise<TableState | undefined>;
  /** Notes on the (table, policy) state that PITR was checked against the policy with this hash. */
  markPitrChecked?(table: string, policy: string, policyHash: string, at: Date): Promise<void>;
  /** Every backup record of a table (all policies); every page. */
  listBackupRecords(table: string): Promise<LedgerBackupRecord[]>;
  /** Moves a record's status (AVAILABLE after creation, DELETED when pruned or vanished). */
  setBackupStatus(
    record: Pick<LedgerBackupRecord, 'table' | 'policy' | 'slot'>,
    status: LedgerStatus,
    deletion?: { at: string; reason: string },
  ): Promise<void>;
}

export interface JobSink {
  /** Enqueues jobs; returns the jobs that could not be enqueued, with the error. */
  enqueue(jobs: readonly BackupJob[]): Promise<{ job: BackupJob; error: string }[]>;
}

export interface RunNotifier {
  publishRun(report: RunReport): Promise<unknown>;
}

export type { JobResult };
