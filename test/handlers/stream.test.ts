/**
 * The stream handler over SDK clients mocked with aws-sdk-client-mock: how many writes a batch
 * costs, and which records are reported when a table's counter write fails.
 */
import { DynamoDBClient, ListTagsOfResourceCommand } from '@aws-sdk/client-dynamodb';
import { SNSClient } from '@aws-sdk/client-sns';
import { SendMessageBatchCommand, SQSClient } from '@aws-sdk/client-sqs';
import { GetParameterCommand, GetParametersByPathCommand, SSMClient } from '@aws-sdk/client-ssm';
import { DynamoDBDocumentClient, GetCommand, PutCommand, TransactWriteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { createClients } from '../../lambda/aws/clients';
import { buildService, configFromEnv } from '../../lambda/aws/service';
import { buildStreamDeps } from '../../lambda/handlers/stream-deps';
import { processStreamBatch } from '../../lambda/handlers/stream.handler';
import { streamArn, streamBatch } from '../support/stream-event';

const DEAD_END = 'http://127.0.0.1:9';
const ddbMock = mockClient(DynamoDBClient);
const docMock = mockClient(DynamoDBDocumentClient);
const ssmMock = mockClient(SSMClient);
const snsMock = mockClient(SNSClient);
const sqsMock = mockClient(SQSClient);


function service() {
  const clients = createClients({ endpoint: DEAD_END, region: 'us-east-1', maxAttempts: 1 });
  return buildService(clients, {
    ...configFromEnv({}),
    ledgerTable: 'ledger',
    jobQueueUrl: 'https://sqs.us-east-1.amazonaws.com/123456789012/jobs.fifo',
    topicArn: 'arn:aws:sns:us-east-1:123456789012:topic',
    cacheSeconds: 300,
  });
}

beforeEach(() => {
  for (const m of [ddbMock, docMock, ssmMock, snsMock, sqsMock]) m.reset();
  ddbMock.on(ListTagsOfResourceCommand).resolves({ Tags: [{ Key: 'backup:policy', Value: 'busy' }] });
  ssmMock.on(GetParameterCommand).resolves({ Parameter: { Name: '/dynamodb-backup/policies/busy', Value: JSON.stringify({ changes: { writes: 1_000_000 } }) } });
  ssmMock.on(GetParametersByPathCommand).resolves({ Parameters: [] });
  docMock.on(UpdateCommand).callsFake((input: { Key: { pk: string } }) => ({
    Attributes: { pk: input.Key.pk, sk: 'CHANGES', inserts: 1, modifies: 1, removes: 1, createdAt: '2026-11-24T00:00:00.000Z' },
  }));
});

afterAll(() => {
  for (const m of [ddbMock, docMock, ssmMock, snsMock, sqsMock]) m.restore();
});

describe('stream handler: one counter write per table per batch', () => {
  it('counts a 10,000-record batch over 10 tables with exactly 10 counter writes', async () => {
    // Prepare
    const tables = Array.from({ length: 10 }, (_, i) => `table-${i}`);
    const event = streamBatch(tables, 1000, 1000);
    const deps = buildStreamDeps(service(), {});

    // Act
    const result = await processStreamBatch(event, undefined, deps);

    // Assess
    expect(event.Records).toHaveLength(10_000);
    expect(docMock).toHaveReceivedCommandTimes(UpdateCommand, 10);
    for (const t of tables) {
      expect(docMock).toHaveReceivedCommandWith(UpdateCommand, {
        TableName: 'ledger',
        Key: { pk: `TABLE#${t}`, sk: 'CHANGES' },
        UpdateExpression: expect.stringMatching(/^ADD #ins :i, #mod :m, #rem :r SET /),
        ExpressionAttributeValues: expect.objectContaining({ ':i': 334, ':m': 333, ':r': 333 }),
        ReturnValues: 'ALL_NEW',
      });
    }
    expect(docMock).not.toHaveReceivedCommand(PutCommand);
    expect(docMock).not.toHaveReceivedCommand(TransactWriteCommand);
    expect(docMock).not.toHaveReceivedCommand(GetCommand);
    expect(sqsMock).not.toHaveReceivedCommand(SendMessageBatchCommand);
    // Tags are read once per table and cached.
    expect(ddbMock).toHaveReceivedCommandTimes(ListTagsOfResourceCommand, 10);
    expect(result.response.batchItemFailures).toEqual([]);
    expect(result.tables.map((t) => t.counts)).toEqual(tables.map(() => ({ inserts: 334, modifies: 333, removes: 333 })));
  });

  it('reports the records of a table whose counter write failed, and only those', async () => {
    // Prepare
    const event = streamBatch(['ok-1', 'broken', 'ok-2'], 4, 1000);
    docMock
      .on(UpdateCommand, { Key: { pk: 'TABLE#broken', sk: 'CHANGES' } })
      .rejects(Object.assign(new Error('Throughput exceeds the current capacity'), { name: 'ProvisionedThroughputExceededException' }));
    const deps = buildStreamDeps(service(), {});

    // Act
    const result = await processStreamBatch(event, undefined, deps);

    // Assess
    const brokenSeqs = event.Records.filter((r) => r.eventSourceARN === streamArn('broken')).map((r) => r.dynamodb!.SequenceNumber);
    expect(result.response.batchItemFailures.map((f) => f.itemIdentifier).sort()).toEqual(brokenSeqs.sort());
    expect(result.failed).toEqual([{ table: 'broken', error: expect.stringContaining('ProvisionedThroughputExceeded') }]);
    expect(docMock).toHaveReceivedCommandTimes(UpdateCommand, 3);
  });

  it('fails the records without counting them when the table\'s policy cannot be read', async () => {
    // Prepare
    const event = streamBatch(['t1'], 3, 1000);
    ssmMock.on(GetParameterCommand).rejects(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' }));
    const deps = buildStreamDeps(service(), {});

    // Act / Assess: the whole batch failed, so the mapping bisects and retries it
    await expect(processStreamBatch(event, undefined, deps)).rejects.toThrow(/All records failed/);
    expect(docMock).not.toHaveReceivedCommand(UpdateCommand);
  });
});
