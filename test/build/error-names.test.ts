/**
 * Error names in a minified bundle: the Lambdas ship as one esbuild bundle with `minify: true`,
 * which renames classes. SNS messages, ledger entries and the CLI print `errorMessage(err)`, so
 * every error class must carry its own literal name, not the (minified) class name.
 */
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, sep } from 'node:path';
import { build } from 'esbuild';

const ROOT = join(__dirname, '..', '..');
const LAMBDA_DIR = join(ROOT, 'lambda');

/** Constructor arguments of the error classes whose constructor takes more than a message. */
const CONSTRUCTOR_ARGS: Record<string, unknown[]> = {
  PolicyValidationError: ['"daily"', ['retention.keepLast: Too small']],
  PolicyUnavailableError: ['daily', 'no policy named "daily"'],
  TableNotFoundError: ['orders'],
  LedgerMissingError: ['ddb-backup-ledger'],
  TargetExistsError: ['orders-restored'],
  ClaimLostError: ['orders', 'schedule:2026-11-24T03:00:00.000Z'],
};

/** Error classes that must exist (the scan below must at least find these). */
const KNOWN: Record<string, string> = {
  BackupServiceError: 'lambda/core/errors.ts',
  PolicyValidationError: 'lambda/core/errors.ts',
  PolicyUnavailableError: 'lambda/core/errors.ts',
  UsageError: 'lambda/core/errors.ts',
  TableNotFoundError: 'lambda/core/errors.ts',
  RetryableError: 'lambda/core/errors.ts',
  LedgerMissingError: 'lambda/core/errors.ts',
  TargetExistsError: 'lambda/aws/restore.ts',
  NoBackupError: 'lambda/aws/restore.ts',
};

type ErrorClass = new (...args: unknown[]) => Error;
interface Bundle {
  readonly errorMessage: (err: unknown) => string;
  readonly [name: string]: unknown;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sourceFiles(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  );
}

/**
 * Every exported `class X extends Y` under lambda/ where Y is Error or a class whose name ends in
 * Error, by class name: the file that declares it, relative to the repository root.
 */
function declaredErrorClasses(): Record<string, string> {
  const out: Record<string, string> = {};
  for (const file of sourceFiles(LAMBDA_DIR)) {
    for (const m of readFileSync(file, 'utf8').matchAll(/\bexport\s+class\s+(\w+)\s+extends\s+(\w+)/g)) {
      if (/Error$/.test(m[2]!)) out[m[1]!] = relative(ROOT, file).split(sep).join('/');
    }
  }
  return out;
}

const DECLARED = declaredErrorClasses();

describe('error names in a minified esbuild bundle', () => {
  let outDir: string;
  let bundle: Bundle;

  beforeAll(async () => {
    outDir = mkdtempSync(join(tmpdir(), 'ddb-backup-error-names-'));
    const byFile = new Map<string, string[]>();
    for (const [name, file] of Object.entries(DECLARED)) byFile.set(file, [...(byFile.get(file) ?? []), name]);
    const contents = [
      "export { errorMessage } from './lambda/core/errors';",
      ...[...byFile].map(([file, names]) => `export { ${names.join(', ')} } from './${file.replace(/\.ts$/, '')}';`),
    ].join('\n');
    const outfile = join(outDir, 'errors.js');
    await build({
      stdin: { contents, resolveDir: ROOT, loader: 'ts', sourcefile: 'error-names-entry.ts' },
      bundle: true,
      minify: true,
      platform: 'node',
      format: 'cjs',
      target: 'node20',
      outfile,
      logLevel: 'silent',
    });
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    bundle = require(outfile) as Bundle;
  }, 60_000);

  afterAll(() => {
    if (outDir) rmSync(outDir, { recursive: true, force: true });
  });

  it('finds every known error class under lambda/', () => {
    // Prepare
    const expected = Object.entries(KNOWN);
    // Act
    const found = expected.filter(([name, file]) => DECLARED[name] === file);
    // Assess
    expect(found).toEqual(expected);
  });

  it('minifies class names (otherwise this test proves nothing)', () => {
    // Prepare
    const ctor = bundle.PolicyValidationError as ErrorClass;
    // Act
    const minifiedName = ctor.name;
    // Assess
    expect(minifiedName).not.toBe('PolicyValidationError');
  });

  it.each(Object.keys(DECLARED).sort())('%s keeps its name and errorMessage() starts with it', (name) => {
    // Prepare
    const ErrorCtor = bundle[name] as ErrorClass;
    const args = CONSTRUCTOR_ARGS[name] ?? ['something went wrong'];
    // Act
    const err = new ErrorCtor(...args);
    // Assess
    expect(err).toBeInstanceOf(Error);
    expect(err.name).toBe(name);
    expect(bundle.errorMessage(err)).toMatch(new RegExp(`^${name}: \\S`));
    expect(String(err.stack).split('\n')[0]).toMatch(new RegExp(`^${name}: `));
  });
});
