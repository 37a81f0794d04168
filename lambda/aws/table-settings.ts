import {
  ApplicationAutoScalingClient,
  DescribeScalableTargetsCommand,
  DescribeScalingPoliciesCommand,
  PutScalingPolicyCommand,
  RegisterScalableTargetCommand,
  type PolicyType,
  type ScalableDimension,
  type StepScalingPolicyConfiguration,
  type TargetTrackingScalingPolicyConfiguration,
} from '@aws-sdk/client-application-auto-scaling';
import {
  DescribeContributorInsightsCommand,
  DescribeKinesisStreamingDestinationCommand,
  DescribeTableCommand,
  DescribeTimeToLiveCommand,
  EnableKinesisStreamingDestinationCommand,
  GetResourcePolicyCommand,
  ListTagsOfResourceCommand,
  PutResourcePolicyCommand,
  TagResourceCommand,
  UpdateContributorInsightsCommand,
  UpdateTableCommand,
  UpdateTimeToLiveCommand,
  type ApproximateCreationDateTimePrecision,
  type DynamoDBClient,
  type StreamViewType,
  type TableClass,
  type TableDescription,
} from '@aws-sdk/client-dynamodb';
import { TableNotFoundError, errorMessage } from '../core/errors';
import type { TableFacts } from '../core/ports';
import {
  describeAction,
  planSettings,
  scalingScope,
  type ApplyOptions,
  type IndexSnapshot,
  type ScalableTargetSnapshot,
  type SettingAction,
  type SettingName,
  type SettingResult,
  type TableSettings,
  type TargetFacts,
} from '../core/restore/restore';
import type { Clients } from './clients';
import { instrumentClient, type CallCounter, type RateLimits } from './limits';
import { describePitr, enablePitr } from './pitr';
import { isNotFound, isSettling, isTableGone } from './errors';

export type { TableSettings, SettingResult, ApplyOptions };

/** The clients that read and write a table's settings. */
export interface SettingsClients {
  readonly dynamodb: DynamoDBClient;
  readonly autoscaling: ApplicationAutoScalingClient;
}

/**
 * Adds an Application Auto Scaling client to the service's clients (the shared `Clients` has
 * none): same region and endpoint, counted and rate-limited the same way.
 */
