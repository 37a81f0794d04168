import { ListTagsOfResourceCommand, type DynamoDBClient, type Tag } from '@aws-sdk/client-dynamodb';
import { PolicyUnavailableError, RetryableError, errorMessage } from '../core/errors';
import { POLICY_NAME_PATTERN, type EffectivePolicy } from '../core/policy';
import type { PolicySource } from '../core/ports';
import type { TablePolicies, TablePolicySource } from '../core/triggers/stream-trigger';
import { parsePolicyTag } from '../core/tags';
import { isNotFound, retryableOr } from './errors';

/**
 * A table's policies for the stream handler: its opt-in tag (ListTagsOfResource, every page,
 * cached per table for a few minutes) resolved to effective policies (PolicyStore, cached too).
 * One stream batch per table therefore costs no tag or SSM call in the steady state.
 */
export class TablePolicyResolver implements TablePolicySource {
  private readonly cache = new Map<string, { at: number; policies: Promise<string[]> }>();

  constructor(
    private readonly ddb: DynamoDBClient,
    private readonly policies: Pick<PolicySource, 'getEffective'>,
    private readonly tagKey: string,
    private readonly cacheSeconds: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** Policy names on the table's tag (cached; a failed read is not cached). */
  tagPolicies(tableArn: string): Promise<string[]> {
    const hit = this.cache.get(tableArn);
    if (hit && this.now() - hit.at < this.cacheSeconds * 1000) return hit.policies;
    const policies = this.readTags(tableArn).then((tags) => parsePolicyTag(tags.find((t) => t.Key === this.tagKey)?.Value));
    this.cache.set(tableArn, { at: this.now(), policies });
    policies.catch(() => this.cache.delete(tableArn));
    return policies;
  }

  private async readTags(tableArn: string): Promise<Tag[]> {
    const out: Tag[] = [];
    let token: string | undefined;
    try {
      do {
        const page = await this.ddb.send(new ListTagsOfResourceCommand({ ResourceArn: tableArn, NextToken: token }));
        out.push(...(page.Tags ?? []));
        token = page.NextToken;
      } while (token);
    } catch (err) {
      if (isNotFound(err, 'table')) return []; // table deleted: no policies
      throw retryableOr(err, `ListTagsOfResource ${tableArn}`);
    }
    return out;
  }

  async policiesOf(table: string, tableArn: string): Promise<TablePolicies> {
    const tagged = await this.tagPolicies(tableArn);
    const effective: EffectivePolicy[] = [];
    const problems: { policy: string; message: string }[] = [];
    for (const name of tagged) {
      if (!POLICY_NAME_PATTERN.test(name)) {
        problems.push({ policy: name, message: 'not a valid policy name' });
        continue;
      }
      try {
        effective.push(await this.policies.getEffective(name, table));
      } catch (err) {
        if (err instanceof RetryableError) throw err;
        if (err instanceof PolicyUnavailableError && err.retryable) throw new RetryableError(errorMessage(err), { cause: err });
        problems.push({ policy: name, message: errorMessage(err) });
      }
    }
    return { tagged, effective, problems };
  }
}
