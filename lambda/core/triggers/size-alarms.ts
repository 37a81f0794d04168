import { createHash } from 'node:crypto';
import { POLICY_NAME_PATTERN, type Policy } from '../policy';
import {
  DIMENSION_POLICY,
  DIMENSION_TABLE,
  growthDimensions,
  staticThresholdFor,
  thresholdFor,
  type SizeMetricName,
  type SizeThreshold,
} from './size';

/**
 * The size alarms as desired state: one CloudWatch alarm per (table, policy) whose policy has a
 * `size` trigger, named `<prefix><policy>.<table>`, and the diff against what exists. Pure.
 *
 * The separator is a dot because policy names cannot hold one ([A-Za-z0-9_-]) while table names
 * can hold dashes: `<policy>.<table>` always parses back. CloudWatch alarm names are at most 255
 * characters; a longer name keeps its start and ends with `~` and a hash of the full name (`~` is
 * not allowed in table names, so a shortened name never parses as a full one). Alarms are told
 * apart by name; the table and policy travel in the alarm's dimensions too, which the planner
 * reads first.
 */

export const MAX_ALARM_NAME = 255;
export const ALARM_PERIOD_SECONDS = 3600;
export const ALARM_EVALUATION_PERIODS = 1;
export const ALARM_COMPARISON = 'GreaterThanOrEqualToThreshold';
export const ALARM_TREAT_MISSING_DATA = 'notBreaching';
export const ALARM_STATISTIC = 'Maximum';

/** A DynamoDB table name. */
export const TABLE_NAME_PATTERN = /^[A-Za-z0-9_.-]{3,255}$/;

/** A prefix the service may own: 1-64 characters allowed in alarm names and IAM ARNs. */
export const ALARM_PREFIX_PATTERN = /^[A-Za-z0-9_.-]{1,64}$/;

export function assertAlarmPrefix(prefix: string): void {
  if (!ALARM_PREFIX_PATTERN.test(prefix)) throw new Error(`size alarm prefix must match ${ALARM_PREFIX_PATTERN.source}, got "${prefix}"`);
}

export function sizeAlarmName(prefix: string, policy: string, table: string): string {
  const full = `${prefix}${policy}.${table}`;
  if (full.length <= MAX_ALARM_NAME) return full;
  const hash = createHash('sha256').update(full).digest('hex').slice(0, 12);
  return `${full.slice(0, MAX_ALARM_NAME - hash.length - 1)}~${hash}`;
}

/** Table and policy of a full (not shortened) alarm name of this prefix; undefined otherwise. */
export function parseSizeAlarmName(prefix: string, name: string): { policy: string; table: string } | undefined {
  if (!name.startsWith(prefix) || name.includes('~')) return undefined;
  const rest = name.slice(prefix.length);
  const dot = rest.indexOf('.');
  if (dot <= 0) return undefined;
  const policy = rest.slice(0, dot);
  const table = rest.slice(dot + 1);
  if (!POLICY_NAME_PATTERN.test(policy) || !TABLE_NAME_PATTERN.test(table)) return undefined;
  return { policy, table };
}

/** A size alarm as the service defines it. */
export interface SizeAlarmSpec {
  readonly name: string;
  readonly table: string;
  readonly policy: string;
  readonly namespace: string;
  readonly metric: SizeMetricName;
  readonly dimensions: Readonly<Record<string, string>>;
  readonly threshold: number;
  readonly description: string;
}

/** An existing alarm of the prefix, as DescribeAlarms reports it (the fields that can drift). */
export interface ExistingAlarm {
  readonly name: string;
  readonly namespace?: string;
  readonly metric?: string;
  readonly dimensions?: Readonly<Record<string, string>>;
  readonly threshold?: number;
  readonly comparison?: string;
  readonly period?: number;
  readonly evaluationPeriods?: number;
  readonly datapointsToAlarm?: number;
  readonly statistic?: string;
  readonly treatMissingData?: string;
}

/**
 * Who keeps an alarm: the run-time reconciler (tagged tables), or CloudFormation for the tables
 * named in the CDK config (`sizeAlarmTables`), which the reconciler leaves alone.
 */
export type SizeAlarmOwner = 'reconciler' | 'cdk';

