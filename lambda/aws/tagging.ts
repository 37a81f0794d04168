import { paginateGetResources, type ResourceGroupsTaggingAPIClient } from '@aws-sdk/client-resource-groups-tagging-api';
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
    for (const mapping of page.ResourceTagMappingList ?? []) {
      const arn = mapping.ResourceARN;
      if (!arn || seen.has(arn)) continue;
      const table = tableNameFromArn(arn);
      const tag = mapping.Tags?.find((t) => t.Key === tagKey);
      const policies = parsePolicyTag(tag?.Value);
      if (!table || policies.length === 0) continue;
      seen.add(arn);
      out.push({ table, arn, policies });
      }
    }
  } catch (err) {
    throw retryableOr(err, 'GetResources');
  }
  return out;
}
