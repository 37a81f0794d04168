/**
 * `ddb-backup cost`: the monthly cost forecast per table: size, the steady-state number of backups
 * each policy's retention keeps, their storage (each on-demand backup is billed as a full copy of
 * the table), PITR when it is on, off-site copies when a policy makes them, and a total.
 */
import { InvalidArgumentError, type Command } from 'commander';
import { gatherCostFacts } from '../aws/evidence';
import { LIST_PRICES, costForecast, type CostForecast, type PolicyCost } from '../core/cost/forecast';
import { humanMinutes } from '../core/coverage/coverage';
import { policyNameArg, tableNameArg, type RegisterCommands } from './context';
import { humanBytes, renderTable } from './output';

/** A price in USD: a number, zero or more. */
export function priceArg(v: string): number {
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n) || n < 0) throw new InvalidArgumentError(`must be a price in USD, zero or more, got "${v}"`);
  return n;
}

const usd = (n: number): string => `$${n.toFixed(2)}`;

function kept(p: PolicyCost): string {
  if (p.error !== undefined) return `policy unreadable: ${p.error}`;
  if (!p.retained || p.retained.unbounded) return `no retention rule: grows (priced at a year, ${p.pricedBackups})`;
  return p.retained.min === p.retained.max ? String(p.retained.max) : `${p.retained.min}-${p.retained.max}`;
}

function renderHuman(f: CostForecast): string {
  const rows = f.rows.flatMap((r) => {
    const lines = r.policies.map((p, i) => [
      i === 0 ? r.table : '',
      i === 0 ? humanBytes(r.sizeBytes) : '',
      p.policy,
      p.intervalMinutes !== undefined ? `${humanMinutes(p.intervalMinutes)}${p.basis === 'schedule' ? '' : ` (${p.basis})`}` : '-',
      kept(p),
      usd(p.backupUsd),
      p.copies ? `${usd(p.copies.storageUsd + p.copies.exportUsd)} (${p.copies.retained} kept)` : '-',
      i === 0 ? (r.pitr.enabled ? usd(r.pitr.usd) : 'off') : '',
      i === 0 ? usd(r.monthlyUsd) : '',
    ]);
    return lines.length > 0 ? lines : [[r.table, humanBytes(r.sizeBytes), '-', '-', '-', '-', '-', r.pitr.enabled ? usd(r.pitr.usd) : 'off', usd(r.monthlyUsd)]];
  });
  const p = f.prices;
  return [
    renderTable(['table', 'size', 'policy', 'backup every', 'backups kept', 'backups / month', 'copies / month', 'PITR / month', 'table / month'], rows),
    `total ${usd(f.totalMonthlyUsd)} per month at $${p.backupPerGbMonth}/GB-month backup storage, $${p.pitrPerGbMonth}/GB-month PITR, copies $${p.copyPerGbMonth}/GB-month + $${p.exportPerGb}/GB exported`,
    `(${LIST_PRICES.region} list prices unless overridden; sizes are DescribeTable's, refreshed about every six hours)`,
  ].join('\n');
}

export const registerCostCommand: RegisterCommands = (program, ctx) => {
  program
    .command('cost')
    .description('monthly cost forecast per table: retained backups (each a full copy), PITR and copies, at list or given prices')
    .option('--table <name>', 'only this table', tableNameArg)
    .option('--policy <name>', 'only this policy (and the tables tagged with it)', policyNameArg)
    .option('--price-per-gb <usd>', `backup storage price per GB-month (default ${LIST_PRICES.backupPerGbMonth}, ${LIST_PRICES.region})`, priceArg)
    .option('--pitr-price-per-gb <usd>', `PITR price per GB-month (default ${LIST_PRICES.pitrPerGbMonth}, ${LIST_PRICES.region})`, priceArg)
    .option('--json', 'print JSON')
    .action(async (opts: { table?: string; policy?: string; pricePerGb?: number; pitrPricePerGb?: number; json?: boolean }, cmd: Command) => {
      const svc = ctx.service(cmd);
      const facts = await gatherCostFacts(svc, { table: opts.table, policy: opts.policy });
      const prices = { ...LIST_PRICES, backupPerGbMonth: opts.pricePerGb ?? LIST_PRICES.backupPerGbMonth, pitrPerGbMonth: opts.pitrPricePerGb ?? LIST_PRICES.pitrPerGbMonth };
      const forecast = costForecast(facts, prices);
      if (opts.json) ctx.io.out(JSON.stringify(forecast));
      else ctx.io.out(forecast.rows.length === 0 ? 'no tagged tables' : renderHuman(forecast));
    });
};
