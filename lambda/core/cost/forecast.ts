/**
 * The monthly cost forecast of a table's protection: its on-demand backups (each billed as a full
 * copy of the table), point-in-time recovery, and off-site copies when a policy makes them. Pure.
 */
import { policyRpoMinutes } from '../coverage/coverage';
import type { Retention } from '../policy';
import { steadyStateCopies, steadyStateRetained, type RetainedCount } from './retained';

/**
 * us-east-1 list prices, USD. Sources: https://aws.amazon.com/dynamodb/pricing/on-demand/ (the
 * same figures are on the provisioned page: "Backup and restore" and "Export to Amazon S3") and
 * https://aws.amazon.com/s3/pricing/ (S3 Standard, first 50 TB).
 */
export const LIST_PRICES = {
  region: 'us-east-1',
  asOf: '2025',
  /** On-demand backup (warm) storage, per GB-month. */
  backupPerGbMonth: 0.1,
  /** Continuous backups (PITR), per GB-month of table size. */
  pitrPerGbMonth: 0.2,
  /** Export to S3 from continuous backups, per GB exported. */
  exportPerGb: 0.1,
  /** S3 Standard storage of the exported copies, per GB-month. */
  copyPerGbMonth: 0.023,
} as const;

export interface Prices {
  readonly backupPerGbMonth: number;
  readonly pitrPerGbMonth: number;
  readonly exportPerGb: number;
  readonly copyPerGbMonth: number;
}

/** Billing counts a GB as 2^30 bytes. */
export const BYTES_PER_GB = 1024 ** 3;

export interface CopySettings {
  readonly minIntervalHours: number;
  readonly keepDays: number;
}

export interface PolicyForCost {
  readonly name: string;
  readonly schedule?: string;
  readonly minIntervalMinutes?: number;
  readonly retention?: Retention;
  readonly copy?: CopySettings;
  /** Set when the policy could not be read: the row says so and costs nothing. */
  readonly error?: string;
}

export interface TableForCost {
  readonly table: string;
  /** DescribeTable `TableSizeBytes` (refreshed by DynamoDB about every six hours). */
  readonly sizeBytes?: number;
  readonly pitrEnabled?: boolean;
  readonly policies: readonly PolicyForCost[];
}

export interface PolicyCost {
  readonly policy: string;
  /** Minutes between backups the count assumes; absent when the policy could not be read. */
  readonly intervalMinutes?: number;
  readonly basis?: 'schedule' | 'cooldown' | 'hourly-assumed';
  readonly retained?: RetainedCount;
  /** Backups priced: the most the retention keeps (the bill's upper bound). */
  readonly pricedBackups: number;
  readonly backupUsd: number;
  readonly copies?: { readonly retained: number; readonly perMonth: number; readonly storageUsd: number; readonly exportUsd: number };
  readonly usd: number;
  readonly error?: string;
}

export interface CostRow {
  readonly table: string;
  readonly sizeBytes: number;
  readonly policies: readonly PolicyCost[];
  readonly pitr: { readonly enabled: boolean; readonly usd: number };
  /** Monthly total of the row, USD, to the cent. */
  readonly monthlyUsd: number;
}

export interface CostForecast {
  readonly rows: readonly CostRow[];
  /** The sum of the rows' monthly totals. */
  readonly totalMonthlyUsd: number;
  readonly prices: Prices;
}

const cents = (usd: number): number => Math.round(usd * 100) / 100;

/** How often a policy backs a table up: its schedule (or cooldown when longer), else its cooldown, else hourly. */
function intervalOf(p: PolicyForCost): { minutes: number; basis: NonNullable<PolicyCost['basis']> } {
  const rpo = policyRpoMinutes({ schedule: p.schedule, minIntervalMinutes: p.minIntervalMinutes ?? 0 });
  if (rpo !== undefined) return { minutes: rpo, basis: 'schedule' };
  if (p.minIntervalMinutes && p.minIntervalMinutes > 0) return { minutes: p.minIntervalMinutes, basis: 'cooldown' };
  return { minutes: 60, basis: 'hourly-assumed' };
}

function policyCost(p: PolicyForCost, gb: number, prices: Prices): PolicyCost {
  if (p.error !== undefined || !p.retention) return { policy: p.name, pricedBackups: 0, backupUsd: 0, usd: 0, error: p.error ?? 'no retention' };
  const { minutes, basis } = intervalOf(p);
  const retained = steadyStateRetained(p.retention, minutes);
  // Unbounded (no rule keeps it in check): priced at what a year of backups holds; `retained` says it grows.
  const priced = retained.unbounded ? Math.ceil((365 * 1440) / minutes) : retained.max;
  const backupUsd = priced * gb * prices.backupPerGbMonth;
  const copies = p.copy ? steadyStateCopies(p.copy, minutes) : undefined;
  const copyCost = copies
    ? { retained: copies.retained, perMonth: copies.perMonth, storageUsd: copies.retained * gb * prices.copyPerGbMonth, exportUsd: copies.perMonth * gb * prices.exportPerGb }
    : undefined;
  const usd = backupUsd + (copyCost ? copyCost.storageUsd + copyCost.exportUsd : 0);
  return { policy: p.name, intervalMinutes: minutes, basis, retained, pricedBackups: priced, backupUsd, ...(copyCost ? { copies: copyCost } : {}), usd };
}

/** One row per table; the total is the sum of the rows (each to the cent). */
export function costForecast(tables: readonly TableForCost[], prices: Prices = LIST_PRICES): CostForecast {
  const rows = tables.map((t): CostRow => {
    const sizeBytes = t.sizeBytes ?? 0;
    const gb = sizeBytes / BYTES_PER_GB;
    const policies = t.policies.map((p) => policyCost(p, gb, prices));
    const pitrUsd = t.pitrEnabled ? gb * prices.pitrPerGbMonth : 0;
    const monthlyUsd = cents(policies.reduce((s, p) => s + p.usd, 0) + pitrUsd);
    return { table: t.table, sizeBytes, policies, pitr: { enabled: Boolean(t.pitrEnabled), usd: pitrUsd }, monthlyUsd };
  });
  return { rows, totalMonthlyUsd: cents(rows.reduce((s, r) => s + r.monthlyUsd, 0)), prices };
}
