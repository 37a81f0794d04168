/**
 * Typed errors shared by the core, the adapters, the handlers and the CLI.
 *
 * Every class spells out its `name`: the Lambdas are minified bundles, where class names are
 * mangled, and `errorMessage()` (SNS, the ledger, the CLI) prints the name.
 */

export class BackupServiceError extends Error {
  override name: string = 'BackupServiceError';

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** A policy document failed validation. `issues` name the field at fault. */
export class PolicyValidationError extends BackupServiceError {
  override readonly name: string = 'PolicyValidationError';

  constructor(
    readonly source: string,
    readonly issues: readonly string[],
    options?: { cause?: unknown },
  ) {
    super(`invalid policy ${source}: ${issues.join('; ')}`, options);
  }
}

/** A policy could not be read at all (missing parameter, SSM outage, malformed JSON). */
export class PolicyUnavailableError extends BackupServiceError {
  override readonly name: string = 'PolicyUnavailableError';

  constructor(
    readonly policy: string,
    message: string,
    options?: { cause?: unknown; retryable?: boolean },
  ) {
    super(message, options);
    this.retryable = options?.retryable ?? false;
  }

  /** True for an outage (try again later); false when the policy simply does not exist. */
  readonly retryable: boolean;
}

/** Bad input from an operator (flag, value, file). */
export class UsageError extends BackupServiceError {
  override readonly name: string = 'UsageError';
}

/** Renders any thrown value as a one-line message. */
export function errorMessage(err: unknown): string {
  if (err instanceof Error) {
    const name = err.name && err.name !== 'Error' ? `${err.name}: ` : '';
    return `${name}${err.message}`.replace(/\s+/g, ' ').trim();
  }
  return String(err);
}

/** The table named by a job no longer exists (deleted between discovery and backup). */
export class TableNotFoundError extends BackupServiceError {
  override readonly name: string = 'TableNotFoundError';

  constructor(
    readonly table: string,
    options?: { cause?: unknown },
  ) {
    super(`table "${table}" does not exist (deleted after discovery?)`, options);
  }
}

/** A failure that may pass: throttling, a conflicting backup in progress, an outage. */
export class RetryableError extends BackupServiceError {
  override readonly name: string = 'RetryableError';
}

/** The ledger table does not exist: name it and say how to create it. */
export class LedgerMissingError extends BackupServiceError {
  override readonly name: string = 'LedgerMissingError';

  constructor(
    readonly tableName: string,
    options?: { cause?: unknown },
  ) {
    super(`the ledger table "${tableName}" does not exist: deploy the stack, or create it with \`ddb-backup ledger init\``, options);
  }
}
