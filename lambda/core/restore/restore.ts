/**
 * Restore fidelity, the pure part: what a table's settings are (a JSON-serialisable snapshot),
 * which of them a restore must re-apply, how the tags and the resource policy are rewritten for
 * the target, and the report. No SDK imports: lambda/aws/table-settings.ts reads and writes.
 *
 * DynamoDB's RestoreTableFromBackup / RestoreTableToPointInTime restore the data, the key schema,
 * the indexes, the billing mode and the encryption, but drop: tags, TTL, the stream, PITR,
 * deletion protection, auto scaling, contributor insights, the resource policy, Kinesis streaming
 * destinations (and, for some restores, the table class). These are the settings below.
 */

/** Every setting a restore re-applies, in the order they are applied. */
export const SETTING_NAMES = [
  'tags',
  'ttl',
  'pitr',
  'stream',
  'tableClass',
  'deletionProtection',
  'resourcePolicy',
  'contributorInsights',
  'kinesis',
  'autoScaling',
] as const;
export type SettingName = (typeof SETTING_NAMES)[number];

export interface ScalingPolicySnapshot {
  readonly name: string;
  readonly type: string;
  /** TargetTrackingScalingPolicyConfiguration, as returned (JSON). */
  readonly targetTracking?: Record<string, unknown>;
  /** StepScalingPolicyConfiguration, as returned (JSON). */
  readonly stepScaling?: Record<string, unknown>;
}

export interface ScalableTargetSnapshot {
  /** Relative to the table: `table` or `index/<name>`. */
  readonly scope: string;
  /** `dynamodb:table:ReadCapacityUnits`, `dynamodb:index:WriteCapacityUnits`, ... */
  readonly dimension: string;
  readonly min: number;
  readonly max: number;
  readonly suspended?: Record<string, boolean>;
  readonly policies: readonly ScalingPolicySnapshot[];
}

export interface IndexSnapshot {
  readonly name: string;
  readonly keySchema: readonly { AttributeName: string; KeyType: string }[];
  readonly projection: { ProjectionType?: string; NonKeyAttributes?: string[] };
  readonly read?: number;
  readonly write?: number;
}

/**
 * A table's settings. For every field: `null` means the source had none (or had it off);
 * a setting that could not be read is absent and named in `unreadable` with the error.
 */
export interface TableSettings {
  readonly version: 1;
  readonly table: string;
  readonly tableArn: string;
  readonly capturedAt: string;
  readonly billingMode?: string;
  readonly indexes?: readonly IndexSnapshot[];
  readonly tags?: Readonly<Record<string, string>>;
  readonly ttl?: { readonly attributeName: string } | null;
  readonly pitr?: { readonly recoveryPeriodDays?: number } | null;
  readonly stream?: { readonly viewType: string } | null;
  readonly tableClass?: string | null;
  readonly deletionProtection?: boolean | null;
  readonly resourcePolicy?: string | null;
  readonly contributorInsights?: { readonly table: boolean; readonly indexes: readonly string[] } | null;
  readonly kinesis?: readonly { readonly streamArn: string; readonly precision?: string }[] | null;
  readonly autoScaling?: readonly ScalableTargetSnapshot[] | null;
  readonly unreadable?: Partial<Record<SettingName, string>>;
}

/** What the target looks like now (DescribeTable), to skip what already matches. */
export interface TargetFacts {
  readonly table: string;
  readonly tableArn: string;
  readonly billingMode?: string;
  readonly streamEnabled?: boolean;
  readonly streamViewType?: string;
  readonly tableClass?: string;
  readonly deletionProtection?: boolean;
  readonly indexes: readonly string[];
}

export interface ApplyOptions {
  /** Opt-in tag key: dropped from the target's tags unless keepPolicyTag. */
  readonly tagKey: string;
  /** Keep the opt-in tag, so the restored table is backed up by the same policies. */
  readonly keepPolicyTag?: boolean;
  /** Only these settings (default: every one). */
  readonly only?: readonly SettingName[];
}

