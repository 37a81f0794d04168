/**
 * The size probe and alarm reconciler over the real adapters (tagging, SSM policy store, ledger,
 * DescribeTable, CloudWatch alarms and metrics), with every SDK client mocked by
 * aws-sdk-client-mock. Clients point at a closed local port: an unmocked call fails fast.
 */
import {
  DeleteAlarmsCommand,
  DescribeAlarmsCommand,
  PutMetricAlarmCommand,
  PutMetricDataCommand,
  CloudWatchClient,
  type DescribeAlarmsCommandInput,
  type MetricAlarm,
  type PutMetricDataCommandInput,
} from '@aws-sdk/client-cloudwatch';
import { DescribeTableCommand, DynamoDBClient, type DescribeTableCommandInput } from '@aws-sdk/client-dynamodb';
import {
  GetResourcesCommand,
  ResourceGroupsTaggingAPIClient,
  type GetResourcesCommandInput,
} from '@aws-sdk/client-resource-groups-tagging-api';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { GetParameterCommand, GetParametersByPathCommand, InternalServerError, SSMClient, type GetParameterCommandInput } from '@aws-sdk/client-ssm';
import { DynamoDBDocumentClient, GetCommand, type GetCommandInput } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { createClients } from '../../lambda/aws/clients';
import { buildService, configFromEnv, type Service } from '../../lambda/aws/service';
import type { SizeConfig } from '../../lambda/aws/size-service';
import { RetryableError } from '../../lambda/core/errors';
import type { Clock } from '../../lambda/core/ports';
import { sizeAlarmName } from '../../lambda/core/triggers/size-alarms';
import { probeHandler } from '../../lambda/handlers/probe.handler';
import { sizeReconcilerHandler } from '../../lambda/handlers/reconciler.handler';

const REGION = 'us-east-1';
const ACCOUNT = '123456789012';
const DEAD_END = 'http://127.0.0.1:9';
const PREFIX = 'ddb-backup-size-';
const NS = 'DynamoDBBackupService';
const TAG = 'backup:policy';
const NOW = new Date('2026-11-24T05:00:00Z');

const cwMock = mockClient(CloudWatchClient);
const ddbMock = mockClient(DynamoDBClient);
const docMock = mockClient(DynamoDBDocumentClient);
const taggingMock = mockClient(ResourceGroupsTaggingAPIClient);
const ssmMock = mockClient(SSMClient);
const snsMock = mockClient(SNSClient);

beforeEach(() => {
  for (const m of [cwMock, ddbMock, docMock, taggingMock, ssmMock, snsMock]) m.reset();
});
afterAll(() => {
  for (const m of [cwMock, ddbMock, docMock, taggingMock, ssmMock, snsMock]) m.restore();
});

const clock: Clock = { now: () => NOW };
const cfg: SizeConfig = { alarmPrefix: PREFIX, namespace: NS, maxAlarmWrites: 500 };

function service(): Service {
  const clients = createClients({ endpoint: DEAD_END, region: REGION, maxAttempts: 1 });
  return buildService(
    clients,
    { ...configFromEnv({}), ledgerTable: 'ledger', topicArn: `arn:aws:sns:${REGION}:${ACCOUNT}:backups`, cacheSeconds: 300 },
    clock,
  );
}

interface World {
  /** table -> tag value (tables listed by GetResources). */
  tags: Record<string, string>;
  /** policy name -> JSON document. */
  policies: Record<string, unknown>;
  /** table -> override document. */
  overrides?: Record<string, unknown>;
  /** table -> TableSizeBytes (DescribeTable). */
  sizes?: Record<string, number>;
  /** `${table}#${policy}` -> size at the last backup (ledger state). */
  baselines?: Record<string, number>;
  /** Existing alarms, served by DescribeAlarms in pages of `alarmPage`. */
  alarms?: MetricAlarm[];
  alarmPage?: number;
}

