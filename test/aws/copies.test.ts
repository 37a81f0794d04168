/**
 * What moto does not do, with aws-sdk-client-mock: a FAILED export, the PITR refusal, an export
 * that wrote manifest-files.json (DynamoDB does, moto does not), a target created in a race, and
 * S3 listing pages and errors.
 */
import {
  DescribeExportCommand,
  DescribeTableCommand,
  DynamoDBClient,
  ExportTableToPointInTimeCommand,
  ImportTableCommand,
  ListExportsCommand,
  PointInTimeRecoveryUnavailableException,
  ResourceInUseException,
  ResourceNotFoundException,
} from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { CopyAdapter, copyTaskDeps, exportStateOf, startImport } from '../../lambda/aws/copies';
import { copyTask, copyTaskState } from '../../lambda/core/copies/copy-task';
import { copyExpiresAt, copySk } from '../../lambda/aws/copy-ledger';
import { S3RestObjects, type CopyObjects } from '../../lambda/aws/copy-objects';
import { TargetExistsError } from '../../lambda/aws/restore';
import type { SettingsClients } from '../../lambda/aws/table-settings';
import { PitrOffError, type CopyRecord } from '../../lambda/core/copies/copies';
import { CopyDataNotFoundError, importKeyPrefix } from '../../lambda/core/copies/import-source';

const ddbMock = mockClient(DynamoDBClient);
const docMock = mockClient(DynamoDBDocumentClient);
const ddb = new DynamoDBClient({ region: 'us-east-1', credentials: { accessKeyId: 'a', secretAccessKey: 'b' } });
const EXPORT = 'arn:aws:dynamodb:us-east-1:111122223333:table/orders/export/01700000000000-abcdef12';

const copy: CopyRecord = {
  table: 'orders',
  policy: 'daily',
  copyId: '20261202T120000Z-1a2b3c4d',
  exportArn: EXPORT,
  bucket: 'vault-bucket',
  prefix: 'copies/orders/20261202T120000Z-1a2b3c4d',
  owner: '444455556666',
  status: 'COMPLETED',
  requestedAt: '2026-12-02T12:00:00.000Z',
  itemCount: 3,
  keepDays: 35,
  schema: { keySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }], attributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }, { AttributeName: 'g', AttributeType: 'S' }] },
  settings: {
    version: 1,
    table: 'orders',
    tableArn: 'arn:aws:dynamodb:us-east-1:111122223333:table/orders',
    capturedAt: '2026-12-02T12:00:00.000Z',
    billingMode: 'PAY_PER_REQUEST',
    indexes: [{ name: 'by-g', keySchema: [{ AttributeName: 'g', KeyType: 'HASH' }], projection: { ProjectionType: 'ALL' } }],
  },
};

function objects(keys: string[], files: Record<string, string> = {}): CopyObjects & { reads: string[] } {
  const reads: string[] = [];
  return {
    reads,
    listKeys: async () => keys,
    getText: async (_b, key) => {
      reads.push(key);
      return files[key];
    },
  };
}

beforeEach(() => {
  ddbMock.reset();
  docMock.reset();
});

