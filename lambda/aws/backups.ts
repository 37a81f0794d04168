import { CreateBackupCommand, DescribeTableCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { RetryableError, TableNotFoundError, errorMessage } from '../core/errors';
import type { BackupApi, CreatedBackup, TableFacts } from '../core/ports';

/** Error names after which the same call may succeed later (the job is retried, then DLQ'd). */
const RETRYABLE = new Set([
  'BackupInUseException',
  'LimitExceededException',
  'ThrottlingException',
  'ProvisionedThroughputExceededException',
  'RequestLimitExceeded',
  'InternalServerError',
  'ServiceUnavailable',
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
export function translateError(err: unknown, table: string, action: string): unknown {
  if (isTableGone(err)) return new TableNotFoundError(table, { cause: err });
  if (isRetryableAwsError(err)) return new RetryableError(`${action} ${table}: ${errorMessage(err)}`, { cause: err });
  return err;
}

/** Native on-demand backups. The worker is the only caller that creates or deletes backups. */
export class BackupsAdapter implements BackupApi {
  constructor(private readonly ddb: DynamoDBClient) {}

  async describeTable(table: string): Promise<TableFacts> {
    const out = await this.ddb.send(new DescribeTableCommand({ TableName: table })).catch((err: unknown) => {
      throw translateError(err, table, 'DescribeTable');
    });
    const t = out.Table ?? {};
    return { table, status: t.TableStatus, sizeBytes: t.TableSizeBytes, itemCount: t.ItemCount };
  }

  async createBackup(table: string, backupName: string): Promise<CreatedBackup> {
    const out = await this.ddb
      .send(new CreateBackupCommand({ TableName: table, BackupName: backupName }))
      .catch((err: unknown) => {
        throw translateError(err, table, 'CreateBackup');
      });
    const d = out.BackupDetails;
    if (!d?.BackupArn) {
      throw new Error(`CreateBackup for ${table} returned no backup ARN`);
    }
    return {
      backupArn: d.BackupArn,
      backupName: d.BackupName ?? backupName,
      status: d.BackupStatus ?? 'CREATING',
      createdAt: (d.BackupCreationDateTime ?? new Date()).toISOString(),
      sizeBytes: d.BackupSizeBytes,
    };
  }
}
