/**
 * Progress on stderr for long operations: a line when it starts, then one at least every
 * `everySeconds` (30 by default, `DDB_BACKUP_PROGRESS_SECONDS` to change) until it stops.
 * Plain lines, so they read well in a terminal and in a CI log alike.
 */
export interface Progress {
  /** Counts one item done (with its outcome). */
  done(outcome: string): void;
  stop(): void;
}

export function progressSeconds(env: NodeJS.ProcessEnv = process.env): number {
  const n = Number(env.DDB_BACKUP_PROGRESS_SECONDS);
  return Number.isFinite(n) && n > 0 ? n : 30;
}

export function startProgress(what: string, total: number, write: (line: string) => void, everySeconds = progressSeconds()): Progress {
  const started = Date.now();
  let count = 0;
  const outcomes = new Map<string, number>();
  write(`${what}: ${total} to do`);
  const timer = setInterval(() => {
    const parts = [...outcomes.entries()].map(([k, v]) => `${v} ${k}`).join(', ');
    write(`${what}: ${count}/${total} done after ${Math.round((Date.now() - started) / 1000)} s${parts ? ` (${parts})` : ''}`);
  }, everySeconds * 1000);
  timer.unref?.();
  return {
    done(outcome) {
      count++;
      outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
    },
    stop() {
      clearInterval(timer);
    },
  };
}
