import { DescribeContinuousBackupsCommand, UpdateContinuousBackupsCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { translateError } from './errors';

/** A table's point-in-time recovery, as DescribeContinuousBackups reports it. */
export interface PitrState {
  readonly enabled: boolean;
  readonly recoveryPeriodDays?: number;
}

export async function describePitr(ddb: DynamoDBClient, table: string): Promise<PitrState> {
  const out = await ddb.send(new DescribeContinuousBackupsCommand({ TableName: table })).catch((err: unknown) => {
    throw translateError(err, table, 'DescribeContinuousBackups');
  });
  const d = out.ContinuousBackupsDescription?.PointInTimeRecoveryDescription;
  const enabled = d?.PointInTimeRecoveryStatus === 'ENABLED';
  return { enabled, ...(enabled && d?.RecoveryPeriodInDays ? { recoveryPeriodDays: d.RecoveryPeriodInDays } : {}) };
}

export type PitrChange = 'enabled' | 'updated' | 'unchanged';

/**
 * Turns PITR on with `recoveryPeriodDays` (1-35; undefined = DynamoDB's default, 35), or moves
 * its recovery period. Reads first (unless `before` says what a read just found), so a table
 * already right costs no update. Never turns PITR off.
 * With `dryRun`, reports what it would do and changes nothing.
 */
export async function ensurePitr(
  ddb: DynamoDBClient,
  table: string,
  recoveryPeriodDays?: number,
  opts: { dryRun?: boolean; before?: PitrState } = {},
): Promise<{ change: PitrChange; before: PitrState }> {
  const before = opts.before ?? (await describePitr(ddb, table));
  const wantDays = recoveryPeriodDays ?? 35;
  if (before.enabled && (before.recoveryPeriodDays ?? 35) === wantDays) return { change: 'unchanged', before };
  if (!opts.dryRun) await enablePitr(ddb, table, recoveryPeriodDays);
  return { change: before.enabled ? 'updated' : 'enabled', before };
}

/** UpdateContinuousBackups: PITR on, with the recovery period when given. */
export async function enablePitr(ddb: DynamoDBClient, table: string, recoveryPeriodDays?: number): Promise<void> {
  await ddb
    .send(
      new UpdateContinuousBackupsCommand({
        TableName: table,
        PointInTimeRecoverySpecification: {
          PointInTimeRecoveryEnabled: true,
          ...(recoveryPeriodDays !== undefined ? { RecoveryPeriodInDays: recoveryPeriodDays } : {}),
        },
      }),
    )
    .catch((err: unknown) => {
      throw translateError(err, table, 'UpdateContinuousBackups');
    });
}
