/**
 * The operator's commands: restore (with fidelity), restore-settings, snapshot-settings, status,
 * backups describe|delete, pitr apply. Registered in program.ts through `extraCommands`.
 */
import { DescribeBackupCommand } from '@aws-sdk/client-dynamodb';
import { userInfo } from 'node:os';
import { InvalidArgumentError, Option, type Command } from 'commander';
import { collectCoverage, type CoverageMissing } from '../aws/coverage';
import { isNotFound } from '../aws/errors';
import { ensurePitr } from '../aws/pitr';
import { NoBackupError, TargetExistsError, findTable, sourceSettings, startRestore } from '../aws/restore';
import type { Service } from '../aws/service';
import { applySettings, captureSettings, settingsClients, waitForActive, type SettingsClients } from '../aws/table-settings';
import { DIGEST_FLAGS, humanMinutes, type CoverageReport } from '../core/coverage/coverage';
import { TableNotFoundError, UsageError, errorMessage } from '../core/errors';
import { isLive, liveNewestFirst, type BackupHold } from '../core/ports';
import {
  SETTING_NAMES,
  overrideProblem,
  settingsReport,
  type RestoreOverrides,
  type RestoreSource,
  type SettingName,
  type SettingResult,
  type SettingsReport,
} from '../core/restore/restore';
import { tableNameFromArn } from '../core/tags';
import { DEFAULTS } from '../env';
import { runInPlace } from './in-place';
import { renderTable } from './output';
import { restoreFromCopy } from './copies';
import { EXIT, policyNameArg, positiveInt, tableNameArg, type CliContext, type CliIo, type GlobalOpts, type RegisterCommands } from './context';

function isoTime(v: string): Date {
  const d = new Date(v);
  if (!/^\d{4}-\d{2}-\d{2}T/.test(v) || Number.isNaN(d.getTime())) throw new InvalidArgumentError(`not an ISO 8601 time: "${v}"`);
  return d;
}

function backupArnArg(v: string): string {
  if (!/^arn:aws[\w-]*:dynamodb:[\w-]+:\d{12}:table\/[A-Za-z0-9_.-]{3,255}\/backup\/[\w.-]+$/.test(v)) {
    throw new InvalidArgumentError(`not a DynamoDB backup ARN: "${v}"`);
  }
  return v;
}

/** Who runs the command, for the ledger's hold history. */
function whoAmI(): string {
  try {
    return process.env.USER || userInfo().username || 'unknown';
  } catch {
    return 'unknown';
  }
}

function collect(v: string, prev: unknown): string[] {
  return [...(Array.isArray(prev) ? (prev as string[]) : []), v];
}

function settingList(v: string): SettingName[] {
  const names = v.split(',').map((s) => s.trim()).filter(Boolean);
  const bad = names.filter((n) => !(SETTING_NAMES as readonly string[]).includes(n));
  if (bad.length > 0) throw new InvalidArgumentError(`unknown setting(s) ${bad.join(', ')}; known: ${SETTING_NAMES.join(', ')}`);
  return names as SettingName[];
}

/** The clients for settings: the service's DynamoDB client plus Application Auto Scaling at the same endpoint. */
function clientsFor(ctx: CliContext, cmd: Command, svc: Service): SettingsClients {
  const g = cmd.optsWithGlobals<GlobalOpts>();
  return settingsClients(svc.clients, { endpoint: g.endpoint, region: g.region, counter: ctx.counter });
}

function ledgerIfAny(svc: Service) {
  return svc.config.ledgerTable ? svc.ledger() : undefined;
}

function tagKeyOf(svc: Service): string {
  return svc.config.tagKey || DEFAULTS.TAG_KEY;
}

function printSettings(ctx: CliContext, target: string, report: SettingsReport): void {
  ctx.io.out(
    renderTable(
      ['setting', 'outcome', 'detail'],
      report.results.map((r) => [r.setting, r.outcome, r.detail]),
    ),
  );
  ctx.io.out(`settings on ${target}: ${report.applied} applied, ${report.skipped} skipped, ${report.failed} failed`);
}

