/**
 * Runs the real `ddb-backup` executable (bin/ddb-backup.js) as a child process, as an operator
 * would, with the demo's environment.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';

const BIN = join(__dirname, '..', 'bin', 'ddb-backup.js');

export interface CliRun {
  readonly args: readonly string[];
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** The CLI processes still running, so that an interrupt can stop them. */
const running = new Set<ChildProcess>();

export function stopCliNow(): void {
  for (const child of running) child.kill('SIGTERM');
}

/** How a command reads in the demo's output: what an operator types. */
export function shown(args: readonly string[]): string {
  return ['ddb-backup', ...args.map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`))].join(' ');
}

/** Runs `ddb-backup args` in `cwd` with this process's environment. */
export function ddbBackup(args: readonly string[], cwd?: string): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    running.add(child);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', (err) => {
      running.delete(child);
      reject(err);
    });
    child.on('close', (code) => {
      running.delete(child);
      resolve({ args, code, stdout, stderr });
    });
  });
}
