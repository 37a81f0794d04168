import { POLICY_NAME_PATTERN } from './policy';

/**
 * Splits a tag value into policy names: separated by spaces or `+` (`daily`, `daily hourly`,
 * `daily+hourly`). Duplicates are dropped; order is kept.
 */
export function parsePolicyTag(value: string | undefined): string[] {
  if (!value) return [];
  const names = value
    .split(/[\s+]+/)
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
  return [...new Set(names)];
}

export interface TaggedTable {
  readonly table: string;
  readonly arn: string;
  /** Policy names from the tag, as written. */
  readonly policies: readonly string[];
}

export interface TagResolution {
  /** Tables that name the wanted policy (or any known policy when none is wanted). */
  readonly matched: { table: string; arn: string; policy: string }[];
  /** Tables whose tag names policies that do not exist (or are not valid names). */
  readonly unknown: { table: string; policies: string[] }[];
}

/**
 * Resolves tagged tables against the set of known policy names. With `wanted`, only that
 * policy's tables are matched; unknown names are reported for every table either way, so that a
 * typo in a tag is never ignored in silence.
 */
export function resolveTaggedTables(
  tables: readonly TaggedTable[],
  known: ReadonlySet<string>,
  wanted?: string,
): TagResolution {
  const matched: TagResolution['matched'] = [];
  const unknown: TagResolution['unknown'] = [];
  for (const t of tables) {
    const bad = t.policies.filter((p) => !POLICY_NAME_PATTERN.test(p) || !known.has(p));
    if (bad.length > 0) unknown.push({ table: t.table, policies: bad });
    for (const p of t.policies) {
      if (known.has(p) && (wanted === undefined || p === wanted)) {
        matched.push({ table: t.table, arn: t.arn, policy: p });
      }
    }
  }
  return { matched, unknown };
}

/** Table name from a DynamoDB table ARN (`arn:aws:dynamodb:r:a:table/Name`). */
export function tableNameFromArn(arn: string): string | undefined {
  const idx = arn.indexOf(':table/');
  if (idx < 0) return undefined;
  const rest = arn.slice(idx + ':table/'.length);
  return rest.split('/')[0] || undefined;
}
