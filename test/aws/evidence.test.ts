/**
 * The evidence reads where moto falls short: ListBackups with BackupType ALL (moto ignores the
 * type and paging, so AWS Backup's recovery points and a second page exist only here), and the
 * newest-drill query's shape. Clients are mocked with aws-sdk-client-mock.
 */
import { DynamoDBClient, ListBackupsCommand } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { listAllBackupTypes, newestDrill } from '../../lambda/aws/evidence';
import { evidenceRow } from '../../lambda/core/evidence/report';

const ddbMock = mockClient(DynamoDBClient);
const docMock = mockClient(DynamoDBDocumentClient);
const ddb = new DynamoDBClient({ region: 'us-east-1' });
const ARN = (id: string) => `arn:aws:dynamodb:us-east-1:123456789012:table/orders/backup/${id}`;

beforeEach(() => {
  ddbMock.reset();
  docMock.reset();
});

describe('listAllBackupTypes', () => {
  it('asks for every backup type, follows the pages, and keeps each entry with its type', async () => {
    // Prepare: page 1 holds the service's USER backup, page 2 an AWS Backup recovery point.
    const t1 = new Date('2026-11-01T03:00:00Z');
    const t2 = new Date('2026-11-01T05:00:00Z');
    ddbMock
      .on(ListBackupsCommand, { ExclusiveStartBackupArn: undefined })
      .resolves({ BackupSummaries: [{ BackupArn: ARN('a'), TableName: 'orders', BackupCreationDateTime: t1, BackupType: 'USER', BackupStatus: 'AVAILABLE' }], LastEvaluatedBackupArn: ARN('a') })
      .on(ListBackupsCommand, { ExclusiveStartBackupArn: ARN('a') })
      .resolves({ BackupSummaries: [{ BackupArn: ARN('b'), TableName: 'orders', BackupCreationDateTime: t2, BackupType: 'AWS_BACKUP', BackupStatus: 'AVAILABLE' }] });
    // Act
    const listed = await listAllBackupTypes(ddb, 'orders');
    // Assess
    expect(ddbMock).toHaveReceivedCommandTimes(ListBackupsCommand, 2);
    expect(ddbMock).toHaveReceivedNthCommandWith(1, ListBackupsCommand, { TableName: 'orders', BackupType: 'ALL' });
    expect(ddbMock).toHaveReceivedNthCommandWith(2, ListBackupsCommand, { ExclusiveStartBackupArn: ARN('a'), BackupType: 'ALL' });
    expect(listed).toEqual([
      { arn: ARN('a'), createdAt: t1.toISOString(), type: 'USER', status: 'AVAILABLE' },
      { arn: ARN('b'), createdAt: t2.toISOString(), type: 'AWS_BACKUP', status: 'AVAILABLE' },
    ]);
    // ... and the report counts the AWS Backup point as AWS Backup's, the unknown USER one as by hand.
    const row = evidenceRow(
      { table: 'orders', policies: [{ name: 'daily', rpoMinutes: 2160 }], ledger: [], listed },
      { from: new Date('2026-11-01T00:00:00Z'), to: new Date('2026-11-01T12:00:00Z') },
    );
    expect(row.recoveryPoints).toEqual({ service: 0, 'aws-backup': 1, manual: 1 });
  });

  it('gives up on a cursor that comes back rather than loop or pass off part of a listing', async () => {
    // Prepare
    ddbMock.on(ListBackupsCommand).resolves({ BackupSummaries: [], LastEvaluatedBackupArn: ARN('a') });
    // Act
    const act = listAllBackupTypes(ddb, 'orders');
    // Assess
    await expect(act).rejects.toThrow(/cursor .* came back/);
    expect(ddbMock).toHaveReceivedCommandTimes(ListBackupsCommand, 2);
  });
});

describe('newestDrill', () => {
  it('reads only the newest DRILL#<table> item', async () => {
    // Prepare
    docMock.on(QueryCommand).resolves({ Items: [{ pk: 'DRILL#orders', sk: '2026-11-02T01:00:00.000Z', startedAt: '2026-11-02T01:00:00.000Z', passed: false, outcome: 'item count differs' }] });
    // Act
    const drill = await newestDrill(ddb, 'ledger', 'orders');
    // Assess
    expect(docMock).toHaveReceivedCommandWith(QueryCommand, {
      TableName: 'ledger',
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': 'DRILL#orders' },
      ScanIndexForward: false,
      Limit: 1,
    });
    expect(drill).toEqual({ startedAt: '2026-11-02T01:00:00.000Z', passed: false, outcome: 'item count differs' });
  });

  it('is undefined when the table has no drill', async () => {
    docMock.on(QueryCommand).resolves({ Items: [] });
    await expect(newestDrill(ddb, 'ledger', 'orders')).resolves.toBeUndefined();
  });
});
