import { randomBytes } from 'node:crypto';
import { CreateTableCommand, DeleteTableCommand, DynamoDBClient, PutItemCommand, type Tag } from '@aws-sdk/client-dynamodb';
import { CreateTopicCommand, SNSClient, SubscribeCommand } from '@aws-sdk/client-sns';
import {
  CreateQueueCommand,
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SQSClient,
  type Message,
} from '@aws-sdk/client-sqs';
import { PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { createClients, type Clients } from '../../lambda/aws/clients';
import { CallCounter } from '../../lambda/aws/limits';
import { buildService, configFromEnv, type Service } from '../../lambda/aws/service';
import { DEFAULTS } from '../../lambda/env';

/** The endpoint the integration tier talks to: moto from the global setup, or AWS_ENDPOINT_URL. */
export function endpoint(): string | undefined {
  return process.env.MOTO_ENDPOINT ?? process.env.AWS_ENDPOINT_URL;
}

export const REGION = process.env.AWS_REGION ?? 'us-east-1';

/** Unique, valid resource names so tests never share state. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
}

export function testClients(counter?: CallCounter): Clients {
  return createClients({ endpoint: endpoint(), region: REGION, counter, maxAttempts: 3 });
}

export interface TestEnv {
  readonly clients: Clients;
  readonly ddb: DynamoDBClient;
  readonly ssm: SSMClient;
  readonly sns: SNSClient;
  readonly sqs: SQSClient;
  readonly tagKey: string;
  readonly policyPrefix: string;
  readonly tablePrefix: string;
  readonly ledgerTable: string;
  readonly topicArn: string;
  /** SQS queue subscribed to the topic: where the test reads notifications. */
  readonly inboxUrl: string;
  /** A service of this world; give `clients` (e.g. testClients(counter)) to count its SDK calls. */
  service(overrides?: Partial<Parameters<typeof buildService>[1]>, clients?: Clients): Service;
}

/**
 * Builds an isolated world: its own tag key, SSM prefixes, ledger table, topic and inbox queue,
 * so tests can run side by side on one moto server.
 */
export async function makeEnv(name = 'env'): Promise<TestEnv> {
  const clients = testClients();
  const id = uniqueName(name);
  const tagKey = `backup:policy:${id}`;
  const policyPrefix = `/dynamodb-backup-test/${id}/policies/`;
  const tablePrefix = `/dynamodb-backup-test/${id}/tables/`;
  const ledgerTable = `ledger-${id}`;
  const svc0 = buildService(clients, { ...configFromEnv({}), ledgerTable });
  await svc0.ledger().init();
  const topic = await clients.sns.send(new CreateTopicCommand({ Name: `topic-${id}` }));
  const inbox = await clients.sqs.send(new CreateQueueCommand({ QueueName: `inbox-${id}` }));
  const inboxArn = (
    await clients.sqs.send(new GetQueueAttributesCommand({ QueueUrl: inbox.QueueUrl, AttributeNames: ['QueueArn'] }))
  ).Attributes?.QueueArn;
  await clients.sns.send(
    new SubscribeCommand({ TopicArn: topic.TopicArn, Protocol: 'sqs', Endpoint: inboxArn, Attributes: { RawMessageDelivery: 'false' } }),
  );
  const env: TestEnv = {
    clients,
    ddb: clients.dynamodb,
    ssm: clients.ssm,
    sns: clients.sns,
    sqs: clients.sqs,
    tagKey,
    policyPrefix,
    tablePrefix,
    ledgerTable,
    topicArn: topic.TopicArn!,
    inboxUrl: inbox.QueueUrl!,
    service(overrides = {}, own = clients) {
      return buildService(own, {
        ...configFromEnv({}),
        ledgerTable,
        topicArn: topic.TopicArn,
        tagKey,
        policyPrefix,
        tablePrefix,
        cacheSeconds: 0,
        ...overrides,
      });
    },
  };
  return env;
}

export async function putPolicyRaw(env: TestEnv, name: string, value: string): Promise<void> {
  await env.ssm.send(new PutParameterCommand({ Name: `${env.policyPrefix}${name}`, Value: value, Type: 'String', Overwrite: true }));
}

export async function putOverrideRaw(env: TestEnv, table: string, value: string): Promise<void> {
  await env.ssm.send(new PutParameterCommand({ Name: `${env.tablePrefix}${table}`, Value: value, Type: 'String', Overwrite: true }));
}

/** Creates a table, tagged when a tag value is given, with a few items. */
export async function createTable(env: TestEnv, name: string, tagValue?: string, items = 3): Promise<string> {
  const Tags: Tag[] | undefined = tagValue === undefined ? undefined : [{ Key: env.tagKey, Value: tagValue }];
  const out = await env.ddb.send(
    new CreateTableCommand({
      TableName: name,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
      KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
      Tags,
    }),
  );
  for (let i = 0; i < items; i++) {
    await env.ddb.send(new PutItemCommand({ TableName: name, Item: { pk: { S: `item-${i}` }, v: { N: String(i) } } }));
  }
  return out.TableDescription!.TableArn!;
}

export async function deleteTable(env: TestEnv, name: string): Promise<void> {
  await env.ddb.send(new DeleteTableCommand({ TableName: name }));
}

export interface Notification {
  readonly subject: string;
  readonly message: string;
}

/** Drains the inbox queue: every SNS notification delivered so far. */
export async function readNotifications(env: TestEnv, { waitForAtLeast = 0, timeoutMs = 5000 } = {}): Promise<Notification[]> {
  const out: Notification[] = [];
  const until = Date.now() + timeoutMs;
  for (;;) {
    const res = await env.sqs.send(
      new ReceiveMessageCommand({ QueueUrl: env.inboxUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0, VisibilityTimeout: 30 }),
    );
    const msgs: Message[] = res.Messages ?? [];
    for (const m of msgs) {
      const envelope = JSON.parse(m.Body ?? '{}') as { Subject?: string; Message?: string };
      out.push({ subject: envelope.Subject ?? '', message: envelope.Message ?? '' });
    }
    if (msgs.length > 0) {
      await env.sqs.send(
        new DeleteMessageBatchCommand({
          QueueUrl: env.inboxUrl,
          Entries: msgs.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle! })),
        }),
      );
      continue;
    }
    if (out.length >= waitForAtLeast || Date.now() > until) return out;
    await new Promise((r) => setTimeout(r, 100));
  }
}

export { DEFAULTS };
