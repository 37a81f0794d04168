/**
 * Refuse, never default, through the spawned CLI against moto: an invalid per-table override fails
 * the run and the prune (naming the field and the table) and deletes nothing; a policy file with a
 * UTF-8 byte order mark validates; a missing ledger table is named, with its fix.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ListBackupsCommand } from '@aws-sdk/client-dynamodb';
import { createTable, makeEnv, putOverrideRaw, putPolicyRaw, uniqueName, type TestEnv } from '../support/aws';
import { cli } from '../support/cli';

const BOM = '\uFEFF';
const dir = mkdtempSync(join(tmpdir(), 'ddb-backup-refuse-'));

/** The table's backups that are not deleted. */
async function liveBackupArns(env: TestEnv, table: string): Promise<string[]> {
  const out = await env.ddb.send(new ListBackupsCommand({ TableName: table }));
  return (out.BackupSummaries ?? [])
    .filter((b) => b.BackupStatus !== 'DELETED')
    .map((b) => b.BackupArn!)
    .sort();
}

interface ResultsJson {
  results: { table: string; policy: string; status: string; deleted?: number; reason?: string }[];
  problems: { kind: string; table?: string; message: string }[];
}

describe('refuse, never default (spawned CLI against moto)', () => {
  let env: TestEnv;
  beforeAll(async () => {
    env = await makeEnv('refuse');
  });

  it('a table override with "retention": null fails run and prune, names the field and the table, and deletes nothing', async () => {
    // Prepare: more backups than the schema's default retention (keepLast 7) would keep, taken
    // under a valid policy before the override is broken.
    const policy = 'keep20';
    await putPolicyRaw(env, policy, JSON.stringify({ schedule: 'rate(1 day)', retention: { keepLast: 20 } }));
    const table = uniqueName('refuse-null');
    await createTable(env, table, policy);
    for (let i = 0; i < 9; i++) {
      const run = await cli(env, ['run', '--policy', policy, '--table', table, '--json']);
      expect(run.code).toBe(0);
    }
    const before = await liveBackupArns(env, table);
    expect(before).toHaveLength(9);
    await putOverrideRaw(env, table, '{"retention": null}');

    // Act
    const prune = await cli(env, ['prune', '--policy', policy, '--json']);
    const afterPrune = await liveBackupArns(env, table);
    const run = await cli(env, ['run', '--policy', policy, '--json']);
    const afterRun = await liveBackupArns(env, table);

    // Assess
    expect(afterPrune).toEqual(before);
    expect(afterRun).toEqual(before);
    for (const out of [prune, run]) {
      expect(out.code).not.toBe(0);
      const json = JSON.parse(out.stdout) as ResultsJson;
      const result = json.results.find((r) => r.table === table);
      expect(result).toMatchObject({ table, policy, status: 'failed' });
      expect(result?.deleted ?? 0).toBe(0);
      expect(result?.reason).toContain('PolicyValidationError');
      expect(result?.reason).toContain(`table "${table}"`);
      expect(result?.reason).toContain(`"${policy}"`);
      expect(result?.reason).toMatch(/\bretention: null\b/);
    }
  });

  it.each([
    ['minIntervalMinutes', '{"minIntervalMinutes": "x"}'],
    ['retentoin', '{"retentoin": {"keepLast": 1}}'],
  ])('an override with an invalid %s fails prune and run, naming it and the table, and deletes nothing', async (field, override) => {
    // Prepare
    const policy = uniqueName('keep1').slice(0, 64);
    await putPolicyRaw(env, policy, JSON.stringify({ retention: { keepLast: 5 } }));
    const table = uniqueName('refuse-field');
    await createTable(env, table, policy);
    for (let i = 0; i < 2; i++) expect((await cli(env, ['run', '--policy', policy, '--table', table])).code).toBe(0);
    const before = await liveBackupArns(env, table);
    await putOverrideRaw(env, table, override);

    // Act
    const prune = await cli(env, ['prune', '--policy', policy, '--table', table, '--json']);
    const run = await cli(env, ['run', '--policy', policy, '--table', table, '--json']);

    // Assess
    expect(await liveBackupArns(env, table)).toEqual(before);
    for (const out of [prune, run]) {
      expect(out.code).not.toBe(0);
      const result = (JSON.parse(out.stdout) as ResultsJson).results.find((r) => r.table === table);
      expect(result?.status).toBe('failed');
      expect(result?.reason).toContain(`${field}:`);
      expect(result?.reason).toContain(`table "${table}"`);
    }
  });

  it('a valid partial override ({"retention": {"keepLast": 3}}) still applies', async () => {
    // Prepare
    const policy = 'keep10';
    await putPolicyRaw(env, policy, JSON.stringify({ retention: { keepLast: 10 } }));
    const table = uniqueName('refuse-partial');
    await createTable(env, table, policy);
    for (let i = 0; i < 4; i++) expect((await cli(env, ['run', '--policy', policy, '--table', table])).code).toBe(0);
    await putOverrideRaw(env, table, '{"retention": {"keepLast": 3}}');

    // Act
    const prune = await cli(env, ['prune', '--policy', policy, '--table', table, '--json']);

    // Assess
    expect(prune.code).toBe(0);
    expect((JSON.parse(prune.stdout) as ResultsJson).results).toEqual([expect.objectContaining({ table, status: 'pruned', deleted: 1 })]);
    expect(await liveBackupArns(env, table)).toHaveLength(3);
  });

  it('policy validate accepts a file that starts with a UTF-8 byte order mark', async () => {
    // Prepare
    const file = join(dir, 'bom.json');
    writeFileSync(file, `${BOM}${JSON.stringify({ schedule: 'rate(1 day)', retention: { keepLast: 3 } }, null, 2)}\n`, 'utf8');

    // Act
    const out = await cli(undefined, ['policy', 'validate', '--file', file]);

    // Assess
    expect(out).toMatchObject({ code: 0, stdout: expect.stringContaining('ok: policy "bom" is valid') });
  });

  it('a policy in SSM that starts with a byte order mark is listed as valid and runs', async () => {
    // Prepare
    const policy = 'bomssm';
    await putPolicyRaw(env, policy, `${BOM}${JSON.stringify({ retention: { keepLast: 3 } })}`);
    const table = uniqueName('refuse-bom');
    await createTable(env, table, policy);

    // Act
    const list = await cli(env, ['policy', 'list', '--json']);
    const run = await cli(env, ['run', '--policy', policy, '--table', table, '--json']);

    // Assess
    const listed = JSON.parse(list.stdout) as { policies: { name: string; valid: boolean }[] };
    expect(listed.policies).toEqual(expect.arrayContaining([expect.objectContaining({ name: policy, valid: true })]));
    expect(run.code).toBe(0);
    expect((JSON.parse(run.stdout) as ResultsJson).results).toEqual([expect.objectContaining({ table, status: 'backed-up' })]);
  });

  it('backups list against a missing ledger table exits 1 and names the table and `ddb-backup ledger init`', async () => {
    // Prepare
    const ledgerTable = uniqueName('nosuch');

    // Act
    const out = await cli(env, ['backups', 'list', '--ledger-table', ledgerTable]);

    // Assess
    expect(out.code).toBe(1);
    expect(out.stderr).toContain(`"${ledgerTable}"`);
    expect(out.stderr).toContain('ddb-backup ledger init');
    expect(out.stderr.trim().split('\n')).toHaveLength(1);
  });
});
