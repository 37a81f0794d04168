/**
 * Restore fidelity and the restore request over SDK clients mocked with aws-sdk-client-mock: the
 * paths moto cannot show (auto scaling on a provisioned restore, contributor insights, Kinesis,
 * restore overrides, a setting that fails) and the digest Lambda. Nothing reaches a network.
 */
import {
  ApplicationAutoScalingClient,
  DescribeScalableTargetsCommand,
  DescribeScalingPoliciesCommand,
  PutScalingPolicyCommand,
  RegisterScalableTargetCommand,
} from '@aws-sdk/client-application-auto-scaling';
import {
  DescribeBackupCommand,
  DescribeContinuousBackupsCommand,
  DescribeContributorInsightsCommand,
  DescribeKinesisStreamingDestinationCommand,
  DescribeTableCommand,
  DescribeTimeToLiveCommand,
  DynamoDBClient,
  EnableKinesisStreamingDestinationCommand,
  GetResourcePolicyCommand,
  ListBackupsCommand,
  ListTablesCommand,
  ListTagsOfResourceCommand,
  PolicyNotFoundException,
  PutResourcePolicyCommand,
  ResourceNotFoundException,
  RestoreTableFromBackupCommand,
  RestoreTableToPointInTimeCommand,
  TableAlreadyExistsException,
  TagResourceCommand,
  UpdateContinuousBackupsCommand,
  UpdateContributorInsightsCommand,
  UpdateTableCommand,
  UpdateTimeToLiveCommand,
  type TableDescription,
} from '@aws-sdk/client-dynamodb';
import { GetResourcesCommand, ResourceGroupsTaggingAPIClient } from '@aws-sdk/client-resource-groups-tagging-api';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { DynamoDBDocumentClient, GetCommand, PutCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { createClients } from '../../lambda/aws/clients';
import { TargetExistsError, startRestore } from '../../lambda/aws/restore';
import { buildService, configFromEnv } from '../../lambda/aws/service';
import { tableUpkeep } from '../../lambda/aws/upkeep';
import { BackupsAdapter } from '../../lambda/aws/backups';
import { applySettings, captureSettings, type SettingsClients } from '../../lambda/aws/table-settings';
import type { TableSettings } from '../../lambda/core/restore/restore';
import { parsePolicy, policyHash } from '../../lambda/core/policy';
import type { PolicyStore } from '../../lambda/aws/policy-store';

const REGION = 'us-east-1';
const clientConfig = {
  region: REGION,
  credentials: { accessKeyId: 'AKIAFAKEFAKEFAKE', secretAccessKey: 'fake-secret' },
  endpoint: 'http://127.0.0.1:9',
  maxAttempts: 1,
};
const arnOf = (t: string) => `arn:aws:dynamodb:${REGION}:123456789012:table/${t}`;

const ddbMock = mockClient(DynamoDBClient);
const asMock = mockClient(ApplicationAutoScalingClient);
const docMock = mockClient(DynamoDBDocumentClient);
const taggingMock = mockClient(ResourceGroupsTaggingAPIClient);
const snsMock = mockClient(SNSClient);

beforeEach(() => {
  for (const m of [ddbMock, asMock, docMock, taggingMock, snsMock]) m.reset();
});
afterAll(() => {
  for (const m of [ddbMock, asMock, docMock, taggingMock, snsMock]) m.restore();
});

function clients(): SettingsClients {
  return { dynamodb: new DynamoDBClient(clientConfig), autoscaling: new ApplicationAutoScalingClient(clientConfig) };
}

function table(name: string, extra: Partial<TableDescription> = {}): { Table: TableDescription } {
  return {
    Table: {
      TableName: name,
      TableArn: arnOf(name),
      TableStatus: 'ACTIVE',
      BillingModeSummary: { BillingMode: 'PROVISIONED' },
      GlobalSecondaryIndexes: [
        { IndexName: 'byCustomer', IndexStatus: 'ACTIVE', KeySchema: [{ AttributeName: 'c', KeyType: 'HASH' }], Projection: { ProjectionType: 'ALL' } },
      ],
      ...extra,
    },
  };
}

const base: TableSettings = {
  version: 1,
  table: 'orders',
  tableArn: arnOf('orders'),
  capturedAt: '2026-11-24T00:00:00.000Z',
  billingMode: 'PROVISIONED',
  indexes: [],
  tags: {},
  ttl: null,
  pitr: null,
  stream: null,
  tableClass: null,
  deletionProtection: null,
  resourcePolicy: null,
  contributorInsights: null,
  kinesis: null,
  autoScaling: null,
};

const targetTracking = {
  TargetValue: 70,
  PredefinedMetricSpecification: { PredefinedMetricType: 'DynamoDBReadCapacityUtilization' as const },
};

describe('applySettings', () => {
  it('re-registers auto scaling targets and policies with the target table and index resource ids', async () => {
    // Prepare
    ddbMock.on(DescribeTableCommand).resolves(table('orders-restored'));
    asMock.on(RegisterScalableTargetCommand).resolves({});
    asMock.on(PutScalingPolicyCommand).resolves({});
    const settings: TableSettings = {
      ...base,
      autoScaling: [
        { scope: 'table', dimension: 'dynamodb:table:ReadCapacityUnits', min: 5, max: 100, policies: [{ name: 'read-70', type: 'TargetTrackingScaling', targetTracking }] },
        { scope: 'index/byCustomer', dimension: 'dynamodb:index:WriteCapacityUnits', min: 1, max: 20, policies: [] },
        { scope: 'index/dropped', dimension: 'dynamodb:index:ReadCapacityUnits', min: 1, max: 20, policies: [] },
      ],
    };

    // Act
    const results = await applySettings(clients(), 'orders-restored', settings, { tagKey: 'backup:policy', pollMs: 1 });

    // Assess
    expect(results.find((r) => r.setting === 'autoScaling')).toMatchObject({ outcome: 'applied' });
    expect(asMock).toHaveReceivedCommandTimes(RegisterScalableTargetCommand, 2);
    expect(asMock).toHaveReceivedCommandWith(RegisterScalableTargetCommand, {
      ServiceNamespace: 'dynamodb',
      ResourceId: 'table/orders-restored',
      ScalableDimension: 'dynamodb:table:ReadCapacityUnits',
      MinCapacity: 5,
      MaxCapacity: 100,
    });
    expect(asMock).toHaveReceivedCommandWith(RegisterScalableTargetCommand, {
      ResourceId: 'table/orders-restored/index/byCustomer',
      ScalableDimension: 'dynamodb:index:WriteCapacityUnits',
    });
    expect(asMock).toHaveReceivedCommandTimes(PutScalingPolicyCommand, 1);
    expect(asMock).toHaveReceivedCommandWith(PutScalingPolicyCommand, {
      PolicyName: 'read-70',
      PolicyType: 'TargetTrackingScaling',
      ResourceId: 'table/orders-restored',
      TargetTrackingScalingPolicyConfiguration: targetTracking,
    });
  });

  it('skips auto scaling on an on-demand target', async () => {
    // Prepare
    ddbMock.on(DescribeTableCommand).resolves(table('t2', { BillingModeSummary: { BillingMode: 'PAY_PER_REQUEST' } }));
    const settings: TableSettings = {
      ...base,
      autoScaling: [{ scope: 'table', dimension: 'dynamodb:table:ReadCapacityUnits', min: 5, max: 100, policies: [] }],
    };

    // Act
    const results = await applySettings(clients(), 't2', settings, { tagKey: 'backup:policy', pollMs: 1 });

    // Assess
    expect(results.find((r) => r.setting === 'autoScaling')).toMatchObject({ outcome: 'skipped', detail: expect.stringContaining('on-demand') });
    expect(asMock).not.toHaveReceivedCommand(RegisterScalableTargetCommand);
  });

  it('puts the resource policy with the source ARN rewritten to the target ARN', async () => {
    // Prepare
    ddbMock.on(DescribeTableCommand).resolves(table('orders-restored'));
    ddbMock.on(PutResourcePolicyCommand).resolves({});
    const policy = JSON.stringify({
      Statement: [{ Effect: 'Allow', Action: 'dynamodb:*', Resource: [arnOf('orders'), `${arnOf('orders')}/index/*`, arnOf('orders-archive')] }],
    });

    // Act
    const results = await applySettings(clients(), 'orders-restored', { ...base, resourcePolicy: policy }, { tagKey: 'backup:policy', pollMs: 1 });

    // Assess
    expect(results.find((r) => r.setting === 'resourcePolicy')?.outcome).toBe('applied');
    const expected = JSON.stringify({
      Statement: [
        { Effect: 'Allow', Action: 'dynamodb:*', Resource: [arnOf('orders-restored'), `${arnOf('orders-restored')}/index/*`, arnOf('orders-archive')] },
      ],
    });
    expect(ddbMock).toHaveReceivedCommandWith(PutResourcePolicyCommand, { ResourceArn: arnOf('orders-restored'), Policy: expected });
  });

  it('reports a setting that fails as failed and still applies the others', async () => {
    // Prepare
    ddbMock.on(DescribeTableCommand).resolves(table('orders-restored'));
    ddbMock.on(TagResourceCommand).resolves({});
    ddbMock.on(UpdateTimeToLiveCommand).rejects(Object.assign(new Error('User is not authorized to perform: dynamodb:UpdateTimeToLive'), { name: 'AccessDeniedException' }));
    ddbMock.on(UpdateContinuousBackupsCommand).resolves({});
    ddbMock.on(UpdateTableCommand).resolves({});
    ddbMock.on(UpdateContributorInsightsCommand).resolves({});
    ddbMock.on(EnableKinesisStreamingDestinationCommand).resolves({});
    const settings: TableSettings = {
      ...base,
      tags: { team: 'shop', 'backup:policy': 'daily', 'aws:cloudformation:stack-name': 'x' },
      ttl: { attributeName: 'expiresAt' },
      pitr: { recoveryPeriodDays: 14 },
      stream: { viewType: 'NEW_IMAGE' },
      deletionProtection: true,
      contributorInsights: { table: true, indexes: ['byCustomer', 'gone'] },
      kinesis: [{ streamArn: 'arn:aws:kinesis:us-east-1:123456789012:stream/audit', precision: 'MICROSECOND' }],
    };

    // Act
    const results = await applySettings(clients(), 'orders-restored', settings, { tagKey: 'backup:policy', pollMs: 1 });

    // Assess
    const by = Object.fromEntries(results.map((r) => [r.setting, r]));
    expect(by.ttl).toMatchObject({ outcome: 'failed', detail: expect.stringContaining('not authorized') });
    for (const s of ['tags', 'pitr', 'stream', 'deletionProtection', 'contributorInsights', 'kinesis']) expect(by[s].outcome).toBe('applied');
    expect(by.autoScaling).toMatchObject({ outcome: 'skipped', detail: 'source had none' });
    expect(ddbMock).toHaveReceivedCommandWith(TagResourceCommand, { ResourceArn: arnOf('orders-restored'), Tags: [{ Key: 'team', Value: 'shop' }] });
    expect(ddbMock).toHaveReceivedCommandWith(UpdateContinuousBackupsCommand, {
      TableName: 'orders-restored',
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true, RecoveryPeriodInDays: 14 },
    });
    expect(ddbMock).toHaveReceivedCommandWith(UpdateTableCommand, { StreamSpecification: { StreamEnabled: true, StreamViewType: 'NEW_IMAGE' } });
    expect(ddbMock).toHaveReceivedCommandWith(UpdateTableCommand, { DeletionProtectionEnabled: true });
    expect(ddbMock).toHaveReceivedCommandTimes(UpdateContributorInsightsCommand, 2);
    expect(ddbMock).toHaveReceivedCommandWith(UpdateContributorInsightsCommand, { IndexName: 'byCustomer', ContributorInsightsAction: 'ENABLE' });
    expect(ddbMock).toHaveReceivedCommandWith(EnableKinesisStreamingDestinationCommand, {
      StreamArn: 'arn:aws:kinesis:us-east-1:123456789012:stream/audit',
      EnableKinesisStreamingConfiguration: { ApproximateCreationDateTimePrecision: 'MICROSECOND' },
    });
  });
});

