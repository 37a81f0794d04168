import { execFileSync } from 'node:child_process';
import { mkdirSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { buildSync } from 'esbuild';

/**
 * Cold start: each handler bundled as CDK bundles it (esbuild, node22, CJS, minified), then the
 * time until the handler is ready (module evaluated, `handler` exported) in a fresh Node process,
 * median of N. The same handler in a naive build that imports every SDK client eagerly is the
 * comparison.
 */

const ROOT = resolve(__dirname, '..');
const OUT = join(ROOT, 'bench', '.tmp', 'bundles');

export const HANDLERS = ['planner', 'worker', 'probe', 'reconciler', 'stream', 'stream-reconciler', 'digest'];

/** Every client and helper the service uses, imported and constructed up front. */
const EAGER = [
  '@aws-sdk/client-dynamodb',
  '@aws-sdk/lib-dynamodb',
  '@aws-sdk/client-resource-groups-tagging-api',
  '@aws-sdk/client-ssm',
  '@aws-sdk/client-sns',
  '@aws-sdk/client-sqs',
  '@aws-sdk/client-cloudwatch',
  '@aws-sdk/client-lambda',
  '@aws-sdk/client-application-auto-scaling',
];

function bundle(entry: string, outfile: string): number {
  buildSync({
    entryPoints: [entry],
    outfile,
    bundle: true,
    platform: 'node',
    target: 'node22',
    format: 'cjs',
    minify: true,
    sourcemap: false,
    logLevel: 'silent',
  });
  return statSync(outfile).size;
}

function naiveEntry(handler: string): string {
  const file = join(OUT, `naive-${handler}.ts`);
  const lines = EAGER.map((m, i) => `import * as m${i} from '${m}';`);
  lines.push(
    `const eager: unknown[] = [${EAGER.map((_, i) => `m${i}`).join(', ')}];`,
    // Construct every client class at module scope, as naive handlers do.
    `for (const mod of eager) for (const [k, v] of Object.entries(mod as Record<string, unknown>)) if (/Client$/.test(k) && typeof v === 'function' && k !== 'DynamoDBDocumentClient') new (v as new (c: object) => unknown)({ region: 'us-east-1' });`,
    `export * from '${join(ROOT, 'lambda', 'handlers', `${handler}.handler`)}';`,
  );
  writeFileSync(file, lines.join('\n'));
  return file;
}

/** Milliseconds from the first line of the bundle to `handler` being ready, in a fresh process. */
function initMs(bundlePath: string): number {
  const script = `const t0 = performance.now(); const m = require(${JSON.stringify(bundlePath)}); if (typeof m.handler !== 'function') throw new Error('no handler'); process.stdout.write(String(performance.now() - t0));`;
  const out = execFileSync(process.execPath, ['-e', script], {
    env: { PATH: process.env.PATH, AWS_REGION: 'us-east-1', NODE_NO_WARNINGS: '1', POWERTOOLS_LOG_LEVEL: 'SILENT' },
    encoding: 'utf8',
  });
  return Number(out);
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

export interface ColdStartResult {
  readonly handler: string;
  readonly bundleKiB: number;
  readonly initMs: number;
  readonly naiveBundleKiB: number;
  readonly naiveInitMs: number;
  readonly ratio: number;
}

export function runColdStart(runs = 10): ColdStartResult[] {
  mkdirSync(OUT, { recursive: true });
  const results: ColdStartResult[] = [];
  for (const h of HANDLERS) {
    const entry = join(ROOT, 'lambda', 'handlers', `${h}.handler.ts`);
    const ours = join(OUT, `${h}.js`);
    const naive = join(OUT, `naive-${h}.js`);
    const size = bundle(entry, ours);
    const naiveSize = bundle(naiveEntry(h), naive);
    const a: number[] = [];
    const b: number[] = [];
    // Interleave so machine noise hits both alike.
    for (let i = 0; i < runs; i++) {
      a.push(initMs(ours));
      b.push(initMs(naive));
    }
    const initOurs = median(a);
    const initNaive = median(b);
    results.push({
      handler: h,
      bundleKiB: size / 1024,
      initMs: initOurs,
      naiveBundleKiB: naiveSize / 1024,
      naiveInitMs: initNaive,
      ratio: initOurs / initNaive,
    });
  }
  return results;
}
