import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort } from '../../demo/moto';

/** File where the global setup leaves the moto process id for the teardown. */
export const MOTO_STATE_FILE = join(__dirname, '..', '..', '.moto-server.json');

async function waitUntilUp(endpoint: string, deadlineMs: number): Promise<void> {
  const until = Date.now() + deadlineMs;
  let lastError: unknown;
  while (Date.now() < until) {
    try {
      const res = await fetch(`${endpoint}/moto-api/data.json`);
      if (res.ok) return;
    } catch (err) {
      lastError = err;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`moto server did not come up at ${endpoint}: ${String(lastError)}`);
}

/**
 * Starts moto server on a free loopback port unless the run targets a real endpoint
 * (DDB_BACKUP_E2E=1, see `npm run e2e`). Tests read the endpoint from AWS_ENDPOINT_URL.
 */
export default async function globalSetup(): Promise<void> {
  if (process.env.DDB_BACKUP_E2E === '1') {
    return;
  }
  const port = await freePort();
  const python = process.env.MOTO_PYTHON ?? 'python3';
  const child = spawn(python, ['-m', 'moto.server', '-H', '127.0.0.1', '-p', String(port)], {
    stdio: ['ignore', 'ignore', 'pipe'],
    detached: false,
  });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-4000);
  });
  const endpoint = `http://127.0.0.1:${port}`;
  try {
    await waitUntilUp(endpoint, 30000);
  } catch (err) {
    child.kill('SIGKILL');
    throw new Error(`${(err as Error).message}\n${stderr}\nIs moto installed? pip install "moto[server]"`);
  }
  // Keep nothing of moto's open in this process: jest must not wait on the pipe or the child.
  child.stderr?.removeAllListeners('data');
  child.stderr?.destroy();
  child.unref();
  writeFileSync(MOTO_STATE_FILE, JSON.stringify({ pid: child.pid, endpoint }));
  (globalThis as { __MOTO__?: unknown }).__MOTO__ = child;
  process.env.AWS_ENDPOINT_URL = endpoint;
  process.env.MOTO_ENDPOINT = endpoint;
  process.env.AWS_REGION = 'us-east-1';
  process.env.AWS_DEFAULT_REGION = 'us-east-1';
  process.env.AWS_ACCESS_KEY_ID = 'testing';
  process.env.AWS_SECRET_ACCESS_KEY = 'testing';
  delete process.env.AWS_PROFILE;
}
