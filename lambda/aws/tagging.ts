import { GetResourcesCommand, paginateGetResources, type ResourceGroupsTaggingAPIClient, type ResourceTagMapping } from '@aws-sdk/client-resource-groups-tagging-api';
import { parsePolicyTag, tableNameFromArn, type TaggedTable } from '../core/tags';
import { retryableOr } from './errors';

/**
 * Finds the tables that carry the opt-in tag, through the Resource Groups Tagging API.
 *
 * - Pages through every result, 100 per page.
 * - Post-filters: GetResources also returns tables whose tag was removed (with the remaining tags,
 *   or none), and tables from the tag index that no longer carry a value. Only tables whose tag
 *   key is present with a non-empty value are returned.
 */
export async function discoverTaggedTables(
  client: ResourceGroupsTaggingAPIClient,
  tagKey: string,
  onPage?: () => void,
): Promise<TaggedTable[]> {
  const out: TaggedTable[] = [];
  const seen = new Set<string>();
  const pages = paginateGetResources(
    { client, pageSize: 100 },
    { ResourceTypeFilters: ['dynamodb:table'], TagFilters: [{ Key: tagKey }] },
  );
  try {
    for await (const page of pages) {
      onPage?.();
      out.push(...taggedOf(page.ResourceTagMappingList, tagKey, seen));
    }
  } catch (err) {
    throw retryableOr(err, 'GetResources');
  }
  return out;
}

/** One page of tagged tables (100), from `token`; `next` is the following page's token. */
export async function discoverTaggedPage(
  client: ResourceGroupsTaggingAPIClient,
  tagKey: string,
  token?: string,
): Promise<{ tables: TaggedTable[]; next?: string }> {
  try {
    const page = await client.send(
      new GetResourcesCommand({ ResourceTypeFilters: ['dynamodb:table'], TagFilters: [{ Key: tagKey }], ResourcesPerPage: 100, ...(token ? { PaginationToken: token } : {}) }),
    );
    return { tables: taggedOf(page.ResourceTagMappingList, tagKey, new Set()), ...(page.PaginationToken ? { next: page.PaginationToken } : {}) };
  } catch (err) {
    throw retryableOr(err, 'GetResources');
  }
}

/** The tables of a page whose tag key is present with a non-empty value, each once. */
function taggedOf(mappings: readonly ResourceTagMapping[] | undefined, tagKey: string, seen: Set<string>): TaggedTable[] {
  const out: TaggedTable[] = [];
  for (const mapping of mappings ?? []) {
    const arn = mapping.ResourceARN;
    if (!arn || seen.has(arn)) continue;
    const table = tableNameFromArn(arn);
    const policies = parsePolicyTag(mapping.Tags?.find((t) => t.Key === tagKey)?.Value);
    if (!table || policies.length === 0) continue;
    seen.add(arn);
    out.push({ table, arn, policies });
  }
  return out;
}
