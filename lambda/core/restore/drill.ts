/**
 * Restore drills: restore a real backup into a scratch table, re-apply the settings, check the
 * result against what was backed up, record the time it took (the RTO), clean up.
 *
 * A drill is a LongTask of kind 'drill': each step is short and never sleeps, so the deployed
 * waiter (Step Functions) and the CLI (`ddb-backup drill`) run the same steps. The checks are
 * pure (`drillChecks`); every call to AWS goes through DrillDeps (lambda/aws/drills.ts).
 */
import { BackupServiceError, errorMessage } from '../errors';
import { LONG_TASK_MAX_SECONDS, clampWait, type LongTask, type LongTaskState, type StepOutcome } from '../long-task';
import type { Clock } from '../ports';
import { compactUtc } from '../naming';
import { filterTags, type SettingName, type SettingResult, type TableSettings } from './restore';

export const DRILL_KIND = 'drill';

/** A drill's records expire this long after it started (the ledger's TTL attribute). */
export const DRILL_RECORD_DAYS = 400;

/** One check of a drill: passed true/false, or null when it could not be checked (with why). */
export interface DrillCheck {
  readonly name: string;
  readonly passed: boolean | null;
  readonly detail: string;
}

export type DrillOutcome = 'passed' | 'failed' | 'error';

/** A drill as the ledger keeps it: pk `DRILL#<table>`, sk `<startedAt>`. */
export interface DrillRecord {
  readonly table: string;
  readonly backupArn?: string;
  readonly startedAt: string;
  readonly finishedAt: string;
  readonly passed: boolean;
  /** From the start of the restore to the scratch table ACTIVE with its settings (the RTO). */
  readonly restoreSeconds?: number;
  readonly checks: readonly DrillCheck[];
  readonly scratchTable?: string;
  readonly kept: boolean;
  /** passed: every check passed; failed: a check failed; error: the drill could not run to its checks. */
  readonly outcome: DrillOutcome;
  readonly error?: string;
  /** The policy whose schedule started it (scheduled drills). */
  readonly policy?: string;
}

/** What a table looks like, for the checks: undefined fields are unknown. */
export interface TableShape {
  readonly keySchema?: readonly { readonly AttributeName: string; readonly KeyType: string }[];
  /** Types of the attributes DynamoDB knows (key attributes of the table and its indexes). */
  readonly attributeTypes?: Readonly<Record<string, string>>;
  readonly gsis?: readonly IndexShape[];
  readonly lsis?: readonly IndexShape[];
  /** `DEFAULT` (AWS owned key), `KMS`, `AES256`. */
  readonly sse?: string;
  /** Undefined when DynamoDB does not say (a restored table's summary can be empty). */
  readonly billingMode?: string;
}

export interface IndexShape {
  readonly name: string;
  readonly keySchema: readonly { readonly AttributeName: string; readonly KeyType: string }[];
  readonly projectionType?: string;
}

/** What the drill expects, read before the restore starts. */
export interface DrillExpected {
  /** The backup's recorded item count, and where it was recorded. */
  readonly itemCount?: number;
  readonly itemCountSource?: string;
  readonly shape: TableShape;
  /** The settings snapshot the restore is checked against (live source, or the ledger's). */
  readonly settings?: TableSettings;
  readonly settingsNote?: string;
}

/** What the scratch table turned out to be. */
export interface DrillActual {
  readonly itemCount: number;
  readonly shape: TableShape;
  readonly settings: TableSettings;
  /** Items read back by their key: how many were tried, and the keys that could not be read. */
  readonly sample: { readonly tried: number; readonly missing: readonly string[] };
}

/** The settings a drill never puts on a scratch table: it must stay deletable. */
export const DRILL_SKIPS: readonly SettingName[] = ['deletionProtection'];

