import * as ssm from 'aws-cdk-lib/aws-ssm';
import type { Construct } from 'constructs';
import { DEFAULTS } from '../../lambda/env';
import { errorMessage } from '../../lambda/core/errors';
import { DEFAULT_POLICIES, assertPolicyName, parsePolicy, serialisePolicy } from '../../lambda/core/policy';
import type { Policy, PolicyInput } from '../../lambda/core/policy';

/** Largest value of a standard-tier SSM parameter. */
const SSM_STANDARD_MAX_BYTES = 4096;

/** Largest description of an SSM parameter. */
const SSM_DESCRIPTION_MAX_CHARS = 1024;

export interface PolicyParametersProps {
  /**
   * Named backup policies, deployed to SSM under `/dynamodb-backup/policies/<name>`; each policy
   * with a `schedule` gets an EventBridge schedule rule, and every policy gets a prune-sweep rule
   * (see `pruneSchedule`). They are merged over the built-in policies by name
   * (a policy named `daily` replaces the built-in `daily`). Each is validated at synth time.
   *
   * @default - the built-in policies (DEFAULT_POLICIES: hourly, daily, weekly)
   */
  readonly policies?: Record<string, PolicyInput>;

  /**
   * Whether the built-in policies (hourly, daily, weekly) are deployed alongside `policies`.
   *
   * @default true
   */
  readonly includeDefaultPolicies?: boolean;
}

/** A policy as deployed: validated, with its canonical SSM document. */
export interface DeployedPolicy {
  readonly name: string;
  readonly policy: Policy;
  readonly document: string;
}

/**
 * The policies of DynamoDbBackupService: the built-in ones merged with `policies`, each validated
 * and written to one SSM parameter (`Policy-<name>`, named `/dynamodb-backup/policies/<name>`).
 * Invalid policies are left out and reported at synth time, all at once.
 *
 * Built in the service's scope, not as a child construct: the construct paths, and with them the
 * logical IDs of the deployed parameters, stay as they are (a parameter with a fixed name cannot
 * be replaced under a new logical ID).
 */
export class PolicyParameters {
  /** The valid policies, in deployment order. */
  public readonly deployed: readonly DeployedPolicy[];
  /** The valid policies, by name. */
  public readonly policies: Readonly<Record<string, Policy>>;
  /** The SSM parameter of each valid policy, by name. */
  public readonly parameters: Readonly<Record<string, ssm.StringParameter>>;

  constructor(scope: Construct, props: PolicyParametersProps) {
    const errors: string[] = [];
    scope.node.addValidation({ validate: () => errors });

    this.deployed = resolvePolicies(props, errors);
    this.policies = Object.fromEntries(this.deployed.map((p) => [p.name, p.policy]));
    const parameters: Record<string, ssm.StringParameter> = {};
    for (const { name, policy, document } of this.deployed) {
      parameters[name] = new ssm.StringParameter(scope, `Policy-${name}`, {
        parameterName: `${DEFAULTS.POLICY_PREFIX}${name}`,
        stringValue: document,
        description: truncate(`DynamoDB backup policy "${name}"${policy.description ? `: ${policy.description}` : ''}`, SSM_DESCRIPTION_MAX_CHARS),
        tier: ssm.ParameterTier.STANDARD,
      });
    }
    this.parameters = parameters;
  }
}

/** Merges user policies over the defaults and validates each; collects errors instead of throwing. */
function resolvePolicies(props: PolicyParametersProps, errors: string[]): DeployedPolicy[] {
  const inputs: Record<string, PolicyInput> = {
    ...(props.includeDefaultPolicies === false ? {} : DEFAULT_POLICIES),
    ...(props.policies ?? {}),
  };
  if (Object.keys(inputs).length === 0) {
    errors.push('policies: no policy to deploy (includeDefaultPolicies is false and policies is empty)');
  }
  const out: DeployedPolicy[] = [];
  for (const [name, input] of Object.entries(inputs)) {
    try {
      assertPolicyName(name);
      const policy = parsePolicy(input, `"${name}"`);
      const document = serialisePolicy(policy);
      if (Buffer.byteLength(document, 'utf8') > SSM_STANDARD_MAX_BYTES) {
        errors.push(`invalid policy "${name}": (policy): serialised document exceeds ${SSM_STANDARD_MAX_BYTES} bytes`);
        continue;
      }
      out.push({ name, policy, document });
    } catch (err) {
      errors.push(errorMessage(err).replace(/^PolicyValidationError: /, ''));
    }
  }
  return out;
}

function truncate(s: string, max: number): string {
  return s.length <= max ? s : `${s.slice(0, max - 1)}…`;
}