export function sizeAlarmSpec(
  prefix: string,
  namespace: string,
  table: string,
  policy: string,
  t: SizeThreshold,
  owner: SizeAlarmOwner = 'reconciler',
): SizeAlarmSpec {
  return {
    name: sizeAlarmName(prefix, policy, table),
    table,
    policy,
    namespace,
    metric: t.metric,
    dimensions: growthDimensions(table, policy),
    threshold: t.threshold,
    description: `DynamoDB backup service: size trigger of policy "${policy}" on table "${table}" (${t.source}). ${
      owner === 'cdk' ? 'Managed by CloudFormation (sizeAlarmTables); the size reconciler leaves it alone.' : 'Managed by the size reconciler; edits are overwritten.'
    }`,
  };
}

/**
 * The whole alarm definition of a spec, in the field names that PutMetricAlarm and
 * CloudFormation's AWS::CloudWatch::Alarm share: the reconciler sends it, CDK templates it.
 * No actions: EventBridge receives every state change of every alarm on its own.
 */
export interface SizeAlarmDefinition {
  readonly AlarmName: string;
  readonly AlarmDescription: string;
  readonly Namespace: string;
  readonly MetricName: SizeMetricName;
  readonly Dimensions: { Name: string; Value: string }[];
  readonly Statistic: typeof ALARM_STATISTIC;
  readonly Period: number;
  readonly EvaluationPeriods: number;
  readonly DatapointsToAlarm: number;
  readonly Threshold: number;
  readonly ComparisonOperator: typeof ALARM_COMPARISON;
  readonly TreatMissingData: typeof ALARM_TREAT_MISSING_DATA;
  readonly ActionsEnabled: false;
}

export function alarmDefinition(spec: SizeAlarmSpec): SizeAlarmDefinition {
  return {
    AlarmName: spec.name,
    AlarmDescription: spec.description.slice(0, 1024),
    Namespace: spec.namespace,
    MetricName: spec.metric,
    Dimensions: Object.entries(spec.dimensions).map(([Name, Value]) => ({ Name, Value })),
    Statistic: ALARM_STATISTIC,
    Period: ALARM_PERIOD_SECONDS,
    EvaluationPeriods: ALARM_EVALUATION_PERIODS,
    DatapointsToAlarm: ALARM_EVALUATION_PERIODS,
    Threshold: spec.threshold,
    ComparisonOperator: ALARM_COMPARISON,
    TreatMissingData: ALARM_TREAT_MISSING_DATA,
    ActionsEnabled: false,
  };
}

export interface DesiredSizeAlarmInput {
  readonly prefix: string;
  readonly namespace: string;
  readonly table: string;
  /** Name of the policy. */
  readonly policy: string;
  /** The policy document (override applied, at run time). */
  readonly effective: Pick<Policy, 'size'>;
  /** Size at the last backup of (table, policy); read by the reconciler only. */
  readonly baselineBytes?: number;
  /** @default 'reconciler' */
  readonly owner?: SizeAlarmOwner;
}

/**
 * The alarm (table, policy) should have; undefined when the policy has no size trigger. The
 * reconciler and the CDK construct both build their alarms with it. The reconciler's threshold
 * follows the baseline (`thresholdFor`); CDK's has none at synth (`staticThresholdFor`:
 * growthBytes if set, else growthPercent).
 */
export function desiredSizeAlarm(input: DesiredSizeAlarmInput): SizeAlarmSpec | undefined {
  const owner = input.owner ?? 'reconciler';
  const t = owner === 'cdk' ? staticThresholdFor(input.effective) : thresholdFor(input.effective, input.baselineBytes);
  return t && sizeAlarmSpec(input.prefix, input.namespace, input.table, input.policy, t, owner);
}

/** A (table, policy) whose alarm CDK owns. */
export interface StaticSizeAlarm {
  readonly table: string;
  readonly policy: string;
}

/**
 * The value of SIZE_ENV.STATIC_ALARMS: comma-separated `<policy>.<table>` (neither holds a comma;
 * policy names hold no dot). Lambda environments total at most 4 KB, so keep the list short.
 */
export function formatStaticAlarms(alarms: readonly StaticSizeAlarm[]): string {
  return [...new Set(alarms.map((a) => `${a.policy}.${a.table}`))].sort().join(',');
}

