/**
 * The import fences of eslint.config.mjs: nothing under lambda/ imports CDK code, and the core
 * also imports no SDK and no adapter. In flat config a later `no-restricted-imports` replaces an
 * earlier one for the files both match, so the core's block must repeat the lambda/** patterns.
 * These tests lint source text as if it were a file at each place, with the project's own config.
 * ESLint loads an ES module config, which Jest's module system cannot, so the linting runs in one
 * child Node process through ESLint's Node API.
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..');

/** Paths of files in the TypeScript project (type-aware linting needs one); only the given text is linted. */
const CORE_FILE = 'lambda/core/errors.ts';
/** A core file one folder down (a capability folder): its relative imports climb one level more. */
const NESTED_CORE_FILE = 'lambda/core/backup/worker.ts';
const ADAPTER_FILE = 'lambda/aws/errors.ts';

interface Case {
  readonly file: string;
  readonly source: string;
}

/** Lints each case with `new ESLint({ overrideConfigFile })` and `lintText(source, { filePath })`. */
const LINT = `
const { ESLint } = require('eslint');
const path = require('node:path');
(async () => {
  const root = process.cwd();
  const cases = JSON.parse(require('node:fs').readFileSync(0, 'utf8'));
  const eslint = new ESLint({ cwd: root, overrideConfigFile: path.join(root, 'eslint.config.mjs') });
  const out = [];
  for (const c of cases) {
    const [result] = await eslint.lintText(c.source, { filePath: path.join(root, c.file) });
    out.push(result.messages.map((m) => ({ ruleId: m.ruleId, fatal: !!m.fatal, message: m.message })));
  }
  process.stdout.write(JSON.stringify(out));
})().catch((err) => { console.error(err); process.exit(1); });
`;

const importLine = (line: string) => `${line}\nexport const x = 1;\n`;

const CDK_IMPORTS = [
  "import { Construct } from 'constructs';",
  "import { Stack } from 'aws-cdk-lib';",
  "import { Table } from 'aws-cdk-lib/aws-dynamodb';",
  "import { DynamoDbBackupService } from '../../lib/dynamodb-backup-service';",
];
const SDK_OR_ADAPTER_IMPORTS = ["import { DynamoDBClient } from '@aws-sdk/client-dynamodb';", "import { isNotFound } from '../aws/errors';"];

const CASES: Record<string, Case> = {
  ...Object.fromEntries(CDK_IMPORTS.map((l) => [`core: ${l}`, { file: CORE_FILE, source: importLine(l) }])),
  ...Object.fromEntries(CDK_IMPORTS.map((l) => [`adapter: ${l}`, { file: ADAPTER_FILE, source: importLine(l) }])),
  ...Object.fromEntries(SDK_OR_ADAPTER_IMPORTS.map((l) => [`core: ${l}`, { file: CORE_FILE, source: importLine(l) }])),
  'adapter: sdk': { file: ADAPTER_FILE, source: importLine("import { DynamoDBClient } from '@aws-sdk/client-dynamodb';") },
  'core: own module': { file: CORE_FILE, source: importLine("import { parseBackupName } from './naming';") },
  'nested core: cdk': { file: NESTED_CORE_FILE, source: importLine("import { DynamoDbBackupService } from '../../../lib/dynamodb-backup-service';") },
  'nested core: adapter': { file: NESTED_CORE_FILE, source: importLine("import { isNotFound } from '../../aws/errors';") },
  'nested core: own module': { file: NESTED_CORE_FILE, source: importLine("import { parseBackupName } from '../naming';") },
};

type Message = { ruleId: string | null; fatal: boolean; message: string };
let results: Record<string, Message[]>;

beforeAll(() => {
  const names = Object.keys(CASES);
  const out = execFileSync(process.execPath, ['-e', LINT], {
    cwd: ROOT,
    input: JSON.stringify(names.map((n) => CASES[n])),
    encoding: 'utf8',
    maxBuffer: 16 * 1024 * 1024,
  });
  const messages = JSON.parse(out) as Message[][];
  results = Object.fromEntries(names.map((n, i) => [n, messages[i]!]));
}, 120_000);

/** The no-restricted-imports messages of a case; fails on a parsing error (then nothing was checked). */
function restricted(name: string): string[] {
  const messages = results[name]!;
  const fatal = messages.filter((m) => m.fatal);
  if (fatal.length > 0) throw new Error(`cannot lint ${name}: ${fatal.map((m) => m.message).join('; ')}`);
  return messages.filter((m) => m.ruleId === 'no-restricted-imports').map((m) => m.message);
}

describe('import fences (eslint.config.mjs)', () => {
  it.each(CDK_IMPORTS)('a core file may not import CDK code: %s', (line) => {
    // Act
    const messages = restricted(`core: ${line}`);
    // Assess
    expect(messages).toEqual([expect.stringContaining('lambda/ must not import CDK code')]);
  });

  it.each(CDK_IMPORTS)('an adapter may not import CDK code: %s', (line) => {
    // Act
    const messages = restricted(`adapter: ${line}`);
    // Assess
    expect(messages).toEqual([expect.stringContaining('lambda/ must not import CDK code')]);
  });

  it.each(SDK_OR_ADAPTER_IMPORTS)('a core file may not import the SDK or an adapter: %s', (line) => {
    // Act
    const messages = restricted(`core: ${line}`);
    // Assess
    expect(messages).toEqual([expect.stringContaining('the core is pure')]);
  });

  it('an adapter may import the SDK', () => {
    // Act
    const messages = restricted('adapter: sdk');
    // Assess
    expect(messages).toEqual([]);
  });

  it('a core file may import the core', () => {
    // Act
    const messages = restricted('core: own module');
    // Assess
    expect(messages).toEqual([]);
  });

  it('a core file in a capability folder may not import CDK code', () => {
    // Act
    const messages = restricted('nested core: cdk');
    // Assess
    expect(messages).toEqual([expect.stringContaining('lambda/ must not import CDK code')]);
  });

  it('a core file in a capability folder may not import an adapter', () => {
    // Act
    const messages = restricted('nested core: adapter');
    // Assess
    expect(messages).toEqual([expect.stringContaining('the core is pure')]);
  });

  it('a core file in a capability folder may import the core', () => {
    // Act
    const messages = restricted('nested core: own module');
    // Assess
    expect(messages).toEqual([]);
  });
});
