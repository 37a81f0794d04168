import { randomUUID } from 'node:crypto';
import { TransactWriteCommand, GetCommand, PutCommand, UpdateCommand, paginateQuery, paginateScan, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { JobResult } from '../core/jobs';
import type { RunProblem } from '../core/backup/summary';
import { NOTIFY_LEASE_MS, type RunHeader, type PagedRunLedger, type RunNotificationClaim, type RunStart } from '../core/backup/runs';
import { LedgerMissingError } from '../core/errors';
import { conditionHeld, isNotFound, isTransactionConflict, withRetryable } from './errors';

/**
 * Run tracking in the ledger table: one header per run (pk=RUN#<runId> sk=RUN) and one result
 * item per job (sk=RESULT#<table>#<policy>). The run's summary is published under a lease on the
 * header (notifyClaimedAt, notifyClaimId) and marked notified (notifiedAt) only once SNS accepted
 * it, so one publisher at a time, and a failed publish is tried again. The base of `Ledger`, which
 * adds the backup records.
 */

const runPk = (runId: string) => `RUN#${runId}`;

/** Run items expire (DynamoDB TTL) after this many days; backup records and state do not. */
const RUN_TTL_DAYS = 30;

export function ttl(now: Date, days: number): number {
  return Math.floor(now.getTime() / 1000) + days * 86400;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class RunLedgerStore implements PagedRunLedger {
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
      if (isNotFound(err, 'table')) throw new LedgerMissingError(this.tableName, { cause: err });
      throw err;
    }
  }

  /** Written by the planner before it enqueues the run's jobs. */
  async startRun(header: RunStart, now: Date): Promise<void> {
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
   * One page of a fanned-out run, once: its count on the header and its problems in an item of
   * its own (a run of 100,000 tables may report more than one item can hold), in one transaction.
   */
  async addRunPage(runId: string, page: { index: number; expected: number; problems: readonly RunProblem[]; last: boolean }): Promise<boolean> {
    const now = new Date();
    const problems = page.problems.length
      ? [{ Put: { TableName: this.tableName, Item: { pk: runPk(runId), sk: `PAGE#${String(page.index).padStart(6, '0')}`, problems: [...page.problems], expiresAt: ttl(now, RUN_TTL_DAYS) } } }]
      : [];
    return conditionHeld(() => this.call(() => this.doc.send(
      new TransactWriteCommand({
        TransactItems: [
          {
            Update: {
              TableName: this.tableName,
              Key: { pk: runPk(runId), sk: 'RUN' },
              UpdateExpression: `ADD expected :n, pagesPlanned :page${page.last ? ' REMOVE planning' : ''}`,
              ConditionExpression: 'attribute_exists(pk) AND NOT contains(pagesPlanned, :index)',
              ExpressionAttributeValues: { ':n': page.expected, ':page': new Set([String(page.index)]), ':index': String(page.index) },
            },
          },
          ...problems,
        ],
      }),
    )));
  }

  async listRunProblems(runId: string): Promise<RunProblem[]> {
    const out: RunProblem[] = [];
    const pages = paginateQuery(
      { client: this.doc },
      { TableName: this.tableName, KeyConditionExpression: 'pk = :pk AND begins_with(sk, :p)', ExpressionAttributeValues: { ':pk': runPk(runId), ':p': 'PAGE#' } },
    );
    for await (const page of pages) for (const item of page.Items ?? []) out.push(...((item.problems ?? []) as RunProblem[]));
    return out;
  }

  /**
   * Records one job's result in its run, once: true when this call recorded it; false for a
   * duplicate delivery, or a run without a header (a CLI-only run).
   */
  async recordRunResult(runId: string, result: JobResult, now: Date): Promise<boolean> {
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

  private async recordRunResultOnce(runId: string, result: JobResult, now: Date): Promise<boolean> {
    return conditionHeld(() => this.call(() => this.doc.send(
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
    )));
  }

  /**
   * The lease to publish the run's summary: taken only when every result is in, the run is not
   * notified, and no lease younger than NOTIFY_LEASE_MS is held. One conditional write decides.
   */
  async claimRunNotification(runId: string, now: Date): Promise<RunNotificationClaim> {
    const header = await this.getRun(runId);
    if (!header || header.planning || header.completed < header.expected || header.notifiedAt) return { status: 'not-due' };
    const leaseFrom = new Date(now.getTime() - NOTIFY_LEASE_MS).toISOString();
    if (header.notifyClaimedAt && header.notifyClaimedAt > leaseFrom) return { status: 'held', since: header.notifyClaimedAt };
    const claimId = randomUUID();
    const claimed = await conditionHeld(() => this.call(() => this.doc.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: { pk: runPk(runId), sk: 'RUN' },
        UpdateExpression: 'SET notifyClaimedAt = :now, notifyClaimId = :claim',
        ConditionExpression:
          'attribute_exists(pk) AND #completed >= #expected AND attribute_not_exists(notifiedAt) AND attribute_not_exists(planning) ' +
          'AND (attribute_not_exists(notifyClaimedAt) OR notifyClaimedAt <= :leaseFrom)',
        ExpressionAttributeNames: { '#completed': 'completed', '#expected': 'expected' },
        ExpressionAttributeValues: { ':now': now.toISOString(), ':claim': claimId, ':leaseFrom': leaseFrom },
      }),
    )));
    // Lost the write: another publisher claimed (or settled) the run in the meantime.
    return claimed ? { status: 'claimed', claimId, header } : { status: 'held' };
  }

  /** After SNS accepted the summary (or the run needs none): notified, under this lease only. */
  async markRunNotified(runId: string, claimId: string, now: Date, messageId?: string): Promise<boolean> {
    return conditionHeld(() => this.call(() => this.doc.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: { pk: runPk(runId), sk: 'RUN' },
        UpdateExpression: messageId ? 'SET notifiedAt = :now, notifyMessageId = :messageId' : 'SET notifiedAt = :now',
        ConditionExpression: 'notifyClaimId = :claim AND attribute_not_exists(notifiedAt)',
        ExpressionAttributeValues: { ':now': now.toISOString(), ':claim': claimId, ...(messageId ? { ':messageId': messageId } : {}) },
      }),
    )));
  }

  /** Gives the lease back after a failed publish; a lease already taken over is left alone. */
  async releaseRunNotification(runId: string, claimId: string): Promise<void> {
    await conditionHeld(() => this.call(() => this.doc.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: { pk: runPk(runId), sk: 'RUN' },
        UpdateExpression: 'REMOVE notifyClaimedAt, notifyClaimId',
        ConditionExpression: 'notifyClaimId = :claim',
        ExpressionAttributeValues: { ':claim': claimId },
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
      for (const item of page.Items ?? []) out.push(resultOf(item));
    }
    return out;
  }

  /**
   * The most recent runs (headers), newest first, of one policy or all. Run items expire after
   * RUN_TTL_DAYS; this scans the ledger for them (an operator's command, not a hot path).
   */
  async listRuns(opts: { policy?: string; limit: number }): Promise<(RunHeader & { finishedAt?: string })[]> {
    const headers: RunHeader[] = [];
    await this.call(async () => {
      const pages = paginateScan(
        { client: this.doc },
        {
          TableName: this.tableName,
          FilterExpression: opts.policy ? 'sk = :run AND policy = :policy' : 'sk = :run',
          ExpressionAttributeValues: { ':run': 'RUN', ...(opts.policy ? { ':policy': opts.policy } : {}) },
        },
      );
      for await (const page of pages) headers.push(...((page.Items ?? []) as RunHeader[]));
    });
    return headers.sort((a, b) => b.startedAt.localeCompare(a.startedAt)).slice(0, opts.limit);
  }

  /** A run's results with when each was recorded (the last one ends the run). */
  async runResultTimes(runId: string): Promise<{ results: JobResult[]; finishedAt?: string }> {
    const results: JobResult[] = [];
    let finishedAt: string | undefined;
    const pages = paginateQuery(
      { client: this.doc },
      {
        TableName: this.tableName,
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :r)',
        ExpressionAttributeValues: { ':pk': runPk(runId), ':r': 'RESULT#' },
      },
    );
    for await (const page of pages) {
      for (const item of page.Items ?? []) {
        results.push(resultOf(item));
        const at = (item as { recordedAt?: string }).recordedAt;
        if (at && (!finishedAt || at > finishedAt)) finishedAt = at;
      }
    }
    return { results, finishedAt };
  }
}

/** A job's result as stored in its run, with its counts (deleted, deferred, vanished). */
function resultOf(item: Record<string, unknown>): JobResult {
  const { table, policy, status, backupArn, reason, deleted, deferred, vanished } = item as unknown as JobResult;
  return {
    table,
    policy,
    status,
    ...(backupArn ? { backupArn } : {}),
    ...(reason ? { reason } : {}),
    ...(deleted !== undefined ? { deleted } : {}),
    ...(deferred ? { deferred } : {}),
    ...(vanished ? { vanished } : {}),
  };
}
