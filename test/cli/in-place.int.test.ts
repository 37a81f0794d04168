/**
 * In-place (cut-over) restore through the real `ddb-backup` executable against moto: refused
 * without --yes and under deletion protection (nothing changes); with --yes the backup's items
 * are back under the table's own name with its GSI, tags (policy tag too) and TTL, and the
 * replaced contents are kept in a held pre-restore backup recorded in the ledger.
 */
import {
  CreateTableCommand,
  DescribeBackupCommand,
  DescribeTableCommand,
  DescribeTimeToLiveCommand,
  ListTagsOfResourceCommand,
  PutItemCommand,
  ScanCommand,
  UpdateTableCommand,
  UpdateTimeToLiveCommand,
} from '@aws-sdk/client-dynamodb';
import { makeEnv, putPolicyRaw, uniqueName, type TestEnv } from '../support/aws';
import { cli } from '../support/cli';

interface InPlaceJson {
  inPlace: true;
  table: string;
  backupArn: string;
  safetyBackupArn: string;
  restoreSeconds: number;
  itemCount: { restored: number; recorded?: number; passed: boolean | null };
  deletionProtectionLifted: boolean;
  passed: boolean;
}

let env: TestEnv;

beforeAll(async () => {
  env = await makeEnv('inplace');
  await putPolicyRaw(env, 'daily', JSON.stringify({ schedule: 'rate(1 day)', retention: { keepLast: 5 } }));
});

async function keysOf(table: string): Promise<string[]> {
  return ((await env.ddb.send(new ScanCommand({ TableName: table }))).Items ?? []).map((i) => i.pk.S!).sort();
}

async function tagsOf(table: string): Promise<Record<string, string>> {
  const arn = (await env.ddb.send(new DescribeTableCommand({ TableName: table }))).Table!.TableArn!;
  const out = await env.ddb.send(new ListTagsOfResourceCommand({ ResourceArn: arn }));
  return Object.fromEntries((out.Tags ?? []).map((t) => [t.Key!, t.Value!]));
}

async function put(table: string, keys: string[]): Promise<void> {
  for (const k of keys) await env.ddb.send(new PutItemCommand({ TableName: table, Item: { pk: { S: k }, g: { S: 'g' } } }));
}

/** A tagged table with a GSI, TTL and a tag, backed up with keys a,b,c; then d,e written after the backup. */
async function backedUpThenChanged(name: string, deletionProtection = false): Promise<void> {
  await env.ddb.send(
    new CreateTableCommand({
      TableName: name,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [
        { AttributeName: 'pk', AttributeType: 'S' },
        { AttributeName: 'g', AttributeType: 'S' },
      ],
      KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
      GlobalSecondaryIndexes: [{ IndexName: 'byG', KeySchema: [{ AttributeName: 'g', KeyType: 'HASH' }], Projection: { ProjectionType: 'ALL' } }],
      Tags: [
        { Key: env.tagKey, Value: 'daily' },
        { Key: 'team', Value: 'shop' },
      ],
    }),
  );
  await env.ddb.send(new UpdateTimeToLiveCommand({ TableName: name, TimeToLiveSpecification: { Enabled: true, AttributeName: 'expiresAt' } }));
  await put(name, ['a', 'b', 'c']);
  expect((await cli(env, ['run', '--policy', 'daily', '--table', name, '--json'])).code).toBe(0);
  await put(name, ['d', 'e']);
  if (deletionProtection) await env.ddb.send(new UpdateTableCommand({ TableName: name, DeletionProtectionEnabled: true }));
}

const preRestoreRecords = async (table: string) => (await env.service().ledger().listBackupRecords(table, 'pre-restore')).filter((r) => r.policy === 'pre-restore');