export function settingsClients(
  clients: Pick<Clients, 'dynamodb'>,
  opts: { region?: string; endpoint?: string; counter?: CallCounter; limits?: RateLimits; autoscaling?: ApplicationAutoScalingClient } = {},
): SettingsClients {
  let autoscaling = opts.autoscaling;
  return {
    dynamodb: clients.dynamodb,
    get autoscaling() {
      autoscaling ??= instrumentClient(
        new ApplicationAutoScalingClient({
          region: opts.region ?? process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION ?? 'us-east-1',
          ...(opts.endpoint ? { endpoint: opts.endpoint } : {}),
          retryMode: 'adaptive',
          maxAttempts: 8,
        }),
        opts.limits,
        opts.counter,
      );
      return autoscaling;
    },
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function describeTable(ddb: DynamoDBClient, table: string): Promise<TableDescription> {
  try {
    const out = await ddb.send(new DescribeTableCommand({ TableName: table }));
    return out.Table ?? {};
  } catch (err) {
    if (isTableGone(err)) throw new TableNotFoundError(table, { cause: err });
    throw err;
  }
}

function indexesOf(t: TableDescription): IndexSnapshot[] {
  return (t.GlobalSecondaryIndexes ?? []).map((g) => ({
    name: g.IndexName ?? '',
    keySchema: (g.KeySchema ?? []).map((k) => ({ AttributeName: k.AttributeName ?? '', KeyType: k.KeyType ?? 'HASH' })),
    projection: {
      ...(g.Projection?.ProjectionType ? { ProjectionType: g.Projection.ProjectionType } : {}),
      ...(g.Projection?.NonKeyAttributes?.length ? { NonKeyAttributes: [...g.Projection.NonKeyAttributes] } : {}),
    },
    ...(g.ProvisionedThroughput?.ReadCapacityUnits ? { read: g.ProvisionedThroughput.ReadCapacityUnits } : {}),
    ...(g.ProvisionedThroughput?.WriteCapacityUnits ? { write: g.ProvisionedThroughput.WriteCapacityUnits } : {}),
  }));
}

function billingModeOf(t: TableDescription): string {
  // DynamoDB omits BillingModeSummary for tables that were always provisioned.
  return t.BillingModeSummary?.BillingMode ?? 'PROVISIONED';
}

/** The GSI definitions of a live table (for a GlobalSecondaryIndexOverride). */
export async function describeIndexes(ddb: DynamoDBClient, table: string): Promise<IndexSnapshot[]> {
  return indexesOf(await describeTable(ddb, table));
}

async function listTags(ddb: DynamoDBClient, arn: string): Promise<Record<string, string>> {
  const tags: Record<string, string> = {};
  let token: string | undefined;
  do {
    const out = await ddb.send(new ListTagsOfResourceCommand({ ResourceArn: arn, ...(token ? { NextToken: token } : {}) }));
    for (const t of out.Tags ?? []) if (t.Key) tags[t.Key] = t.Value ?? '';
    token = out.NextToken && out.NextToken !== token ? out.NextToken : undefined;
  } while (token);
  return tags;
}

async function scalingTargets(as: ApplicationAutoScalingClient, table: string, indexes: readonly string[]): Promise<ScalableTargetSnapshot[]> {
  const resourceIds = [`table/${table}`, ...indexes.map((i) => `table/${table}/index/${i}`)];
  const targets: ScalableTargetSnapshot[] = [];
  for (let i = 0; i < resourceIds.length; i += 50) {
    let token: string | undefined;
    do {
      const out = await as.send(
        new DescribeScalableTargetsCommand({ ServiceNamespace: 'dynamodb', ResourceIds: resourceIds.slice(i, i + 50), ...(token ? { NextToken: token } : {}) }),
      );
      for (const t of out.ScalableTargets ?? []) {
        const scope = t.ResourceId ? scalingScope(table, t.ResourceId) : undefined;
        if (!scope || !t.ScalableDimension) continue;
        const policies = [];
        let ptoken: string | undefined;
        do {
          const p = await as.send(
            new DescribeScalingPoliciesCommand({
              ServiceNamespace: 'dynamodb',
              ResourceId: t.ResourceId,
              ScalableDimension: t.ScalableDimension,
              ...(ptoken ? { NextToken: ptoken } : {}),
            }),
          );
          for (const sp of p.ScalingPolicies ?? []) {
            if (!sp.PolicyName || !sp.PolicyType) continue;
            policies.push({
              name: sp.PolicyName,
              type: sp.PolicyType,
              ...(sp.TargetTrackingScalingPolicyConfiguration
                ? { targetTracking: JSON.parse(JSON.stringify(sp.TargetTrackingScalingPolicyConfiguration)) as Record<string, unknown> }
                : {}),
              ...(sp.StepScalingPolicyConfiguration
                ? { stepScaling: JSON.parse(JSON.stringify(sp.StepScalingPolicyConfiguration)) as Record<string, unknown> }
                : {}),
            });
          }
          ptoken = p.NextToken && p.NextToken !== ptoken ? p.NextToken : undefined;
        } while (ptoken);
        targets.push({
          scope,
          dimension: t.ScalableDimension,
          min: t.MinCapacity ?? 1,
          max: t.MaxCapacity ?? 1,
          ...(t.SuspendedState ? { suspended: JSON.parse(JSON.stringify(t.SuspendedState)) as Record<string, boolean> } : {}),
          policies,
        });
      }
      token = out.NextToken && out.NextToken !== token ? out.NextToken : undefined;
    } while (token);
  }
  return targets;
}

/**
 * A JSON-serialisable snapshot of everything a restore drops. Throws TableNotFoundError when the
 * table is gone; a setting that cannot be read (access denied, an API the endpoint lacks) is
 * named in `unreadable` and the others are still captured.
 */
export async function captureSettings(clients: SettingsClients, table: string, now: Date = new Date()): Promise<TableSettings> {
  return (await captureSettingsAndFacts(clients, table, now)).settings;
}

/** captureSettings, plus the table's status, size and item count from the same DescribeTable. */
export async function captureSettingsAndFacts(
  clients: SettingsClients,
  table: string,
  now: Date = new Date(),
): Promise<{ settings: TableSettings; facts: TableFacts }> {
  const ddb = clients.dynamodb;
  const t = await describeTable(ddb, table);
  const described = { table, status: t.TableStatus, sizeBytes: t.TableSizeBytes, itemCount: t.ItemCount };
  const arn = t.TableArn ?? '';
  const indexes = indexesOf(t);
  const unreadable: Partial<Record<SettingName, string>> = {};
  const read = async <T>(name: SettingName, fn: () => Promise<T>): Promise<T | undefined> => {
    try {
      return await fn();
    } catch (err) {
      unreadable[name] = errorMessage(err);
      return undefined;
    }
  };

  const [tags, ttl, pitr, resourcePolicy, contributorInsights, kinesis, autoScaling] = await Promise.all([
    read('tags', () => listTags(ddb, arn)),
    read('ttl', async () => {
      const d = (await ddb.send(new DescribeTimeToLiveCommand({ TableName: table }))).TimeToLiveDescription;
      const on = d?.TimeToLiveStatus === 'ENABLED' || d?.TimeToLiveStatus === 'ENABLING';
      return on && d?.AttributeName ? { attributeName: d.AttributeName } : null;
    }),
    read('pitr', async () => {
      const p = await describePitr(ddb, table);
      return p.enabled ? { ...(p.recoveryPeriodDays ? { recoveryPeriodDays: p.recoveryPeriodDays } : {}) } : null;
    }),
    read('resourcePolicy', async () => {
      try {
        return (await ddb.send(new GetResourcePolicyCommand({ ResourceArn: arn }))).Policy ?? null;
      } catch (err) {
        if (isNotFound(err, 'resource-policy')) return null;
        throw err;
      }
    }),
    read('contributorInsights', async () => {
      const on = (s?: string) => s === 'ENABLED' || s === 'ENABLING';
      const tableOn = on((await ddb.send(new DescribeContributorInsightsCommand({ TableName: table }))).ContributorInsightsStatus);
      const idx: string[] = [];
      for (const i of indexes) {
        const out = await ddb.send(new DescribeContributorInsightsCommand({ TableName: table, IndexName: i.name }));
        if (on(out.ContributorInsightsStatus)) idx.push(i.name);
      }
      return tableOn || idx.length > 0 ? { table: tableOn, indexes: idx } : null;
    }),
    read('kinesis', async () => {
      const out = await ddb.send(new DescribeKinesisStreamingDestinationCommand({ TableName: table }));
      const dests = (out.KinesisDataStreamDestinations ?? [])
        .filter((d) => d.StreamArn && (d.DestinationStatus === 'ACTIVE' || d.DestinationStatus === 'ENABLING'))
        .map((d) => ({
          streamArn: d.StreamArn!,
          ...(d.ApproximateCreationDateTimePrecision ? { precision: d.ApproximateCreationDateTimePrecision } : {}),
        }));
      return dests.length > 0 ? dests : null;
    }),
    read('autoScaling', async () => {
      const targets = await scalingTargets(
        clients.autoscaling,
        table,
        indexes.map((i) => i.name),
      );
      return targets.length > 0 ? targets : null;
    }),
  ]);

  const settings: TableSettings = {
    version: 1,
    table,
    tableArn: arn,
    capturedAt: now.toISOString(),
    billingMode: billingModeOf(t),
    indexes,
    ...(tags !== undefined ? { tags } : {}),
    ...(ttl !== undefined ? { ttl } : {}),
    ...(pitr !== undefined ? { pitr } : {}),
    stream: t.StreamSpecification?.StreamEnabled && t.StreamSpecification.StreamViewType ? { viewType: t.StreamSpecification.StreamViewType } : null,
    tableClass: t.TableClassSummary?.TableClass ?? null,
    deletionProtection: t.DeletionProtectionEnabled ? true : null,
    ...(resourcePolicy !== undefined ? { resourcePolicy } : {}),
    ...(contributorInsights !== undefined ? { contributorInsights } : {}),
    ...(kinesis !== undefined ? { kinesis } : {}),
    ...(autoScaling !== undefined ? { autoScaling } : {}),
    ...(Object.keys(unreadable).length > 0 ? { unreadable } : {}),
  };
  // PITR as read here (undefined when unreadable), so the worker's PITR check need not read it again.
  const facts: TableFacts = pitr === undefined ? described : { ...described, pitr: pitr === null ? { enabled: false } : { enabled: true, ...pitr } };
  return { settings, facts };
}

export interface ApplySettingsOptions extends ApplyOptions {
  /** Poll interval while an UpdateTable completes (default 2 s). */
  readonly pollMs?: number;
  /** How long to wait for the target to be ACTIVE between updates (default 10 min). */
  readonly maxWaitMs?: number;
  /** Progress lines (stderr in the CLI). */
  readonly onProgress?: (line: string) => void;
}

/** Polls DescribeTable until the table is ACTIVE; reports each state change. */
export async function waitForActive(
  ddb: DynamoDBClient,
  table: string,
  opts: { pollMs?: number; maxWaitMs?: number; onState?: (state: string, elapsedMs: number) => void } = {},
): Promise<TableDescription> {
  const started = Date.now();
  const until = started + (opts.maxWaitMs ?? 10 * 60_000);
  let last: string | undefined;
  for (;;) {
    const t = await describeTable(ddb, table);
    const state = t.TableStatus ?? 'UNKNOWN';
    const busy = (t.GlobalSecondaryIndexes ?? []).some((g) => g.IndexStatus && g.IndexStatus !== 'ACTIVE');
    const shown = busy && state === 'ACTIVE' ? 'ACTIVE (indexes still updating)' : state;
    if (shown !== last) {
      opts.onState?.(shown, Date.now() - started);
      last = shown;
    }
    if (state === 'ACTIVE' && !busy) return t;
    if (Date.now() > until) throw new Error(`table ${table} is still ${shown} after ${Math.round((Date.now() - started) / 1000)} s`);
    await sleep(opts.pollMs ?? 2000);
  }
}

function targetFacts(table: string, t: TableDescription): TargetFacts {
  return {
    table,
    tableArn: t.TableArn ?? '',
    billingMode: billingModeOf(t),
    streamEnabled: t.StreamSpecification?.StreamEnabled ?? false,
    streamViewType: t.StreamSpecification?.StreamViewType,
    tableClass: t.TableClassSummary?.TableClass,
    deletionProtection: t.DeletionProtectionEnabled ?? false,
    indexes: (t.GlobalSecondaryIndexes ?? []).map((g) => g.IndexName ?? '').filter(Boolean),
  };
}

/** Retries what DynamoDB refuses while a table or its backups are still settling. */
async function settling<T>(fn: () => Promise<T>, pollMs: number): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      if (attempt >= 6 || !isSettling(err)) throw err;
      await sleep(Math.min(pollMs * attempt, 15_000));
    }
  }
}

