import { TransactWriteCommand, GetCommand, PutCommand, UpdateCommand, paginateQuery, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { JobResult } from '../core/jobs';
import type { RunHeader, RunLedger } from '../core/runs';
import { LedgerMissingError } from '../core/errors';
import { conditionHeld, isConditionFailure, withRetryable } from './errors';

/**
 * Run tracking in the ledger table: one header per run (pk=RUN#<runId> sk=RUN) and one result
 * item per job (sk=RESULT#<table>#<policy>), so exactly one worker publishes the run's summary.
 * The base of `Ledger`, which adds the backup records.
 */

const runPk = (runId: string) => `RUN#${runId}`;

/** Run items expire (DynamoDB TTL) after this many days; backup records and state do not. */
const RUN_TTL_DAYS = 30;

export function ttl(now: Date, days: number): number {
  return Math.floor(now.getTime() / 1000) + days * 86400;
}

/** A transaction that lost a race with another writer of the same item: retry it. */
function isTransactionConflict(err: unknown): boolean {
  const e = err as { name?: string; CancellationReasons?: { Code?: string }[] };
  return e?.name === 'TransactionCanceledException' && (e.CancellationReasons ?? []).some((r) => r.Code === 'TransactionConflict');
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class RunLedgerStore implements RunLedger {
  constructor(
    protected readonly doc: DynamoDBDocumentClient,
    readonly tableName: string,
  ) {}

  /**
   * After the SDK's own retries, throttling and 5xx from the ledger become RetryableError, so a
   * job is retried (SQS, or the CLI's retry loop) rather than failed for good.
   */
  protected async call<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await withRetryable(`ledger ${this.tableName}`, fn);
    } catch (err) {
      // A missing ledger is an operator's problem with one fix; say which.
      if ((err as { name?: string })?.name === 'ResourceNotFoundException') throw new LedgerMissingError(this.tableName, { cause: err });
      throw err;
    }
  }

  /** Written by the planner before it enqueues the run's jobs. */
  async startRun(header: Omit<RunHeader, 'completed' | 'notifiedAt'>, now: Date): Promise<void> {
    // A condition that does not hold: the same tick delivered twice; the first header stands.
    await conditionHeld(() => this.call(() => this.doc.send(
      new PutCommand({
        TableName: this.tableName,
        Item: { pk: runPk(header.runId), sk: 'RUN', ...header, completed: 0, expiresAt: ttl(now, RUN_TTL_DAYS) },
        ConditionExpression: 'attribute_not_exists(pk)',
      }),
    )));
  }

  /**
   * Records one job's result in its run, once. Returns the run header when this result was the
   * run's last one and this caller won the right to publish the summary; otherwise undefined.
   */
  async recordRunResult(runId: string, result: JobResult, now: Date): Promise<RunHeader | undefined> {
    // Workers finishing jobs of one run at once update the same run item: a TransactionConflict
    // is retried with jitter, never mistaken for a duplicate (which would lose the result).
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.recordRunResultOnce(runId, result, now);
      } catch (err) {
        if (!isTransactionConflict(err) || attempt >= 8) throw err;
        await sleep(Math.random() * 50 * 2 ** attempt);
      }
    }
  }

  private async recordRunResultOnce(runId: string, result: JobResult, now: Date): Promise<RunHeader | undefined> {
    try {
      await this.call(() => this.doc.send(
        new TransactWriteCommand({
          TransactItems: [
            {
              Put: {
                TableName: this.tableName,
                Item: {
                  pk: runPk(runId),
                  sk: `RESULT#${result.table}#${result.policy}`,
                  ...result,
                  recordedAt: now.toISOString(),
                  expiresAt: ttl(now, RUN_TTL_DAYS),
                },
                ConditionExpression: 'attribute_not_exists(pk)',
              },
            },
            {
              Update: {
                TableName: this.tableName,
                Key: { pk: runPk(runId), sk: 'RUN' },
                UpdateExpression: 'ADD completed :one',
                ConditionExpression: 'attribute_exists(pk)',
                ExpressionAttributeValues: { ':one': 1 },
              },
            },
          ],
        }),
      ));
    } catch (err) {
      if (!isConditionFailure(err)) throw err;
      return undefined; // duplicate delivery, or a run without a header (CLI-only run)
    }
    const header = await this.getRun(runId);
    if (!header || header.completed < header.expected || header.notifiedAt) return undefined;
    return (await this.claimRunNotification(runId, now)) ? header : undefined;
  }

  /** Exactly one caller wins the right to publish a run's summary. */
  async claimRunNotification(runId: string, now: Date): Promise<boolean> {
    return conditionHeld(() => this.call(() => this.doc.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: { pk: runPk(runId), sk: 'RUN' },
        UpdateExpression: 'SET notifiedAt = :now',
        ConditionExpression: 'attribute_exists(pk) AND attribute_not_exists(notifiedAt)',
        ExpressionAttributeValues: { ':now': now.toISOString() },
      }),
    )));
  }

  async getRun(runId: string): Promise<RunHeader | undefined> {
    const out = await this.call(() => this.doc.send(
      new GetCommand({ TableName: this.tableName, Key: { pk: runPk(runId), sk: 'RUN' }, ConsistentRead: true }),
    ));
    return out.Item as RunHeader | undefined;
  }

  async listRunResults(runId: string): Promise<JobResult[]> {
    const out: JobResult[] = [];
    const pages = paginateQuery(
      { client: this.doc },
      {
        TableName: this.tableName,
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :r)',
        ExpressionAttributeValues: { ':pk': runPk(runId), ':r': 'RESULT#' },
        ConsistentRead: true,
      },
    );
    for await (const page of pages) {
      for (const item of page.Items ?? []) {
        const { table, policy, status, backupArn, reason } = item as JobResult;
        out.push({ table, policy, status, ...(backupArn ? { backupArn } : {}), ...(reason ? { reason } : {}) });
      }
    }
    return out;
  }
}