describe('captureSettings', () => {
  it('captures auto scaling per table and index, and names the settings it could not read', async () => {
    // Prepare
    ddbMock.on(DescribeTableCommand).resolves(table('orders', { StreamSpecification: { StreamEnabled: true, StreamViewType: 'KEYS_ONLY' } }));
    ddbMock.on(ListTagsOfResourceCommand).resolvesOnce({ Tags: [{ Key: 'a', Value: '1' }], NextToken: 'p2' }).resolves({ Tags: [{ Key: 'b', Value: '2' }] });
    ddbMock.on(DescribeTimeToLiveCommand).resolves({ TimeToLiveDescription: { TimeToLiveStatus: 'DISABLED' } });
    ddbMock.on(DescribeContinuousBackupsCommand).resolves({
      ContinuousBackupsDescription: { ContinuousBackupsStatus: 'ENABLED', PointInTimeRecoveryDescription: { PointInTimeRecoveryStatus: 'ENABLED', RecoveryPeriodInDays: 9 } },
    });
    ddbMock.on(GetResourcePolicyCommand).rejects(new PolicyNotFoundException({ message: 'none', $metadata: {} }));
    ddbMock.on(DescribeContributorInsightsCommand).rejects(Object.assign(new Error('not implemented'), { name: 'UnknownOperationException' }));
    ddbMock.on(DescribeKinesisStreamingDestinationCommand).resolves({ KinesisDataStreamDestinations: [] });
    asMock.on(DescribeScalableTargetsCommand).resolves({
      ScalableTargets: [
        { ServiceNamespace: 'dynamodb', ResourceId: 'table/orders', ScalableDimension: 'dynamodb:table:ReadCapacityUnits', MinCapacity: 5, MaxCapacity: 50, RoleARN: 'r', CreationTime: new Date() },
        { ServiceNamespace: 'dynamodb', ResourceId: 'table/orders/index/byCustomer', ScalableDimension: 'dynamodb:index:ReadCapacityUnits', MinCapacity: 1, MaxCapacity: 9, RoleARN: 'r', CreationTime: new Date() },
      ],
    });
    asMock
      .on(DescribeScalingPoliciesCommand, { ResourceId: 'table/orders' })
      .resolves({ ScalingPolicies: [{ PolicyARN: 'p', PolicyName: 'read-70', ServiceNamespace: 'dynamodb', ResourceId: 'table/orders', ScalableDimension: 'dynamodb:table:ReadCapacityUnits', PolicyType: 'TargetTrackingScaling', TargetTrackingScalingPolicyConfiguration: targetTracking, CreationTime: new Date() }] })
      .on(DescribeScalingPoliciesCommand, { ResourceId: 'table/orders/index/byCustomer' })
      .resolves({ ScalingPolicies: [] });

    // Act
    const s = await captureSettings(clients(), 'orders', new Date('2026-11-24T10:00:00Z'));

    // Assess
    expect(s).toMatchObject({
      table: 'orders',
      tableArn: arnOf('orders'),
      capturedAt: '2026-11-24T10:00:00.000Z',
      tags: { a: '1', b: '2' },
      ttl: null,
      pitr: { recoveryPeriodDays: 9 },
      stream: { viewType: 'KEYS_ONLY' },
      resourcePolicy: null,
      kinesis: null,
      autoScaling: [
        { scope: 'table', dimension: 'dynamodb:table:ReadCapacityUnits', min: 5, max: 50, policies: [{ name: 'read-70', type: 'TargetTrackingScaling', targetTracking }] },
        { scope: 'index/byCustomer', dimension: 'dynamodb:index:ReadCapacityUnits', min: 1, max: 9, policies: [] },
      ],
      unreadable: { contributorInsights: expect.stringContaining('not implemented') },
    });
    expect(s.contributorInsights).toBeUndefined();
    expect(JSON.parse(JSON.stringify(s))).toEqual(s);
    expect(asMock).toHaveReceivedCommandWith(DescribeScalableTargetsCommand, {
      ServiceNamespace: 'dynamodb',
      ResourceIds: ['table/orders', 'table/orders/index/byCustomer'],
    });
  });
});