async function applyOne(clients: SettingsClients, target: string, tableArn: string, a: SettingAction, opts: ApplySettingsOptions): Promise<void> {
  const ddb = clients.dynamodb;
  const pollMs = opts.pollMs ?? 2000;
  const update = async (input: Omit<ConstructorParameters<typeof UpdateTableCommand>[0], 'TableName'>) => {
    await settling(() => ddb.send(new UpdateTableCommand({ TableName: target, ...input })), pollMs);
    await waitForActive(ddb, target, { pollMs, maxWaitMs: opts.maxWaitMs });
  };
  switch (a.setting) {
    case 'tags': {
      const entries = Object.entries(a.tags).map(([Key, Value]) => ({ Key, Value }));
      for (let i = 0; i < entries.length; i += 50) {
        await ddb.send(new TagResourceCommand({ ResourceArn: tableArn, Tags: entries.slice(i, i + 50) }));
      }
      return;
    }
    case 'ttl':
      await ddb.send(new UpdateTimeToLiveCommand({ TableName: target, TimeToLiveSpecification: { Enabled: true, AttributeName: a.attributeName } }));
      return;
    case 'pitr':
      await settling(() => enablePitr(ddb, target, a.recoveryPeriodDays), pollMs);
      return;
    case 'stream':
      await update({ StreamSpecification: { StreamEnabled: true, StreamViewType: a.viewType as StreamViewType } });
      return;
    case 'tableClass':
      await update({ TableClass: a.tableClass as TableClass });
      return;
    case 'deletionProtection':
      await update({ DeletionProtectionEnabled: true });
      return;
    case 'resourcePolicy':
      await ddb.send(new PutResourcePolicyCommand({ ResourceArn: tableArn, Policy: a.policy }));
      return;
    case 'contributorInsights':
      if (a.table) await ddb.send(new UpdateContributorInsightsCommand({ TableName: target, ContributorInsightsAction: 'ENABLE' }));
      for (const i of a.indexes) {
        await ddb.send(new UpdateContributorInsightsCommand({ TableName: target, IndexName: i, ContributorInsightsAction: 'ENABLE' }));
      }
      return;
    case 'kinesis':
      for (const d of a.destinations) {
        await settling(
          () =>
            ddb.send(
              new EnableKinesisStreamingDestinationCommand({
                TableName: target,
                StreamArn: d.streamArn,
                ...(d.precision
                  ? { EnableKinesisStreamingConfiguration: { ApproximateCreationDateTimePrecision: d.precision as ApproximateCreationDateTimePrecision } }
                  : {}),
              }),
            ),
          pollMs,
        );
      }
      return;
    case 'autoScaling': {
      const as = clients.autoscaling;
      for (const t of a.targets) {
        await as.send(
          new RegisterScalableTargetCommand({
            ServiceNamespace: 'dynamodb',
            ResourceId: t.resourceId,
            ScalableDimension: t.dimension as ScalableDimension,
            MinCapacity: t.min,
            MaxCapacity: t.max,
            ...(t.suspended ? { SuspendedState: t.suspended } : {}),
          }),
        );
        for (const p of t.policies) {
          await as.send(
            new PutScalingPolicyCommand({
              ServiceNamespace: 'dynamodb',
              ResourceId: t.resourceId,
              ScalableDimension: t.dimension as ScalableDimension,
              PolicyName: p.name,
              PolicyType: p.type as PolicyType,
              ...(p.targetTracking ? { TargetTrackingScalingPolicyConfiguration: p.targetTracking as unknown as TargetTrackingScalingPolicyConfiguration } : {}),
              ...(p.stepScaling ? { StepScalingPolicyConfiguration: p.stepScaling as unknown as StepScalingPolicyConfiguration } : {}),
            }),
          );
        }
      }
      return;
    }
  }
}

/**
 * Re-applies `settings` to the target table, one setting at a time. Each is reported applied,
 * skipped (with why) or failed (with the error); one failure never stops the others. Waits for
 * the target to be ACTIVE first, and again after every UpdateTable. Never deletes anything and
 * never turns a setting off.
 */
export async function applySettings(
  clients: SettingsClients,
  target: string,
  settings: TableSettings,
  opts: ApplySettingsOptions,
): Promise<SettingResult[]> {
  const t = await waitForActive(clients.dynamodb, target, { pollMs: opts.pollMs, maxWaitMs: opts.maxWaitMs });
  const facts = targetFacts(target, t);
  const plan = planSettings(settings, facts, opts);
  const results: SettingResult[] = [...plan.skipped];
  for (const action of plan.apply) {
    const detail = describeAction(action);
    try {
      await applyOne(clients, target, facts.tableArn, action, opts);
      results.push({ setting: action.setting, outcome: 'applied', detail });
      opts.onProgress?.(`applied ${action.setting}: ${detail}`);
    } catch (err) {
      results.push({ setting: action.setting, outcome: 'failed', detail: errorMessage(err) });
      opts.onProgress?.(`FAILED ${action.setting}: ${errorMessage(err)}`);
    }
  }
  return results;
}
