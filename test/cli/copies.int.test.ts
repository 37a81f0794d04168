/**
 * Off-site copies through the real `ddb-backup` executable against moto: a policy run exports
 * the table into its own prefix of the vault bucket, the copy is listed and reaches COMPLETED,
 * a second run inside minIntervalHours makes none, and `restore --from-copy` imports it into a
 * NEW table with its items, key schema and tags. moto writes no manifest-files.json (the
 * manifest path is covered in test/aws/copies.test.ts).
 */
import { DescribeTableCommand, ListTagsOfResourceCommand, ScanCommand, TagResourceCommand, UpdateContinuousBackupsCommand } from '@aws-sdk/client-dynamodb';
import { createTable, endpoint, makeEnv, putPolicyRaw, uniqueName, type TestEnv } from '../support/aws';
import { cli } from '../support/cli';

interface CopyJson {
  id: string;
  table: string;
  status: string;
  exportArn: string;
  s3: string;
  requestedAt: string;
  itemCount?: number;
  billedSizeBytes?: number;
}
interface RunJson {
  results: { table: string; status: string; backupArn?: string; copy?: { status: string; copyId?: string; reason?: string } }[];
}

let env: TestEnv;
let bucket: string;
const POLL = { DDB_BACKUP_POLL_SECONDS: '1' };

/** moto accepts unsigned S3 calls: the test reads the bucket directly. */
async function s3Keys(prefix: string): Promise<string[]> {
  const res = await fetch(`${endpoint()}/${bucket}?list-type=2&prefix=${encodeURIComponent(prefix)}`);
  const xml = await res.text();
  return [...xml.matchAll(/<Key>([^<]+)<\/Key>/g)].map((m) => m[1]);
}

async function tagsOf(table: string): Promise<Record<string, string>> {
  const arn = (await env.ddb.send(new DescribeTableCommand({ TableName: table }))).Table!.TableArn!;
  const out = await env.ddb.send(new ListTagsOfResourceCommand({ ResourceArn: arn }));
  return Object.fromEntries((out.Tags ?? []).map((t) => [t.Key!, t.Value!]));
}

beforeAll(async () => {
  env = await makeEnv('copies');
  bucket = uniqueName('vault').toLowerCase();
  const made = await fetch(`${endpoint()}/${bucket}`, { method: 'PUT' });
  expect(made.status).toBe(200);
  await putPolicyRaw(
    env,
    'offsite',
    JSON.stringify({ schedule: 'rate(1 day)', retention: { keepLast: 3 }, pointInTimeRecovery: { enabled: true }, copy: { to: `s3://${bucket}/copies`, minIntervalHours: 24 } }),
  );
});

