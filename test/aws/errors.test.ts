import {
  BackupInUseException,
  BackupNotFoundException,
  ConditionalCheckFailedException,
  ContinuousBackupsUnavailableException,
  InternalServerError,
  LimitExceededException,
  PolicyNotFoundException,
  ProvisionedThroughputExceededException,
  RequestLimitExceeded,
  ResourceInUseException,
  ResourceNotFoundException,
  TableAlreadyExistsException,
  TableNotFoundException,
  ThrottlingException,
  TransactionCanceledException,
  type CancellationReason,
} from '@aws-sdk/client-dynamodb';
import { ResourceNotFoundException as LambdaResourceNotFoundException } from '@aws-sdk/client-lambda';
import { ParameterNotFound, InternalServerError as SsmInternalServerError } from '@aws-sdk/client-ssm';
import { GetParameterError } from '@aws-lambda-powertools/parameters/errors';
import {
  conditionFailedAt,
  conditionHeld,
  isConditionFailure,
  isNotFound,
  isRetryableAwsError,
  isSettling,
  isTableGone,
  isTableTaken,
  isThrottle,
  isTransactionConflict,
  retryableOr,
  translateError,
  type Missing,
} from '../../lambda/aws/errors';
import { RetryableError, TableNotFoundError } from '../../lambda/core/errors';

const meta = { $metadata: {} };

/** A plain error carrying an SDK error's name, as aws-sdk-client-mock tests throw them. */
const named = (name: string, message = 'plain') => Object.assign(new Error(message), { name });

const cancelled = (...codes: (string | undefined)[]) =>
  new TransactionCanceledException({
    message: 'Transaction cancelled',
    CancellationReasons: codes.map((Code): CancellationReason => (Code === undefined ? {} : { Code })),
    ...meta,
  });

describe('isConditionFailure', () => {
  it('recognises ConditionalCheckFailedException', () => {
    // Prepare
    const err = new ConditionalCheckFailedException({ message: 'The conditional request failed', ...meta });
    // Act
    const failed = isConditionFailure(err);
    // Assess
    expect(failed).toBe(true);
  });

  it.each([
    ['every reason a condition', ['ConditionalCheckFailed', 'None'], true],
    ['no reasons at all', [], true],
    ['reasons without a code', [undefined, 'ConditionalCheckFailed'], true],
    ['a TransactionConflict among them', ['ConditionalCheckFailed', 'TransactionConflict'], false],
    ['only a TransactionConflict', ['TransactionConflict'], false],
    ['a throttled item', ['ThrottlingError', 'None'], false],
  ])('answers a cancelled transaction with %s: %s', (_what, codes, expected) => {
    // Prepare
    const err = cancelled(...codes);
    // Act
    const failed = isConditionFailure(err);
    // Assess
    expect(failed).toBe(expected);
  });

  it.each([
    ['another DynamoDB error', new ThrottlingException({ message: 'slow down', ...meta })],
    ['a plain error with the name', named('ConditionalCheckFailedException')],
    ['undefined', undefined],
    ['a string', 'ConditionalCheckFailedException'],
  ])('is false for %s', (_what, err) => {
    // Act
    const failed = isConditionFailure(err);
    // Assess
    expect(failed).toBe(false);
  });
});

describe('conditionFailedAt', () => {
  it('names the items of a cancelled transaction whose condition failed', () => {
    // Prepare
    const err = cancelled('None', 'ConditionalCheckFailed');
    // Act
    const at = [0, 1, 2].map((i) => conditionFailedAt(err, i));
    // Assess
    expect(at).toEqual([false, true, false]);
  });

  it('is false for anything but a cancelled transaction', () => {
    // Prepare
    const err = new ConditionalCheckFailedException({ message: 'The conditional request failed', ...meta });
    // Act
    const at = conditionFailedAt(err, 0);
    // Assess
    expect(at).toBe(false);
  });
});

describe('isTransactionConflict', () => {
  it.each([
    [['None', 'TransactionConflict'], true],
    [['ConditionalCheckFailed', 'None'], false],
    [[], false],
  ])('answers a transaction cancelled for %j: %s', (codes, expected) => {
    // Prepare
    const err = cancelled(...codes);
    // Act
    const conflict = isTransactionConflict(err);
    // Assess
    expect(conflict).toBe(expected);
  });

  it('is false for a plain error with the name and reasons', () => {
    // Prepare
    const err = Object.assign(named('TransactionCanceledException'), { CancellationReasons: [{ Code: 'TransactionConflict' }] });
    // Act
    const conflict = isTransactionConflict(err);
    // Assess
    expect(conflict).toBe(false);
  });
});

type NotFoundCase = [what: Missing, err: string, make: () => unknown];

