/**
 * What the demo compares after a restore: items (every attribute), key schema and indexes, in a
 * form where equal means equal whatever order DynamoDB lists things in.
 */
import { ScanCommand, type AttributeValue, type DynamoDBClient, type TableDescription } from '@aws-sdk/client-dynamodb';

type Item = Record<string, AttributeValue>;

const b64 = (b: Uint8Array) => Buffer.from(b).toString('base64');

/** An attribute value as plain JSON; sets are sorted, binary is base64. */
function canon(v: AttributeValue): unknown {
  if (v.S !== undefined) return { S: v.S };
  if (v.N !== undefined) return { N: v.N };
  if (v.BOOL !== undefined) return { BOOL: v.BOOL };
  if (v.NULL !== undefined) return { NULL: v.NULL };
  if (v.B !== undefined) return { B: b64(v.B) };
  if (v.SS !== undefined) return { SS: [...v.SS].sort() };
  if (v.NS !== undefined) return { NS: [...v.NS].sort() };
  if (v.BS !== undefined) return { BS: v.BS.map(b64).sort() };
  if (v.L !== undefined) return { L: v.L.map(canon) };
  if (v.M !== undefined) return { M: canonItem(v.M) };
  return { unknown: Object.keys(v) };
}

function canonItem(item: Item): Record<string, unknown> {
  return Object.fromEntries(
    Object.keys(item)
      .sort()
      .map((k) => [k, canon(item[k])]),
  );
}

export async function scanAll(ddb: DynamoDBClient, table: string): Promise<Item[]> {
  const items: Item[] = [];
  let start: Item | undefined;
  do {
    const out = await ddb.send(new ScanCommand({ TableName: table, ExclusiveStartKey: start, ConsistentRead: true }));
    items.push(...(out.Items ?? []));
    start = out.LastEvaluatedKey;
  } while (start);
  return items;
}

/** Differences between two tables' items, keyed by the table's key attributes; empty when equal. */
export function diffItems(keyNames: readonly string[], source: Item[], restored: Item[], max = 5): string[] {
  const keyOf = (i: Item) => JSON.stringify(keyNames.map((k) => (i[k] ? canon(i[k]) : null)));
  const byKey = (items: Item[]) => new Map(items.map((i) => [keyOf(i), JSON.stringify(canonItem(i))]));
  const a = byKey(source);
  const b = byKey(restored);
  const diffs: string[] = [];
  if (source.length !== restored.length) diffs.push(`item count: source ${source.length}, restored ${restored.length}`);
  for (const [k, v] of a) {
    const w = b.get(k);
    if (w === undefined) diffs.push(`missing in the restored table: ${k}`);
    else if (w !== v) diffs.push(`item ${k} differs:\n      source:   ${v}\n      restored: ${w}`);
  }
  for (const k of b.keys()) if (!a.has(k)) diffs.push(`only in the restored table: ${k}`);
  return diffs.length > max ? [...diffs.slice(0, max), `… and ${diffs.length - max} more`] : diffs;
}

/** Key schema, attribute definitions and index definitions, comparable as strings. */
export function schemaOf(t: TableDescription): { keys: string; attributes: string; indexes: string; indexNames: string[] } {
  const ks = (k: TableDescription['KeySchema']) => (k ?? []).map((e) => `${e.AttributeName}:${e.KeyType}`).join(',');
  const proj = (p?: { ProjectionType?: string; NonKeyAttributes?: string[] }) =>
    `${p?.ProjectionType ?? '?'}${p?.NonKeyAttributes?.length ? `(${[...p.NonKeyAttributes].sort().join(',')})` : ''}`;
  const gsis = (t.GlobalSecondaryIndexes ?? []).map((g) => `G ${g.IndexName} [${ks(g.KeySchema)}] ${proj(g.Projection)}`);
  const lsis = (t.LocalSecondaryIndexes ?? []).map((l) => `L ${l.IndexName} [${ks(l.KeySchema)}] ${proj(l.Projection)}`);
  return {
    keys: ks(t.KeySchema),
    attributes: (t.AttributeDefinitions ?? [])
      .map((a) => `${a.AttributeName}:${a.AttributeType}`)
      .sort()
      .join(','),
    indexes: [...gsis, ...lsis].sort().join('; '),
    indexNames: [...(t.GlobalSecondaryIndexes ?? []), ...(t.LocalSecondaryIndexes ?? [])].map((i) => i.IndexName ?? '?').sort(),
  };
}
