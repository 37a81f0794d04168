import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ENV } from '../../lambda/env';
import { endpoint, makeEnv, type TestEnv } from '../support/aws';
import { cli, spawnCli, type CliResult } from '../support/cli';

const dir = mkdtempSync(join(tmpdir(), 'ddb-backup-answers-'));
function policyFile(name: string, body: unknown): string {
  const file = join(dir, `${name}.json`);
  writeFileSync(file, typeof body === 'string' ? body : JSON.stringify(body));
  return file;
}


/**
 * Spawns the CLI with exactly `env` (plus PATH): no region, no warning switches, no shared
 * config file unless the test names them.
 */
function bare(args: string[], env: Record<string, string | undefined>): Promise<CliResult> {
  const childEnv: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: dir,
    AWS_CONFIG_FILE: join(dir, 'no-such-config'),
    AWS_SHARED_CREDENTIALS_FILE: join(dir, 'no-such-credentials'),
    ...env,
  };
  return spawnCli(args, childEnv);
}

function jsonLines(stdout: string): unknown[] {
  return stdout
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as unknown);
}

describe('every command answers (spawned CLI against moto)', () => {
  let env: TestEnv;
  beforeAll(async () => {
    env = await makeEnv('answers');
  });

  it('a failing command under --json prints one JSON object with error.message and error.input, and exits non-zero', async () => {
    // Prepare
    const bad = policyFile('bad', { schedule: 'every day', retention: { keepLast: -1 } });
    const missing = join(dir, 'nope.json');

    // Act
    const [invalid, unreadable, badFlag, unknownOption, unknownCommand] = await Promise.all([
      cli(undefined, ['policy', 'validate', '--file', bad, '--json']),
      cli(undefined, ['policy', 'validate', '--file', missing, '--json']),
      cli(env, ['run', '--policy', 'p', '--concurrency', '0', '--json']),
      cli(env, ['backups', 'list', '--bogus', '--json']),
      cli(env, ['nosuch', '--json']),
    ]);

    // Assess
    expect(invalid.code).toBe(1);
    expect(jsonLines(invalid.stdout)).toEqual([{ error: { message: expect.stringContaining('retention.keepLast'), input: { file: bad } } }]);
    expect(invalid.stderr).toContain('retention.keepLast');
    expect(unreadable.code).toBe(2);
    expect(jsonLines(unreadable.stdout)).toEqual([{ error: { message: expect.stringContaining('cannot read'), input: { file: missing } } }]);
    expect(badFlag.code).toBe(2);
    expect(jsonLines(badFlag.stdout)).toEqual([{ error: { message: expect.stringContaining('--concurrency'), input: { concurrency: '0' } } }]);
    expect(unknownOption.code).toBe(2);
    expect(jsonLines(unknownOption.stdout)).toEqual([{ error: { message: "unknown option '--bogus'", input: { option: '--bogus' } } }]);
    expect(unknownCommand.code).toBe(2);
    expect(jsonLines(unknownCommand.stdout)).toEqual([{ error: { message: "unknown command 'nosuch'", input: { command: 'nosuch' } } }]);
  });

  it('an unknown or mistyped command exits 2 with one line naming it (and the closest command), also with --help', async () => {
    // Act
    const [typoHelp, nosuch, nested, excess, noSubcommand, help] = await Promise.all([
      cli(undefined, ['pruen', '--help']),
      cli(undefined, ['nosuch']),
      cli(undefined, ['policy', 'valdate', '--file', 'x.json']),
      cli(undefined, ['policy', 'validate', '--file', 'x.json', 'extra']),
      cli(undefined, ['policy']),
      cli(undefined, ['policy', '--help']),
    ]);

    // Assess
    expect(typoHelp).toEqual({ code: 2, stdout: '', stderr: "error: unknown command 'pruen' (did you mean prune?)\n" });
    expect(nosuch).toEqual({ code: 2, stdout: '', stderr: "error: unknown command 'nosuch'\n" });
    expect(nested).toEqual({ code: 2, stdout: '', stderr: "error: unknown command 'valdate' (did you mean validate?)\n" });
    expect(excess.code).toBe(2);
    expect(excess.stderr).toMatch(/^error: too many arguments for 'validate'.*\n$/);
    expect(noSubcommand.code).toBe(2);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('Usage: ddb-backup policy');
  });

  it('without a region anywhere, a command that needs AWS says the region is missing and how to set it, exit 1', async () => {
    // Prepare
    const noRegion = {
      AWS_ACCESS_KEY_ID: 'testing',
      AWS_SECRET_ACCESS_KEY: 'testing',
      AWS_ENDPOINT_URL: endpoint(),
      [ENV.LEDGER_TABLE]: env.ledgerTable,
      [ENV.POLICY_PREFIX]: env.policyPrefix,
    };
    const good = policyFile('local', { schedule: 'rate(1 day)', retention: { keepLast: 3 } });

    // Act
    const [withCredentials, withoutCredentials, asJson, local, flagged] = await Promise.all([
      bare(['ledger', 'init'], noRegion),
      bare(['policy', 'list'], { AWS_ENDPOINT_URL: endpoint() }),
      bare(['backups', 'list', '--json'], noRegion),
      bare(['policy', 'validate', '--file', good], {}),
      bare(['--region', 'us-east-1', 'ledger', 'init'], noRegion),
    ]);

    // Assess
    for (const r of [withCredentials, withoutCredentials, asJson]) {
      expect(r.code).toBe(1);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(/^error: no AWS region configured: .*--region.*AWS_REGION/);
      expect(r.stderr).not.toMatch(/credentials/i);
    }
    expect(jsonLines(asJson.stdout)).toEqual([{ error: { message: expect.stringContaining('--region'), input: { region: null } } }]);
    expect(local.code).toBe(0);
    expect(flagged).toMatchObject({ code: 0, stdout: expect.stringContaining('already exists') });
  });

  it('a successful command prints nothing on stderr, without the SDK warning switch in its environment; --verbose keeps the notice', async () => {
    // Prepare
    const world = {
      AWS_ACCESS_KEY_ID: 'testing',
      AWS_SECRET_ACCESS_KEY: 'testing',
      AWS_REGION: 'us-east-1',
      AWS_ENDPOINT_URL: endpoint(),
      [ENV.LEDGER_TABLE]: env.ledgerTable,
    };
    const good = policyFile('quiet', { schedule: 'rate(1 day)', retention: { keepLast: 3 } });

    // Act
    const [init, validate, verbose] = await Promise.all([
      bare(['ledger', 'init'], world),
      bare(['policy', 'validate', '--file', good], world),
      bare(['--verbose', 'ledger', 'init'], world),
    ]);

    // Assess
    expect(init).toEqual({ code: 0, stdout: `ledger table ${env.ledgerTable} already exists\n`, stderr: '' });
    expect(validate).toMatchObject({ code: 0, stderr: '' });
    expect(verbose.code).toBe(0);
    // The SDK gives its notice only on Node.js versions it is about to drop.
    if (Number(process.versions.node.split('.')[0]) < 22) expect(verbose.stderr).toContain('NodeVersionSupportWarning');
  });
});