describe('isNotFound', () => {
  it.each<NotFoundCase>([
    ['table', 'ResourceNotFoundException', () => new ResourceNotFoundException({ message: 'Requested resource not found', ...meta })],
    ['table', 'TableNotFoundException', () => new TableNotFoundException({ message: 'Table not found: orders', ...meta })],
    ['backup', 'BackupNotFoundException', () => new BackupNotFoundException({ message: 'Backup not found', ...meta })],
    ['resource-policy', 'PolicyNotFoundException', () => new PolicyNotFoundException({ message: 'none', ...meta })],
    ['parameter', 'ParameterNotFound', () => new ParameterNotFound({ message: '', ...meta })],
    ['parameter', 'ParameterNotFound wrapped by Powertools', () => new GetParameterError('', { cause: new ParameterNotFound({ message: '', ...meta }) })],
    ['parameter', 'ParameterNotFound two causes down', () => new Error('outer', { cause: new GetParameterError('', { cause: new ParameterNotFound({ message: '', ...meta }) }) })],
    ['event-source-mapping', "Lambda's ResourceNotFoundException", () => new LambdaResourceNotFoundException({ message: 'gone', ...meta })],
    ['event-source-mapping', 'a plain error named ResourceNotFoundException', () => named('ResourceNotFoundException')],
  ])('%s: recognises %s', (what, _err, make) => {
    // Act
    const missing = isNotFound(make(), what);
    // Assess
    expect(missing).toBe(true);
  });

  it.each<NotFoundCase>([
    ['table', "Lambda's ResourceNotFoundException", () => new LambdaResourceNotFoundException({ message: 'gone', ...meta })],
    ['table', 'a plain error named ResourceNotFoundException', () => named('ResourceNotFoundException')],
    ['table', 'BackupNotFoundException', () => new BackupNotFoundException({ message: 'Backup not found', ...meta })],
    ['backup', 'TableNotFoundException', () => new TableNotFoundException({ message: 'Table not found: orders', ...meta })],
    ['backup', 'a plain error named BackupNotFoundException', () => named('BackupNotFoundException')],
    ['resource-policy', 'ResourceNotFoundException', () => new ResourceNotFoundException({ message: 'Requested resource not found', ...meta })],
    ['parameter', 'an SSM outage', () => new GetParameterError('boom', { cause: new SsmInternalServerError({ message: 'boom', ...meta }) })],
    ['parameter', 'a message that mentions ParameterNotFound', () => new Error('ParameterNotFound: x')],
    ['event-source-mapping', 'a throttle', () => named('TooManyRequestsException')],
    ['table', 'undefined', () => undefined],
  ])('%s: is false for %s', (what, _err, make) => {
    // Act
    const missing = isNotFound(make(), what);
    // Assess
    expect(missing).toBe(false);
  });

  it('isTableGone is the table case', () => {
    // Prepare
    const errs = [
      new ResourceNotFoundException({ message: 'Requested resource not found', ...meta }),
      new TableNotFoundException({ message: 'Table not found: orders', ...meta }),
      named('ResourceNotFoundException'),
      new BackupNotFoundException({ message: 'Backup not found', ...meta }),
    ];
    // Act
    const gone = errs.map(isTableGone);
    // Assess
    expect(gone).toEqual([true, true, false, false]);
  });
});

describe('isTableTaken', () => {
  it.each([
    ['TableAlreadyExistsException', new TableAlreadyExistsException({ message: 'Table already exists: orders', ...meta }), true],
    ['ResourceInUseException', new ResourceInUseException({ message: 'Table is being created', ...meta }), true],
    ['TableNotFoundException', new TableNotFoundException({ message: 'Table not found', ...meta }), false],
    ['a plain error with the name', named('TableAlreadyExistsException'), false],
  ])('%s: %s', (_what, err, expected) => {
    // Act
    const taken = isTableTaken(err);
    // Assess
    expect(taken).toBe(expected);
  });
});

describe('isSettling', () => {
  it.each([
    ['ResourceInUseException', new ResourceInUseException({ message: 'Table is being updated', ...meta }), true],
    ['ContinuousBackupsUnavailableException', new ContinuousBackupsUnavailableException({ message: 'not yet', ...meta }), true],
    ['LimitExceededException', new LimitExceededException({ message: 'too many', ...meta }), true],
    [
      'a RetryableError caused by LimitExceededException',
      new RetryableError('UpdateContinuousBackups orders: too many', { cause: new LimitExceededException({ message: 'too many', ...meta }) }),
      true,
    ],
    ['TableNotFoundException', new TableNotFoundException({ message: 'Table not found', ...meta }), false],
    ['a plain error named ResourceInUseException', named('ResourceInUseException'), false],
    ['undefined', undefined, false],
  ])('%s: %s', (_what, err, expected) => {
    // Act
    const settling = isSettling(err);
    // Assess
    expect(settling).toBe(expected);
  });
});

