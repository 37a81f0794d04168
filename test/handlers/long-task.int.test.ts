/**
 * The waiter's step handler against moto, driven the way the state machine drives it: each
 * outcome's state goes back in (through JSON, as Step Functions passes it) until `done`. Step
 * Functions executions never finish on moto, so the loop stands in for the state machine; its
 * definition is asserted in test/lib/long-task-waiter.test.ts.
 */
import { CreateTableCommand, ListTablesCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { DrillLedger } from '../../lambda/aws/drills';
import { UnknownLongTaskError, longTaskRegistry } from '../../lambda/aws/long-tasks';
import type { LongTaskState, StepOutcome } from '../../lambda/core/long-task';
import { longTaskHandler } from '../../lambda/handlers/long-task.handler';
import { makeEnv, putPolicyRaw, uniqueName, type TestEnv } from '../support/aws';
import { cli } from '../support/cli';

let env: TestEnv;

beforeAll(async () => {
  env = await makeEnv('waiter');
  await putPolicyRaw(env, 'weekly', JSON.stringify({ schedule: 'rate(7 days)', drill: { schedule: 'rate(1 day)' } }));
});

async function tagged(name: string): Promise<void> {
  await env.ddb.send(
    new CreateTableCommand({
      TableName: name,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
      KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
      Tags: [{ Key: env.tagKey, Value: 'weekly' }],
    }),
  );
  await env.ddb.send(new PutItemCommand({ TableName: name, Item: { pk: { S: 'a' } } }));
}

/** Runs the steps as the state machine would, waits skipped (moto restores are ACTIVE at once). */
async function runAsWaiter(input: LongTaskState): Promise<{ outcomes: StepOutcome[]; last: Extract<StepOutcome, { next: 'done' }> }> {
  const reg = longTaskRegistry(env.service());
  const outcomes: StepOutcome[] = [];
  let state = input;
  for (let i = 0; i < 50; i++) {
    const out = JSON.parse(JSON.stringify(await longTaskHandler(state, reg))) as StepOutcome;
    outcomes.push(out);
    if (out.next === 'done') return { outcomes, last: out };
    state = out.state;
  }
  throw new Error('the task did not end in 50 steps');
}

describe('long-task step handler (the waiter\'s Lambda) against moto', () => {
  it('a scheduled drill picks the policy\'s tables in turn, restores, checks, records and cleans up', async () => {
    // Prepare: two tables of the policy, both backed up; the first already drilled.
    const first = uniqueName('wt-a');
    const second = uniqueName('wt-b');
    await tagged(first);
    await tagged(second);
    expect((await cli(env, ['run', '--policy', 'weekly', '--json'])).code).toBe(0);
    expect((await cli(env, ['drill', '--table', first, '--json'])).code).toBe(0);
    const input: LongTaskState = { kind: 'drill', phase: 'pick', policy: 'weekly', startedAt: new Date().toISOString() };

    // Act
    const { outcomes, last } = await runAsWaiter(input);

    // Assess
    expect(last.passed).toBe(true);
    expect(outcomes.map((o) => o.state.phase)).toEqual(['start', 'wait-active', 'settings', 'verify', 'cleanup', 'cleanup']);
    const [drill] = await new DrillLedger(env.ddb, env.ledgerTable).list({ table: second });
    expect(drill).toMatchObject({ table: second, policy: 'weekly', passed: true, outcome: 'passed', startedAt: input.startedAt });
    const tables = (await env.ddb.send(new ListTablesCommand({}))).TableNames ?? [];
    expect(tables.filter((t) => t.startsWith(`${second}-drill-`))).toEqual([]);
  });

  it('a policy without tables ends passed with nothing to drill; an unknown kind is an error the state machine catches', async () => {
    // Prepare
    await putPolicyRaw(env, 'empty', JSON.stringify({ schedule: 'rate(7 days)' }));
    const reg = longTaskRegistry(env.service());

    // Act
    const none = await longTaskHandler({ kind: 'drill', phase: 'pick', policy: 'empty', startedAt: new Date().toISOString() }, reg);
    const unknown = longTaskHandler({ kind: 'copy-v0', phase: 'start', startedAt: new Date().toISOString() }, reg);

    // Assess
    expect(none).toMatchObject({ next: 'done', passed: true, summary: 'no table is tagged with policy empty: nothing to drill' });
    await expect(unknown).rejects.toThrow(UnknownLongTaskError);
    await expect(unknown).rejects.toThrow('no long task of kind "copy-v0" (known: drill)');
  });
});
