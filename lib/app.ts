import type { App, Environment } from 'aws-cdk-lib';
import type { AppConfig } from './app-config';
import { BackupServiceStack, BackupStateStack } from './stacks';

export interface BackupStacks {
  readonly stateStack: BackupStateStack;
  readonly serviceStack: BackupServiceStack;
}

/** Builds the two stacks of the app from its config. Stacks only wire. */
export function buildStacks(app: App, config: AppConfig, env?: Environment): BackupStacks {
  const stateStack = new BackupStateStack(app, `${config.stackPrefix}State`, {
    env,
    description: 'DynamoDB backup service: stateful resources (KMS key, ledger table, notification topic)',
    ledgerRemovalPolicy: config.ledgerRemovalPolicy,
    notificationEmails: config.notificationEmails,
  });
  const serviceStack = new BackupServiceStack(app, `${config.stackPrefix}Service`, {
    env,
    description: 'DynamoDB backup service: planner, worker, job queue, schedules, prune sweeps, size and change triggers, coverage digest and policies',
    state: stateStack.state,
    policies: config.policies,
    includeDefaultPolicies: config.includeDefaultPolicies,
    tagKey: config.tagKey,
    logRetention: config.logRetention,
    maxReceiveCount: config.maxReceiveCount,
    workerConcurrency: config.workerConcurrency,
    pruneSchedule: config.pruneSchedule,
    sizeTriggers: config.sizeTriggers,
    probeSchedule: config.probeSchedule,
    sizeAlarmPrefix: config.sizeAlarmPrefix,
    sizeAlarmTables: config.sizeAlarmTables,
    changeTriggers: config.changeTriggers,
    reconcileSchedule: config.reconcileSchedule,
    coverageDigest: config.coverageDigest,
    digestSchedule: config.digestSchedule,
    digestIgnoreTables: config.digestIgnoreTables,
  });
  return { stateStack, serviceStack };
}