/** Wires the mocks to a world; returns the DescribeAlarms NextTokens seen, in call order. */
function given(w: World): { tokens: (string | undefined)[] } {
  const tables = Object.entries(w.tags);
  taggingMock.on(GetResourcesCommand).callsFake(async (input: GetResourcesCommandInput) => {
    const start = Number(input.PaginationToken || 0);
    const page = tables.slice(start, start + 100);
    return {
      ResourceTagMappingList: page.map(([t, v]) => ({ ResourceARN: `arn:aws:dynamodb:${REGION}:${ACCOUNT}:table/${t}`, Tags: [{ Key: TAG, Value: v }] })),
      PaginationToken: start + 100 < tables.length ? String(start + 100) : '',
    };
  });
  ssmMock.on(GetParametersByPathCommand, { Path: '/dynamodb-backup/policies' }).resolves({
    Parameters: Object.entries(w.policies).map(([n, v]) => ({ Name: `/dynamodb-backup/policies/${n}`, Value: JSON.stringify(v) })),
  });
  ssmMock.on(GetParametersByPathCommand, { Path: '/dynamodb-backup/tables' }).resolves({
    Parameters: Object.entries(w.overrides ?? {}).map(([n, v]) => ({ Name: `/dynamodb-backup/tables/${n}`, Value: JSON.stringify(v) })),
  });
  ssmMock.on(GetParameterCommand).callsFake(async (input: GetParameterCommandInput) => {
    const name = input.Name!.split('/').pop()!;
    return { Parameter: { Name: input.Name, Value: JSON.stringify(w.policies[name]) } };
  });
  // moto always reports TableSizeBytes 0: the sizes come from here.
  ddbMock.on(DescribeTableCommand).callsFake(async (input: DescribeTableCommandInput) => ({
    Table: { TableName: input.TableName, TableStatus: 'ACTIVE', TableSizeBytes: w.sizes?.[input.TableName!] ?? 0, ItemCount: 7 },
  }));
  docMock.on(GetCommand).callsFake(async (input: GetCommandInput) => {
    const table = String(input.Key!.pk).replace(/^TABLE#/, '');
    const policy = String(input.Key!.sk).replace(/^STATE#/, '');
    const size = w.baselines?.[`${table}#${policy}`];
    return size === undefined ? {} : { Item: { table, policy, lastBackupAt: '2026-11-24T03:00:00Z', lastSizeBytes: size } };
  });
  const tokens: (string | undefined)[] = [];
  const alarms = w.alarms ?? [];
  const pageSize = w.alarmPage ?? 100;
  cwMock.on(DescribeAlarmsCommand).callsFake(async (input: DescribeAlarmsCommandInput) => {
    tokens.push(input.NextToken);
    const start = Number(input.NextToken ?? 0);
    const page = alarms.filter((a) => a.AlarmName!.startsWith(input.AlarmNamePrefix ?? '')).slice(start, start + pageSize);
    return { MetricAlarms: page, ...(start + pageSize < alarms.length ? { NextToken: String(start + pageSize) } : {}) };
  });
  cwMock.on(PutMetricAlarmCommand).resolves({});
  cwMock.on(DeleteAlarmsCommand).resolves({});
  cwMock.on(PutMetricDataCommand).resolves({});
  snsMock.on(PublishCommand).resolves({ MessageId: 'm-1' });
  return { tokens };
}

/** An alarm as the reconciler would have made it. */
function alarm(table: string, policy: string, threshold: number, metric = 'GrowthSinceLastBackupBytes'): MetricAlarm {
  return {
    AlarmName: sizeAlarmName(PREFIX, policy, table),
    Namespace: NS,
    MetricName: metric,
    Dimensions: [
      { Name: 'TableName', Value: table },
      { Name: 'Policy', Value: policy },
    ],
    Threshold: threshold,
    ComparisonOperator: 'GreaterThanOrEqualToThreshold',
    Period: 3600,
    EvaluationPeriods: 1,
    DatapointsToAlarm: 1,
    Statistic: 'Maximum',
    TreatMissingData: 'notBreaching',
  };
}

const SIZED = { schedule: 'rate(1 day)', size: { growthBytes: 1000 } };
const NO_SIZE = { schedule: 'rate(1 day)' };

describe('size probe: metrics', () => {
  it('publishes 400 tables x 4 metrics = 1,600 data points in exactly 2 PutMetricData calls, sizes from DescribeTable', async () => {
    // Prepare
    const tags: Record<string, string> = {};
    const sizes: Record<string, number> = {};
    const baselines: Record<string, number> = {};
    for (let i = 0; i < 400; i++) {
      const t = `orders-${String(i).padStart(3, '0')}`;
      tags[t] = 'daily';
      sizes[t] = 10_000 + i;
      baselines[`${t}#daily`] = 10_000;
    }
    given({ tags, policies: { daily: SIZED }, sizes, baselines });
    const sent: PutMetricDataCommandInput[] = [];
    cwMock.on(PutMetricDataCommand).callsFake(async (input: PutMetricDataCommandInput) => {
      sent.push(input);
      return {};
    });

    // Act
    const report = await probeHandler({}, service(), cfg);

    // Assess
    expect(cwMock).toHaveReceivedCommandTimes(PutMetricDataCommand, 2);
    expect(sent.map((s) => s.MetricData!.length)).toEqual([1000, 600]);
    expect(sent.every((s) => s.Namespace === NS)).toBe(true);
    expect(report).toMatchObject({ points: 1600, putMetricDataCalls: 2 });
    const all = sent.flatMap((s) => s.MetricData!);
    const of = (table: string, metric: string) => all.find((d) => d.MetricName === metric && d.Dimensions!.some((x) => x.Value === table));
    expect(of('orders-399', 'TableSizeBytes')).toMatchObject({ Value: 10_399, Unit: 'Bytes', Dimensions: [{ Name: 'TableName', Value: 'orders-399' }] });
    expect(of('orders-399', 'ItemCount')).toMatchObject({ Value: 7, Unit: 'Count' });
    expect(of('orders-399', 'GrowthSinceLastBackupBytes')).toMatchObject({
      Value: 399,
      Unit: 'Bytes',
      Dimensions: [
        { Name: 'TableName', Value: 'orders-399' },
        { Name: 'Policy', Value: 'daily' },
      ],
    });
    expect(of('orders-399', 'GrowthSinceLastBackupPercent')).toMatchObject({ Value: 3.99, Unit: 'Percent' });
    expect(all.every((d) => d.Timestamp?.getTime() === NOW.getTime())).toBe(true);
    // The call counts of a first run over 400 tables (4 pages of tags, one DescribeTable and one
    // ledger read per table, one alarm per table, one page of existing alarms).
    expect(taggingMock).toHaveReceivedCommandTimes(GetResourcesCommand, 4);
    expect(ddbMock).toHaveReceivedCommandTimes(DescribeTableCommand, 400);
    expect(docMock).toHaveReceivedCommandTimes(GetCommand, 400);
    expect(cwMock).toHaveReceivedCommandTimes(DescribeAlarmsCommand, 1);
    expect(cwMock).toHaveReceivedCommandTimes(PutMetricAlarmCommand, 400);
    expect(ssmMock).toHaveReceivedCommandTimes(GetParameterCommand, 1);
    expect(ssmMock).toHaveReceivedCommandTimes(GetParametersByPathCommand, 2);
    expect(report.targets.filter((t) => t.breaching)).toEqual([]);
  });

  it('measures growth against the ledger\'s baseline: no backup yet means the whole size, percent capped', async () => {
    // Prepare
    given({
      tags: { orders: 'daily', users: 'daily' },
      policies: { daily: SIZED },
      sizes: { orders: 1500, users: 800 },
      baselines: { 'orders#daily': 1000 },
    });

    // Act
    const report = await probeHandler({}, service(), cfg);

    // Assess
    expect(report.targets.map((t) => [t.table, t.growth, t.breaching])).toEqual([
      ['orders', { bytes: 500, percent: 50, baselineBytes: 1000 }, false],
      ['users', { bytes: 800, percent: 1_000_000 }, false],
    ]);
    expect(cwMock).toHaveReceivedCommandWith(PutMetricDataCommand, {
      Namespace: NS,
      MetricData: expect.arrayContaining([
        expect.objectContaining({ MetricName: 'GrowthSinceLastBackupPercent', Value: 1_000_000, Dimensions: expect.arrayContaining([{ Name: 'TableName', Value: 'users' }]) }),
      ]),
    });
  });
});

describe('size reconciler: alarms follow tags and policies', () => {
  it('pages DescribeAlarms with the prefix; deletes the alarms of an untagged table and of a policy without size; creates the missing', async () => {
    // Prepare: 5 existing alarms in pages of 2
    const { tokens } = given({
      tags: { orders: 'daily', users: 'daily nosize', carts: 'nosize' },
      policies: { daily: SIZED, nosize: NO_SIZE },
      sizes: { orders: 10, users: 10, carts: 10 },
      alarms: [
        alarm('orders', 'daily', 1000),
        alarm('users', 'daily', 1000),
        alarm('untagged-now', 'daily', 1000), // tag removed
        alarm('carts', 'nosize', 1000), // policy without a size trigger
        alarm('gone', 'daily', 1000),
      ],
      alarmPage: 2,
    });

    // Act
    const report = await probeHandler({}, service(), cfg);

    // Assess
    expect(cwMock).toHaveReceivedCommandTimes(DescribeAlarmsCommand, 3);
    expect(tokens).toEqual([undefined, '2', '4']);
    expect(cwMock).toHaveReceivedCommandWith(DescribeAlarmsCommand, { AlarmNamePrefix: PREFIX, AlarmTypes: ['MetricAlarm'] });
    expect(cwMock).toHaveReceivedCommandTimes(DeleteAlarmsCommand, 1);
    expect(cwMock).toHaveReceivedCommandWith(DeleteAlarmsCommand, {
      AlarmNames: ['ddb-backup-size-daily.gone', 'ddb-backup-size-daily.untagged-now', 'ddb-backup-size-nosize.carts'],
    });
    // orders and users already match: nothing to put.
    expect(cwMock).toHaveReceivedCommandTimes(PutMetricAlarmCommand, 0);
    expect(report.alarms).toEqual({ created: 0, updated: 0, deleted: 3, unchanged: 2, deferred: 0, kept: 0 });
  });

  it('leaves the alarms CDK owns (staticAlarms) alone: no put, no delete; their metrics are still published', async () => {
    // Prepare: orders is CDK-owned and drifted; legacy is CDK-owned and no longer tagged.
    given({
      tags: { orders: 'daily', users: 'daily' },
      policies: { daily: SIZED },
      sizes: { orders: 10, users: 10 },
      alarms: [alarm('orders', 'daily', 5), alarm('legacy', 'daily', 1000), alarm('gone', 'daily', 1000)],
    });
    const staticCfg: SizeConfig = {
      ...cfg,
      staticAlarms: [
        { table: 'orders', policy: 'daily' },
        { table: 'legacy', policy: 'daily' },
      ],
    };

    // Act
    const report = await probeHandler({}, service(), staticCfg);

    // Assess
    expect(cwMock).toHaveReceivedCommandTimes(PutMetricAlarmCommand, 1);
    expect(cwMock).toHaveReceivedCommandWith(PutMetricAlarmCommand, { AlarmName: 'ddb-backup-size-daily.users' });
    expect(cwMock).toHaveReceivedCommandWith(DeleteAlarmsCommand, { AlarmNames: ['ddb-backup-size-daily.gone'] });
    expect(report.alarms).toMatchObject({ created: 1, updated: 0, deleted: 1 });
    const data = cwMock.commandCalls(PutMetricDataCommand).flatMap((c) => c.args[0].input.MetricData ?? []);
    expect(data.some((d) => d.MetricName === 'GrowthSinceLastBackupBytes' && d.Dimensions!.some((x) => x.Value === 'orders'))).toBe(true);
  });

  it('gives a policy with no size trigger no alarm and no growth metric', async () => {
    // Prepare
    given({ tags: { carts: 'nosize', orders: 'daily' }, policies: { daily: SIZED, nosize: NO_SIZE }, sizes: { carts: 5, orders: 5 } });

    // Act
    await probeHandler({}, service(), cfg);

    // Assess
    expect(cwMock).toHaveReceivedCommandTimes(PutMetricAlarmCommand, 1);
    expect(cwMock).toHaveReceivedCommandWith(PutMetricAlarmCommand, {
      AlarmName: 'ddb-backup-size-daily.orders',
      Namespace: NS,
      MetricName: 'GrowthSinceLastBackupBytes',
      Dimensions: [
        { Name: 'TableName', Value: 'orders' },
        { Name: 'Policy', Value: 'daily' },
      ],
      Threshold: 1000,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      Period: 3600,
      EvaluationPeriods: 1,
      DatapointsToAlarm: 1,
      Statistic: 'Maximum',
      TreatMissingData: 'notBreaching',
    });
    expect(ddbMock).not.toHaveReceivedCommandWith(DescribeTableCommand, { TableName: 'carts' });
    const data = cwMock.commandCalls(PutMetricDataCommand).flatMap((c) => c.args[0].input.MetricData ?? []);
    expect(data.filter((d) => d.Dimensions!.some((x) => x.Value === 'carts'))).toEqual([]);
    expect(data).toHaveLength(4);
  });

  it('updates a drifted threshold or metric (percent policy, per-table override), leaves a matching alarm alone', async () => {
    // Prepare
    given({
      tags: { orders: 'daily', users: 'pct', carts: 'daily' },
      policies: { daily: SIZED, pct: { size: { growthPercent: 25 } } },
      overrides: { carts: { size: { growthBytes: 5000 } } },
      sizes: { orders: 1, users: 1, carts: 1 },
      alarms: [alarm('orders', 'daily', 1000), alarm('users', 'pct', 1000), alarm('carts', 'daily', 1000)],
    });

    // Act
    const report = await sizeReconcilerHandler({}, service(), cfg);

    // Assess
    expect(cwMock).toHaveReceivedCommandTimes(PutMetricAlarmCommand, 2);
    expect(cwMock).toHaveReceivedCommandWith(PutMetricAlarmCommand, {
      AlarmName: 'ddb-backup-size-pct.users',
      MetricName: 'GrowthSinceLastBackupPercent',
      Threshold: 25,
    });
    expect(cwMock).toHaveReceivedCommandWith(PutMetricAlarmCommand, { AlarmName: 'ddb-backup-size-daily.carts', Threshold: 5000 });
    expect(report.alarms).toMatchObject({ created: 0, updated: 2, unchanged: 1, deleted: 0 });
    // Reconcile only: no DescribeTable, no metrics.
    expect(ddbMock).toHaveReceivedCommandTimes(DescribeTableCommand, 0);
    expect(cwMock).toHaveReceivedCommandTimes(PutMetricDataCommand, 0);
  });

  it('deletes in batches of 100 (DeleteAlarms limit): 250 stale alarms, 3 pages, 3 calls', async () => {
    // Prepare
    given({
      tags: {},
      policies: { daily: SIZED },
      alarms: Array.from({ length: 250 }, (_, i) => alarm(`old-${String(i).padStart(3, '0')}`, 'daily', 1000)),
    });

    // Act
    const report = await probeHandler({}, service(), cfg);

    // Assess
    expect(cwMock).toHaveReceivedCommandTimes(DescribeAlarmsCommand, 3);
    const batches = cwMock.commandCalls(DeleteAlarmsCommand).map((c) => c.args[0].input.AlarmNames!.length);
    expect(batches).toEqual([100, 100, 50]);
    expect(report.alarms.deleted).toBe(250);
    expect(cwMock).toHaveReceivedCommandTimes(PutMetricDataCommand, 0);
  });

  it('caps alarm writes per run and leaves the rest to the next run', async () => {
    // Prepare
    given({ tags: { a1a: 'daily', b2b: 'daily', c3c: 'daily' }, policies: { daily: SIZED } });

    // Act
    const report = await sizeReconcilerHandler({}, service(), { ...cfg, maxAlarmWrites: 2 });

    // Assess
    expect(cwMock).toHaveReceivedCommandTimes(PutMetricAlarmCommand, 2);
    expect(report.alarms).toMatchObject({ created: 2, deferred: 1 });
  });

  it('aborts on an SSM outage before touching any alarm', async () => {
    // Prepare
    given({ tags: { orders: 'daily' }, policies: { daily: SIZED }, alarms: [alarm('orders', 'daily', 1000)] });
    ssmMock.on(GetParametersByPathCommand).rejects(new InternalServerError({ message: 'SSM is down', $metadata: {} }));

    // Act
    const err = await probeHandler({}, service(), cfg).then(
      () => undefined,
      (e: unknown) => e,
    );

    // Assess
    expect(err).toBeInstanceOf(RetryableError);
    expect(cwMock).toHaveReceivedCommandTimes(DeleteAlarmsCommand, 0);
    expect(cwMock).toHaveReceivedCommandTimes(PutMetricAlarmCommand, 0);
    expect(cwMock).toHaveReceivedCommandTimes(PutMetricDataCommand, 0);
  });

  it('keeps the alarm of a table whose override is invalid, serves the others, and reports it on SNS', async () => {
    // Prepare
    given({
      tags: { orders: 'daily', users: 'daily' },
      policies: { daily: SIZED },
      overrides: { orders: { size: { growthBytes: -1 } } },
      sizes: { orders: 5, users: 5 },
      alarms: [alarm('orders', 'daily', 1000)],
    });

    // Act
    const report = await probeHandler({}, service(), cfg);

    // Assess
    expect(cwMock).toHaveReceivedCommandTimes(DeleteAlarmsCommand, 0);
    expect(cwMock).toHaveReceivedCommandTimes(PutMetricAlarmCommand, 1);
    expect(cwMock).toHaveReceivedCommandWith(PutMetricAlarmCommand, { AlarmName: 'ddb-backup-size-daily.users' });
    expect(report.problems).toEqual([expect.objectContaining({ table: 'orders', policy: 'daily', message: expect.stringContaining('size.growthBytes') })]);
    expect(snsMock).toHaveReceivedCommandTimes(PublishCommand, 1);
    expect(snsMock).toHaveReceivedCommandWith(PublishCommand, { Message: expect.stringContaining('size.growthBytes') });
  });
});
