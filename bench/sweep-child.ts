import { runSweep } from './sweep';

// One fleet size per process, so peak RSS belongs to that size alone.
const tables = Number(process.argv[2]);
const scale = Number(process.argv[3] ?? 10);
runSweep(tables, scale).then(
  (r) => process.stdout.write(`${JSON.stringify(r)}\n`),
  (err: unknown) => {
    process.stderr.write(`${String((err as Error).stack ?? err)}\n`);
    process.exit(1);
  },
);