describe('off-site copies (moto)', () => {
  it('run exports into a unique prefix, lists it COMPLETED, makes no second copy inside minIntervalHours, and restores it into a new table', async () => {
    // Prepare
    const table = uniqueName('orders');
    const target = `${table}-fromcopy`;
    const arn = await createTable(env, table, 'offsite', 5);
    await env.ddb.send(new TagResourceCommand({ ResourceArn: arn, Tags: [{ Key: 'team', Value: 'payments' }] }));

    // Act
    const first = await cli(env, ['run', '--policy', 'offsite', '--table', table, '--json']);
    const second = await cli(env, ['run', '--policy', 'offsite', '--table', table, '--json']);
    const listed = await cli(env, ['copies', 'list', '--table', table, '--json']);
    const copies = (JSON.parse(listed.stdout) as { copies: CopyJson[] }).copies;
    const keys = await s3Keys(`copies/${table}/${copies[0]?.id}/`);
    const restored = await cli(env, ['restore', '--table', table, '--from-copy', 'latest', '--target', target, '--wait', '--json'], POLL);
    const status = await cli(env, ['status', '--table', table, '--json']);

    // Assess
    expect(first.code).toBe(0);
    const run1 = JSON.parse(first.stdout) as RunJson;
    expect(run1.results).toEqual([expect.objectContaining({ table, status: 'backed-up', copy: expect.objectContaining({ status: 'started' }) })]);
    const run2 = JSON.parse(second.stdout) as RunJson;
    expect(second.code).toBe(0);
    expect(run2.results[0].copy).toMatchObject({ status: 'not-due', reason: expect.stringContaining('minIntervalHours 24') });
    expect(listed.code).toBe(0);
    expect(copies).toHaveLength(1);
    expect(copies[0]).toMatchObject({ id: run1.results[0].copy!.copyId, table, status: 'COMPLETED', itemCount: 5, s3: `s3://${bucket}/copies/${table}/${copies[0].id}/` });
    expect(copies[0].exportArn).toMatch(/^arn:aws:dynamodb:/);
    expect(keys.length).toBeGreaterThan(0);
    expect(keys.every((k) => k.startsWith(`copies/${table}/${copies[0].id}/AWSDynamoDB/`))).toBe(true);
    expect(keys.some((k) => /\/data\/[^/]+\.gz$/.test(k))).toBe(true);

    expect(restored.stderr).toBe('');
    expect(restored.code).toBe(0);
    expect(JSON.parse(restored.stdout)).toMatchObject({ target, result: { passed: true, summary: expect.stringContaining('5 items imported, as in the copy') } });
    const items = (await env.ddb.send(new ScanCommand({ TableName: target }))).Items ?? [];
    expect(items.map((i) => i.pk.S).sort()).toEqual(['item-0', 'item-1', 'item-2', 'item-3', 'item-4']);
    const described = (await env.ddb.send(new DescribeTableCommand({ TableName: target }))).Table!;
    expect(described.KeySchema).toEqual([{ AttributeName: 'pk', KeyType: 'HASH' }]);
    const tags = await tagsOf(target);
    expect(tags).toEqual({ team: 'payments' });
    const covered = (JSON.parse(status.stdout) as { tables: { table: string; flags: string[]; policies: { name: string; lastCopyAt?: string }[] }[] }).tables[0];
    expect(covered).toMatchObject({ table, flags: [], policies: [{ name: 'offsite', lastCopyAt: copies[0].requestedAt }] });
  });

  it('copy refuses a table whose PITR is off, naming PITR, and records nothing', async () => {
    // Prepare
    const table = uniqueName('nopitr');
    await createTable(env, table, 'offsite', 2);

    // Act
    const res = await cli(env, ['copy', '--table', table, '--json']);
    const listed = await cli(env, ['copies', 'list', '--table', table, '--json']);

    // Assess
    expect(res.code).toBe(1);
    expect(JSON.parse(res.stdout)).toEqual({ error: { message: expect.stringContaining('point-in-time recovery (PITR) is off'), input: { table } } });
    expect(JSON.parse(listed.stdout)).toEqual({ copies: [] });
  });

  it('copy --wait waits until COMPLETED and records the item count and bytes', async () => {
    // Prepare
    const table = uniqueName('waited');
    await createTable(env, table, 'offsite', 4);
    await env.ddb.send(new UpdateContinuousBackupsCommand({ TableName: table, PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true } }));

    // Act
    const res = await cli(env, ['copy', '--table', table, '--policy', 'offsite', '--wait', '--json'], POLL);

    // Assess
    expect(res.code).toBe(0);
    const out = JSON.parse(res.stdout) as { copy: CopyJson };
    expect(out.copy).toMatchObject({ table, status: 'COMPLETED', itemCount: 4 });
    expect(out.copy.billedSizeBytes).toBeGreaterThan(0);
  });

  it('restore --from-copy refuses an existing target and an unknown copy, touching nothing', async () => {
    // Prepare
    const table = uniqueName('guarded');
    await createTable(env, table, 'offsite', 1);
    const existing = uniqueName('existing');
    await createTable(env, existing, undefined, 2);
    await env.ddb.send(new UpdateContinuousBackupsCommand({ TableName: table, PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true } }));
    const made = await cli(env, ['copy', '--table', table, '--policy', 'offsite', '--wait', '--json'], POLL);

    // Act
    const over = await cli(env, ['restore', '--table', table, '--from-copy', 'latest', '--target', existing, '--json']);
    const unknown = await cli(env, ['restore', '--table', table, '--from-copy', 'nope', '--target', uniqueName('t'), '--json']);

    // Assess
    expect(made.code).toBe(0);
    expect(over.code).toBe(1);
    expect(JSON.parse(over.stdout).error.message).toMatch(/already exists/);
    expect((await env.ddb.send(new ScanCommand({ TableName: existing }))).Items).toHaveLength(2);
    expect(unknown.code).toBe(1);
    expect(JSON.parse(unknown.stdout).error.message).toBe(`no copy "nope" of table "${table}" in the ledger`);
  });
});