describe('exports', () => {
  it('reads a FAILED export with its code and message, and a COMPLETED one with count and bytes', () => {
    // Act
    const failed = exportStateOf({ ExportStatus: 'FAILED', FailureCode: 'S3AccessDenied', FailureMessage: 'Access Denied', EndTime: new Date('2026-12-02T13:00:00Z') });
    const done = exportStateOf({ ExportStatus: 'COMPLETED', ItemCount: 9, BilledSizeBytes: 900, EndTime: new Date('2026-12-02T13:00:00Z') });
    // Assess
    expect(failed).toEqual({ status: 'FAILED', completedAt: '2026-12-02T13:00:00.000Z', error: 'S3AccessDenied: Access Denied' });
    expect(done).toEqual({ status: 'COMPLETED', completedAt: '2026-12-02T13:00:00.000Z', itemCount: 9, billedSizeBytes: 900 });
  });

  it('maps DynamoDB refusing an export for PITR to PitrOffError, and names the bucket owner', async () => {
    // Prepare
    ddbMock.on(ExportTableToPointInTimeCommand).rejects(new PointInTimeRecoveryUnavailableException({ message: 'PITR is not enabled', $metadata: {} }));
    const adapter = new CopyAdapter({ dynamodb: ddb } as SettingsClients);
    // Act
    const err = await adapter.startExport({ tableArn: copy.settings!.tableArn, bucket: 'vault-bucket', prefix: copy.prefix, owner: '444455556666', clientToken: copy.copyId }).catch((e: unknown) => e);
    // Assess
    expect(err).toBeInstanceOf(PitrOffError);
    expect((err as Error).message).toContain('PITR');
    expect(ddbMock).toHaveReceivedCommandWith(ExportTableToPointInTimeCommand, {
      S3BucketOwner: '444455556666',
      ExportFormat: 'DYNAMODB_JSON',
      ExportType: 'FULL_EXPORT',
      ClientToken: copy.copyId,
      S3Prefix: copy.prefix,
    });
  });

  it('always passes TableArn to ListExports and follows every page', async () => {
    // Prepare
    ddbMock
      .on(ListExportsCommand)
      .resolvesOnce({ ExportSummaries: [{ ExportArn: 'e1', ExportStatus: 'COMPLETED' }], NextToken: 't' })
      .resolvesOnce({ ExportSummaries: [{ ExportArn: 'e2', ExportStatus: 'IN_PROGRESS' }] });
    // Act
    const listed = await new CopyAdapter({ dynamodb: ddb } as SettingsClients).listExports(copy.settings!.tableArn);
    // Assess
    expect(listed).toEqual([{ exportArn: 'e1', status: 'COMPLETED' }, { exportArn: 'e2', status: 'IN_PROGRESS' }]);
    expect(ddbMock).toHaveReceivedCommandTimes(ListExportsCommand, 2);
    expect(ddbMock).toHaveReceivedNthSpecificCommandWith(2, ListExportsCommand, { TableArn: copy.settings!.tableArn, NextToken: 't' });
  });

  it('describes an export by its ARN', async () => {
    // Prepare
    ddbMock.on(DescribeExportCommand, { ExportArn: EXPORT }).resolves({ ExportDescription: { ExportStatus: 'IN_PROGRESS' } });
    // Act
    const state = await new CopyAdapter({ dynamodb: ddb } as SettingsClients).describeExport(EXPORT);
    // Assess
    expect(state).toEqual({ status: 'IN_PROGRESS' });
  });
});

describe('import source', () => {
  const base = `${copy.prefix}/AWSDynamoDB/01700000000000-abcdef12`;

  it("imports from the data files the export's manifest names, and reads it from the copy's bucket and owner", async () => {
    // Prepare
    ddbMock.on(DescribeTableCommand).rejects(new ResourceNotFoundException({ message: 'not found', $metadata: {} }));
    ddbMock.on(ImportTableCommand).resolves({ ImportTableDescription: { ImportArn: 'arn:import', ImportStatus: 'IN_PROGRESS' } });
    const manifest = [`{"itemCount":2,"dataFileS3Key":"${base}/data/a.json.gz"}`, `{"itemCount":1,"dataFileS3Key":"${base}/data/b.json.gz"}`].join('\n');
    const s3 = objects([`${base}/manifest-summary.json`, `${base}/manifest-files.json`, `${base}/data/a.json.gz`, `${base}/data/b.json.gz`, `${base}/_started`], { [`${base}/manifest-files.json`]: manifest });
    // Act
    const started = await startImport(ddb, s3, copy, 'orders-restored');
    // Assess
    expect(started).toEqual({ importArn: 'arn:import', status: 'IN_PROGRESS', keyPrefix: `${base}/data/`, manifest: true });
    expect(s3.reads).toEqual([`${base}/manifest-files.json`]);
    expect(ddbMock).toHaveReceivedCommandWith(ImportTableCommand, {
      S3BucketSource: { S3Bucket: 'vault-bucket', S3KeyPrefix: `${base}/data/`, S3BucketOwner: '444455556666' },
      InputFormat: 'DYNAMODB_JSON',
      InputCompressionType: 'GZIP',
      TableCreationParameters: expect.objectContaining({
        TableName: 'orders-restored',
        BillingMode: 'PAY_PER_REQUEST',
        KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
        GlobalSecondaryIndexes: [{ IndexName: 'by-g', KeySchema: [{ AttributeName: 'g', KeyType: 'HASH' }], Projection: { ProjectionType: 'ALL' } }],
      }),
    });
  });

  it('works without a manifest from the listed data keys, and refuses a prefix with no data', () => {
    // Act
    const found = importKeyPrefix(copy, [`${copy.prefix}/AWSDynamoDB/some-uuid/data/x.gz`]);
    const none = () => importKeyPrefix(copy, [`${copy.prefix}/AWSDynamoDB/some-uuid/_started`]);
    // Assess
    expect(found).toBe(`${copy.prefix}/AWSDynamoDB/some-uuid/data/`);
    expect(none).toThrow(CopyDataNotFoundError);
  });

  it('maps a target created in a race to TargetExistsError', async () => {
    // Prepare
    ddbMock.on(DescribeTableCommand).rejects(new ResourceNotFoundException({ message: 'not found', $metadata: {} }));
    ddbMock.on(ImportTableCommand).rejects(new ResourceInUseException({ message: 'Table already exists', $metadata: {} }));
    // Act
    const err = await startImport(ddb, objects([`${base}/data/a.gz`]), copy, 'orders-restored').catch((e: unknown) => e);
    // Assess
    expect(err).toBeInstanceOf(TargetExistsError);
  });

  it('never imports over an existing table', async () => {
    // Prepare
    ddbMock.on(DescribeTableCommand).resolves({ Table: { TableName: 'orders-restored', TableStatus: 'ACTIVE' } });
    // Act
    const err = await startImport(ddb, objects([`${base}/data/a.gz`]), copy, 'orders-restored').catch((e: unknown) => e);
    // Assess
    expect(err).toBeInstanceOf(TargetExistsError);
    expect(ddbMock).not.toHaveReceivedCommand(ImportTableCommand);
  });
});

