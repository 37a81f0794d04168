import type { App, Environment } from 'aws-cdk-lib';
import type { AppConfig } from './app-config';
import { BackupServiceStack, BackupStateStack } from './stacks';

export interface BackupStacks {
  readonly stateStack: BackupStateStack;
  readonly serviceStack: BackupServiceStack;
}

/** Builds the two stacks of the app from its config. Stacks only wire. */
export function buildStacks(app: App, config: AppConfig, env?: Environment): BackupStacks {
  const { stackPrefix, ledgerRemovalPolicy, notificationEmails, ...serviceOptions } = config;
  const stateStack = new BackupStateStack(app, `${stackPrefix}State`, {
    env,
    description: 'DynamoDB backup service: stateful resources (KMS key, ledger table, notification topic)',
    ledgerRemovalPolicy,
    notificationEmails,
  });
  const serviceStack = new BackupServiceStack(app, `${stackPrefix}Service`, {
    env,
    description: 'DynamoDB backup service: planner, worker, job queue, schedules, prune sweeps, size and change triggers, coverage digest and policies',
    state: stateStack.state,
    ...serviceOptions,
  });
  return { stateStack, serviceStack };
}
