import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import type { AppProps, CfnElement } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type { CfnRole, IRole } from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import type { Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { Construct } from 'constructs';
import type { IConstruct } from 'constructs';
import { flattenReference } from '../../lib/private/acknowledge';

const cdkJson = JSON.parse(readFileSync(path.join(__dirname, '..', '..', 'cdk.json'), 'utf8')) as {
  app: string;
  context: Record<string, unknown>;
};

/** The context of cdk.json (feature flags and `ddbBackup`), as the CLI would pass it. */
export const CDK_JSON_CONTEXT = cdkJson.context;
export const CDK_JSON_APP = cdkJson.app;

export interface AppOptions {
  /** Bundle the handlers with esbuild (default: skipped, the Template assertions do not need it). */
  readonly bundle?: boolean;
  /**
   * Run CDK's built-in CloudFormation Validate plugin (default: off). Its engine takes ~3 s to
   * start in every test file; the app-level test in nag.test.ts runs it.
   */
  readonly cfnValidation?: boolean;
}

/** App props with the feature flags and config of cdk.json, as the CLI would pass them. */
export function appProps(context: Record<string, unknown> = {}, opts: AppOptions = {}): AppProps {
  return {
    builtinCloudFormationValidation: opts.cfnValidation ?? false,
    context: {
      ...CDK_JSON_CONTEXT,
      ...(opts.bundle ? {} : { 'aws:cdk:bundling-stacks': [] }),
      ...context,
    },
  };
}

export function newApp(context: Record<string, unknown> = {}, opts: AppOptions = {}): App {
  return new App(appProps(context, opts));
}

export interface Statement {
  Effect: string;
  Action: string | string[];
  Resource: unknown;
  Condition?: unknown;
}

/** Every statement of the identity policies attached to `role`, with resources flattened to strings. */
export function statementsOf(template: Template, role: IRole): Array<Statement & { actions: string[]; resources: string[] }> {
  const stack = Stack.of(role);
  const roleId = stack.getLogicalId(role.node.defaultChild as CfnRole);
  const policies = Object.values(template.findResources('AWS::IAM::Policy')).filter((p) =>
    (p.Properties.Roles as Array<{ Ref?: string }>).some((r) => r.Ref === roleId),
  );
  return policies.flatMap((p) =>
    (p.Properties.PolicyDocument.Statement as Statement[]).map((s) => ({
      ...s,
      actions: ([] as string[]).concat(s.Action),
      resources: ([] as unknown[]).concat(s.Resource).map(flattenReference),
    })),
  );
}

/** Actions granted to `role` on resources matching `resource` (exact, after flattening). */
export function actionsOn(template: Template, role: IRole, resource: string): string[] {
  return statementsOf(template, role)
    .filter((s) => s.Effect === 'Allow' && s.resources.includes(resource))
    .flatMap((s) => s.actions)
    .sort();
}

/** All actions the role is allowed. */
export function allActions(template: Template, role: IRole): string[] {
  return [...new Set(statementsOf(template, role).filter((s) => s.Effect === 'Allow').flatMap((s) => s.actions))].sort();
}

/** What the parts of DynamoDbBackupService are built with: a scope in a stack, and the state. */
export interface PartFixture {
  readonly app: App;
  readonly stack: Stack;
  /** Stands for the service construct: the parts build their resources directly in it. */
  readonly scope: Construct;
  readonly encryptionKey: kms.Key;
  readonly ledgerTable: dynamodb.Table;
  readonly topic: sns.Topic;
}

/** A stack `Svc` with a key, a ledger and a topic (as BackupState makes them) and an empty scope `Svc/Backups`. */
export function partFixture(env?: { account: string; region: string }): PartFixture {
  const app = newApp();
  const stack = new Stack(app, 'Svc', env ? { env } : {});
  const encryptionKey = new kms.Key(stack, 'Key', { enableKeyRotation: true });
  const ledgerTable = new dynamodb.Table(stack, 'Ledger', {
    partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
    sortKey: { name: 'sk', type: dynamodb.AttributeType.STRING },
    encryption: dynamodb.TableEncryption.CUSTOMER_MANAGED,
    encryptionKey,
  });
  const topic = new sns.Topic(stack, 'Topic', { masterKey: encryptionKey });
  const scope = new Construct(stack, 'Backups');
  return { app, stack, scope, encryptionKey, ledgerTable, topic };
}

/** AwsSolutions findings (errors and warnings) left unacknowledged on the constructs under `pathPrefix`. */
export function unacknowledgedUnder(app: App, pathPrefix: string): string[] {
  return new AwsSolutionsChecks()
    .validateScope(app)
    .violations.flatMap((v) => v.violatingResources.map((r) => `${v.severity} ${v.ruleName} at ${r.constructPath}`))
    .filter((f) => f.includes(` at ${pathPrefix}`));
}

/** The logical ID of a construct's default child (its CloudFormation resource). */
export function logicalIdOf(c: IConstruct): string {
  return Stack.of(c).getLogicalId(c.node.defaultChild as CfnElement);
}