describe('the worker upkeep: settings snapshot and PITR check', () => {
  const now = new Date('2026-11-24T10:00:00Z');
  const svc = () =>
    buildService(createClients({ ...clientConfig, maxAttempts: 1 }), { ...configFromEnv({}), ledgerTable: 'ledger' }, { now: () => now });
  function plainTable(status: TableDescription['TableStatus']) {
    ddbMock.on(DescribeTableCommand).resolves(table('orders', { TableStatus: status, TableSizeBytes: 4096, ItemCount: 321, GlobalSecondaryIndexes: [] }));
    ddbMock.on(ListTagsOfResourceCommand).resolves({ Tags: [] });
    ddbMock.on(DescribeTimeToLiveCommand).resolves({ TimeToLiveDescription: { TimeToLiveStatus: 'DISABLED' } });
    ddbMock.on(DescribeContinuousBackupsCommand).resolves({
      ContinuousBackupsDescription: { ContinuousBackupsStatus: 'ENABLED', PointInTimeRecoveryDescription: { PointInTimeRecoveryStatus: 'ENABLED', RecoveryPeriodInDays: 9 } },
    });
    ddbMock.on(GetResourcePolicyCommand).rejects(new PolicyNotFoundException({ message: 'none', $metadata: {} }));
    ddbMock.on(DescribeContributorInsightsCommand).resolves({ ContributorInsightsStatus: 'DISABLED' });
    ddbMock.on(DescribeKinesisStreamingDestinationCommand).resolves({ KinesisDataStreamDestinations: [] });
    asMock.on(DescribeScalableTargetsCommand).resolves({ ScalableTargets: [] });
  }

  it('returns the status, size, item count and PITR its one DescribeTable and PITR read found, and stores the snapshot', async () => {
    // Prepare
    plainTable('ACTIVE');
    docMock.on(PutCommand).resolves({});
    docMock.on(UpdateCommand).resolves({});
    // Act
    const facts = await tableUpkeep(svc()).snapshotSettings!('orders', 'daily', now);
    // Assess
    expect(facts).toEqual({ table: 'orders', status: 'ACTIVE', sizeBytes: 4096, itemCount: 321, pitr: { enabled: true, recoveryPeriodDays: 9 } });
    expect(ddbMock).toHaveReceivedCommandTimes(DescribeTableCommand, 1);
    expect(docMock).toHaveReceivedCommandWith(PutCommand, { Item: expect.objectContaining({ pk: 'TABLE#orders', sk: 'SETTINGS' }) });
    expect(docMock).toHaveReceivedCommandWith(UpdateCommand, { Key: { pk: 'TABLE#orders', sk: 'STATE#daily' }, UpdateExpression: 'SET settingsCapturedAt = :at' });
  });

  it('keeps the last snapshot when the table is still CREATING, so the next backup captures it again', async () => {
    // Prepare
    plainTable('CREATING');
    // Act
    const facts = await tableUpkeep(svc()).snapshotSettings!('orders', 'daily', now);
    // Assess
    expect(facts).toMatchObject({ status: 'CREATING' });
    expect(docMock).not.toHaveReceivedCommand(PutCommand);
    expect(docMock).not.toHaveReceivedCommand(UpdateCommand);
  });

  it('checks PITR without reading it again when the snapshot just did, and enables it when that read found it off', async () => {
    // Prepare
    ddbMock.on(UpdateContinuousBackupsCommand).resolves({});
    const upkeep = tableUpkeep(svc());
    // Act
    const same = await upkeep.ensurePitr!('orders', 9, { enabled: true, recoveryPeriodDays: 9 });
    const off = await upkeep.ensurePitr!('orders', 9, { enabled: false });
    // Assess
    expect(same).toMatchObject({ change: 'unchanged' });
    expect(off).toMatchObject({ change: 'enabled' });
    expect(ddbMock).not.toHaveReceivedCommand(DescribeContinuousBackupsCommand);
    expect(ddbMock).toHaveReceivedCommandTimes(UpdateContinuousBackupsCommand, 1);
    expect(ddbMock).toHaveReceivedCommandWith(UpdateContinuousBackupsCommand, {
      TableName: 'orders',
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true, RecoveryPeriodInDays: 9 },
    });
  });
});