/** Seconds between the "still waiting" lines of a long wait: DDB_BACKUP_PROGRESS_SECONDS, default 30. */
export function progressEverySeconds(env: NodeJS.ProcessEnv = process.env): number {
  const n = Number(env.DDB_BACKUP_PROGRESS_SECONDS);
  return Number.isFinite(n) && n > 0 ? n : 30;
}

/**
 * Runs a wait for `table` (its `onState` is called when the state changes) and reports on stderr,
 * one plain line each: every state change, and while the state stays the same a line every
 * `everyMs` so a long wait never looks stuck.
 */
export async function waitWithProgress<T>(
  io: CliIo,
  table: string,
  wait: (onState: (state: string, elapsedMs: number) => void) => Promise<T>,
  everyMs: number = progressEverySeconds() * 1000,
): Promise<T> {
  const started = Date.now();
  let state = 'waiting';
  let lastLine = started;
  const line = (text: string) => {
    io.err(text);
    lastLine = Date.now();
  };
  const secs = (ms: number) => Math.round(ms / 1000);
  const timer = setInterval(
    () => {
      if (Date.now() - lastLine >= everyMs - 5) line(`${table}: still ${state} (${secs(Date.now() - started)} s)`);
    },
    Math.max(10, Math.min(everyMs, 1000)),
  );
  try {
    return await wait((s, ms) => {
      state = s;
      line(`${table}: ${s} (${secs(ms)} s)`);
    });
  } finally {
    clearInterval(timer);
  }
}

/** A command refused (exit 1): the message on stderr and, with --json, `{"error": {message, input}}` on stdout. */
function refuse(ctx: CliContext, json: boolean | undefined, message: string, input: Record<string, unknown>): void {
  if (json) ctx.io.out(JSON.stringify({ error: { message, input } }));
  ctx.io.err(`error: ${message}`);
  ctx.fail(EXIT.FAILED);
}

/** What DynamoDB says when it refuses a point-in-time restore, as a refusal; undefined for any other error. */
function pointInTimeRefusal(err: unknown, table: string): string | undefined {
  const name = (err as { name?: unknown } | undefined)?.name;
  if (name === 'SourceTableNotFoundException') return `refusing to restore: the source table "${table}" does not exist`;
  if (name === 'PointInTimeRecoveryUnavailableException' || name === 'InvalidRestoreTimeException') {
    return `refusing to restore: ${errorMessage(err).replace(/^\w+: /, '')}`;
  }
  return undefined;
}

/** The region the service's clients talk to. */
async function regionOf(svc: Service): Promise<string> {
  try {
    return await svc.clients.dynamodb.config.region();
  } catch {
    return 'the configured region';
  }
}

