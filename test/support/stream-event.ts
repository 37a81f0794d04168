import type { DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';

export const streamArn = (table: string): string => `arn:aws:dynamodb:us-east-1:123456789012:table/${table}/stream/2026-11-24T00:00:00.000`;

const EVENTS = ['INSERT', 'MODIFY', 'REMOVE'] as const;

/**
 * A KEYS_ONLY stream batch as Lambda delivers it: `perTable` records for each table, interleaved,
 * cycling INSERT, MODIFY, REMOVE, with sequence numbers from `firstSeq`.
 */
export function streamBatch(tables: readonly string[], perTable: number, firstSeq = 1): DynamoDBStreamEvent {
  const Records: DynamoDBRecord[] = [];
  let seq = firstSeq;
  for (let i = 0; i < perTable; i++) {
    for (const t of tables) {
      Records.push({
        eventID: String(seq),
        eventName: EVENTS[i % 3],
        eventSource: 'aws:dynamodb',
        eventSourceARN: streamArn(t),
        awsRegion: 'us-east-1',
        dynamodb: { SequenceNumber: String(seq++), Keys: { pk: { S: `k${i}` } }, StreamViewType: 'KEYS_ONLY' },
      });
    }
  }
  return { Records };
}
