import { readFileSync, readdirSync } from 'node:fs';
import * as path from 'node:path';
import * as perms from '../../lib/perms';

const LIB = path.join(__dirname, '..', '..', 'lib');

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sources(path.join(dir, e.name)) : e.name.endsWith('.ts') ? [path.join(dir, e.name)] : [],
  );
}

/** IAM condition keys the statements use: written where the condition is, not action names. */
const CONDITION_KEYS = new Set(['kms:ViaService', 'iam:AWSServiceName', 'lambda:FunctionArn', 'cloudwatch:namespace']);

describe('perms', () => {
  it('names only IAM actions, each list non-empty and without repeats', () => {
    // Prepare / Act
    const lists = Object.entries(perms);

    // Assess
    expect(lists.length).toBeGreaterThan(30);
    for (const [name, actions] of lists) {
      expect({ name, nonEmpty: actions.length > 0, unique: new Set(actions).size === actions.length }).toEqual({ name, nonEmpty: true, unique: true });
      for (const action of actions) expect(action).toMatch(/^[a-z0-9-]+:[A-Z][A-Za-z]*\*?$/);
    }
  });

  it('holds every IAM action string of lib/: no other file writes one', () => {
    // Prepare
    const files = sources(LIB).filter((f) => path.basename(f) !== 'perms.ts');

    // Act: string literals that are a whole `service:Action`, and inline action arrays.
    const found = files.flatMap((file) => {
      // Comments may name actions (they explain the statements).
      const text = readFileSync(file, 'utf8').replace(/\/\*[\s\S]*?\*\//g, '').replace(/\/\/[^\n]*/g, '');
      const literals = [...text.matchAll(/(['"`])([a-z0-9-]+:[A-Z][A-Za-z]*\*?)\1/g)]
        .map((m) => m[2])
        .filter((s) => !s.startsWith('aws:') && !CONDITION_KEYS.has(s));
      const inline = [...text.matchAll(/actions:\s*\[\s*['"`]/g)].map((m) => m[0]);
      return [...literals, ...inline].map((s) => `${path.relative(LIB, file)}: ${s}`);
    });

    // Assess
    expect(found).toEqual([]);
  });
});
