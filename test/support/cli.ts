import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { ENV } from '../../lambda/env';
import { endpoint, type TestEnv } from './aws';

export interface CliResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

const BIN = join(__dirname, '..', '..', 'bin', 'ddb-backup.js');

/** Spawns the real `ddb-backup` executable against the test endpoint and the env's isolated state. */
export function cli(env: TestEnv | undefined, args: string[], extraEnv: Record<string, string> = {}): Promise<CliResult> {
  // Against moto the CLI gets fake credentials; in `npm run e2e` (DDB_BACKUP_E2E=1) it inherits
  // whatever credentials and profile the operator's environment names.
  const awsEnv =
    process.env.DDB_BACKUP_E2E === '1'
      ? Object.fromEntries(Object.entries(process.env).filter(([k]) => k.startsWith('AWS_')))
      : { AWS_ACCESS_KEY_ID: 'testing', AWS_SECRET_ACCESS_KEY: 'testing' };
  const childEnv: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    ...awsEnv,
    AWS_REGION: process.env.AWS_REGION ?? 'us-east-1',
    NODE_NO_WARNINGS: '1',
    ...(endpoint() ? { AWS_ENDPOINT_URL: endpoint() } : {}),
    ...(env
      ? {
          [ENV.POLICY_PREFIX]: env.policyPrefix,
          [ENV.TABLE_OVERRIDE_PREFIX]: env.tablePrefix,
          [ENV.TAG_KEY]: env.tagKey,
          [ENV.LEDGER_TABLE]: env.ledgerTable,
        }
      : {}),
    ...extraEnv,
  };
  return spawnCli(args, childEnv);
}

/** Spawns the real `ddb-backup` with exactly this environment, collecting its output. */
export function spawnCli(args: string[], childEnv: NodeJS.ProcessEnv): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { env: childEnv, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}
