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
}

export interface CreatedBackup {
  readonly backupArn: string;
  readonly backupName: string;
  readonly status: string;
  readonly createdAt: string;
  readonly sizeBytes?: number;
}

/** Implementations throw TableNotFoundError and RetryableError from ./errors where they apply. */
export interface BackupApi {
  describeTable(table: string): Promise<TableFacts>;
  createBackup(table: string, backupName: string): Promise<CreatedBackup>;
}

export interface LedgerRecordLike {
  readonly status: string;
  readonly backupArn?: string;
  readonly claimedAt?: string;
}

export interface LedgerPort {
  claim(job: BackupJob, policyHash: string, now: Date): Promise<{ claimed: true } | { claimed: false; existing: LedgerRecordLike }>;
  recordBackup(
    job: BackupJob,
    backup: CreatedBackup & { itemCount?: number },
  ): Promise<void>;
  recordFailure(job: BackupJob, error: string, now: Date): Promise<void>;
  getState(table: string, policy: string): Promise<{ lastBackupAt?: string } | undefined>;
}

export interface JobSink {
  /** Enqueues jobs; returns the jobs that could not be enqueued, with the error. */
  enqueue(jobs: readonly BackupJob[]): Promise<{ job: BackupJob; error: string }[]>;
}

export interface RunNotifier {
  publishRun(report: RunReport): Promise<unknown>;
}

export type { JobResult };