describe('startRestore', () => {
  const deps = () => {
    const ddb = new DynamoDBClient(clientConfig);
    return { ddb, backups: new BackupsAdapter(ddb) };
  };
  const notFound = new ResourceNotFoundException({ message: 'Requested resource not found', $metadata: {} });

  it('restores to a point in time with RestoreDateTime, or with UseLatestRestorableTime', async () => {
    // Prepare
    ddbMock.on(DescribeTableCommand).rejects(notFound);
    ddbMock.on(RestoreTableToPointInTimeCommand).resolves({ TableDescription: { TableStatus: 'CREATING' } });
    const time = new Date('2026-11-20T08:30:00Z');

    // Act
    const at = await startRestore(deps(), { table: 'orders', target: 'orders-0830', source: { kind: 'point-in-time', time }, overrides: {} });
    const latest = await startRestore(deps(), { table: 'orders', target: 'orders-now', source: { kind: 'latest-restorable' }, overrides: { sse: { type: 'KMS', kmsKey: 'alias/k' } } });

    // Assess
    expect(at).toMatchObject({ kind: 'point-in-time', restoreDateTime: time.toISOString(), tableStatus: 'CREATING' });
    expect(latest).toMatchObject({ kind: 'point-in-time', useLatestRestorableTime: true });
    expect(ddbMock).toHaveReceivedCommandWith(RestoreTableToPointInTimeCommand, { SourceTableName: 'orders', TargetTableName: 'orders-0830', RestoreDateTime: time });
    expect(ddbMock).toHaveReceivedCommandWith(RestoreTableToPointInTimeCommand, {
      TargetTableName: 'orders-now',
      UseLatestRestorableTime: true,
      SSESpecificationOverride: { Enabled: true, SSEType: 'KMS', KMSMasterKeyId: 'alias/k' },
    });
  });

  it('restores a backup with billing, SSE and GSI-exclusion overrides', async () => {
    // Prepare
    const backupArn = `${arnOf('orders')}/backup/01795513554188-b5c49f75`;
    ddbMock.on(DescribeTableCommand).rejects(notFound);
    ddbMock.on(DescribeBackupCommand).resolves({
      BackupDescription: {
        BackupDetails: { BackupArn: backupArn, BackupName: 'x', BackupStatus: 'AVAILABLE', BackupType: 'USER', BackupCreationDateTime: new Date() },
        SourceTableDetails: { TableName: 'orders', TableId: 'id', KeySchema: [], TableCreationDateTime: new Date(), ProvisionedThroughput: { ReadCapacityUnits: 0, WriteCapacityUnits: 0 } },
        SourceTableFeatureDetails: {
          GlobalSecondaryIndexes: [
            { IndexName: 'keep', KeySchema: [{ AttributeName: 'k', KeyType: 'HASH' }], Projection: { ProjectionType: 'KEYS_ONLY' } },
            { IndexName: 'drop', KeySchema: [{ AttributeName: 'd', KeyType: 'HASH' }], Projection: { ProjectionType: 'ALL' } },
          ],
        },
      },
    });
    ddbMock.on(RestoreTableFromBackupCommand).resolves({ TableDescription: { TableStatus: 'CREATING' } });

    // Act
    await startRestore(deps(), {
      table: 'orders',
      target: 'orders-slim',
      source: { kind: 'backup', backupArn },
      overrides: { billingMode: 'PROVISIONED', read: 10, write: 5, sse: { type: 'DEFAULT' }, excludeIndexes: ['drop'] },
    });

    // Assess
    expect(ddbMock).toHaveReceivedCommandWith(RestoreTableFromBackupCommand, {
      TargetTableName: 'orders-slim',
      BackupArn: backupArn,
      BillingModeOverride: 'PROVISIONED',
      ProvisionedThroughputOverride: { ReadCapacityUnits: 10, WriteCapacityUnits: 5 },
      SSESpecificationOverride: { Enabled: false },
      GlobalSecondaryIndexOverride: [
        {
          IndexName: 'keep',
          KeySchema: [{ AttributeName: 'k', KeyType: 'HASH' }],
          Projection: { ProjectionType: 'KEYS_ONLY' },
          ProvisionedThroughput: { ReadCapacityUnits: 10, WriteCapacityUnits: 5 },
        },
      ],
    });
  });

  it('refuses when the target exists (no restore call), and maps a lost race to the same refusal', async () => {
    // Prepare
    ddbMock.on(DescribeTableCommand, { TableName: 'taken' }).resolves(table('taken'));
    ddbMock.on(DescribeTableCommand, { TableName: 'racy' }).rejects(notFound);
    ddbMock.on(RestoreTableToPointInTimeCommand).rejects(new TableAlreadyExistsException({ message: 'Table already exists: racy', $metadata: {} }));

    // Act
    const taken = startRestore(deps(), { table: 'orders', target: 'taken', source: { kind: 'latest-restorable' }, overrides: {} });
    const racy = startRestore(deps(), { table: 'orders', target: 'racy', source: { kind: 'latest-restorable' }, overrides: {} });

    // Assess
    await expect(taken).rejects.toBeInstanceOf(TargetExistsError);
    await expect(racy).rejects.toThrow('refusing to restore: table "racy" already exists');
    expect(ddbMock).toHaveReceivedCommandTimes(RestoreTableToPointInTimeCommand, 1);
    expect(ddbMock).toHaveReceivedCommandWith(RestoreTableToPointInTimeCommand, { TargetTableName: 'racy' });
    expect(ddbMock).not.toHaveReceivedCommand(RestoreTableFromBackupCommand);
  });
});

