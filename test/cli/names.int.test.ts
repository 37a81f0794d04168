/**
 * Wrong names are errors, and refusals speak JSON, through the spawned CLI against moto: a table or
 * policy that does not exist fails the command naming it; a refused restore or restore-settings
 * with --json prints `{"error": {message, input}}`. Also the progress lines of a long wait.
 */
import type { CliIo } from '../../lambda/cli/context';
import { progressEverySeconds, waitWithProgress } from '../../lambda/cli/operator';
import { createTable, makeEnv, putPolicyRaw, uniqueName, type TestEnv } from '../support/aws';
import { cli } from '../support/cli';

interface ErrorJson {
  error: { message: string; input: Record<string, unknown> };
}

let env: TestEnv;
let existing: string;

beforeAll(async () => {
  env = await makeEnv('names');
  await putPolicyRaw(env, 'daily', JSON.stringify({ schedule: 'rate(1 day)', retention: { keepLast: 5 } }));
  existing = uniqueName('names-a');
  await createTable(env, existing, 'daily', 1);
});

describe('status with a table name that does not exist', () => {
  it('exits 1 naming the table and the region instead of printing "no tables"', async () => {
    // Prepare
    const missing = uniqueName('nosuch');

    // Act
    const res = await cli(env, ['status', '--table', missing]);

    // Assess
    expect(res.code).toBe(1);
    expect(res.stdout).not.toContain('no tables');
    expect(res.stderr).toContain(`no table named ${missing} in us-east-1`);
  });

  it('with --json prints {"error": {message, input}} and exits 1', async () => {
    // Prepare
    const missing = uniqueName('nosuch');

    // Act
    const res = await cli(env, ['status', '--table', missing, '--json']);

    // Assess
    expect(res.code).toBe(1);
    expect(JSON.parse(res.stdout)).toEqual({ error: { message: `no table named ${missing} in us-east-1`, input: { table: [missing] } } });
  });

  it('with one existing and one missing table reports the existing one and fails naming the missing one', async () => {
    // Prepare
    const missing = uniqueName('nosuch');

    // Act
    const plain = await cli(env, ['status', '--table', existing, '--table', missing]);
    const json = await cli(env, ['status', '--table', existing, '--table', missing, '--json']);

    // Assess
    expect(plain.code).toBe(1);
    expect(plain.stdout).toContain(existing);
    expect(plain.stdout).toContain('1 table(s)');
    expect(plain.stdout).not.toContain(missing);
    expect(plain.stderr).toContain(`no table named ${missing} in us-east-1`);
    expect(json.code).toBe(1);
    const out = JSON.parse(json.stdout) as { tables: { table: string }[]; error: ErrorJson['error'] };
    expect(out.tables.map((t) => t.table)).toEqual([existing]);
    expect(out.error).toEqual({ message: `no table named ${missing} in us-east-1`, input: { table: [missing] } });
  });
});

describe('pitr apply with a policy that does not exist', () => {
  it('exits 1 naming the policy and where policies live', async () => {
    // Act
    const res = await cli(env, ['pitr', 'apply', '--policy', 'nosuch']);

    // Assess
    expect(res.code).toBe(1);
    expect(res.stderr).toContain(`no policy named nosuch under ${env.policyPrefix} (ddb-backup policy list shows them)`);
    expect(res.stdout).not.toContain('no tables are tagged');
  });

  it('with --json prints {"error": {message, input}} and exits 1', async () => {
    // Act
    const res = await cli(env, ['pitr', 'apply', '--policy', 'nosuch', '--json']);

    // Assess
    expect(res.code).toBe(1);
    expect(JSON.parse(res.stdout)).toEqual({
      error: { message: `no policy named nosuch under ${env.policyPrefix} (ddb-backup policy list shows them)`, input: { policy: 'nosuch' } },
    });
  });

  it('still applies an existing policy (exit 0)', async () => {
    // Act
    const res = await cli(env, ['pitr', 'apply', '--policy', 'daily', '--dry-run', '--json']);

    // Assess
    expect(res.code).toBe(0);
    expect(JSON.parse(res.stdout)).toMatchObject({ policy: 'daily', dryRun: true });
  });
});

