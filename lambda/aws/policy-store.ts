import { PutParameterCommand, type SSMClient } from '@aws-sdk/client-ssm';
import { SSMProvider } from '@aws-lambda-powertools/parameters/ssm';
import { DEFAULTS } from '../env';
import { PolicyUnavailableError, errorMessage } from '../core/errors';
import {
  assertPolicyName,
  parseOverrideJson,
  parsePolicy,
  parsePolicyDocument,
  parsePolicyJson,
  resolveEffectivePolicy,
  serialisePolicy,
  type EffectivePolicy,
  type Policy,
} from '../core/policy';
import { isNotFound } from './errors';

export interface PolicyStoreOptions {
  readonly policyPrefix?: string;
  readonly tablePrefix?: string;
  /** How long values are cached, in seconds. Operators' edits take effect after at most this. */
  readonly cacheSeconds?: number;
}

function withSlash(prefix: string): string {
  return prefix.endsWith('/') ? prefix : `${prefix}/`;
}

/** Named policies and per-table overrides in SSM Parameter Store, cached for a few minutes. */
export class PolicyStore {
  private readonly provider: SSMProvider;
  readonly policyPrefix: string;
  readonly tablePrefix: string;
  private readonly maxAge: number;

  constructor(
    private readonly ssm: SSMClient,
    opts: PolicyStoreOptions = {},
  ) {
    this.provider = new SSMProvider({ awsSdkV3Client: ssm });
    this.policyPrefix = withSlash(opts.policyPrefix ?? DEFAULTS.POLICY_PREFIX);
    this.tablePrefix = withSlash(opts.tablePrefix ?? DEFAULTS.TABLE_OVERRIDE_PREFIX);
    this.maxAge = opts.cacheSeconds ?? DEFAULTS.POLICY_CACHE_SECONDS;
  }

  /** Raw JSON text of every named policy, by name (paginated GetParametersByPath). */
  async listRaw(): Promise<Record<string, string>> {
    try {
      return await this.byPath(this.policyPrefix);
    } catch (err) {
      throw new PolicyUnavailableError('*', `cannot list policies under ${this.policyPrefix}: ${errorMessage(err)}`, {
        cause: err,
        retryable: true,
      });
    }
  }

  private readonly pathCache = new Map<string, { at: number; values: Promise<Record<string, string>> }>();

  /**
   * Every parameter directly under a prefix, by its last path segment. Cached for `maxAge`
   * seconds, empty results included, and shared by concurrent callers; a failed read is not cached.
   */
  private byPath(prefix: string): Promise<Record<string, string>> {
    const hit = this.pathCache.get(prefix);
    if (hit && Date.now() - hit.at < this.maxAge * 1000) return hit.values;
    const values = this.provider
      .getMultiple(prefix.replace(/\/$/, ''), { forceFetch: true, recursive: false })
      .then((raw) => {
        const out: Record<string, string> = {};
        for (const [key, value] of Object.entries(raw ?? {})) out[key.split('/').pop() ?? key] = String(value);
        return out;
      });
    this.pathCache.set(prefix, { at: Date.now(), values });
    values.catch(() => this.pathCache.delete(prefix));
    return values;
  }

  /** Names of every named policy in SSM. */
  async listNames(): Promise<Set<string>> {
    return new Set(Object.keys(await this.listRaw()));
  }

  private async getRaw(path: string): Promise<string | undefined> {
    try {
      const value = await this.provider.get(path, { maxAge: this.maxAge });
      return value === undefined ? undefined : String(value);
    } catch (err) {
      if (isNotFound(err, 'parameter')) return undefined;
      throw err;
    }
  }

  /**
   * Every per-table override, by table name: one paginated GetParametersByPath per cache period
   * instead of one GetParameter per table.
   */
  listOverrides(): Promise<Record<string, string>> {
    return this.byPath(this.tablePrefix);
  }

  /** Reads and validates a named policy. Throws PolicyUnavailableError / PolicyValidationError. */
  async getPolicy(name: string): Promise<Policy> {
    const raw = await this.readPolicyText(name);
    return parsePolicyJson(raw, `"${name}" (${this.policyPrefix}${name})`);
  }

  private async readPolicyText(name: string): Promise<string> {
    assertPolicyName(name);
    let raw: string | undefined;
    try {
      raw = await this.getRaw(`${this.policyPrefix}${name}`);
    } catch (err) {
      throw new PolicyUnavailableError(name, `cannot read policy "${name}" from SSM: ${errorMessage(err)}`, {
        cause: err,
        retryable: true,
      });
    }
    if (raw === undefined) {
      throw new PolicyUnavailableError(name, `no policy named "${name}" (${this.policyPrefix}${name} does not exist)`);
    }
    return raw;
  }

  /**
   * The policy as it applies to one table: the named policy with the table's override from
   * `/dynamodb-backup/tables/<table>` merged over it, validated as a whole.
   */
  async getEffective(name: string, table: string): Promise<EffectivePolicy> {
    const text = await this.readPolicyText(name);
    const base = parsePolicyDocument(text, `"${name}" (${this.policyPrefix}${name})`);
    let overrideText: string | undefined;
    try {
      overrideText = (await this.listOverrides())[table];
    } catch (err) {
      throw new PolicyUnavailableError(name, `cannot read the override of table "${table}": ${errorMessage(err)}`, {
        cause: err,
        retryable: true,
      });
    }
    const override =
      overrideText === undefined
        ? undefined
        : parseOverrideJson(overrideText, `override of table "${table}" (${this.tablePrefix}${table}) for policy "${name}"`);
    return resolveEffectivePolicy(name, base, override, table);
  }

  /** Validates, then writes a named policy. Returns the canonical JSON written. */
  async putPolicy(name: string, input: unknown): Promise<string> {
    assertPolicyName(name);
    const policy = parsePolicy(input, `"${name}"`);
    const value = serialisePolicy(policy);
    await this.ssm.send(
      new PutParameterCommand({
        Name: `${this.policyPrefix}${name}`,
        Value: value,
        Type: 'String',
        Overwrite: true,
        Description: `dynamodb-backup-service policy ${name}`,
      }),
    );
    return value;
  }
}