describe('the copy task over the service clients (what the waiter runs)', () => {
  it('describes the export and records it COMPLETED in the ledger, conditionally on IN_PROGRESS', async () => {
    // Prepare
    ddbMock.on(DescribeExportCommand, { ExportArn: EXPORT }).resolves({ ExportDescription: { ExportStatus: 'COMPLETED', ItemCount: 3, BilledSizeBytes: 300, EndTime: new Date('2026-12-02T12:30:00Z') } });
    docMock.on(UpdateCommand).resolves({});
    const deps = copyTaskDeps({ dynamodb: ddb }, 'ledger-table');
    // Act
    const outcome = await copyTask.step(deps, copyTaskState({ ...copy, status: 'IN_PROGRESS' }), new Date('2026-12-02T12:31:00Z'));
    // Assess
    expect(outcome).toMatchObject({ next: 'done', passed: true, summary: `copy ${copy.copyId} of orders COMPLETED: 3 items, 300 bytes` });
    expect(docMock).toHaveReceivedCommandWith(UpdateCommand, {
      TableName: 'ledger-table',
      Key: { pk: 'COPY#orders', sk: `2026-12-02T12:00:00.000Z#${copy.copyId}` },
      ConditionExpression: '#s = :inProgress',
    });
  });
});

describe('copy records', () => {
  it('keys a copy by requested time and id, and keeps its record keepDays + 400 days', () => {
    // Act
    const sk = copySk(copy);
    const expires = copyExpiresAt(copy);
    // Assess
    expect(sk).toBe('2026-12-02T12:00:00.000Z#20261202T120000Z-1a2b3c4d');
    expect(expires).toBe(Date.parse('2026-12-02T12:00:00Z') / 1000 + 435 * 86_400);
  });
});

describe('S3 listing', () => {
  it('signs ListObjectsV2, follows continuation tokens, decodes keys and names the bucket owner', async () => {
    // Prepare
    const calls: { url: string; headers: Record<string, string> }[] = [];
    const pages = [
      '<ListBucketResult><Key>p/a&amp;b.gz</Key><IsTruncated>true</IsTruncated><NextContinuationToken>tok</NextContinuationToken></ListBucketResult>',
      '<ListBucketResult><Key>p/c.gz</Key><IsTruncated>false</IsTruncated></ListBucketResult>',
    ];
    const fakeFetch = (async (url: string, init: { headers: Record<string, string> }) => {
      calls.push({ url, headers: init.headers });
      return new Response(pages[calls.length - 1], { status: 200 });
    }) as unknown as typeof fetch;
    const s3 = new S3RestObjects(ddb, { region: 'eu-west-1', fetch: fakeFetch, endpoint: 'https://s3.example.test' });
    // Act
    const keys = await s3.listKeys('vault-bucket', 'p/', '444455556666');
    // Assess
    expect(keys).toEqual(['p/a&b.gz', 'p/c.gz']);
    expect(calls[1].url).toBe('https://s3.example.test/vault-bucket/?list-type=2&prefix=p%2F&continuation-token=tok');
    expect(calls[0].headers.authorization).toMatch(/^AWS4-HMAC-SHA256 Credential=a\/\d{8}\/eu-west-1\/s3\/aws4_request/);
    expect(calls[0].headers['x-amz-expected-bucket-owner']).toBe('444455556666');
  });

  it('reports a refused listing with its S3 error code, and a missing manifest as none', async () => {
    // Prepare
    const fakeFetch = (async (url: string) =>
      url.includes('list-type') ? new Response('<Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>', { status: 403 }) : new Response('', { status: 404 })) as unknown as typeof fetch;
    const s3 = new S3RestObjects(ddb, { region: 'us-east-1', fetch: fakeFetch, endpoint: 'https://s3.example.test' });
    // Act
    const err = await s3.listKeys('vault-bucket', 'p/').catch((e: unknown) => e);
    const manifest = await s3.getText('vault-bucket', 'p/manifest-files.json');
    // Assess
    expect((err as Error).message).toBe('cannot list s3://vault-bucket/p/: HTTP 403 AccessDenied Access Denied');
    expect(manifest).toBeUndefined();
  });
});
