import { Stack, Validations } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';

/**
 * Helpers to acknowledge cdk-nag (v3) findings with CDK's native `Validations.of().acknowledge()`.
 * They do not import cdk-nag (a dev dependency): acknowledgements are plain construct metadata that
 * any validation plugin can read, and cost nothing when no plugin is registered.
 */

/**
 * Renders a (possibly tokenised) IAM resource the way cdk-nag names wildcard findings:
 * `Fn::Join` is joined, `Ref` becomes `<Id>` and `Fn::GetAtt` becomes `<Id.Attr>`.
 * This keeps the acknowledgements right whether the stack is environment-agnostic
 * (`arn:<AWS::Partition>:dynamodb:<AWS::Region>:...`) or bound to an account and region.
 */
export function flattenReference(node: unknown): string {
  if (node === undefined) return '';
  if (typeof node === 'string') return node.replace(/\$\{/g, '<').replace(/\}/g, '>');
  if (typeof node === 'object' && node !== null) {
    const o = node as Record<string, unknown>;
    if (o['Fn::Join']) {
      const [delimiter, items] = o['Fn::Join'] as [string, unknown[]];
      return items.map(flattenReference).join(delimiter);
    }
    if (o['Fn::Sub']) return flattenReference(o['Fn::Sub']);
    if (o['Fn::GetAtt']) {
      const [resource, attribute] = o['Fn::GetAtt'] as [unknown, unknown];
      return `<${flattenReference(resource)}.${flattenReference(attribute)}>`;
    }
    if (o['Fn::ImportValue']) return flattenReference(o['Fn::ImportValue']);
    if (o.Ref) return `<${flattenReference(o.Ref)}>`;
  }
  return JSON.stringify(node);
}

/** Acknowledges a whole rule on `scope` and everything below it. */
export function acknowledgeRule(scope: IConstruct, id: string, reason: string): void {
  Validations.of(scope).acknowledge({ id, reason });
}

/** Acknowledges an `AwsSolutions-IAM5` wildcard finding on a resource ARN (token or literal). */
export function acknowledgeWildcardResource(scope: IConstruct, resource: string, reason: string): void {
  const flat = flattenReference(Stack.of(scope).resolve(resource));
  Validations.of(scope).acknowledge({ id: `AwsSolutions-IAM5[Resource::${flat}]`, reason });
}

/** Acknowledges an `AwsSolutions-IAM5` wildcard finding on an action (e.g. `kms:GenerateDataKey*`). */
export function acknowledgeWildcardAction(scope: IConstruct, action: string, reason: string): void {
  Validations.of(scope).acknowledge({ id: `AwsSolutions-IAM5[Action::${action}]`, reason });
}
