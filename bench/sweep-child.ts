import { runSweep, type Cadence } from './sweep';

// One fleet size per process, so peak RSS belongs to that size alone.
const tables = Number(process.argv[2]);
const scale = Number(process.argv[3] ?? 10);
const cadence = (process.argv[4] ?? 'hourly') as Cadence;
runSweep(tables, scale, cadence).then(
  (r) => process.stdout.write(`${JSON.stringify(r)}\n`),
  (err: unknown) => {
    process.stderr.write(`${String((err as Error).stack ?? err)}\n`);
    process.exit(1);
  },
);