describe('isThrottle', () => {
  it.each([
    ['ThrottlingException', new ThrottlingException({ message: 'slow down', ...meta })],
    ['ProvisionedThroughputExceededException', new ProvisionedThroughputExceededException({ message: 'slow down', ...meta })],
    ['RequestLimitExceeded', new RequestLimitExceeded({ message: 'slow down', ...meta })],
    ['a plain ThrottlingException', named('ThrottlingException')],
    ['a plain Throttling (CloudWatch, not modelled)', named('Throttling')],
    ['a plain TooManyRequestsException', named('TooManyRequestsException')],
    ['a plain ProvisionedThroughputExceededException', named('ProvisionedThroughputExceededException')],
    ['an error the SDK marks as throttling', Object.assign(new Error('x'), { $retryable: { throttling: true } })],
  ])('recognises %s', (_what, err) => {
    // Act
    const throttled = isThrottle(err);
    // Assess
    expect(throttled).toBe(true);
  });

  it.each([
    ['LimitExceededException', new LimitExceededException({ message: 'too many', ...meta })],
    ['an HTTP 500', Object.assign(new Error('x'), { name: 'SomethingNew', $metadata: { httpStatusCode: 500 } })],
    ['a retryable error that is no throttle', Object.assign(new Error('x'), { $retryable: {} })],
    ['undefined', undefined],
  ])('is false for %s', (_what, err) => {
    // Act
    const throttled = isThrottle(err);
    // Assess
    expect(throttled).toBe(false);
  });
});

describe('isRetryableAwsError', () => {
  it.each([
    ['ThrottlingException', new ThrottlingException({ message: 'slow down', ...meta })],
    ['LimitExceededException', new LimitExceededException({ message: 'too many', ...meta })],
    ['BackupInUseException', new BackupInUseException({ message: 'busy', ...meta })],
    ['ContinuousBackupsUnavailableException', new ContinuousBackupsUnavailableException({ message: 'not yet', ...meta })],
    ['DynamoDB InternalServerError', new InternalServerError({ message: 'boom', ...meta })],
    ['SSM InternalServerError', new SsmInternalServerError({ message: 'boom', ...meta })],
    ['a plain throttle', named('ProvisionedThroughputExceededException')],
    ['a plain TimeoutError (HTTP layer)', named('TimeoutError')],
    ['a plain ServiceUnavailable', named('ServiceUnavailable')],
    ['an error the SDK marks retryable', Object.assign(new Error('x'), { $retryable: {} })],
    ['an HTTP 503 of any name', Object.assign(new Error('x'), { name: 'SomethingNew', $metadata: { httpStatusCode: 503 } })],
  ])('recognises %s', (_what, err) => {
    // Act
    const retryable = isRetryableAwsError(err);
    // Assess
    expect(retryable).toBe(true);
  });

  it.each([
    ['ConditionalCheckFailedException', new ConditionalCheckFailedException({ message: 'x', ...meta })],
    ['ResourceNotFoundException', new ResourceNotFoundException({ message: 'x', ...meta })],
    ['a plain AccessDeniedException (HTTP 400)', Object.assign(named('AccessDeniedException'), { $metadata: { httpStatusCode: 400 } })],
    ['a plain ValidationException', named('ValidationException')],
    ['the tagging API ThrottledException (passed through as it is)', named('ThrottledException')],
    ['an Error', new Error('socket hang up')],
    ['undefined', undefined],
    ['null', null],
  ])('is false for %s', (_what, err) => {
    // Act
    const retryable = isRetryableAwsError(err);
    // Assess
    expect(retryable).toBe(false);
  });
});

describe('translateError and retryableOr', () => {
  it('turns a missing table into TableNotFoundError, a throttle into RetryableError, and passes the rest', () => {
    // Prepare
    const gone = new ResourceNotFoundException({ message: 'Requested resource not found', ...meta });
    const throttled = new ThrottlingException({ message: 'slow down', ...meta });
    const denied = named('AccessDeniedException', 'not authorized');
    // Act
    const out = [gone, throttled, denied].map((e) => translateError(e, 'orders', 'CreateBackup'));
    // Assess
    expect(out[0]).toBeInstanceOf(TableNotFoundError);
    expect((out[0] as TableNotFoundError).cause).toBe(gone);
    expect(out[1]).toBeInstanceOf(RetryableError);
    expect((out[1] as Error).message).toBe('CreateBackup orders: ThrottlingException: slow down');
    expect(out[2]).toBe(denied);
  });

  it('retryableOr wraps only retryable errors', () => {
    // Prepare
    const throttled = named('Throttling', 'Rate exceeded');
    const gone = new ResourceNotFoundException({ message: 'Requested resource not found', ...meta });
    // Act
    const out = [throttled, gone].map((e) => retryableOr(e, 'PutMetricAlarm a'));
    // Assess
    expect(out[0]).toBeInstanceOf(RetryableError);
    expect((out[0] as Error).message).toBe('PutMetricAlarm a: Throttling: Rate exceeded');
    expect(out[1]).toBe(gone);
  });
});

describe('conditionHeld', () => {
  it('is true when written, false when the condition failed, and rethrows anything else', async () => {
    // Prepare
    const failed = new ConditionalCheckFailedException({ message: 'The conditional request failed', ...meta });
    const conflict = cancelled('TransactionConflict');
    // Act
    const written = await conditionHeld(async () => ({}));
    const lost = await conditionHeld(async () => Promise.reject(failed));
    const raced = conditionHeld(async () => Promise.reject(conflict));
    // Assess
    expect(written).toBe(true);
    expect(lost).toBe(false);
    await expect(raced).rejects.toBe(conflict);
  });
});