describe('a refused restore --json prints JSON', () => {
  it('prints the error with its input when the target exists, and exits 1', async () => {
    // Prepare
    const target = uniqueName('names-tgt');
    await createTable(env, target, undefined, 0);

    // Act
    const res = await cli(env, ['restore', '--table', existing, '--target', target, '--latest', '--json']);

    // Assess
    expect(res.code).toBe(1);
    const out = JSON.parse(res.stdout) as ErrorJson;
    expect(out.error.input).toEqual({ table: existing, target });
    expect(out.error.message).toContain(`table "${target}" already exists`);
  });

  it('prints the error with its input when there is no backup, and exits 1', async () => {
    // Prepare
    const src = uniqueName('names-nobk');
    await createTable(env, src, 'daily', 1);
    const target = uniqueName('names-tgt');

    // Act
    const res = await cli(env, ['restore', '--table', src, '--target', target, '--latest', '--json']);

    // Assess
    expect(res.code).toBe(1);
    const out = JSON.parse(res.stdout) as ErrorJson;
    expect(out.error.input).toEqual({ table: src, target });
    expect(out.error.message).toContain(src);
  });

  it('prints the error with its input when the source is missing, and exits 1', async () => {
    // Prepare
    const src = uniqueName('names-gone');
    const target = uniqueName('names-tgt');

    // Act
    const res = await cli(env, ['restore', '--table', src, '--target', target, '--latest-restorable', '--json']);

    // Assess
    expect(res.code).toBe(1);
    const out = JSON.parse(res.stdout) as ErrorJson;
    expect(out.error.input).toEqual({ table: src, target });
    expect(out.error.message).toBe(`refusing to restore: the source table "${src}" does not exist`);
  });

  it('restore-settings --json prints the error with its input when the table or the settings are missing, and exits 1', async () => {
    // Prepare
    const gone = uniqueName('names-gone');

    // Act
    const noTable = await cli(env, ['restore-settings', '--table', gone, '--from', existing, '--json']);
    const noSettings = await cli(env, ['restore-settings', '--table', existing, '--from', gone, '--json']);

    // Assess
    expect(noTable.code).toBe(1);
    expect(JSON.parse(noTable.stdout)).toEqual({ error: { message: `table "${gone}" does not exist`, input: { table: gone, from: existing } } });
    expect(noSettings.code).toBe(1);
    const out = JSON.parse(noSettings.stdout) as ErrorJson;
    expect(out.error.input).toEqual({ table: existing, from: gone });
    expect(out.error.message).toContain('no settings to apply');
  });
});

describe('progress of a long wait', () => {
  afterEach(() => {
    jest.useRealTimers();
  });

  it('prints every state change and a line at least every 30 s while the state stays the same', async () => {
    // Prepare
    jest.useFakeTimers();
    const lines: string[] = [];
    const io: CliIo = { out: () => undefined, err: (t) => lines.push(t) };
    // A wait that reports CREATING, stays there for 95 s, then turns ACTIVE.
    const wait = (onState: (state: string, elapsedMs: number) => void) =>
      new Promise<string>((resolve) => {
        onState('CREATING', 0);
        setTimeout(() => {
          onState('ACTIVE', 95_000);
          resolve('done');
        }, 95_000);
      });

    // Act
    const result = waitWithProgress(io, 'tbl', wait, 30_000);
    await jest.advanceTimersByTimeAsync(100_000);

    // Assess
    await expect(result).resolves.toBe('done');
    expect(lines).toEqual(['tbl: CREATING (0 s)', 'tbl: still CREATING (30 s)', 'tbl: still CREATING (60 s)', 'tbl: still CREATING (90 s)', 'tbl: ACTIVE (95 s)']);
    expect(jest.getTimerCount()).toBe(0);
  });

  it('takes its interval from DDB_BACKUP_PROGRESS_SECONDS, 30 s by default', () => {
    expect(progressEverySeconds({})).toBe(30);
    expect(progressEverySeconds({ DDB_BACKUP_PROGRESS_SECONDS: '1' })).toBe(1);
    expect(progressEverySeconds({ DDB_BACKUP_PROGRESS_SECONDS: 'x' })).toBe(30);
  });
});
