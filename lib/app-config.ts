import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as logs from 'aws-cdk-lib/aws-logs';
import { z } from 'zod';
import { PolicySchema } from '../lambda/core/policy';
import type { PolicyInput } from '../lambda/core/policy';
import type { BackupStateProps } from './backup-state';
import type { BackupServiceOptions } from './stacks';

/** Context key (cdk.json `context`, or `cdk synth -c ddbBackup='{...}'`) holding the app's config. */
export const CONFIG_CONTEXT_KEY = 'ddbBackup';

const RETENTION_DAYS = new Set<number>(
  Object.values(logs.RetentionDays).filter((v): v is number => typeof v === 'number'),
);

const ACCOUNT_ID = z.string().regex(/^\d{12}$/, { message: 'must be a 12-digit account id' });

/** The copy vault's stack: `false` leaves it out; another account or region needs `bucketName`. */
const VaultSchema = z.union([
  z.literal(false),
  z
    .object({
      account: ACCOUNT_ID.optional(),
      region: z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d$/).optional(),
      keepDays: z.number().int().min(1).max(36500).optional(),
      lockMode: z.enum(['COMPLIANCE', 'GOVERNANCE']).optional(),
      sourceAccounts: z.array(ACCOUNT_ID).min(1).optional(),
      writerRoleArns: z.array(z.string().startsWith('arn:')).optional(),
      bucketName: z.string().regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/).optional(),
    })
    .strict()
    .refine((v) => (v.account === undefined && v.region === undefined) || v.bucketName !== undefined, {
      message: 'a vault in another account or region needs bucketName (the service names it in its grants)',
    }),
]);

export type VaultConfig = Exclude<z.output<typeof VaultSchema>, false>;

const ConfigSchema = z
  .object({
    /** Policies merged over the built-in ones by name; validated by the construct at synth time. */
    policies: z.record(z.string(), z.record(z.string(), z.unknown())).optional(),
    includeDefaultPolicies: z.boolean().optional(),
    tagKey: z.string().optional(),
    notificationEmails: z.array(z.email()).optional(),
    ledgerRemovalPolicy: z.enum(['retain', 'destroy']).optional(),
    logRetentionDays: z
      .number()
      .int()
      .refine((d) => RETENTION_DAYS.has(d), { message: 'must be a CloudWatch Logs retention (1, 3, 5, 7, 14, 30, ...)' })
      .optional(),
    maxReceiveCount: z.number().int().min(1).max(1000).optional(),
    /** Worker instances at once (reserved concurrency and the event source's maximum concurrency). */
    workerConcurrency: z.number().int().min(2).max(1000).optional(),
    /** Days the ledger keeps records of deleted, vanished and failed backups (the audit period). */
    auditDays: z.number().int().min(1).max(3650).optional(),
    /** Expression of every policy's prune sweep; validated like a policy's `schedule`. */
    pruneSchedule: PolicySchema.shape.schedule,
    /** Size-triggered backups (probe + alarms), change-triggered backups (streams), coverage digest. */
    sizeTriggers: z.boolean().optional(),
    probeSchedule: PolicySchema.shape.schedule,
    sizeAlarmPrefix: z.string().optional(),
    /** Tables whose size alarm CDK owns; validated by the construct at synth time. */
    sizeAlarmTables: z.array(z.object({ table: z.string(), policy: z.string() }).strict()).optional(),
    changeTriggers: z.boolean().optional(),
    reconcileSchedule: PolicySchema.shape.schedule,
    coverageDigest: z.boolean().optional(),
    digestSchedule: PolicySchema.shape.schedule,
    digestIgnoreTables: z.array(z.string()).optional(),
    /** The CloudTrail feed that keeps the ledger current, and the slow settings refresh while it is alive. */
    tableEvents: z.boolean().optional(),
    settingsRefreshDays: z.number().int().min(1).max(365).optional(),
    /** The copy vault stack (off-site copies); synthesized by default in the service's account and region. */
    vault: VaultSchema.optional(),
    /** Prefix of both stack names. */
    stackPrefix: z
      .string()
      .regex(/^[A-Za-z][A-Za-z0-9-]{0,100}$/)
      .optional(),
  })
  .strict();

/**
 * The app's config: the props of the state stack (but its key) and of the service stack (but its
 * state), as the context gives them (`logRetentionDays` for `logRetention`).
 */
export interface AppConfig extends Omit<BackupStateProps, 'encryptionKey'>, BackupServiceOptions {
  /** Prefix of the stack names (`<prefix>State`, `<prefix>Service`, `<prefix>Vault`); 'DdbBackup' when absent. */
  readonly stackPrefix: string;
  /** The copy vault: `false` for none; @default - a vault in the service's account and region */
  readonly vault?: VaultConfig | false;
}

/**
 * Parses the `ddbBackup` context value. Accepts the object from cdk.json or a JSON string from
 * `-c ddbBackup=...`. Missing config means defaults everywhere.
 */
export function parseAppConfig(raw: unknown): AppConfig {
  let value = raw ?? {};
  if (typeof value === 'string') {
    try {
      value = JSON.parse(value);
    } catch (err) {
      throw new Error(`context "${CONFIG_CONTEXT_KEY}" is not valid JSON: ${(err as Error).message}`, { cause: err });
    }
  }
  const result = ConfigSchema.safeParse(value);
  if (!result.success) {
    const issues = result.error.issues.map((i) => `${[CONFIG_CONTEXT_KEY, ...i.path.map(String)].join('.')}: ${i.message}`);
    throw new Error(`invalid context "${CONFIG_CONTEXT_KEY}":\n  ${issues.join('\n  ')}`);
  }
  const c = result.data;
  return {
    policies: c.policies as Record<string, PolicyInput> | undefined,
    includeDefaultPolicies: c.includeDefaultPolicies,
    tagKey: c.tagKey,
    notificationEmails: c.notificationEmails,
    ledgerRemovalPolicy:
      c.ledgerRemovalPolicy === undefined
        ? undefined
        : c.ledgerRemovalPolicy === 'destroy'
          ? RemovalPolicy.DESTROY
          : RemovalPolicy.RETAIN,
    logRetention: c.logRetentionDays as logs.RetentionDays | undefined,
    maxReceiveCount: c.maxReceiveCount,
    workerConcurrency: c.workerConcurrency,
    auditPeriod: c.auditDays === undefined ? undefined : Duration.days(c.auditDays),
    pruneSchedule: c.pruneSchedule,
    sizeTriggers: c.sizeTriggers,
    probeSchedule: c.probeSchedule,
    sizeAlarmPrefix: c.sizeAlarmPrefix,
    sizeAlarmTables: c.sizeAlarmTables,
    changeTriggers: c.changeTriggers,
    reconcileSchedule: c.reconcileSchedule,
    coverageDigest: c.coverageDigest,
    digestSchedule: c.digestSchedule,
    digestIgnoreTables: c.digestIgnoreTables,
    tableEvents: c.tableEvents,
    settingsRefreshDays: c.settingsRefreshDays,
    stackPrefix: c.stackPrefix ?? 'DdbBackup',
    ...(c.vault !== undefined ? { vault: c.vault } : {}),
  };
}
