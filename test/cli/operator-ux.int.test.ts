/**
 * What an operator expects of a backup CLI, on moto through the real CLI: --force past the
 * cooldown with the skip saying until when, backups list filters with when figures were measured,
 * a failed prune that says why, and a progress line on stderr for a run.
 */
import { createTable, makeEnv, putOverrideRaw, putPolicyRaw, uniqueName, type TestEnv } from '../support/aws';
import { cli } from '../support/cli';

interface RunJson {
  results: { table: string; status: string; reason?: string; backupArn?: string }[];
}
interface ListJson {
  backups: { table: string; policy: string; status: string; createdAt?: string; itemCount?: number; itemCountAt?: string }[];
}

describe('operator experience on moto', () => {
  let env: TestEnv;
  beforeAll(async () => {
    env = await makeEnv('ux');
    await putPolicyRaw(env, 'cool', JSON.stringify({ minIntervalMinutes: 120, retention: { keepLast: 5 } }));
    await putPolicyRaw(env, 'other', JSON.stringify({ retention: { keepLast: 5 } }));
  });

  it('run inside the cooldown says until when; run --force backs up anyway', async () => {
    const table = uniqueName('force');
    await createTable(env, table, 'cool', 1);
    const first = await cli(env, ['run', '--policy', 'cool', '--table', table, '--json']);
    const skipped = await cli(env, ['run', '--policy', 'cool', '--table', table, '--json']);
    const forced = await cli(env, ['run', '--policy', 'cool', '--table', table, '--json', '--force']);

    expect(first.code).toBe(0);
    expect((JSON.parse(skipped.stdout) as RunJson).results[0]).toMatchObject({ status: 'skipped', reason: expect.stringMatching(/next backup allowed after \d{4}-\d\d-\d\dT/) });
    expect(forced.code).toBe(0);
    expect((JSON.parse(forced.stdout) as RunJson).results[0]).toMatchObject({ status: 'backed-up' });
    expect(skipped.stderr).toMatch(/^backing up 1 table\(s\) under cool: 1 to do\n$/);
  });

  it('backups list filters by policy, status, since and limit, and says when the item count was measured', async () => {
    const table = uniqueName('list');
    await createTable(env, table, 'cool other', 2);
    await cli(env, ['run', '--policy', 'other', '--table', table]);
    await cli(env, ['run', '--policy', 'other', '--table', table]);
    await cli(env, ['run', '--policy', 'cool', '--table', table]);
    const list = async (...args: string[]) => (JSON.parse((await cli(env, ['backups', 'list', '--table', table, '--json', ...args])).stdout) as ListJson).backups;

    const byPolicy = await list('--policy', 'other');
    const limited = await list('--limit', '1');
    const available = await list('--status', 'AVAILABLE');
    const none = await list('--status', 'VANISHED');
    const recent = await list('--since', '1h');
    const future = await list('--since', '2999-01-01T00:00:00Z');
    const human = await cli(env, ['backups', 'list', '--table', table]);
    const bad = await cli(env, ['backups', 'list', '--since', 'yesterday']);

    expect(byPolicy.map((b) => b.policy)).toEqual(['other', 'other']);
    expect(limited).toHaveLength(1);
    expect(limited[0].policy).toBe('cool'); // the newest
    expect(available).toHaveLength(3);
    expect(none).toEqual([]);
    expect(recent).toHaveLength(3);
    expect(future).toEqual([]);
    expect(human.stdout).toMatch(/2 at \d{4}-\d\d-\d\dT/);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('not an ISO 8601 time nor an age like 30d');
  });

  it('a stray tag naming an unknown policy is a warning: the run succeeds, status names the table and the policy', async () => {
    const good = uniqueName('good');
    const stray = uniqueName('stray');
    await createTable(env, good, 'other', 1);
    await createTable(env, stray, 'nosuchpolicy', 1);

    const run = await cli(env, ['run', '--policy', 'other', '--json']);
    const status = await cli(env, ['status', '--table', stray, '--json']);

    expect(run.code).toBe(0);
    const out = JSON.parse(run.stdout) as RunJson & { problems: { kind: string; table?: string }[] };
    expect(out.results.find((r) => r.table === good)?.status).toBe('backed-up');
    expect(out.problems).toEqual(expect.arrayContaining([expect.objectContaining({ kind: 'unknown-policy', table: stray })]));
    expect(status.stdout).toContain('tag names unknown policy');
    expect(status.stdout).toContain('nosuchpolicy');
  });

  it('a prune that fails for a table says which and why in plain text', async () => {
    const table = uniqueName('why');
    await createTable(env, table, 'other', 1);
    await cli(env, ['run', '--policy', 'other', '--table', table]);
    await putOverrideRaw(env, table, JSON.stringify({ retention: null }));

    const prune = await cli(env, ['prune', '--policy', 'other', '--table', table]);

    expect(prune.code).toBe(1);
    expect(prune.stderr).toContain(`failed: ${table} [other]: not pruned:`);
    expect(prune.stderr).toContain('retention');
  });
});
