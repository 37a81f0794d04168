import { Template } from 'aws-cdk-lib/assertions';
import * as ssm from 'aws-cdk-lib/aws-ssm';
import { DEFAULT_POLICIES, parsePolicy, serialisePolicy } from '../../lambda/core/policy';
import type { PolicyInput } from '../../lambda/core/policy';
import { PolicyParameters } from '../../lib/service/policy-parameters';
import type { PolicyParametersProps } from '../../lib/service/policy-parameters';
import { partFixture } from './helpers';

function build(props: PolicyParametersProps = {}) {
  const fixture = partFixture();
  const parameters = new PolicyParameters(fixture.scope, props);
  return { ...fixture, parameters, synth: () => fixture.app.synth() };
}

describe('PolicyParameters', () => {
  it('writes one standard-tier parameter per policy directly in the scope, holding its canonical document', () => {
    // Prepare / Act
    const { scope, stack, parameters } = build({ policies: { nightly: { schedule: 'rate(1 day)', description: 'every night' } } });

    // Assess
    const template = Template.fromStack(stack);
    const names = ['hourly', 'daily', 'weekly', 'nightly'];
    expect(parameters.deployed.map((p) => p.name)).toEqual(names);
    template.resourceCountIs('AWS::SSM::Parameter', names.length);
    for (const name of names) {
      // The construct id the deployed stacks know: `Policy-<name>` under the service.
      expect(scope.node.findChild(`Policy-${name}`)).toBe(parameters.parameters[name]);
      expect(parameters.parameters[name]).toBeInstanceOf(ssm.StringParameter);
    }
    for (const [name, input] of Object.entries(DEFAULT_POLICIES)) {
      template.hasResourceProperties('AWS::SSM::Parameter', {
        Name: `/dynamodb-backup/policies/${name}`,
        Type: 'String',
        Tier: 'Standard',
        Value: serialisePolicy(parsePolicy(input)),
      });
    }
    template.hasResourceProperties('AWS::SSM::Parameter', {
      Name: '/dynamodb-backup/policies/nightly',
      Description: 'DynamoDB backup policy "nightly": every night',
    });
    expect(Object.keys(parameters.policies)).toEqual(names);
    expect(parameters.policies.nightly.schedule).toBe('rate(1 day)');
  });

  it('replaces a built-in policy by name, and leaves the built-in ones out when asked', () => {
    // Prepare / Act
    const merged = build({ policies: { daily: { schedule: 'cron(0 1 * * ? *)' } } });
    const only = build({ includeDefaultPolicies: false, policies: { sizeonly: { size: { growthPercent: 20 } } } });

    // Assess
    expect(merged.parameters.deployed.map((p) => p.name)).toEqual(['hourly', 'daily', 'weekly']);
    expect(merged.parameters.policies.daily.schedule).toBe('cron(0 1 * * ? *)');
    expect(only.parameters.deployed.map((p) => p.name)).toEqual(['sizeonly']);
  });

  it('truncates a description past 1024 characters', () => {
    // Prepare / Act
    const { stack } = build({ includeDefaultPolicies: false, policies: { long: { description: 'x'.repeat(1024) } } });

    // Assess
    const [parameter] = Object.values(Template.fromStack(stack).findResources('AWS::SSM::Parameter'));
    expect(parameter.Properties.Description).toHaveLength(1024);
    expect(parameter.Properties.Description).toMatch(/^DynamoDB backup policy "long": x+…$/);
  });

  it('leaves the invalid policies out and reports each at synth, on the scope', () => {
    // Prepare
    const { parameters, synth } = build({
      policies: { bad: { retention: { keepLast: -1 } }, 'no spaces!': { schedule: 'rate(1 day)' }, good: { schedule: 'rate(2 days)' } },
    });

    // Act / Assess
    expect(parameters.deployed.map((p) => p.name)).toEqual(['hourly', 'daily', 'weekly', 'good']);
    expect(synth).toThrow(/\[Svc\/Backups\] invalid policy "bad": retention\.keepLast/);
    expect(synth).toThrow(/\[Svc\/Backups\] invalid policy "no spaces!": name: must match/);
  });

  it('rejects a document larger than a standard-tier parameter (4096 bytes)', () => {
    // Prepare: control characters take 6 bytes each once serialised (\u0001).
    const policies: Record<string, PolicyInput> = { wide: { schedule: 'rate(1 day)', description: '\u0001'.repeat(1000) } };
    const { parameters, synth } = build({ includeDefaultPolicies: false, policies });

    // Act / Assess
    expect(parameters.deployed).toEqual([]);
    expect(synth).toThrow(/invalid policy "wide": \(policy\): serialised document exceeds 4096 bytes/);
  });

  it('rejects a configuration with no policy at all', () => {
    // Prepare
    const { synth } = build({ includeDefaultPolicies: false });

    // Act / Assess
    expect(synth).toThrow(/policies: no policy to deploy/);
  });
});