export interface DrillState extends LongTaskState {
  readonly kind: typeof DRILL_KIND;
  readonly phase: 'pick' | 'start' | 'wait-active' | 'settings' | 'verify' | 'cleanup';
  /** The table to drill; absent before `pick` chose one. */
  readonly table?: string;
  /** Scheduled drills: the policy whose tables take turns. */
  readonly policy?: string;
  /** `latest` (default) or a backup ARN. */
  readonly backup?: string;
  readonly keep?: boolean;
  /** Scratch table name (default `<table>-drill-<stamp>`). */
  readonly scratchTable?: string;
  /** Seconds between polls while the restore runs. @default 15 */
  readonly pollSeconds?: number;
  readonly backupArn?: string;
  readonly expected?: DrillExpected;
  readonly restoreStartedAt?: string;
  readonly restoreSeconds?: number;
  readonly checks?: readonly DrillCheck[];
  /** What re-applying the settings did (checked in `verify`). */
  readonly applied?: readonly SettingResult[];
  readonly error?: string;
  /** True once a restore into the scratch table was started (cleanup has something to delete). */
  readonly restoring?: boolean;
}

/** A drill that may not start (a scratch name that exists): nothing was touched. */
export class DrillRefusedError extends BackupServiceError {
  override readonly name: string = 'DrillRefusedError';
}

/** Everything a drill does to AWS and the ledger. */
export interface DrillDeps {
  readonly clock: Clock;
  /** The opt-in tag key: never compared (the scratch table must not be enrolled). */
  readonly tagKey: string;
  /** The backup to drill: `latest` (the service's newest AVAILABLE one) or an ARN; throws when there is none. */
  resolveBackup(table: string, backup: string): Promise<{ backupArn: string }>;
  /** What the restore must reproduce. */
  expected(table: string, backupArn: string): Promise<DrillExpected>;
  tableExists(table: string): Promise<boolean>;
  startRestore(backupArn: string, target: string): Promise<void>;
  /** ACTIVE (indexes too), BUSY (still creating or updating), GONE. */
  tableStatus(table: string): Promise<'ACTIVE' | 'BUSY' | 'GONE'>;
  /** Re-applies the settings (never those in DRILL_SKIPS). */
  applySettings(target: string, settings: TableSettings): Promise<SettingResult[]>;
  inspect(target: string): Promise<DrillActual>;
  deleteTable(table: string): Promise<'deleted' | 'gone'>;
  record(record: DrillRecord): Promise<void>;
  /** The tables tagged with the policy. */
  tablesOfPolicy(policy: string): Promise<string[]>;
  /** When each table was last drilled (ISO), undefined when never. */
  lastDrilled(tables: readonly string[]): Promise<Record<string, string | undefined>>;
}

/** `<table>-drill-<YYYYMMDDTHHMMSSZ>`, cut to DynamoDB's 255 characters; never the table's own name. */
export function scratchTableName(table: string, at: Date): string {
  const suffix = `-drill-${compactUtc(at)}`;
  return `${table.slice(0, 255 - suffix.length)}${suffix}`;
}

/** The next table to drill: never drilled first, then the oldest drill; ties by name. */
export function pickDrillTable(tables: readonly string[], lastDrilled: Readonly<Record<string, string | undefined>>): string | undefined {
  // Own entries only: a table may be named like an Object member (`toString`, `__proto__`).
  const at = (t: string) => (Object.prototype.hasOwnProperty.call(lastDrilled, t) ? (lastDrilled[t] ?? '') : '');
  return [...new Set(tables)].sort((a, b) => {
    const la = at(a);
    const lb = at(b);
    return la === lb ? a.localeCompare(b) : la.localeCompare(lb);
  })[0];
}

const keyText = (ks: readonly { AttributeName: string; KeyType: string }[] | undefined) =>
  (ks ?? []).map((k) => `${k.AttributeName} ${k.KeyType}`).join(', ');

const indexText = (ix: readonly IndexShape[]) =>
  [...ix]
    .sort((a, b) => a.name.localeCompare(b.name))
    .map((i) => `${i.name}(${keyText(i.keySchema)}${i.projectionType ? `; ${i.projectionType}` : ''})`)
    .join(' ') || 'none';

const json = (v: unknown) => JSON.stringify(v ?? null);

