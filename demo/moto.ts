/**
 * The local AWS stand-in for `npm run demo`: a moto server on a loopback port, installed with pip
 * where it is missing (as `.ci/run` does), started for the demo and always stopped after it.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';

export interface MotoServer {
  readonly endpoint: string;
  readonly port: number;
  /** Stops the server and waits until it is gone (SIGTERM, then SIGKILL after 5 s). */
  stop(): Promise<void>;
}

const PIP_SPEC = 'moto[server]>=5,<6';

/** Every moto process this module started and that has not exited yet. */
const running = new Set<ChildProcess>();

/** Sends SIGTERM to every moto server still running, without waiting: for exit and signal handlers. */
export function stopAllNow(): void {
  for (const child of running) child.kill('SIGTERM');
}

function hasMoto(python: string): boolean {
  const r = spawnSync(python, ['-c', 'import moto.server, flask'], { stdio: 'ignore' });
  if (r.error) throw new Error(`cannot run ${python} (${r.error.message}): the demo needs Python 3; set MOTO_PYTHON to use another one`);
  return r.status === 0;
}

/** Makes sure `python -m moto.server` works: installs moto[server] with pip when it does not. */
export function ensureMoto(python: string, say: (line: string) => void): void {
  if (hasMoto(python)) return;
  say(`moto server is not installed for ${python}: installing ${PIP_SPEC} with pip`);
  for (const extra of [[], ['--user']]) {
    const r = spawnSync(python, ['-m', 'pip', 'install', '--quiet', ...extra, PIP_SPEC], { stdio: ['ignore', 'inherit', 'inherit'] });
    if (r.status === 0 && hasMoto(python)) return;
  }
  throw new Error(`could not install moto server; install it yourself with: ${python} -m pip install "${PIP_SPEC}" (or set MOTO_PYTHON to a Python that has it)`);
}

/** A port nothing listens on now, chosen by the OS (the test suite's moto uses it too). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/** Rejects when something already listens on the port. */
function assertPortFree(port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', (err: NodeJS.ErrnoException) =>
      reject(new Error(err.code === 'EADDRINUSE' ? `MOTO_PORT=${port}: something already listens on 127.0.0.1:${port}` : `MOTO_PORT=${port}: ${err.message}`)),
    );
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve()));
  });
}

/** The port from MOTO_PORT, or undefined when unset. */
export function portFromEnv(value: string | undefined): number | undefined {
  if (value === undefined || value.trim() === '') return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 65535) throw new Error(`MOTO_PORT must be a port number from 1 to 65535, got "${value}"`);
  return n;
}

class StartFailed extends Error {
  constructor(
    message: string,
    readonly exitedEarly: boolean,
  ) {
    super(message);
  }
}

async function startOn(python: string, port: number, timeoutMs: number): Promise<MotoServer> {
  const child: ChildProcess = spawn(python, ['-m', 'moto.server', '-H', '127.0.0.1', '-p', String(port)], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  running.add(child);
  // moto logs every request on stderr: keep reading it (a full pipe would stall the server) and
  // keep the tail for an error message.
  let tail = '';
  child.stderr?.on('data', (d: Buffer) => {
    tail = (tail + d.toString()).slice(-4000);
  });
  let exited: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  let spawnError: Error | undefined;
  const gone = new Promise<void>((resolve) => {
    child.once('exit', (code, signal) => {
      exited = { code, signal };
      running.delete(child);
      resolve();
    });
    child.once('error', (err) => {
      spawnError = err;
      exited ??= { code: null, signal: null };
      running.delete(child);
      resolve();
    });
  });
  const stop = async () => {
    if (exited) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => {
      if (!exited) child.kill('SIGKILL');
    }, 5000);
    await gone;
    clearTimeout(timer);
  };

  const endpoint = `http://127.0.0.1:${port}`;
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (exited) {
      const why = spawnError ? spawnError.message : `exit code ${exited.code ?? exited.signal}`;
      throw new StartFailed(`moto server stopped while starting (${why})\n${tail.trim()}`, true);
    }
    try {
      const res = await fetch(`${endpoint}/moto-api/data.json`, { signal: AbortSignal.timeout(2000) });
      if (res.ok) return { endpoint, port, stop };
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 150));
  }
  await stop();
  throw new StartFailed(`moto server did not answer at ${endpoint} within ${Math.round(timeoutMs / 1000)} s\n${tail.trim()}`, false);
}

/**
 * Starts moto server on 127.0.0.1: on `port` when given (it must be free), else on a free port
 * (tried again on another port if the chosen one was taken in the meantime).
 */
export async function startMoto(python: string, port?: number, timeoutMs = 60_000): Promise<MotoServer> {
  if (port !== undefined) {
    await assertPortFree(port);
    return startOn(python, port, timeoutMs);
  }
  for (let attempt = 1; ; attempt++) {
    try {
      return await startOn(python, await freePort(), timeoutMs);
    } catch (err) {
      if (!(err instanceof StartFailed) || !err.exitedEarly || attempt >= 3) throw err;
    }
  }
}