export function parseStaticAlarms(value: string | undefined): StaticSizeAlarm[] {
  const out: StaticSizeAlarm[] = [];
  for (const raw of (value ?? '').split(',')) {
    const entry = raw.trim();
    if (entry === '') continue;
    const dot = entry.indexOf('.');
    const policy = entry.slice(0, Math.max(0, dot));
    const table = entry.slice(dot + 1);
    if (dot <= 0 || !POLICY_NAME_PATTERN.test(policy) || !TABLE_NAME_PATTERN.test(table)) {
      throw new Error(`static size alarm "${entry}" is not <policy>.<table>`);
    }
    out.push({ table, policy });
  }
  return out;
}

function sameDimensions(a: Readonly<Record<string, string>> | undefined, b: Readonly<Record<string, string>>): boolean {
  const ak = Object.keys(a ?? {}).sort();
  const bk = Object.keys(b).sort();
  return ak.length === bk.length && ak.every((k, i) => k === bk[i] && a![k] === b[k]);
}

/** Why an existing alarm differs from the spec (empty when it matches). */
export function driftOf(existing: ExistingAlarm, spec: SizeAlarmSpec): string[] {
  const out: string[] = [];
  if (existing.namespace !== spec.namespace) out.push(`namespace ${existing.namespace} -> ${spec.namespace}`);
  if (existing.metric !== spec.metric) out.push(`metric ${existing.metric} -> ${spec.metric}`);
  if (!sameDimensions(existing.dimensions, spec.dimensions)) out.push('dimensions');
  if (existing.threshold !== spec.threshold) out.push(`threshold ${existing.threshold} -> ${spec.threshold}`);
  if (existing.comparison !== ALARM_COMPARISON) out.push(`comparison ${existing.comparison}`);
  if (existing.period !== ALARM_PERIOD_SECONDS) out.push(`period ${existing.period}`);
  if (existing.evaluationPeriods !== ALARM_EVALUATION_PERIODS) out.push(`evaluationPeriods ${existing.evaluationPeriods}`);
  if ((existing.datapointsToAlarm ?? existing.evaluationPeriods) !== ALARM_EVALUATION_PERIODS) out.push(`datapointsToAlarm ${existing.datapointsToAlarm}`);
  if (existing.statistic !== ALARM_STATISTIC) out.push(`statistic ${existing.statistic}`);
  if (existing.treatMissingData !== ALARM_TREAT_MISSING_DATA) out.push(`treatMissingData ${existing.treatMissingData}`);
  return out;
}

export interface AlarmDiff {
  readonly create: SizeAlarmSpec[];
  readonly update: { spec: SizeAlarmSpec; drift: string[] }[];
  /** Names of the prefix's alarms that no (table, policy) wants any more. */
  readonly delete: string[];
  readonly unchanged: number;
}

/**
 * The changes that make the alarms of the prefix match `desired`. Names in `keep` are left alone
 * whatever they look like: their (table, policy) could not be resolved this run (an invalid policy
 * or override), and an unknown answer must not delete anything. Names in `skip` are not the
 * reconciler's at all (CDK owns them, `sizeAlarmTables`): never created, updated or deleted.
 */
export function diffAlarms(
  desired: readonly SizeAlarmSpec[],
  existing: readonly ExistingAlarm[],
  keep: ReadonlySet<string> = new Set(),
  skip: ReadonlySet<string> = new Set(),
): AlarmDiff {
  const byName = new Map(existing.filter((e) => !skip.has(e.name)).map((e) => [e.name, e]));
  const wanted = new Map<string, SizeAlarmSpec>();
  for (const d of desired) if (!skip.has(d.name)) wanted.set(d.name, d);
  const create: SizeAlarmSpec[] = [];
  const update: AlarmDiff['update'] = [];
  let unchanged = 0;
  for (const spec of wanted.values()) {
    const e = byName.get(spec.name);
    if (!e) {
      create.push(spec);
      continue;
    }
    const drift = driftOf(e, spec);
    if (drift.length > 0) update.push({ spec, drift });
    else unchanged++;
  }
  const del = [...byName.keys()].filter((n) => !wanted.has(n) && !keep.has(n)).sort();
  return { create, update, delete: del, unchanged };
}

