import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ListBackupsCommand } from '@aws-sdk/client-dynamodb';
import { parseSummaryJson } from '../../lambda/core/backup/summary';
import { createTable, makeEnv, putPolicyRaw, readNotifications, uniqueName, type TestEnv } from '../support/aws';
import { cli } from '../support/cli';

const dir = mkdtempSync(join(tmpdir(), 'ddb-backup-cli-'));
function policyFile(name: string, body: unknown): string {
  const file = join(dir, `${name}.json`);
  writeFileSync(file, typeof body === 'string' ? body : JSON.stringify(body));
  return file;
}

async function backupCount(env: TestEnv, table: string): Promise<number> {
  const out = await env.ddb.send(new ListBackupsCommand({ TableName: table }));
  return out.BackupSummaries?.length ?? 0;
}

interface RunJson {
  results: { table: string; policy: string; status: string; backupArn?: string; reason?: string }[];
  problems: { kind: string; table?: string; message: string }[];
}

describe('ddb-backup CLI (spawned) against moto', () => {
  let env: TestEnv;
  beforeAll(async () => {
    env = await makeEnv('cli');
  });

  it('policy validate: ok, a field error, malformed JSON, a missing file', async () => {
    // Prepare
    const good = policyFile('good', { schedule: 'rate(1 day)', retention: { keepLast: 3 } });
    const bad = policyFile('bad', { schedule: 'every day', retention: { keepLast: -1 } });
    const broken = policyFile('broken', '{"schedule": ');

    // Act
    const [ok, fieldErr, jsonErr, missing] = await Promise.all([
      cli(undefined, ['policy', 'validate', '--file', good]),
      cli(undefined, ['policy', 'validate', '--file', bad]),
      cli(undefined, ['policy', 'validate', '--file', broken]),
      cli(undefined, ['policy', 'validate', '--file', join(dir, 'nope.json')]),
    ]);

    // Assess
    expect(ok).toMatchObject({ code: 0, stdout: expect.stringContaining('ok: policy "good" is valid') });
    expect(fieldErr.code).toBe(1);
    expect(fieldErr.stderr).toContain('schedule:');
    expect(fieldErr.stderr).toContain('retention.keepLast');
    expect(fieldErr.stderr.trim().split('\n')).toHaveLength(1);
    expect(jsonErr.code).toBe(1);
    expect(jsonErr.stderr).toContain('(json)');
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/^error: cannot read .*nope\.json/);
  });

  it('policy put writes SSM after validating; policy list shows it', async () => {
    // Prepare
    const file = policyFile('nightly', { schedule: 'cron(0 2 * * ? *)', retention: { keepDaily: 7 } });
    const invalid = policyFile('broken2', { retention: { keepDaily: 'seven' } });

    // Act
    const put = await cli(env, ['policy', 'put', '--file', file]);
    const rejected = await cli(env, ['policy', 'put', '--file', invalid]);
    const list = await cli(env, ['policy', 'list', '--json']);

    // Assess
    expect(put.code).toBe(0);
    expect(put.stdout).toContain(`${env.policyPrefix}nightly`);
    expect(rejected.code).toBe(1);
    expect(rejected.stderr).toContain('retention.keepDaily');
    const listed = JSON.parse(list.stdout) as { policies: { name: string; valid: boolean }[] };
    expect(listed.policies).toEqual([expect.objectContaining({ name: 'nightly', valid: true })]);
  });

  it('run backs up tagged tables, records them, prints --json results; backups list reads the ledger', async () => {
    // Prepare
    await putPolicyRaw(env, 'daily', JSON.stringify({ schedule: 'rate(1 day)', retention: { keepLast: 5 } }));
    const a = uniqueName('cli-a');
    const b = uniqueName('cli-b');
    const typo = uniqueName('cli-typo');
    await createTable(env, a, 'daily');
    await createTable(env, b, 'daily hourly-ish');
    await createTable(env, typo, 'dialy');

    // Act
    const run1 = await cli(env, ['run', '--policy', 'daily', '--json']);
    const run2 = await cli(env, ['run', '--policy', 'daily', '--table', a, '--json']);
    const list = await cli(env, ['backups', 'list', '--table', a, '--json']);
    const human = await cli(env, ['backups', 'list']);

    // Assess
    expect(run1.code).toBe(0);
    const out1 = JSON.parse(run1.stdout) as RunJson;
    expect(out1.results.map((r) => [r.table, r.status]).sort()).toEqual(
      [
        [a, 'backed-up'],
        [b, 'backed-up'],
      ].sort(),
    );
    for (const r of out1.results) expect(r.backupArn).toContain(`table/${r.table}/backup/`);
    expect(out1.problems).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ kind: 'unknown-policy', table: typo }),
        expect.objectContaining({ kind: 'unknown-policy', table: b }),
      ]),
    );
    // Each manual run is its own slot: a second run backs up again.
    expect(run2.code).toBe(0);
    expect(JSON.parse(run2.stdout)).toMatchObject({ results: [{ table: a, status: 'backed-up' }] });
    expect(await backupCount(env, a)).toBe(2);
    expect(await backupCount(env, b)).toBe(1);
    expect(await backupCount(env, typo)).toBe(0);
    const listed = JSON.parse(list.stdout) as { backups: { table: string; trigger: string; status: string }[] };
    expect(listed.backups).toHaveLength(2);
    expect(listed.backups.every((x) => x.table === a && x.trigger === 'manual' && x.status === 'AVAILABLE')).toBe(true);
    expect(human.code).toBe(0);
    expect(human.stdout).toContain(b);
  });

  it('steady state over 20 tables: per table one CreateBackup, one DeleteBackup and the one ListBackups that confirms it, no DescribeTable or PITR read of its own', async () => {
    // Prepare: 20 tables, keep the last backup only.
    await putPolicyRaw(env, 'steady', JSON.stringify({ schedule: 'rate(1 hour)', retention: { keepLast: 1 }, pointInTimeRecovery: { enabled: true } }));
    const tables = await Promise.all(Array.from({ length: 20 }, async () => createTable(env, uniqueName('cli-steady'), 'steady')));
    expect(tables).toHaveLength(20);

    // Act: the first run also takes each table's daily settings snapshot; the third is steady.
    const first = await cli(env, ['run', '--policy', 'steady', '--json']);
    await cli(env, ['run', '--policy', 'steady', '--json']);
    const second = await cli(env, ['run', '--policy', 'steady', '--json']);

    // Assess
    type Calls = { calls: Record<string, number>; results: { status: string }[] };
    const run1 = JSON.parse(first.stdout) as Calls;
    const run2 = JSON.parse(second.stdout) as Calls;
    expect(run1.results.filter((r) => r.status === 'backed-up')).toHaveLength(20);
    expect(run1.calls).toMatchObject({ CreateBackup: 20, DescribeTable: 20, DescribeTimeToLive: 20, DescribeContinuousBackups: 20 });
    expect(run2.results.filter((r) => r.status === 'backed-up')).toHaveLength(20);
    expect(run2.calls).toMatchObject({ CreateBackup: 20, DeleteBackup: 20, GetResources: 1 });
    // A prune that deletes confirms what exists first: one ListBackups of the table (one page).
    expect(run2.calls.ListBackups).toBe(20);
    for (const api of ['DescribeTable', 'DescribeContinuousBackups', 'DescribeTimeToLive', 'ListTagsOfResource', 'DescribeBackup']) {
      expect([api, run2.calls[api] ?? 0]).toEqual([api, 0]);
    }
    // The ledger still records each backup's item count, with when DynamoDB reported it.
    const list = JSON.parse((await cli(env, ['backups', 'list', '--json'])).stdout) as { backups: { table: string; itemCount?: number; itemCountAt?: string; createdAt?: string }[] };
    const ours = list.backups.filter((b) => b.table.startsWith('cli-steady'));
    expect(ours.length).toBeGreaterThanOrEqual(40);
    for (const b of ours) expect(b).toMatchObject({ itemCount: 3, itemCountAt: expect.any(String) });
  });

  it('run --dry-run creates nothing', async () => {
    // Prepare
    await putPolicyRaw(env, 'dry', JSON.stringify({ schedule: 'rate(1 day)' }));
    const t = uniqueName('cli-dry');
    await createTable(env, t, 'dry');

    // Act
    const res = await cli(env, ['run', '--policy', 'dry', '--dry-run', '--json']);

    // Assess
    expect(res.code).toBe(0);
    expect(JSON.parse(res.stdout)).toMatchObject({ results: [{ table: t, status: 'skipped', reason: expect.stringContaining('dry run') }] });
    expect(await backupCount(env, t)).toBe(0);
  });

  it('exits non-zero when the policy is unreadable or a table failed, and publishes the failure', async () => {
    // Prepare
    await putPolicyRaw(env, 'broken', '{"retention": ');
    const t = uniqueName('cli-broken');
    await createTable(env, t, 'broken');
    const untagged = uniqueName('cli-untagged');
    await createTable(env, untagged);
    await putPolicyRaw(env, 'ok', JSON.stringify({ schedule: 'rate(1 day)' }));

    // Act
    const unreadable = await cli(env, ['run', '--policy', 'broken', '--json', '--topic-arn', env.topicArn]);
    const missing = await cli(env, ['run', '--policy', 'nosuch', '--json']);
    const notTagged = await cli(env, ['run', '--policy', 'ok', '--table', untagged, '--json']);

    // Assess
    expect(unreadable.code).toBe(1);
    expect(JSON.parse(unreadable.stdout)).toMatchObject({ results: [], problems: [{ kind: 'invalid-policy', policy: 'broken' }] });
    expect(await backupCount(env, t)).toBe(0);
    expect(missing.code).toBe(1);
    expect(JSON.parse(missing.stdout).problems[0].message).toContain('no policy named "nosuch"');
    expect(notTagged.code).toBe(1);
    expect(JSON.parse(notTagged.stdout)).toMatchObject({ results: [{ table: untagged, status: 'failed' }] });
    const notes = await readNotifications(env, { waitForAtLeast: 1 });
    expect(notes).toHaveLength(1);
    expect(notes[0].subject).toContain('FAILED: broken (manual)');
    expect(parseSummaryJson(notes[0].message)).toMatchObject({ problems: [{ kind: 'invalid-policy' }] });
  });

  it('a bad flag or value gets a one-line error and exit code 2; --help works everywhere', async () => {
    // Act
    const results = await Promise.all([
      cli(env, ['run', '--policy', 'daily', '--bogus']),
      cli(env, ['run', '--policy', 'no spaces allowed']),
      cli(env, ['run', '--policy', 'daily', '--concurrency', 'lots']),
      cli(env, ['--endpoint', 'not a url', 'policy', 'list']),
      cli(env, ['frobnicate']),
    ]);
    const helps = await Promise.all(
      [[], ['run'], ['policy'], ['policy', 'put'], ['policy', 'validate'], ['ledger', 'init'], ['backups', 'list']].map((a) =>
        cli(env, [...a, '--help']),
      ),
    );

    // Assess
    for (const r of results) {
      expect(r.code).toBe(2);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(/^error: /);
    }
    for (const h of helps) {
      expect(h.code).toBe(0);
      expect(h.stdout).toContain('Usage: ddb-backup');
    }
  });

  it('ledger init creates the ledger once and is idempotent', async () => {
    // Prepare
    const name = uniqueName('ledger');

    // Act
    const first = await cli(env, ['ledger', 'init', '--ledger-table', name]);
    const second = await cli(env, ['ledger', 'init', '--ledger-table', name]);

    // Assess
    expect(first).toMatchObject({ code: 0, stdout: expect.stringContaining(`created ledger table ${name}`) });
    expect(second).toMatchObject({ code: 0, stdout: expect.stringContaining('already exists') });
  });
});
