import {
  CreateBackupCommand,
  DeleteBackupCommand,
  DescribeBackupCommand,
  DescribeTableCommand,
  ListBackupsCommand,
  type DynamoDBClient,
} from '@aws-sdk/client-dynamodb';
import { RetryableError } from '../core/errors';
import { parseBackupName } from '../core/naming';
import { isNotFound, translateError } from './errors';
import type { BackupApi, BackupInfo, CreatedBackup, TableFacts } from '../core/ports';

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

  async describeBackupStatus(backupArn: string): Promise<string | undefined> {
    try {
      const out = await this.ddb.send(new DescribeBackupCommand({ BackupArn: backupArn }));
      return out.BackupDescription?.BackupDetails?.BackupStatus;
    } catch (err) {
      if (isNotFound(err, 'backup')) return undefined;
      throw translateError(err, backupArn, 'DescribeBackup');
    }
  }

  async deleteBackup(backupArn: string): Promise<'deleted' | 'gone'> {
    try {
      await this.ddb.send(new DeleteBackupCommand({ BackupArn: backupArn }));
      return 'deleted';
    } catch (err) {
      if (isNotFound(err, 'backup')) return 'gone';
      throw translateError(err, backupArn, 'DeleteBackup');
    }
  }

  /**
   * Every USER backup of a table, or of the account and region: pages with
   * ExclusiveStartBackupArn until LastEvaluatedBackupArn is absent. Each call returns up to 100.
   */
  async listBackups(table?: string): Promise<BackupInfo[]> {
    const out: BackupInfo[] = [];
    let start: string | undefined;
    const sent = new Set<string>();
    try {
      do {
        const page = await this.ddb.send(
          new ListBackupsCommand({
            BackupType: 'USER',
            Limit: 100,
            ...(table ? { TableName: table } : {}),
            ...(start ? { ExclusiveStartBackupArn: start } : {}),
          }),
        );
        for (const b of page.BackupSummaries ?? []) {
          if (!b.BackupArn || !b.TableName) continue;
          // Without a creation time, the time in our name; with neither, the entry is unusable
          // for retention (dating it 1970 would make it the first to go), so it is left out.
          const created = b.BackupCreationDateTime ?? parseBackupName(b.BackupName)?.time;
          if (!created) continue;
          out.push({
            arn: b.BackupArn,
            name: b.BackupName,
            table: b.TableName,
            createdAt: created.toISOString(),
            status: b.BackupStatus ?? 'UNKNOWN',
            sizeBytes: b.BackupSizeBytes,
          });
        }
        start = page.LastEvaluatedBackupArn || undefined;
        if (start) {
          // A cursor seen before would loop forever, and a partial listing must never pass for
          // the truth (reconciling would mark live backups as gone): fail, to be retried.
          if (sent.has(start)) throw new RetryableError(`ListBackups ${table ?? '(account)'}: the cursor ${start} came back; listing abandoned`);
          sent.add(start);
        }
      } while (start);
    } catch (err) {
      throw translateError(err, table ?? '(account)', 'ListBackups');
    }
    return out;
  }
}
