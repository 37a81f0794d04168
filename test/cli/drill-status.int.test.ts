/** `status` flags DRILL for a table whose last restore drill failed (real CLI, moto). */
import { UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { createTable, makeEnv, putPolicyRaw, uniqueName, type TestEnv } from '../support/aws';
import { cli } from '../support/cli';

let env: TestEnv;

beforeAll(async () => {
  env = await makeEnv('drillstat');
  await putPolicyRaw(env, 'daily', JSON.stringify({ schedule: 'rate(1 day)', drill: { schedule: 'rate(7 days)' } }));
});

describe('status and restore drills', () => {
  it('a failed drill flags the table DRILL; a passing one clears it', async () => {
    // Prepare: a backed-up table whose ledger record claims 99 items (it has 3).
    const table = uniqueName('ds');
    await createTable(env, table, 'daily', 3);
    expect((await cli(env, ['run', '--policy', 'daily', '--table', table, '--json'])).code).toBe(0);
    const [rec] = await env.service().ledger().listBackupRecords(table);
    const setCount = (n: number) =>
      env.ddb.send(
        new UpdateItemCommand({
          TableName: env.ledgerTable,
          Key: { pk: { S: rec.pk }, sk: { S: rec.sk } },
          UpdateExpression: 'SET itemCount = :n',
          ExpressionAttributeValues: { ':n': { N: String(n) } },
        }),
      );
    await setCount(99);
    expect((await cli(env, ['drill', '--table', table, '--json'])).code).toBe(1);

    // Act
    const failed = await cli(env, ['status', '--table', table, '--json']);
    await setCount(3);
    expect((await cli(env, ['drill', '--table', table, '--json'])).code).toBe(0);
    const passed = await cli(env, ['status', '--table', table, '--json']);

    // Assess
    const flagsOf = (out: string) => (JSON.parse(out) as { tables: { table: string; flags: string[]; reasons: string[] }[] }).tables[0];
    expect(flagsOf(failed.stdout).flags).toEqual(['DRILL']);
    expect(flagsOf(failed.stdout).reasons.join(' ')).toContain(`ddb-backup drills --table ${table}`);
    expect(flagsOf(passed.stdout).flags).toEqual([]);
  });
});