// ---- the alarm's state-change event (EventBridge) -------------------------------------------------

export const ALARM_STATE_CHANGE = 'CloudWatch Alarm State Change';

export interface SizeAlarmFired {
  readonly alarmName: string;
  readonly table: string;
  readonly policy: string;
  /** When the alarm went into ALARM (ISO-8601 UTC): the job's idempotency slot. */
  readonly time: string;
}

export type AlarmEventReading =
  | { readonly kind: 'not-an-alarm-event' }
  | { readonly kind: 'ignored'; readonly reason: string }
  | ({ readonly kind: 'fired' } & SizeAlarmFired);

/** CloudWatch writes `2026-11-24T03:00:00.123+0000`; make every form parse the same way. */
function isoTime(value: unknown): string | undefined {
  if (typeof value !== 'string' || value === '') return undefined;
  const normalised = value.replace(/([+-]\d{2})(\d{2})$/, '$1:$2');
  const ms = Date.parse(normalised);
  return Number.isNaN(ms) ? undefined : new Date(ms).toISOString();
}

interface AlarmEventShape {
  source?: unknown;
  'detail-type'?: unknown;
  time?: unknown;
  detail?: {
    alarmName?: unknown;
    state?: { value?: unknown; timestamp?: unknown };
    configuration?: { metrics?: { metricStat?: { metric?: { dimensions?: Record<string, unknown> } } }[] };
  };
}

/**
 * Reads an EventBridge `CloudWatch Alarm State Change` event. Only a transition into ALARM of an
 * alarm with the service's prefix fires; table and policy come from the alarm's dimensions, or
 * else from its name. The slot time is the state change's own timestamp (the event's time as a
 * fallback), so the same transition delivered twice is the same job.
 */
export function readAlarmEvent(event: unknown, prefix: string): AlarmEventReading {
  const e = event as AlarmEventShape | null;
  if (!e || typeof e !== 'object' || e['detail-type'] !== ALARM_STATE_CHANGE) return { kind: 'not-an-alarm-event' };
  if (e.source !== undefined && e.source !== 'aws.cloudwatch') return { kind: 'ignored', reason: `source ${String(e.source)}` };
  const name = e.detail?.alarmName;
  if (typeof name !== 'string' || !name.startsWith(prefix)) {
    return { kind: 'ignored', reason: `alarm ${String(name)} is not a size alarm of prefix ${prefix}` };
  }
  const state = e.detail?.state?.value;
  if (state !== 'ALARM') return { kind: 'ignored', reason: `alarm ${name} went to ${String(state)}, not ALARM` };
  const time = isoTime(e.detail?.state?.timestamp) ?? isoTime(e.time);
  if (!time) return { kind: 'ignored', reason: `alarm ${name}: event has no valid state timestamp or time` };

  let table: string | undefined;
  let policy: string | undefined;
  for (const m of e.detail?.configuration?.metrics ?? []) {
    const dims = m?.metricStat?.metric?.dimensions ?? {};
    if (typeof dims[DIMENSION_TABLE] === 'string' && typeof dims[DIMENSION_POLICY] === 'string') {
      table = dims[DIMENSION_TABLE] as string;
      policy = dims[DIMENSION_POLICY] as string;
      break;
    }
  }
  if (!table || !policy) {
    const parsed = parseSizeAlarmName(prefix, name);
    table = parsed?.table;
    policy = parsed?.policy;
  }
  if (!table || !policy || !POLICY_NAME_PATTERN.test(policy)) {
    return { kind: 'ignored', reason: `alarm ${name}: cannot tell its table and policy (no dimensions, name does not parse)` };
  }
  // The dimensions must belong to this alarm's name: a hand-made alarm with the prefix cannot
  // aim a backup at another table.
  if (sizeAlarmName(prefix, policy, table) !== name) {
    return { kind: 'ignored', reason: `alarm ${name}: dimensions ${table}/${policy} do not match the name` };
  }
  return { kind: 'fired', alarmName: name, table, policy, time };
}

/** Slot of a size job: the time the alarm went into ALARM. */
export function sizeSlot(time: string): string {
  return `size:${new Date(time).toISOString()}`;
}