/** The same value, compared as canonical JSON (object keys sorted). */
function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v && typeof v === 'object') {
    return `{${Object.keys(v)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical((v as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v ?? null);
}

function compare(name: string, want: unknown, have: unknown, show: (v: unknown) => string = json): DrillCheck {
  const ok = canonical(want) === canonical(have);
  return { name, passed: ok, detail: ok ? `as recorded: ${show(want)}` : `expected ${show(want)}, restored ${show(have)}` };
}

const notChecked = (name: string, detail: string): DrillCheck => ({ name, passed: null, detail });

/**
 * The checks of a drill: the restored table against the backup and the recorded settings. A
 * setting the drill cannot know (unreadable, not recorded, not reported by DynamoDB) is "not
 * checked" (passed null), never a failure.
 */
export function drillChecks(expected: DrillExpected, actual: DrillActual, applied: readonly SettingResult[], tagKey: string): DrillCheck[] {
  const checks: DrillCheck[] = [];
  const want = expected.shape;
  const have = actual.shape;

  checks.push(
    expected.itemCount === undefined
      ? notChecked('itemCount', `no item count was recorded for the backup; the restored table has ${actual.itemCount}`)
      : {
          name: 'itemCount',
          passed: expected.itemCount === actual.itemCount,
          detail: `${actual.itemCount} item(s) restored, ${expected.itemCount} recorded (${expected.itemCountSource ?? 'backup'})`,
        },
  );
  checks.push(want.keySchema ? compare('keySchema', want.keySchema, have.keySchema, (v) => keyText(v as IndexShape['keySchema'])) : notChecked('keySchema', 'the backup does not report its key schema'));
  if (want.attributeTypes && have.attributeTypes) {
    const names = Object.keys(want.attributeTypes).sort();
    const h = Object.fromEntries(names.map((n) => [n, have.attributeTypes![n] ?? 'missing']));
    checks.push(compare('attributeTypes', want.attributeTypes, h));
  } else checks.push(notChecked('attributeTypes', 'the source table is gone and the backup does not report attribute types'));
  checks.push(want.gsis ? compare('globalSecondaryIndexes', want.gsis, have.gsis ?? [], (v) => indexText(v as IndexShape[])) : notChecked('globalSecondaryIndexes', 'the indexes of the source are not known'));
  checks.push(want.lsis ? compare('localSecondaryIndexes', want.lsis, have.lsis ?? [], (v) => indexText(v as IndexShape[])) : notChecked('localSecondaryIndexes', 'the indexes of the source are not known'));
  checks.push(want.sse && have.sse ? compare('sse', want.sse, have.sse) : notChecked('sse', 'the encryption of the source is not known'));
  checks.push(
    want.billingMode && have.billingMode
      ? compare('billingMode', want.billingMode, have.billingMode)
      : notChecked('billingMode', have.billingMode ? 'the billing mode of the source is not known' : 'DynamoDB does not report the restored table\'s billing mode (empty summary)'),
  );

  const s = expected.settings;
  const setting = (name: SettingName, pick: (t: TableSettings) => unknown): DrillCheck => {
    if (!s) return notChecked(name, expected.settingsNote ?? 'no settings snapshot of the source');
    if (s.unreadable?.[name] !== undefined) return notChecked(name, `could not be read from the source: ${s.unreadable[name]}`);
    if (s[name] === undefined) return notChecked(name, 'not in the settings snapshot');
    if (actual.settings.unreadable?.[name] !== undefined) return notChecked(name, `could not be read from the restored table: ${actual.settings.unreadable[name]}`);
    return compare(name, pick(s), pick(actual.settings));
  };
  checks.push(setting('ttl', (t) => t.ttl ?? null));
  checks.push(setting('stream', (t) => t.stream ?? null));
  checks.push(setting('tags', (t) => filterTags(t.tags ?? {}, tagKey)));
  checks.push(setting('pitr', (t) => (t.pitr ? { enabled: true, recoveryPeriodDays: t.pitr.recoveryPeriodDays ?? 35 } : { enabled: false })));
  checks.push(setting('resourcePolicy', (t) => (t.resourcePolicy ? 'present' : 'none')));
  if (s?.deletionProtection) checks.push(notChecked('deletionProtection', 'the source has it on; a scratch table is left without it, so that it can be deleted'));
  const failed = applied.filter((r) => r.outcome === 'failed');
  checks.push({
    name: 'settingsApplied',
    passed: failed.length === 0,
    detail:
      failed.length === 0
        ? `${applied.filter((r) => r.outcome === 'applied').length} setting(s) re-applied${applied.length ? `: ${applied.filter((r) => r.outcome === 'applied').map((r) => r.setting).join(', ') || 'none needed'}` : ''}`
        : failed.map((r) => `${r.setting}: ${r.detail}`).join('; '),
  });
  checks.push({
    name: 'sampleReadable',
    passed: actual.sample.missing.length === 0,
    detail:
      actual.sample.tried === 0
        ? 'the table is empty: no item to read'
        : actual.sample.missing.length === 0
          ? `${actual.sample.tried} item(s) read back by key`
          : `${actual.sample.missing.length} of ${actual.sample.tried} item(s) not readable by key: ${actual.sample.missing.slice(0, 5).join(', ')}`,
  });
  return checks;
}

/** A drill passed when it ran its checks and none failed. */
export function drillPassed(checks: readonly DrillCheck[]): boolean {
  return checks.length > 0 && checks.every((c) => c.passed !== false);
}

/** The initial state of a drill of one table (the CLI), or of a policy's next table (scheduled). */
export function drillState(
  startedAt: Date,
  opts: { table?: string; policy?: string; backup?: string; keep?: boolean; scratchTable?: string; pollSeconds?: number },
): DrillState {
  return {
    kind: DRILL_KIND,
    phase: opts.table ? 'start' : 'pick',
    startedAt: startedAt.toISOString(),
    ...Object.fromEntries(Object.entries(opts).filter(([, v]) => v !== undefined)),
  } as DrillState;
}

const seconds = (from: string, to: Date) => Math.max(0, Math.round((to.getTime() - Date.parse(from)) / 100) / 10);

/**
 * The drill task: pick (scheduled) → start → wait-active → settings → verify → cleanup (which
 * records the drill and ends it). Any error once a restore was started goes to cleanup with the
 * error as a failed check, so a failed drill still deletes its scratch table (unless kept).
 */
export const drillTask: LongTask<DrillDeps> = {
  kind: DRILL_KIND,
  async step(deps, raw, now): Promise<StepOutcome> {
    const state = raw as DrillState;
    try {
      return await phase(deps, state, now);
    } catch (err) {
      if (err instanceof DrillRefusedError) throw err;
      const error = errorMessage(err);
      return { next: 'continue', state: { ...state, phase: 'cleanup', error: `${state.phase}: ${error}` } };
    }
  },
};

async function phase(deps: DrillDeps, s: DrillState, now: Date): Promise<StepOutcome> {
  const poll = clampWait(s.pollSeconds ?? 15);
  switch (s.phase) {
    case 'pick': {
      if (!s.policy) throw new DrillRefusedError('a drill needs a table or a policy');
      const tables = await deps.tablesOfPolicy(s.policy);
      const table = pickDrillTable(tables, await deps.lastDrilled(tables));
      if (!table) return { next: 'done', state: s, passed: true, summary: `no table is tagged with policy ${s.policy}: nothing to drill` };
      return { next: 'continue', state: { ...s, table, phase: 'start' } };
    }
    case 'start': {
      const table = s.table!;
      const scratch = s.scratchTable ?? scratchTableName(table, new Date(s.startedAt));
      if (scratch === table) throw new DrillRefusedError(`the scratch table must not be the drilled table "${table}"`);
      if (await deps.tableExists(scratch)) {
        throw new DrillRefusedError(`refusing to drill: scratch table "${scratch}" already exists; a drill only ever creates a new table`);
      }
      const { backupArn } = await deps.resolveBackup(table, s.backup ?? 'latest');
      const expected = await deps.expected(table, backupArn);
      const at = deps.clock.now();
      await deps.startRestore(backupArn, scratch);
      // The first look is at once: a small table's restore can be ACTIVE already.
      return {
        next: 'continue',
        state: { ...s, phase: 'wait-active', scratchTable: scratch, backupArn, expected, restoreStartedAt: at.toISOString(), restoring: true },
      };
    }
    case 'wait-active': {
      const status = await deps.tableStatus(s.scratchTable!);
      if (status === 'GONE') throw new Error(`the scratch table ${s.scratchTable} disappeared during the restore`);
      if (status === 'BUSY') {
        const waited = seconds(s.restoreStartedAt!, now);
        if (waited > LONG_TASK_MAX_SECONDS) throw new Error(`the restore is not ACTIVE after ${waited} s`);
        return { next: 'wait', waitSeconds: poll, state: s };
      }
      return { next: 'continue', state: { ...s, phase: 'settings' } };
    }
    case 'settings': {
      const applied = s.expected?.settings ? await deps.applySettings(s.scratchTable!, s.expected.settings) : [];
      const restoreSeconds = seconds(s.restoreStartedAt!, deps.clock.now());
      return { next: 'continue', state: { ...s, phase: 'verify', restoreSeconds, applied } };
    }
    case 'verify': {
      const actual = await deps.inspect(s.scratchTable!);
      const checks = drillChecks(s.expected ?? { shape: {} }, actual, s.applied ?? [], deps.tagKey);
      return { next: 'continue', state: { ...s, phase: 'cleanup', checks } };
    }
    case 'cleanup':
      return finish(deps, s);
  }
}

async function finish(deps: DrillDeps, s: DrillState): Promise<StepOutcome> {
  const checks: DrillCheck[] = [...(s.checks ?? [])];
  if (s.error) checks.push({ name: 'completed', passed: false, detail: s.error });
  const kept = Boolean(s.keep && s.restoring);
  if (s.restoring && !s.keep) {
    try {
      const gone = await deps.deleteTable(s.scratchTable!);
      checks.push({ name: 'cleanup', passed: true, detail: `scratch table ${s.scratchTable} ${gone === 'gone' ? 'was already gone' : 'deleted'}` });
    } catch (err) {
      checks.push({ name: 'cleanup', passed: false, detail: `scratch table ${s.scratchTable} NOT deleted: ${errorMessage(err)}` });
    }
  }
  const ranChecks = (s.checks?.length ?? 0) > 0;
  const passed = !s.error && drillPassed(checks);
  const finishedAt = deps.clock.now();
  const record: DrillRecord = {
    table: s.table!,
    ...(s.backupArn ? { backupArn: s.backupArn } : {}),
    startedAt: s.startedAt,
    finishedAt: finishedAt.toISOString(),
    passed,
    ...(s.restoreSeconds !== undefined ? { restoreSeconds: s.restoreSeconds } : {}),
    checks,
    ...(s.scratchTable && s.restoring ? { scratchTable: s.scratchTable } : {}),
    kept,
    outcome: passed ? 'passed' : ranChecks ? 'failed' : 'error',
    ...(s.error ? { error: s.error } : {}),
    ...(s.policy ? { policy: s.policy } : {}),
  };
  await deps.record(record);
  const failedChecks = checks.filter((c) => c.passed === false).map((c) => c.name);
  const summary = passed
    ? `drill of ${record.table} passed: restored in ${record.restoreSeconds ?? '?'} s, ${checks.filter((c) => c.passed).length} check(s) passed`
    : `drill of ${record.table} FAILED${s.error ? `: ${s.error}` : `: ${failedChecks.join(', ')}`}`;
  return { next: 'done', state: { ...s, record } as DrillState, passed, summary };
}

/** The record a finished drill's state carries. */
export function drillRecordOf(state: LongTaskState): DrillRecord | undefined {
  return (state as { record?: DrillRecord }).record;
}
