import { RetryableError, TableNotFoundError, errorMessage } from '../core/errors';

/** Error names after which the same call may succeed later (the job is retried, then DLQ'd). */
const RETRYABLE = new Set([
  'BackupInUseException',
  'TableInUseException',
  'ContinuousBackupsUnavailableException',
  'LimitExceededException',
  'ThrottlingException',
  'Throttling',
  'TooManyRequestsException',
  'ProvisionedThroughputExceededException',
  'RequestLimitExceeded',
  'TransactionConflictException',
  'InternalServerError',
  'InternalServiceError',
  'InternalServerErrorException',
  'ServiceUnavailable',
  'ServiceUnavailableException',
  'TimeoutError',
]);

/** Error names that say the table is gone; retrying cannot help. */
const TABLE_GONE = new Set(['TableNotFoundException', 'ResourceNotFoundException']);

export function isRetryableAwsError(err: unknown): boolean {
  const e = err as { name?: string; $retryable?: unknown; $metadata?: { httpStatusCode?: number } };
  if (e?.name && RETRYABLE.has(e.name)) return true;
  if (e?.$retryable) return true;
  const status = e?.$metadata?.httpStatusCode;
  return status !== undefined && status >= 500;
}

export function isTableGone(err: unknown): boolean {
  const name = (err as { name?: string })?.name;
  return name !== undefined && TABLE_GONE.has(name);
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

/**
 * A conditional write that lost its condition. A transaction counts only when every cancellation
 * reason is a condition (a TransactionConflict is a race to retry, not a duplicate).
 */
export function isConditionFailure(err: unknown): boolean {
  const name = (err as { name?: string })?.name;
  if (name === 'ConditionalCheckFailedException') return true;
  if (name !== 'TransactionCanceledException') return false;
  const reasons = (err as { CancellationReasons?: { Code?: string }[] }).CancellationReasons ?? [];
  return reasons.length === 0 || reasons.every((r) => !r.Code || r.Code === 'None' || r.Code === 'ConditionalCheckFailed');
}