export type SettingOutcome = 'applied' | 'skipped' | 'failed';

export interface SettingResult {
  readonly setting: SettingName;
  readonly outcome: SettingOutcome;
  /** What was applied, or why it was skipped or failed. */
  readonly detail: string;
}

/** One setting to apply, with what to send. */
export type SettingAction =
  | { readonly setting: 'tags'; readonly tags: Record<string, string> }
  | { readonly setting: 'ttl'; readonly attributeName: string }
  | { readonly setting: 'pitr'; readonly recoveryPeriodDays?: number }
  | { readonly setting: 'stream'; readonly viewType: string }
  | { readonly setting: 'tableClass'; readonly tableClass: string }
  | { readonly setting: 'deletionProtection' }
  | { readonly setting: 'resourcePolicy'; readonly policy: string }
  | { readonly setting: 'contributorInsights'; readonly table: boolean; readonly indexes: string[] }
  | { readonly setting: 'kinesis'; readonly destinations: { streamArn: string; precision?: string }[] }
  | { readonly setting: 'autoScaling'; readonly targets: (ScalableTargetSnapshot & { resourceId: string })[] };

export interface SettingsPlan {
  readonly apply: readonly SettingAction[];
  readonly skipped: readonly SettingResult[];
}

const NONE = 'source had none';

/** Tags for the target: the opt-in tag is dropped unless kept; `aws:` tags cannot be set. */
export function filterTags(tags: Readonly<Record<string, string>>, tagKey: string, keepPolicyTag = false): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(tags)) {
    if (k.startsWith('aws:')) continue;
    if (k === tagKey && !keepPolicyTag) continue;
    out[k] = v;
  }
  return out;
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * Rewrites a resource policy for the target: every occurrence of the source table's ARN (alone,
 * or followed by `/index/...`, `/stream/...`, `/*`) becomes the target's ARN. An ARN that merely
 * starts with the source's (`table/orders-archive` for `table/orders`) is left alone.
 */
export function rewriteResourcePolicy(policy: string, sourceArn: string, targetArn: string): string {
  const re = new RegExp(`${escapeRegExp(sourceArn)}(?=$|["/*,\\s\\]])`, 'g');
  return policy.replace(re, targetArn);
}

/** `table/<t>` or `table/<t>/index/<i>` from a scope relative to the table. */
export function scalingResourceId(table: string, scope: string): string {
  return scope === 'table' ? `table/${table}` : `table/${table}/${scope}`;
}

/** The scope (`table`, `index/<name>`) of an auto scaling resource id of `table`, or undefined. */
export function scalingScope(table: string, resourceId: string): string | undefined {
  if (resourceId === `table/${table}`) return 'table';
  const prefix = `table/${table}/`;
  return resourceId.startsWith(prefix) ? resourceId.slice(prefix.length) : undefined;
}

/**
 * Decides what to re-apply to the target: one action per setting the source had, and a
 * `skipped` result (with the reason) for each setting it had not, could not be read, or that the
 * target already has.
 */
