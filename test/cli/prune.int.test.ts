import { CreateBackupCommand, ListBackupsCommand } from '@aws-sdk/client-dynamodb';
import { looksLikeServiceName } from '../../lambda/core/naming';
import { createTable, makeEnv, putPolicyRaw, uniqueName, type TestEnv } from '../support/aws';
import { cli } from '../support/cli';

async function liveBackups(env: TestEnv, table: string) {
  const out = await env.ddb.send(new ListBackupsCommand({ TableName: table }));
  return (out.BackupSummaries ?? []).filter((b) => b.BackupStatus !== 'DELETED');
}

interface PruneJson {
  dryRun: boolean;
  plans: { table: string; decisions: { backupArn: string; name?: string; action: string; reasons: string[] }[]; deleted: string[] }[];
  results: { table: string; status: string; deleted?: number }[];
  problems: { kind: string; table?: string; message: string }[];
}

describe('retention through the CLI against moto', () => {
  let env: TestEnv;
  beforeAll(async () => {
    env = await makeEnv('prune');
    await putPolicyRaw(env, 'keep3', JSON.stringify({ schedule: 'rate(1 day)', retention: { keepLast: 3 } }));
  });

  it('keep-last-3 after 6 runs leaves exactly 3 of the service backups; a hand-made backup survives', async () => {
    // Prepare
    const table = uniqueName('keep3');
    await createTable(env, table, 'keep3');
    const manual = await env.ddb.send(new CreateBackupCommand({ TableName: table, BackupName: 'before-migration' }));

    // Act: six manual runs, each its own slot
    const runs = [];
    for (let i = 0; i < 6; i++) {
      runs.push(await cli(env, ['run', '--policy', 'keep3', '--table', table, '--json']));
    }

    // Assess
    for (const r of runs) expect(r.code).toBe(0);
    const live = await liveBackups(env, table);
    const ours = live.filter((b) => looksLikeServiceName(b.BackupName));
    expect(ours).toHaveLength(3);
    expect(live.map((b) => b.BackupArn)).toContain(manual.BackupDetails!.BackupArn);
    // The three kept are the three newest runs' backups.
    const created = runs.map((r) => (JSON.parse(r.stdout) as { results: { backupArn: string }[] }).results[0].backupArn);
    expect(ours.map((b) => b.BackupArn).sort()).toEqual(created.slice(3).sort());
    // Deletions are counted in the results and marked in the ledger with when and why.
    const deletedCounts = runs.map((r) => (JSON.parse(r.stdout) as { results: { deleted?: number }[] }).results[0].deleted);
    expect(deletedCounts).toEqual([0, 0, 0, 1, 1, 1]);
    const list = JSON.parse((await cli(env, ['backups', 'list', '--table', table, '--json'])).stdout) as {
      backups: { backupArn: string; status: string; deletedAt?: string; deleteReason?: string }[];
    };
    const pruned = list.backups.filter((b) => b.status === 'DELETED');
    expect(pruned.map((b) => b.backupArn).sort()).toEqual(created.slice(0, 3).sort());
    for (const b of pruned) {
      expect(b.deletedAt).toEqual(expect.any(String));
      expect(b.deleteReason).toContain('pruned: not kept by any retention rule');
    }
  });

  it('prune --dry-run prints the plan and deletes nothing; prune then carries it out', async () => {
    // Prepare: five backups under keep-last-5, then the policy tightens to keep-last-2
    await putPolicyRaw(env, 'tight', JSON.stringify({ retention: { keepLast: 5 } }));
    const table = uniqueName('tight');
    await createTable(env, table, 'tight');
    for (let i = 0; i < 5; i++) await cli(env, ['run', '--policy', 'tight', '--table', table]);
    const manual = await env.ddb.send(new CreateBackupCommand({ TableName: table, BackupName: 'by-hand' }));
    await putPolicyRaw(env, 'tight', JSON.stringify({ retention: { keepLast: 2 } }));

    // Act
    const dry = await cli(env, ['prune', '--policy', 'tight', '--table', table, '--dry-run', '--json']);
    const afterDry = await liveBackups(env, table);
    const human = await cli(env, ['prune', '--policy', 'tight', '--table', table, '--dry-run']);
    const real = await cli(env, ['prune', '--policy', 'tight', '--table', table, '--json']);

    // Assess
    expect(dry.code).toBe(0);
    const plan = JSON.parse(dry.stdout) as PruneJson;
    expect(plan.dryRun).toBe(true);
    const decisions = plan.plans[0].decisions;
    expect(decisions.filter((d) => d.action === 'delete')).toHaveLength(3);
    expect(decisions.filter((d) => d.action === 'keep')).toHaveLength(2);
    // A backup the ledger does not own is not even a candidate: it never appears in the plan.
    expect(decisions.find((d) => d.backupArn === manual.BackupDetails!.BackupArn)).toBeUndefined();
    expect(decisions.filter((d) => d.action === 'keep').flatMap((d) => d.reasons)).toContain('keepLast 1/2');
    expect(afterDry).toHaveLength(6);
    expect(human.stdout).toContain('delete (dry run)');
    expect(human.stdout).toContain('would delete 3 backup(s)');
    expect(real.code).toBe(0);
    const done = JSON.parse(real.stdout) as PruneJson;
    expect(done.plans[0].deleted).toHaveLength(3);
    expect(done.results).toEqual([expect.objectContaining({ table, status: 'pruned', deleted: 3 })]);
    const live = await liveBackups(env, table);
    expect(live).toHaveLength(3);
    expect(live.map((b) => b.BackupArn)).toContain(manual.BackupDetails!.BackupArn);
  });

  it('an untagged table keeps its backups and is reported; an invalid policy deletes nothing', async () => {
    // Prepare
    const table = uniqueName('orphan');
    await createTable(env, table, 'keep3');
    for (let i = 0; i < 2; i++) await cli(env, ['run', '--policy', 'keep3', '--table', table]);
    const { UntagResourceCommand, DescribeTableCommand } = await import('@aws-sdk/client-dynamodb');
    const arn = (await env.ddb.send(new DescribeTableCommand({ TableName: table }))).Table!.TableArn!;
    await env.ddb.send(new UntagResourceCommand({ ResourceArn: arn, TagKeys: [env.tagKey] }));
    await putPolicyRaw(env, 'keep0', JSON.stringify({ retention: { keepLast: 0 } }));
    const guarded = uniqueName('guarded');
    await createTable(env, guarded, 'keep0');
    await putPolicyRaw(env, 'keep0', '{"retention": {"keepLast": 0}'); // now malformed

    // Act
    const orphan = await cli(env, ['prune', '--policy', 'keep3', '--json']);
    const invalid = await cli(env, ['prune', '--policy', 'keep0', '--json']);

    // Assess
    expect(orphan.code).toBe(0);
    const o = JSON.parse(orphan.stdout) as PruneJson;
    expect(o.problems).toEqual(expect.arrayContaining([expect.objectContaining({ kind: 'orphaned', table })]));
    expect((await liveBackups(env, table)).filter((b) => looksLikeServiceName(b.BackupName))).toHaveLength(2);
    expect(invalid.code).toBe(1);
    expect((JSON.parse(invalid.stdout) as PruneJson).problems[0]).toMatchObject({ kind: 'invalid-policy' });
  });
});