describe('ddb-backup restore --in-place (spawned) against moto', () => {
  it('refuses without --yes and under deletion protection: exit 1, the table and the ledger unchanged', async () => {
    // Prepare
    const plain = uniqueName('ip-noyes');
    const guarded = uniqueName('ip-guard');
    await backedUpThenChanged(plain);
    await backedUpThenChanged(guarded, true);

    // Act
    const noYes = await cli(env, ['restore', '--table', plain, '--in-place', '--latest', '--json']);
    const protectedTable = await cli(env, ['restore', '--table', guarded, '--in-place', '--latest', '--yes', '--json']);

    // Assess
    expect(noYes.code).toBe(1);
    expect((JSON.parse(noYes.stdout) as { error: { message: string } }).error.message).toContain('without --yes');
    expect(protectedTable.code).toBe(1);
    expect(protectedTable.stderr).toContain('--disable-deletion-protection');
    for (const t of [plain, guarded]) {
      expect(await keysOf(t)).toEqual(['a', 'b', 'c', 'd', 'e']);
      expect(await preRestoreRecords(t)).toEqual([]);
    }
    expect((await env.ddb.send(new DescribeTableCommand({ TableName: guarded }))).Table?.DeletionProtectionEnabled).toBe(true);
  });

  it('with --yes puts the backup back under the same name with GSI, tags and TTL, and keeps the replaced contents in a held pre-restore backup', async () => {
    // Prepare
    const table = uniqueName('ip-yes');
    await backedUpThenChanged(table);

    // Act
    const res = await cli(env, ['restore', '--table', table, '--in-place', '--latest', '--yes', '--json']);

    // Assess
    expect(res.code).toBe(0);
    const out = JSON.parse(res.stdout) as InPlaceJson;
    expect(out).toMatchObject({ inPlace: true, table, passed: true, itemCount: { restored: 3, recorded: 3, passed: true }, deletionProtectionLifted: false });
    expect(out.restoreSeconds).toEqual(expect.any(Number));
    expect(await keysOf(table)).toEqual(['a', 'b', 'c']);
    const t = (await env.ddb.send(new DescribeTableCommand({ TableName: table }))).Table!;
    expect(t.GlobalSecondaryIndexes?.map((g) => g.IndexName)).toEqual(['byG']);
    expect(await tagsOf(table)).toEqual({ [env.tagKey]: 'daily', team: 'shop' });
    expect((await env.ddb.send(new DescribeTimeToLiveCommand({ TableName: table }))).TimeToLiveDescription).toMatchObject({
      TimeToLiveStatus: 'ENABLED',
      AttributeName: 'expiresAt',
    });
    const [safety] = await preRestoreRecords(table);
    expect(safety).toMatchObject({
      backupArn: out.safetyBackupArn,
      status: 'AVAILABLE',
      itemCount: 5,
      hold: { reason: `pre-restore backup before in-place restore of ${table}` },
    });
    const described = await env.ddb.send(new DescribeBackupCommand({ BackupArn: out.safetyBackupArn }));
    expect(described.BackupDescription?.BackupDetails?.BackupStatus).toBe('AVAILABLE');
    // Held: the operator's delete is refused until released.
    const del = await cli(env, ['backups', 'delete', '--backup-arn', out.safetyBackupArn, '--yes', '--force']);
    expect(del.code).toBe(1);
    expect(del.stderr).toContain('legal hold');
  });

  it('--disable-deletion-protection lifts it for the cut-over and turns it back on', async () => {
    // Prepare
    const table = uniqueName('ip-dp');
    await backedUpThenChanged(table, true);

    // Act
    const res = await cli(env, ['restore', '--table', table, '--in-place', '--latest', '--yes', '--disable-deletion-protection', '--json']);

    // Assess
    expect(res.code).toBe(0);
    expect(JSON.parse(res.stdout)).toMatchObject({ passed: true, deletionProtectionLifted: true });
    expect(await keysOf(table)).toEqual(['a', 'b', 'c']);
    expect((await env.ddb.send(new DescribeTableCommand({ TableName: table }))).Table?.DeletionProtectionEnabled).toBe(true);
  });

  it('refuses bad input and changes nothing: unknown table, missing backup, --target with --in-place, a point in time', async () => {
    // Prepare
    const table = uniqueName('ip-bad');
    await backedUpThenChanged(table);
    const unknown = uniqueName('ip-nosuch');
    const missingArn = `arn:aws:dynamodb:us-east-1:123456789012:table/${table}/backup/01700000000000-deadbeef`;

    // Act
    const noTable = await cli(env, ['restore', '--table', unknown, '--in-place', '--latest', '--yes', '--json']);
    const noBackup = await cli(env, ['restore', '--table', table, '--in-place', '--backup-arn', missingArn, '--yes', '--json']);
    const withTarget = await cli(env, ['restore', '--table', table, '--in-place', '--target', `${table}-x`, '--latest', '--yes']);
    const pointInTime = await cli(env, ['restore', '--table', table, '--in-place', '--latest-restorable', '--yes']);

    // Assess
    expect(noTable.code).toBe(1);
    expect((JSON.parse(noTable.stdout) as { error: { message: string } }).error.message).toBe(
      `no table named "${unknown}": an in-place restore replaces a live table (restore --target creates a new one)`,
    );
    expect(noBackup.code).toBe(1);
    expect(noBackup.stderr).toContain(`no backup ${missingArn}`);
    expect(withTarget.code).toBe(2);
    expect(withTarget.stderr).toContain('leave out --target');
    expect(pointInTime.code).toBe(2);
    expect(await keysOf(table)).toEqual(['a', 'b', 'c', 'd', 'e']);
    expect(await preRestoreRecords(table)).toEqual([]);
  });
});
