import * as DynamoDBModule from '@aws-sdk/client-dynamodb';
import * as SSMModule from '@aws-sdk/client-ssm';
import { RetryableError, TableNotFoundError, errorMessage } from '../core/errors';

/**
 * Every SDK error the service tells apart is recognised here, once.
 *
 * DynamoDB and SSM errors are recognised by the SDK's own exception classes (`instanceof`, which
 * the SDK answers by prototype and shape id, so a Lambda `ResourceNotFoundException` is not a
 * DynamoDB one). Names are compared only where no class can be used:
 *  - throttling, busy and outage errors: they come from every client, several are not modelled
 *    (`Throttling`, `TimeoutError` from the HTTP layer), and tests throw them as plain errors;
 *  - a missing event source mapping: the Lambda client's classes would put that client into every
 *    handler's bundle, and the tests' mocked Lambda client throws a plain error with the name;
 *  - transaction cancellation reasons, whose `Code` is a string by design.
 */

// Every handler and the CLI load both packages through the service anyway (lambda/aws/service.ts
// imports its clients statically, and the handlers load the service with `await import()`).
const dynamodb = (): typeof DynamoDBModule => DynamoDBModule;
const ssm = (): typeof SSMModule => SSMModule;

function nameOf(err: unknown): string | undefined {
  const name = (err as { name?: unknown } | null | undefined)?.name;
  return typeof name === 'string' ? name : undefined;
}

/** Throttling, from any service (the SDK has already retried it when it reaches us). */
const THROTTLE = new Set([
  'ThrottlingException',
  'Throttling',
  'TooManyRequestsException',
  'ProvisionedThroughputExceededException',
  'RequestLimitExceeded',
]);

/** A busy resource or an outage: the same call may succeed later. */
const TRANSIENT = new Set([
  'BackupInUseException',
  'TableInUseException',
  'ContinuousBackupsUnavailableException',
  'LimitExceededException',
  'TransactionConflictException',
  'InternalServerError',
  'InternalServiceError',
  'InternalServerErrorException',
  'ServiceUnavailable',
  'ServiceUnavailableException',
  'TimeoutError',
]);

/** Throttling from any client, modelled or not. */
export function isThrottle(err: unknown): boolean {
  const name = nameOf(err);
  if (name !== undefined && THROTTLE.has(name)) return true;
  return (err as { $retryable?: { throttling?: boolean } } | null | undefined)?.$retryable?.throttling === true;
}

/**
 * Throttling, a busy resource, an outage, anything the SDK marks retryable, or any 5xx: the same
 * call may succeed later (the job is retried, then dead-lettered).
 */
export function isRetryableAwsError(err: unknown): boolean {
  if (isThrottle(err)) return true;
  const name = nameOf(err);
  if (name !== undefined && TRANSIENT.has(name)) return true;
  const e = err as { $retryable?: unknown; $metadata?: { httpStatusCode?: number } } | null | undefined;
  if (e?.$retryable) return true;
  const status = e?.$metadata?.httpStatusCode;
  return status !== undefined && status >= 500;
}

/** What a not-found error says is missing. */
export type Missing = 'table' | 'backup' | 'parameter' | 'resource-policy' | 'event-source-mapping';

/**
 * The error says `what` does not exist:
 *  - `table`: a DynamoDB table (`ResourceNotFoundException`, or `TableNotFoundException` from the
 *    backup APIs); also a missing ledger or counter table;
 *  - `backup`: an on-demand backup (`BackupNotFoundException`);
 *  - `parameter`: an SSM parameter (`ParameterNotFound`), also as the cause of the error Powertools
 *    wraps it in;
 *  - `resource-policy`: a table without a resource-based policy (`PolicyNotFoundException`);
 *  - `event-source-mapping`: a Lambda event source mapping (`ResourceNotFoundException`), by name.
 */
export function isNotFound(err: unknown, what: Missing): boolean {
  switch (what) {
    case 'table': {
      const { ResourceNotFoundException, TableNotFoundException } = dynamodb();
      return err instanceof ResourceNotFoundException || err instanceof TableNotFoundException;
    }
    case 'backup':
      return err instanceof dynamodb().BackupNotFoundException;
    case 'resource-policy':
      return err instanceof dynamodb().PolicyNotFoundException;
    case 'parameter': {
      const { ParameterNotFound } = ssm();
      for (let e: unknown = err; e; e = (e as { cause?: unknown }).cause) if (e instanceof ParameterNotFound) return true;
      return false;
    }
    case 'event-source-mapping':
      return nameOf(err) === 'ResourceNotFoundException';
  }
}