export function planSettings(settings: TableSettings, target: TargetFacts, opts: ApplyOptions): SettingsPlan {
  const apply: SettingAction[] = [];
  const skipped: SettingResult[] = [];
  const skip = (setting: SettingName, detail: string) => skipped.push({ setting, outcome: 'skipped', detail });
  const wanted = new Set<SettingName>(opts.only ?? SETTING_NAMES);

  for (const name of SETTING_NAMES) {
    if (!wanted.has(name)) {
      skip(name, 'not requested');
      continue;
    }
    const unreadable = settings.unreadable?.[name];
    if (unreadable !== undefined) {
      skip(name, `could not be read from the source: ${unreadable}`);
      continue;
    }
    if (settings[name] === undefined) {
      skip(name, 'not in the settings snapshot');
      continue;
    }
    switch (name) {
      case 'tags': {
        const tags = filterTags(settings.tags ?? {}, opts.tagKey, opts.keepPolicyTag);
        if (Object.keys(tags).length === 0) {
          const dropped = settings.tags && settings.tags[opts.tagKey] !== undefined && !opts.keepPolicyTag;
          skip(name, dropped ? `source had only the policy tag ${opts.tagKey} (dropped; --keep-policy-tag keeps it)` : NONE);
        } else apply.push({ setting: 'tags', tags });
        break;
      }
      case 'ttl':
        if (settings.ttl) apply.push({ setting: 'ttl', attributeName: settings.ttl.attributeName });
        else skip(name, NONE);
        break;
      case 'pitr':
        if (settings.pitr) apply.push({ setting: 'pitr', recoveryPeriodDays: settings.pitr.recoveryPeriodDays });
        else skip(name, 'source had it off');
        break;
      case 'stream':
        if (!settings.stream) skip(name, NONE);
        else if (target.streamEnabled && target.streamViewType === settings.stream.viewType) skip(name, 'target already has it');
        else apply.push({ setting: 'stream', viewType: settings.stream.viewType });
        break;
      case 'tableClass': {
        const want = settings.tableClass ?? 'STANDARD';
        const have = target.tableClass ?? 'STANDARD';
        if (want === have) skip(name, `target already is ${have}`);
        else apply.push({ setting: 'tableClass', tableClass: want });
        break;
      }
      case 'deletionProtection':
        if (!settings.deletionProtection) skip(name, 'source had it off');
        else if (target.deletionProtection) skip(name, 'target already has it');
        else apply.push({ setting: 'deletionProtection' });
        break;
      case 'resourcePolicy':
        if (!settings.resourcePolicy) skip(name, NONE);
        else apply.push({ setting: 'resourcePolicy', policy: rewriteResourcePolicy(settings.resourcePolicy, settings.tableArn, target.tableArn) });
        break;
      case 'contributorInsights': {
        const ci = settings.contributorInsights;
        const indexes = (ci?.indexes ?? []).filter((i) => target.indexes.includes(i));
        if (!ci || (!ci.table && indexes.length === 0)) skip(name, NONE);
        else apply.push({ setting: 'contributorInsights', table: ci.table, indexes });
        break;
      }
      case 'kinesis':
        if (!settings.kinesis || settings.kinesis.length === 0) skip(name, NONE);
        else apply.push({ setting: 'kinesis', destinations: settings.kinesis.map((k) => ({ ...k })) });
        break;
      case 'autoScaling': {
        if (!settings.autoScaling || settings.autoScaling.length === 0) {
          skip(name, NONE);
          break;
        }
        if (target.billingMode === 'PAY_PER_REQUEST') {
          skip(name, 'target is on-demand (PAY_PER_REQUEST): auto scaling does not apply');
          break;
        }
        // Indexes excluded from the restore (or otherwise absent) have nothing to scale.
        const targets = settings.autoScaling
          .filter((t) => t.scope === 'table' || target.indexes.includes(t.scope.replace(/^index\//, '')))
          .map((t) => ({ ...t, resourceId: scalingResourceId(target.table, t.scope) }));
        if (targets.length === 0) skip(name, 'none of the scaled indexes exist on the target');
        else apply.push({ setting: 'autoScaling', targets });
        break;
      }
    }
  }
  return { apply, skipped };
}

/** One line per action, for the report. */
export function describeAction(a: SettingAction): string {
  switch (a.setting) {
    case 'tags':
      return `${Object.keys(a.tags).length} tag(s): ${Object.keys(a.tags).sort().join(', ')}`;
    case 'ttl':
      return `TTL on attribute "${a.attributeName}"`;
    case 'pitr':
      return `PITR on${a.recoveryPeriodDays ? `, ${a.recoveryPeriodDays} day(s)` : ''}`;
    case 'stream':
      return `stream ${a.viewType}`;
    case 'tableClass':
      return `table class ${a.tableClass}`;
    case 'deletionProtection':
      return 'deletion protection on';
    case 'resourcePolicy':
      return 'resource policy (source ARN rewritten to the target)';
    case 'contributorInsights':
      return `contributor insights on ${[a.table ? 'table' : '', ...a.indexes.map((i) => `index ${i}`)].filter(Boolean).join(', ')}`;
    case 'kinesis':
      return `Kinesis destination(s): ${a.destinations.map((d) => d.streamArn).join(', ')}`;
    case 'autoScaling':
      return `${a.targets.length} scalable target(s), ${a.targets.reduce((n, t) => n + t.policies.length, 0)} policy(ies)`;
  }
}

export interface SettingsReport {
  readonly applied: number;
  readonly skipped: number;
  readonly failed: number;
  readonly results: readonly SettingResult[];
}

/** Results in SETTING_NAMES order, with counts. */
export function settingsReport(results: readonly SettingResult[]): SettingsReport {
  const order = (s: SettingName) => SETTING_NAMES.indexOf(s);
  const sorted = [...results].sort((a, b) => order(a.setting) - order(b.setting));
  const n = (o: SettingOutcome) => sorted.filter((r) => r.outcome === o).length;
  return { applied: n('applied'), skipped: n('skipped'), failed: n('failed'), results: sorted };
}

// ---- the restore request ----

export type RestoreSource =
  | { readonly kind: 'latest' }
  | { readonly kind: 'backup'; readonly backupArn: string }
  | { readonly kind: 'point-in-time'; readonly time: Date }
  | { readonly kind: 'latest-restorable' };

export interface RestoreOverrides {
  readonly billingMode?: 'PAY_PER_REQUEST' | 'PROVISIONED';
  readonly read?: number;
  readonly write?: number;
  readonly sse?: { readonly type: 'DEFAULT' | 'KMS'; readonly kmsKey?: string };
  /** GSIs to leave out of the restored table. */
  readonly excludeIndexes?: readonly string[];
}

/**
 * The GlobalSecondaryIndexOverride that leaves out `exclude`: the full list of the indexes to
 * keep (DynamoDB restores exactly the listed ones), with capacity when the target is
 * PROVISIONED. Throws when an excluded index does not exist, so a typo never restores every
 * index silently.
 */
export function gsiOverride(
  indexes: readonly IndexSnapshot[],
  exclude: readonly string[],
  billingMode: string | undefined,
  capacity?: { read?: number; write?: number },
): { IndexName: string; KeySchema: { AttributeName: string; KeyType: string }[]; Projection: IndexSnapshot['projection']; ProvisionedThroughput?: { ReadCapacityUnits: number; WriteCapacityUnits: number } }[] {
  const names = new Set(indexes.map((i) => i.name));
  const unknown = exclude.filter((e) => !names.has(e));
  if (unknown.length > 0) {
    throw new Error(`no global secondary index named ${unknown.map((u) => `"${u}"`).join(', ')} (the source has: ${[...names].join(', ') || 'none'})`);
  }
  const provisioned = billingMode === 'PROVISIONED';
  return indexes
    .filter((i) => !exclude.includes(i.name))
    .map((i) => ({
      IndexName: i.name,
      KeySchema: i.keySchema.map((k) => ({ ...k })),
      Projection: { ...i.projection },
      ...(provisioned
        ? {
            ProvisionedThroughput: {
              ReadCapacityUnits: capacity?.read ?? (i.read || 5),
              WriteCapacityUnits: capacity?.write ?? (i.write || 5),
            },
          }
        : {}),
    }));
}

/** Validates the override flags together; returns the first problem, or undefined. */
export function overrideProblem(o: RestoreOverrides): string | undefined {
  if ((o.read !== undefined || o.write !== undefined) && o.billingMode !== 'PROVISIONED') {
    return '--read/--write need --billing-mode PROVISIONED';
  }
  if (o.billingMode === 'PROVISIONED' && (o.read === undefined || o.write === undefined)) {
    return '--billing-mode PROVISIONED needs --read and --write';
  }
  if (o.sse?.kmsKey && o.sse.type !== 'KMS') return '--kms-key needs --sse KMS';
  return undefined;
}
