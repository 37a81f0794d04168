#!/usr/bin/env node
import { App, Validations } from 'aws-cdk-lib';
import type { AppProps } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { CONFIG_CONTEXT_KEY, buildStacks, parseAppConfig } from '../lib';
import type { BackupStacks } from '../lib';

/**
 * The CDK app: reads `ddbBackup` from context, builds the state and service stacks and checks
 * them with the cdk-nag AwsSolutions pack. Unacknowledged nag errors fail the synth.
 */
export function createApp(props: AppProps = {}): { app: App } & BackupStacks {
  const app = new App(props);
  const config = parseAppConfig(app.node.tryGetContext(CONFIG_CONTEXT_KEY));
  // Unresolved (environment-agnostic) when there are no credentials: synth still works offline.
  const env = { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION };
  const stacks = buildStacks(app, config, env);
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  return { app, ...stacks };
}

if (require.main === module) {
  createApp();
}
