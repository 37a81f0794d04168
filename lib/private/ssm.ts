import { DEFAULTS } from '../../lambda/env';

/**
 * SSM scope of both prefixes (named policies and per-table overrides), without the leading slash:
 * `dynamodb-backup/`. Covers GetParametersByPath on either path.
 */
export function ssmScope(): string {
  const a = DEFAULTS.POLICY_PREFIX;
  const b = DEFAULTS.TABLE_OVERRIDE_PREFIX;
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  return a.slice(0, a.lastIndexOf('/', i - 1) + 1).replace(/^\//, '');
}