/** The DynamoDB table is gone (deleted, or never existed): retrying cannot help. */
export function isTableGone(err: unknown): boolean {
  return isNotFound(err, 'table');
}

/**
 * A restore was refused because its target table exists (`TableAlreadyExistsException`) or is
 * being created (`ResourceInUseException`).
 */
export function isTableTaken(err: unknown): boolean {
  const { ResourceInUseException, TableAlreadyExistsException } = dynamodb();
  return err instanceof TableAlreadyExistsException || err instanceof ResourceInUseException;
}

/**
 * DynamoDB refused a change while the table or its backups are still settling (an update in
 * progress, PITR not yet available, too many concurrent control-plane operations); the error or
 * its cause (a RetryableError from `translateError`) says so.
 */
export function isSettling(err: unknown): boolean {
  const { ContinuousBackupsUnavailableException, LimitExceededException, ResourceInUseException } = dynamodb();
  const settling = (e: unknown) =>
    e instanceof ResourceInUseException || e instanceof ContinuousBackupsUnavailableException || e instanceof LimitExceededException;
  return settling(err) || settling((err as { cause?: unknown } | null | undefined)?.cause);
}

/** Cancellation reasons of a cancelled DynamoDB transaction; undefined for any other error. */
function cancellationReasons(err: unknown): readonly { Code?: string }[] | undefined {
  if (!(err instanceof dynamodb().TransactionCanceledException)) return undefined;
  return err.CancellationReasons ?? [];
}

/**
 * A conditional write that lost its condition. A transaction counts only when every cancellation
 * reason is a condition (a TransactionConflict is a race to retry, not a duplicate).
 */
export function isConditionFailure(err: unknown): boolean {
  if (err instanceof dynamodb().ConditionalCheckFailedException) return true;
  const reasons = cancellationReasons(err);
  if (reasons === undefined) return false;
  return reasons.length === 0 || reasons.every((r) => !r.Code || r.Code === 'None' || r.Code === 'ConditionalCheckFailed');
}

/** Item `i` of a cancelled transaction failed its condition. */
export function conditionFailedAt(err: unknown, i: number): boolean {
  return cancellationReasons(err)?.[i]?.Code === 'ConditionalCheckFailed';
}

/** A query of an index the table does not have (a ledger made before the live index). */
export function isMissingIndex(err: unknown): boolean {
  return nameOf(err) === 'ValidationException' && /specified index/i.test(errorMessage(err));
}

/** A transaction that lost a race with another writer of the same item: retry it. */
export function isTransactionConflict(err: unknown): boolean {
  return (cancellationReasons(err) ?? []).some((r) => r.Code === 'TransactionConflict');
}

/** Maps SDK errors to the core's typed errors: table gone, or worth retrying. */
export function translateError(err: unknown, subject: string, action: string): unknown {
  if (isTableGone(err)) return new TableNotFoundError(subject, { cause: err });
  if (isRetryableAwsError(err)) return new RetryableError(`${action} ${subject}: ${errorMessage(err)}`, { cause: err });
  return err;
}

/** Retryable SDK errors become RetryableError; everything else passes through unchanged. */
export function retryableOr(err: unknown, what: string): unknown {
  return isRetryableAwsError(err) ? new RetryableError(`${what}: ${errorMessage(err)}`, { cause: err }) : err;
}

/** Runs an SDK call; after the SDK's own retries, throttling and 5xx become RetryableError. */
export async function withRetryable<T>(what: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw retryableOr(err, what);
  }
}

/**
 * Runs a conditional write: true when it was written, false when its condition did not hold.
 * Every other error passes through.
 */
export async function conditionHeld(write: () => Promise<unknown>): Promise<boolean> {
  try {
    await write();
    return true;
  } catch (err) {
    if (isConditionFailure(err)) return false;
    throw err;
  }
}

/** DynamoDB refuses an export because the table's point-in-time recovery is off. */
export function isPitrUnavailable(err: unknown): boolean {
  return err instanceof dynamodb().PointInTimeRecoveryUnavailableException;
}