describe('digest handler', () => {
  it('publishes one message naming the unprotected, stale and failing tables; the ledger table is left out', async () => {
    // Prepare
    const built = buildService(
      createClients({ ...clientConfig, maxAttempts: 1 }),
      { ...configFromEnv({}), ledgerTable: 'ledger', topicArn: 'arn:aws:sns:us-east-1:123456789012:backups' },
      { now: () => new Date('2026-11-24T12:00:00Z') },
    );
    // The policy store's SSM reads are covered elsewhere; here every table's policy is "daily".
    const daily = parsePolicy({ schedule: 'rate(1 day)' });
    const policies = { getEffective: async (name: string) => ({ name, policy: daily, hash: policyHash(daily), overridden: false }) };
    const svc = { ...built, policies: policies as unknown as PolicyStore };
    ddbMock.on(ListTablesCommand).resolvesOnce({ TableNames: ['ledger', 'loose', 'orders'], LastEvaluatedTableName: 'orders' }).resolves({ TableNames: ['scratch-1', 'users'] });
    taggingMock.on(GetResourcesCommand).resolves({
      ResourceTagMappingList: [
        { ResourceARN: arnOf('orders'), Tags: [{ Key: 'backup:policy', Value: 'daily' }] },
        { ResourceARN: arnOf('users'), Tags: [{ Key: 'backup:policy', Value: 'daily' }] },
      ],
    });
    ddbMock.on(DescribeTableCommand).resolves(table('any'));
    ddbMock.on(DescribeContinuousBackupsCommand).resolves({ ContinuousBackupsDescription: { ContinuousBackupsStatus: 'ENABLED', PointInTimeRecoveryDescription: { PointInTimeRecoveryStatus: 'DISABLED' } } });
    docMock.on(GetCommand, { Key: { pk: 'TABLE#orders', sk: 'STATE#daily' } }).resolves({
      Item: { table: 'orders', policy: 'daily', lastBackupAt: '2026-11-24T03:00:00.000Z', lastAttemptAt: '2026-11-24T11:00:00.000Z', lastAttemptStatus: 'failed', lastError: 'LimitExceededException' },
    });
    docMock.on(GetCommand, { Key: { pk: 'TABLE#users', sk: 'STATE#daily' } }).resolves({});
    // The last backup is the newest live ledger record of the table and policy.
    docMock.on(QueryCommand).resolves({ Items: [] });
    docMock.on(QueryCommand, { ExpressionAttributeValues: { ':pk': 'TABLE#orders', ':b': 'BACKUP#daily#' } }).resolves({
      Items: [{ table: 'orders', policy: 'daily', slot: 's', status: 'AVAILABLE', backupArn: 'arn:aws:dynamodb:us-east-1:123456789012:table/orders/backup/1', createdAt: '2026-11-24T03:00:00.000Z' }],
    });
    ddbMock.on(ListBackupsCommand).resolves({ BackupSummaries: [] });
    snsMock.on(PublishCommand).resolves({ MessageId: 'm-1' });

    // The handler's module-scope logger reads its level when first imported.
    process.env.POWERTOOLS_LOG_LEVEL ??= 'SILENT';
    const { digestHandler } = await import('../../lambda/handlers/digest.handler');

    // Act
    const out = await digestHandler({}, svc, { DDB_BACKUP_DIGEST_IGNORE_TABLES: 'scratch-*' });

    // Assess
    expect(out).toEqual({ tables: 3, flagged: 3, messageId: 'm-1' });
    expect(snsMock).toHaveReceivedCommandTimes(PublishCommand, 1);
    expect(snsMock).toHaveReceivedCommandWith(PublishCommand, {
      TopicArn: 'arn:aws:sns:us-east-1:123456789012:backups',
      Subject: '[ddb-backup] coverage: 3 of 3 table(s) need attention (1 UNPROTECTED, 1 STALE, 1 FAILING)',
      Message: expect.stringContaining('UNPROTECTED:\n  - loose'),
    });
    const message = snsMock.commandCalls(PublishCommand)[0].args[0].input.Message!;
    const json = JSON.parse(message.split('```json')[1].split('```')[0]) as { tables: { table: string; flags: string[] }[] };
    expect(json.tables).toEqual([
      { table: 'loose', flags: ['UNPROTECTED'], reasons: ['no backup policy tag'] },
      { table: 'orders', flags: ['FAILING'], reasons: [expect.stringContaining('last attempt failed')] },
      { table: 'users', flags: ['STALE'], reasons: [expect.stringContaining('no backup yet')] },
    ]);
    expect(ddbMock).not.toHaveReceivedCommandWith(DescribeTableCommand, { TableName: 'ledger' });
  });
});
