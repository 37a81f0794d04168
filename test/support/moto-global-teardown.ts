import { existsSync, readFileSync, rmSync } from 'node:fs';
import type { ChildProcess } from 'node:child_process';
import { MOTO_STATE_FILE } from './moto-global-setup';

export default async function globalTeardown(): Promise<void> {
  const child = (globalThis as { __MOTO__?: ChildProcess }).__MOTO__;
  if (child && child.exitCode === null) {
    child.kill('SIGTERM');
  } else if (existsSync(MOTO_STATE_FILE)) {
    const { pid } = JSON.parse(readFileSync(MOTO_STATE_FILE, 'utf8')) as { pid?: number };
    if (pid) {
      try {
        process.kill(pid, 'SIGTERM');
      } catch {
        // already gone
      }
    }
  }
  rmSync(MOTO_STATE_FILE, { force: true });
}
