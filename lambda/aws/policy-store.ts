import { PutParameterCommand, type SSMClient } from '@aws-sdk/client-ssm';
import { SSMProvider } from '@aws-lambda-powertools/parameters/ssm';
import { DEFAULTS } from '../env';
import { PolicyUnavailableError, PolicyValidationError, errorMessage } from '../core/errors';
import {
  assertPolicyName,
  parseOverrideJson,
  parsePolicy,
  parsePolicyJson,
  resolveEffectivePolicy,
  serialisePolicy,
  type EffectivePolicy,
  type Policy,
} from '../core/policy';

export interface PolicyStoreOptions {
  readonly policyPrefix?: string;
  readonly tablePrefix?: string;
  /** How long values are cached, in seconds. Operators' edits take effect after at most this. */
  readonly cacheSeconds?: number;
}

function isNotFound(err: unknown): boolean {
  for (let e: unknown = err; e; e = (e as { cause?: unknown }).cause) {
    const name = (e as { name?: string }).name ?? '';
    if (name === 'ParameterNotFound' || /ParameterNotFound/.test(errorMessage(e))) return true;
  }
  return false;
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
    let values: Record<string, unknown> | undefined;
    try {
      values = await this.provider.getMultiple(this.policyPrefix.replace(/\/$/, ''), {
        maxAge: this.maxAge,
        recursive: false,
      });
    } catch (err) {
      throw new PolicyUnavailableError('*', `cannot list policies under ${this.policyPrefix}: ${errorMessage(err)}`, {
        cause: err,
        retryable: true,
      });
    }
    const out: Record<string, string> = {};
    for (const [key, value] of Object.entries(values ?? {})) {
      const name = key.split('/').pop() ?? key;
      out[name] = String(value);
    }
    return out;
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
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  /**
   * Every per-table override, by table name: one paginated GetParametersByPath per cache period
   * instead of one GetParameter per table.
   */
  async listOverrides(): Promise<Record<string, string>> {
    // Concurrent jobs share one in-flight read rather than each missing the cache at once.
    this.overridesInFlight ??= this.readOverrides().finally(() => {
      this.overridesInFlight = undefined;
    });
    return this.overridesInFlight;
  }

  private overridesInFlight?: Promise<Record<string, string>>;

  private async readOverrides(): Promise<Record<string, string>> {
    const values = await this.provider.getMultiple(this.tablePrefix.replace(/\/$/, ''), {
      maxAge: this.maxAge,
      recursive: false,
    });
    const out: Record<string, string> = {};
    for (const [key, value] of Object.entries(values ?? {})) {
      out[key.split('/').pop() ?? key] = String(value);
    }
    return out;
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
    let base: unknown;
    try {
      base = JSON.parse(text);
    } catch (err) {
      throw new PolicyValidationError(`"${name}"`, [`(json): ${(err as Error).message}`], { cause: err });
    }
    let overrideText: string | undefined;
    try {
      overrideText = (await this.listOverrides())[table];
    } catch (err) {
      throw new PolicyUnavailableError(name, `cannot read the override of table "${table}": ${errorMessage(err)}`, {
        cause: err,
        retryable: true,
      });
    }
    const override = overrideText === undefined ? undefined : parseOverrideJson(overrideText, `override of table "${table}"`);
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
