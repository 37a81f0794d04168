import { DescribeTableCommand, DynamoDBClient, ResourceNotFoundException, UpdateTableCommand } from '@aws-sdk/client-dynamodb';
import {
  CreateEventSourceMappingCommand,
  DeleteEventSourceMappingCommand,
  LambdaClient,
  ListEventSourceMappingsCommand,
  UpdateEventSourceMappingCommand,
} from '@aws-sdk/client-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { StreamMappings } from '../../lambda/aws/stream-mappings';

const lambdaMock = mockClient(LambdaClient);
const ddbMock = mockClient(DynamoDBClient);
const config = { region: 'us-east-1', endpoint: 'http://127.0.0.1:9', credentials: { accessKeyId: 'a', secretAccessKey: 'b' }, maxAttempts: 1 };
const sArn = (t: string) => `arn:aws:dynamodb:us-east-1:123456789012:table/${t}/stream/2026-01-01T00:00:00.000`;

function api() {
  return new StreamMappings(new LambdaClient(config), new DynamoDBClient(config), {
    functionName: 'stream-fn',
    onFailureArn: 'arn:aws:sqs:us-east-1:123456789012:failures',
  });
}

beforeEach(() => {
  lambdaMock.reset();
  ddbMock.reset();
});
afterAll(() => {
  lambdaMock.restore();
  ddbMock.restore();
});

describe('StreamMappings over the Lambda API', () => {
  it('lists every page of the function\'s mappings, DynamoDB sources only', async () => {
    // Prepare
    lambdaMock
      .on(ListEventSourceMappingsCommand, { FunctionName: 'stream-fn', Marker: undefined })
      .resolves({ EventSourceMappings: [{ UUID: '1', EventSourceArn: sArn('a'), State: 'Enabled' }], NextMarker: 'p2' })
      .on(ListEventSourceMappingsCommand, { FunctionName: 'stream-fn', Marker: 'p2' })
      .resolves({
        EventSourceMappings: [
          { UUID: '2', EventSourceArn: sArn('b'), FilterCriteria: { Filters: [{ Pattern: '{"eventName":["REMOVE"]}' }] } },
          { UUID: '3', EventSourceArn: 'arn:aws:sqs:us-east-1:123456789012:q' },
        ],
      });

    // Act
    const mappings = await api().listMappings();

    // Assess
    expect(lambdaMock).toHaveReceivedCommandTimes(ListEventSourceMappingsCommand, 2);
    expect(mappings).toEqual([
      { uuid: '1', eventSourceArn: sArn('a'), state: 'Enabled', filterPatterns: [] },
      { uuid: '2', eventSourceArn: sArn('b'), state: undefined, filterPatterns: ['{"eventName":["REMOVE"]}'] },
    ]);
  });

  it('creates a mapping with the service\'s settings, filtered to REMOVE when asked', async () => {
    // Prepare
    lambdaMock.on(CreateEventSourceMappingCommand).resolves({ UUID: 'new' });

    // Act
    const uuid = await api().createMapping(sArn('a'), 'REMOVE');

    // Assess
    expect(uuid).toBe('new');
    expect(lambdaMock).toHaveReceivedCommandWith(CreateEventSourceMappingCommand, {
      FunctionName: 'stream-fn',
      EventSourceArn: sArn('a'),
      StartingPosition: 'LATEST',
      BatchSize: 1000,
      MaximumBatchingWindowInSeconds: 5,
      BisectBatchOnFunctionError: true,
      MaximumRetryAttempts: 5,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      DestinationConfig: { OnFailure: { Destination: 'arn:aws:sqs:us-east-1:123456789012:failures' } },
      FilterCriteria: { Filters: [{ Pattern: '{"eventName":["REMOVE"]}' }] },
    });
  });

  it('updates filters, deletes mappings (gone is fine), enables KEYS_ONLY streams and reads LatestStreamArn', async () => {
    // Prepare
    lambdaMock.on(DeleteEventSourceMappingCommand).rejects(Object.assign(new Error('gone'), { name: 'ResourceNotFoundException' }));
    ddbMock
      .on(DescribeTableCommand, { TableName: 'a' })
      .resolves({ Table: { TableName: 'a', LatestStreamArn: sArn('a'), StreamSpecification: { StreamEnabled: true, StreamViewType: 'KEYS_ONLY' } } })
      .on(DescribeTableCommand, { TableName: 'b' })
      .resolves({ Table: { TableName: 'b' } })
      .on(DescribeTableCommand, { TableName: 'c' })
      .rejects(new ResourceNotFoundException({ message: 'no', $metadata: {} }));

    // Act
    const s = api();
    await s.updateMapping('1', 'ALL');
    await s.deleteMapping('2');
    await s.enableStream('b');
    const infos = await Promise.all(['a', 'b', 'c'].map((t) => s.describeStream(t)));

    // Assess
    expect(lambdaMock).toHaveReceivedCommandWith(UpdateEventSourceMappingCommand, { UUID: '1', FilterCriteria: { Filters: [] } });
    expect(ddbMock).toHaveReceivedCommandWith(UpdateTableCommand, {
      TableName: 'b',
      StreamSpecification: { StreamEnabled: true, StreamViewType: 'KEYS_ONLY' },
    });
    expect(infos).toEqual([
      { table: 'a', exists: true, enabled: true, streamArn: sArn('a') },
      { table: 'b', exists: true, enabled: false },
      { table: 'c', exists: false, enabled: false },
    ]);
  });
});