export const registerOperatorCommands: RegisterCommands = (program, ctx) => {
  const { io } = ctx;

  // ---- restore ----
  program
    .command('restore')
    .description(
      'restore a table into a NEW table (never over an existing one) from a backup or a point in time; with --wait, re-apply the settings a restore drops',
    )
    .requiredOption('--table <name>', 'source table', tableNameArg)
    .option('--target <name>', 'new table to create; refused if it exists (required unless --in-place)', tableNameArg)
    .option('--latest', "newest AVAILABLE backup of the service's own (ledger, then ListBackups)")
    .option('--backup-arn <arn>', 'this backup', backupArnArg)
    .option('--point-in-time <iso>', 'PITR restore to this time (ISO 8601)', isoTime)
    .option('--latest-restorable', 'PITR restore to the latest restorable time')
    .option('--from-copy <id>', "an off-site copy: 'latest' (newest COMPLETED) or a copy id (ddb-backup copies list); ImportTable into --target")
    .addOption(new Option('--billing-mode <mode>', 'billing mode of the new table').choices(['PAY_PER_REQUEST', 'PROVISIONED']))
    .option('--read <n>', 'read capacity (with --billing-mode PROVISIONED)', positiveInt(400000))
    .option('--write <n>', 'write capacity (with --billing-mode PROVISIONED)', positiveInt(400000))
    .addOption(new Option('--sse <type>', 'encryption of the new table').choices(['DEFAULT', 'KMS']))
    .option('--kms-key <id>', 'KMS key (with --sse KMS; default: the AWS managed key)')
    .addOption(new Option('--no-gsi <name>', 'leave this global secondary index out (repeatable)').argParser(collect))
    .option('--keep-policy-tag', 'keep the backup policy tag on the new table (it is dropped by default)')
    .option('--wait', 'wait until the new table is ACTIVE, then re-apply the settings')
    .option('--timeout-minutes <n>', 'how long --wait waits (default 120)', positiveInt(24 * 60))
    .option('--in-place', 'replace the table itself: safety backup (held), delete, restore under the same name, re-apply its settings')
    .option('--yes', 'confirm an --in-place restore (it deletes the table)')
    .option('--disable-deletion-protection', 'with --in-place: lift deletion protection for the cut-over (it is turned back on)')
    .option('--json', 'print JSON')
    .action(
      async (
        opts: {
          table: string;
          target: string;
          inPlace?: boolean;
          latest?: boolean;
          backupArn?: string;
          pointInTime?: Date;
          latestRestorable?: boolean;
          fromCopy?: string;
          billingMode?: 'PAY_PER_REQUEST' | 'PROVISIONED';
          read?: number;
          write?: number;
          sse?: 'DEFAULT' | 'KMS';
          kmsKey?: string;
          gsi?: boolean | string[];
          keepPolicyTag?: boolean;
          wait?: boolean;
          timeoutMinutes?: number;
          json?: boolean;
        },
        cmd: Command,
      ) => {
        if (opts.inPlace) return runInPlace(ctx, cmd, opts);
        if (opts.target === undefined) throw new UsageError("required option '--target <name>' not specified (or --in-place to restore under the table's own name)");
        const chosen = [opts.latest, opts.backupArn, opts.pointInTime, opts.latestRestorable].filter((x) => x !== undefined && x !== false);
        if (opts.fromCopy !== undefined) {
          if (chosen.length > 0) throw new UsageError('--from-copy restores from an off-site copy: leave out --latest, --backup-arn, --point-in-time and --latest-restorable');
          return restoreFromCopy(ctx, cmd, { ...opts, fromCopy: opts.fromCopy });
        }
        if (chosen.length !== 1) throw new UsageError('choose exactly one of --latest, --backup-arn, --point-in-time, --latest-restorable, --from-copy');
        if (opts.target === opts.table) throw new UsageError('--target must differ from --table: a restore only ever creates a new table');
        const source: RestoreSource = opts.latest
          ? { kind: 'latest' }
          : opts.backupArn
            ? { kind: 'backup', backupArn: opts.backupArn }
            : opts.pointInTime
              ? { kind: 'point-in-time', time: opts.pointInTime }
              : { kind: 'latest-restorable' };
        const overrides: RestoreOverrides = {
          ...(opts.billingMode ? { billingMode: opts.billingMode } : {}),
          ...(opts.read !== undefined ? { read: opts.read } : {}),
          ...(opts.write !== undefined ? { write: opts.write } : {}),
          ...(opts.sse || opts.kmsKey ? { sse: { type: opts.sse ?? 'DEFAULT', ...(opts.kmsKey ? { kmsKey: opts.kmsKey } : {}) } } : {}),
          ...(Array.isArray(opts.gsi) ? { excludeIndexes: opts.gsi } : {}),
        };
        const problem = overrideProblem(overrides);
        if (problem) throw new UsageError(problem);

        const svc = ctx.service(cmd);
        const clients = clientsFor(ctx, cmd, svc);
        const ledger = ledgerIfAny(svc);
        let settings: Awaited<ReturnType<typeof sourceSettings>>;
        let started;
        try {
          // Refuse before reading anything else: the target is left untouched.
          if (await findTable(svc.clients.dynamodb, opts.target)) throw new TargetExistsError(opts.target);
          settings = await sourceSettings(clients, ledger, opts.table);
          started = await startRestore(
            { ddb: svc.clients.dynamodb, backups: svc.backups, ledger },
            { table: opts.table, target: opts.target, source, overrides },
            settings.settings?.indexes,
          );
        } catch (err) {
          if (err instanceof TargetExistsError || err instanceof NoBackupError || err instanceof TableNotFoundError) {
            refuse(ctx, opts.json, err.message, { table: opts.table, target: opts.target });
            return;
          }
          const refusal = pointInTimeRefusal(err, opts.table);
          if (refusal) {
            refuse(ctx, opts.json, refusal, { table: opts.table, target: opts.target });
            return;
          }
          throw err;
        }
        const from =
          started.kind === 'backup'
            ? `backup ${started.backup!.backupName ?? ''} ${started.backup!.backupArn} (created ${started.backup!.createdAt ?? '?'}, chosen via ${started.backup!.via})`
            : started.useLatestRestorableTime
              ? 'the latest restorable time'
              : `point in time ${started.restoreDateTime}`;
        if (!opts.json) {
          io.err(`restore started: ${opts.table} -> ${opts.target} from ${from}`);
          io.err(
            settings.origin === 'live'
              ? `settings: from the live source table ${opts.table}`
              : `settings: ${settings.origin === 'snapshot' ? '' : 'none: '}${settings.note ?? ''}`,
          );
        }
        let report: SettingsReport | undefined;
        let status = started.tableStatus;
        if (opts.wait) {
          const maxWaitMs = (opts.timeoutMinutes ?? 120) * 60_000;
          const t = opts.json
            ? await waitForActive(svc.clients.dynamodb, opts.target, { maxWaitMs })
            : await waitWithProgress(io, opts.target, (onState) => waitForActive(svc.clients.dynamodb, opts.target, { maxWaitMs, onState }));
          status = t.TableStatus ?? status;
          if (settings.settings) {
            const results = await applySettings(clients, opts.target, settings.settings, {
              tagKey: tagKeyOf(svc),
              keepPolicyTag: opts.keepPolicyTag,
              onProgress: opts.json ? undefined : (l) => io.err(l),
            });
            report = settingsReport(results);
            if (report.failed > 0) ctx.fail(EXIT.FAILED);
          } else {
            ctx.fail(EXIT.FAILED);
          }
        }
        if (opts.json) {
          io.out(
            JSON.stringify({
              table: opts.table,
              target: opts.target,
              restore: started,
              status,
              settingsOrigin: settings.origin,
              ...(settings.note ? { settingsNote: settings.note } : {}),
              ...(report ? { settings: report } : {}),
              ...(opts.wait ? {} : { next: `ddb-backup restore-settings --table ${opts.target} --from ${opts.table}` }),
            }),
          );
          return;
        }
        if (!opts.wait) {
          io.out(`restore of ${opts.target} started (${status}).`);
          io.out(`Settings are not re-applied yet. Once it is ACTIVE, run: ddb-backup restore-settings --table ${opts.target} --from ${opts.table}`);
          return;
        }
        if (report) printSettings(ctx, opts.target, report);
        else io.out(`restored ${opts.target} (${status}); no settings to re-apply: ${settings.note ?? ''}`);
      },
    );

  // ---- restore-settings ----
  program
    .command('restore-settings')
    .description("re-apply a source table's settings (live, or the ledger's snapshot when it is gone) to a restored table; waits until it is ACTIVE")
    .requiredOption('--table <name>', 'restored table to configure', tableNameArg)
    .requiredOption('--from <name>', 'source table whose settings to copy', tableNameArg)
    .option('--keep-policy-tag', 'copy the backup policy tag too')
    .option('--only <settings>', `comma-separated subset of: ${SETTING_NAMES.join(',')}`, settingList)
    .option('--timeout-minutes <n>', 'how long to wait for ACTIVE (default 120)', positiveInt(24 * 60))
    .option('--json', 'print JSON')
    .action(
      async (opts: { table: string; from: string; keepPolicyTag?: boolean; only?: SettingName[]; timeoutMinutes?: number; json?: boolean }, cmd: Command) => {
        if (opts.table === opts.from) throw new UsageError('--table and --from must differ');
        const svc = ctx.service(cmd);
        const clients = clientsFor(ctx, cmd, svc);
        const input = { table: opts.table, from: opts.from };
        if (!(await findTable(svc.clients.dynamodb, opts.table))) {
          refuse(ctx, opts.json, `table "${opts.table}" does not exist`, input);
          return;
        }
        const settings = await sourceSettings(clients, ledgerIfAny(svc), opts.from);
        if (!settings.settings) {
          refuse(ctx, opts.json, `no settings to apply: ${settings.note ?? ''}`, input);
          return;
        }
        if (!opts.json && settings.note) io.err(settings.note);
        const maxWaitMs = (opts.timeoutMinutes ?? 120) * 60_000;
        if (opts.json) await waitForActive(svc.clients.dynamodb, opts.table, { maxWaitMs });
        else await waitWithProgress(io, opts.table, (onState) => waitForActive(svc.clients.dynamodb, opts.table, { maxWaitMs, onState }));
        const results: SettingResult[] = await applySettings(clients, opts.table, settings.settings, {
          tagKey: tagKeyOf(svc),
          keepPolicyTag: opts.keepPolicyTag,
          only: opts.only,
          onProgress: opts.json ? undefined : (l) => io.err(l),
        });
        const report = settingsReport(results);
        if (report.failed > 0) ctx.fail(EXIT.FAILED);
        if (opts.json) io.out(JSON.stringify({ table: opts.table, from: opts.from, settingsOrigin: settings.origin, settings: report }));
        else printSettings(ctx, opts.table, report);
      },
    );

  // ---- snapshot-settings ----
  program
    .command('snapshot-settings')
    .description("capture a table's settings (tags, TTL, stream, PITR, auto scaling, ...) and store them in the ledger for a later restore")
    .requiredOption('--table <name>', 'table to capture', tableNameArg)
    .option('--json', 'print the snapshot as JSON')
    .action(async (opts: { table: string; json?: boolean }, cmd: Command) => {
      const svc = ctx.service(cmd);
      const ledger = svc.ledger();
      const now = svc.clock.now();
      const settings = await captureSettings(clientsFor(ctx, cmd, svc), opts.table, now);
      await ledger.putSettingsSnapshot(opts.table, settings, now);
      if (opts.json) {
        io.out(JSON.stringify({ table: opts.table, capturedAt: settings.capturedAt, settings }));
        return;
      }
      const unreadable = Object.entries(settings.unreadable ?? {});
      io.out(`stored the settings of ${opts.table} in ${ledger.tableName} (captured ${settings.capturedAt})`);
      for (const [name, why] of unreadable) io.err(`note: ${name} could not be read: ${why}`);
    });

  // ---- status ----
  program
    .command('status')
    .description('coverage of every table in the account and region: policies, last backup vs RPO, PITR, and flags')
    .option('--table <name>', 'only this table (repeatable)', collect)
    .option('--ignore <pattern>', 'leave out tables: a name or a prefix* (repeatable)', collect)
    .option('--strict', `exit 1 when any table is flagged ${DIGEST_FLAGS.join('/')}`)
    .option('--json', 'print JSON')
    .action(async (opts: { table?: string[]; ignore?: string[]; strict?: boolean; json?: boolean }, cmd: Command) => {
      const svc = ctx.service(cmd);
      const { missing, ...report }: CoverageReport & CoverageMissing = await collectCoverage(svc, { only: opts.table, ignore: opts.ignore });
      if (opts.strict && report.tables.some((t) => t.flags.some((f) => DIGEST_FLAGS.includes(f)))) ctx.fail(EXIT.FAILED);
      // A table asked for by name that does not exist fails the command; the others are still reported.
      const notFound = missing?.length
        ? { message: `no table${missing.length > 1 ? 's' : ''} named ${missing.join(', ')} in ${await regionOf(svc)}`, input: { table: missing } }
        : undefined;
      if (notFound) ctx.fail(EXIT.FAILED);
      if (opts.json) {
        io.out(JSON.stringify(notFound && report.tables.length === 0 ? { error: notFound } : { ...report, ...(notFound ? { error: notFound } : {}) }));
        if (notFound) io.err(`error: ${notFound.message}`);
        return;
      }
      if (report.tables.length === 0) {
        if (notFound) io.err(`error: ${notFound.message}`);
        else io.out('no tables');
        return;
      }
      io.out(
        renderTable(
          ['table', 'policies (last backup / RPO)', 'PITR', 'flags'],
          report.tables.map((t) => [
            t.table,
            t.policies
              .map((p) => `${p.name}: ${p.ageMinutes !== undefined ? `${humanMinutes(p.ageMinutes)} ago` : 'never'}${p.rpoMinutes ? ` / ${humanMinutes(p.rpoMinutes)}` : ''}${p.error ? ' (policy error)' : ''}`)
              .join('\n') || '-',
            t.pitr ? (t.pitr.enabled ? `on, ${t.pitr.recoveryPeriodDays ?? 35} d` : 'off') : '?',
            t.flags.join(' ') || 'ok',
          ]),
        ),
      );
      for (const t of report.tables) for (const r of t.reasons) if (t.flags.length > 0 && r !== 'no backup policy tag') io.err(`${t.table}: ${r}`);
      const c = report.counts;
      io.out(
        `${c.tables} table(s): ${c.ok} ok, ${c.UNPROTECTED} unprotected, ${c.STALE} stale, ${c.FAILING} failing, ${c.NO_STREAM} without stream, ${c.PITR_DRIFT} PITR drift, ${c.POLICY_ERROR} policy errors, ${c.DRILL} drill problems`,
      );
      if (notFound) io.err(`error: ${notFound.message}`);
    });

  // ---- backups describe / delete ----
  const backups = program.commands.find((c) => c.name() === 'backups') ?? program.command('backups');

  const findRecord = async (svc: Service, table: string | undefined, arn: string) => {
    const ledger = ledgerIfAny(svc);
    if (!ledger || !table) return undefined;
    return (await ledger.listBackupRecords(table)).find((r) => r.backupArn === arn);
  };

  const describeBackup = async (svc: Service, arn: string) => {
    try {
      return (await svc.clients.dynamodb.send(new DescribeBackupCommand({ BackupArn: arn }))).BackupDescription;
    } catch (err) {
      if (!isNotFound(err, 'backup')) throw err;
      return undefined;
    }
  };

  const holdText = (h: BackupHold) => `held by ${h.by} since ${h.at}: ${h.reason}`;

  backups
    .command('describe')
    .description('a backup as DynamoDB describes it, with its ledger record (the ledger alone says whether the service owns it)')
    .requiredOption('--backup-arn <arn>', 'backup ARN', backupArnArg)
    .option('--json', 'print JSON')
    .action(async (opts: { backupArn: string; json?: boolean }, cmd: Command) => {
      const svc = ctx.service(cmd);
      const description = await describeBackup(svc, opts.backupArn);
      const table = description?.SourceTableDetails?.TableName ?? tableNameFromArn(opts.backupArn);
      const found = await findRecord(svc, table, opts.backupArn);
      const ledgerRecord = found ? (({ pk: _pk, sk: _sk, ...r }) => r)(found) : undefined;
      if (!description) {
        io.err(`error: no backup ${opts.backupArn}${ledgerRecord ? ' (the ledger still has a record of it)' : ''}`);
        ctx.fail(EXIT.FAILED);
      }
      const d = description?.BackupDetails;
      if (opts.json) {
        io.out(JSON.stringify({ backup: description ?? null, ownedByService: Boolean(ledgerRecord), ledger: ledgerRecord ?? null }));
        return;
      }
      if (!description) return;
      const rows: [string, string | number | undefined][] = [
        ['arn', d?.BackupArn],
        ['name', d?.BackupName],
        ['table', table],
        ['status', d?.BackupStatus],
        ['type', d?.BackupType],
        ['created', d?.BackupCreationDateTime?.toISOString()],
        ['size (bytes)', d?.BackupSizeBytes],
        ['items', description.SourceTableDetails?.ItemCount],
        ['owned by the service', ledgerRecord ? `yes (ledger: policy ${ledgerRecord.policy}, trigger ${ledgerRecord.trigger})` : 'no (not in the ledger, whatever its name)'],
        ['ledger', ledgerRecord ? `${ledgerRecord.status} (slot ${ledgerRecord.slot})` : 'no record'],
        ['hold', ledgerRecord?.hold ? holdText(ledgerRecord.hold) : 'none'],
      ];
      io.out(renderTable(['field', 'value'], rows.map(([k, v]) => [k, v])));
    });

  backups
    .command('delete')
    .description("delete one backup: only the service's own by the ledger (--force for others), never a held one, never without --yes")
    .requiredOption('--backup-arn <arn>', 'backup ARN', backupArnArg)
    .option('--yes', 'really delete it')
    .option('--force', "also delete a backup the ledger does not own, or the table's newest AVAILABLE one of the service's (never a held one)")
    .option('--json', 'print JSON')
    .action(async (opts: { backupArn: string; yes?: boolean; force?: boolean; json?: boolean }, cmd: Command) => {
      const refuse = (why: string) => {
        if (opts.json) io.out(JSON.stringify({ backupArn: opts.backupArn, deleted: false, refused: why }));
        io.err(`error: refusing to delete ${opts.backupArn}: ${why}`);
        ctx.fail(EXIT.FAILED);
      };
      if (!opts.yes) return refuse('pass --yes to confirm');
      const svc = ctx.service(cmd);
      const description = await describeBackup(svc, opts.backupArn);
      if (!description) return refuse('no such backup');
      const table = description.SourceTableDetails?.TableName ?? tableNameFromArn(opts.backupArn);
      const record = await findRecord(svc, table, opts.backupArn);
      if (record?.hold) return refuse(`it is under a legal hold (${holdText(record.hold)}); release it first with: ddb-backup backups release ${opts.backupArn}`);
      if (!record && !opts.force) {
        return refuse(`the service did not create it: the ledger has no record of it (name "${description.BackupDetails?.BackupName ?? ''}" proves nothing); --force deletes it anyway`);
      }
      if (record && !opts.force && table && description.BackupDetails?.BackupStatus === 'AVAILABLE') {
        // The newest AVAILABLE backup of the table the service owns: ledger records, confirmed
        // to exist by the table's listing (what restore --latest would pick).
        const [records, listing] = await Promise.all([svc.ledger().listBackupRecords(table), svc.backups.listBackups(table)]);
        const available = new Set(listing.filter((b) => b.status === 'AVAILABLE').map((b) => b.arn));
        const newest = liveNewestFirst(records).find((r) => available.has(r.backupArn!));
        if (newest?.backupArn === opts.backupArn) {
          return refuse(`it is the newest AVAILABLE backup of ${table} the service made (what restore --latest uses); --force deletes it anyway`);
        }
      }
      if (record && isLive(record)) {
        // The mark is conditional: a hold placed meanwhile wins.
        const mark = await svc.ledger().markDeleting(record, { at: svc.clock.now().toISOString(), reason: 'deleted by operator' });
        if (mark === 'held') return refuse('it was placed under a legal hold just now');
        if (mark === 'not-live') return refuse('its ledger record changed just now; look again with: ddb-backup backups describe');
      }
      let outcome: 'deleted' | 'gone';
      try {
        outcome = await svc.backups.deleteBackup(opts.backupArn);
      } catch (err) {
        if (record && isLive(record)) await svc.ledger().unmarkDeleting(record);
        throw err;
      }
      if (opts.json) io.out(JSON.stringify({ backupArn: opts.backupArn, deleted: true, outcome, ledgerUpdated: Boolean(record) }));
      else io.out(`${outcome === 'deleted' ? 'deleted' : 'already gone:'} ${opts.backupArn}${record ? '; ledger record marked DELETED' : ''}`);
    });

  /** The ledger record a hold or release refers to; undefined (reported, exit 1) for a backup the ledger does not own. */
  const holdTarget = async (svc: Service, arn: string, onRefused: (error: string) => unknown) => {
    const record = await findRecord(svc, tableNameFromArn(arn), arn);
    if (!record) {
      const error = `${arn} is not in the ledger: the service never deletes a backup it does not own, so it needs no hold`;
      onRefused(error);
      io.err(`error: ${error}`);
      ctx.fail(EXIT.FAILED);
    }
    return record;
  };

  backups
    .command('hold')
    .description('place a legal hold on a backup of the service: no path deletes it (prune, sweep, backups delete --force) until released')
    .argument('<arn>', 'backup ARN', backupArnArg)
    .requiredOption('--reason <text>', 'why it is held (kept in the ledger)')
    .option('--by <name>', 'who holds it (default: the OS user)')
    .option('--json', 'print JSON')
    .action(async (arn: string, opts: { reason: string; by?: string; json?: boolean }, cmd: Command) => {
      if (!opts.reason.trim()) throw new UsageError('--reason must say why the backup is held');
      const svc = ctx.service(cmd);
      const record = await holdTarget(svc, arn, (error) => opts.json && io.out(JSON.stringify({ backupArn: arn, held: false, error })));
      if (!record) return;
      const hold: BackupHold = { reason: opts.reason.trim(), by: opts.by ?? whoAmI(), at: svc.clock.now().toISOString() };
      const placed = await svc.ledger().placeHold(record, hold);
      const why = placed ? undefined : record.hold ? `already ${holdText(record.hold)}` : `its ledger status is ${record.status}, not a live backup`;
      if (why) ctx.fail(EXIT.FAILED);
      if (opts.json) io.out(JSON.stringify({ backupArn: arn, held: placed, ...(placed ? { hold } : { error: why }) }));
      else if (placed) io.out(`held ${arn}: ${holdText(hold)}`);
      else io.err(`error: cannot hold ${arn}: ${why}`);
    });

  backups
    .command('release')
    .description('release a legal hold; the ledger keeps who held and released it, when and why')
    .argument('<arn>', 'backup ARN', backupArnArg)
    .option('--by <name>', 'who releases it (default: the OS user)')
    .option('--json', 'print JSON')
    .action(async (arn: string, opts: { by?: string; json?: boolean }, cmd: Command) => {
      const svc = ctx.service(cmd);
      const record = await holdTarget(svc, arn, (error) => opts.json && io.out(JSON.stringify({ backupArn: arn, released: false, error })));
      if (!record) return;
      const by = opts.by ?? whoAmI();
      const released = await svc.ledger().releaseHold(record, by, svc.clock.now());
      if (!released) ctx.fail(EXIT.FAILED);
      if (opts.json) io.out(JSON.stringify({ backupArn: arn, released: Boolean(released), ...(released ? { hold: released, releasedBy: by } : { error: 'it is not held' }) }));
      else if (released) io.out(`released ${arn} (was ${holdText(released)})`);
      else io.err(`error: ${arn} is not held`);
    });

  // ---- pitr ----
  program
    .command('pitr')
    .description('point-in-time recovery of the tagged tables')
    .command('apply')
    .description("turn PITR on (with the policy's recovery period) for the tables tagged with a policy that wants it")
    .requiredOption('--policy <name>', 'policy', policyNameArg)
    .option('--dry-run', 'show what would change; change nothing')
    .option('--json', 'print JSON')
    .action(async (opts: { policy: string; dryRun?: boolean; json?: boolean }, cmd: Command) => {
      const svc = ctx.service(cmd);
      if (!(await svc.policies.listNames()).has(opts.policy)) {
        refuse(ctx, opts.json, `no policy named ${opts.policy} under ${svc.policies.policyPrefix} (ddb-backup policy list shows them)`, { policy: opts.policy });
        return;
      }
      const tables = (await svc.discovery.discover()).filter((t) => t.policies.includes(opts.policy));
      const rows: { table: string; action: string; recoveryPeriodDays?: number; before?: string; error?: string }[] = [];
      for (const t of tables) {
        try {
          const eff = await svc.policies.getEffective(opts.policy, t.table);
          const want = eff.policy.pointInTimeRecovery;
          if (!want?.enabled) {
            rows.push({ table: t.table, action: 'skipped', error: 'the policy does not ask for PITR' });
            continue;
          }
          const r = await ensurePitr(svc.clients.dynamodb, t.table, want.recoveryPeriodDays, { dryRun: opts.dryRun });
          rows.push({
            table: t.table,
            action: r.change === 'unchanged' ? 'unchanged' : opts.dryRun ? `would be ${r.change}` : r.change,
            recoveryPeriodDays: want.recoveryPeriodDays,
            before: r.before.enabled ? `on, ${r.before.recoveryPeriodDays ?? 35} d` : 'off',
          });
        } catch (err) {
          ctx.fail(EXIT.FAILED);
          rows.push({ table: t.table, action: 'failed', error: errorMessage(err) });
        }
      }
      if (opts.json) {
        io.out(JSON.stringify({ policy: opts.policy, dryRun: Boolean(opts.dryRun), tables: rows }));
        return;
      }
      if (rows.length === 0) {
        io.out(`no tables are tagged with policy "${opts.policy}"`);
        return;
      }
      io.out(renderTable(['table', 'PITR before', 'action', 'recovery days', 'note'], rows.map((r) => [r.table, r.before, r.action, r.recoveryPeriodDays, r.error])));
    });
};
