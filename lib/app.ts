import { Aws } from 'aws-cdk-lib';
import type { App, Environment } from 'aws-cdk-lib';
import { DEFAULTS } from '../lambda/env';
import type { AppConfig, VaultConfig } from './app-config';
import { CopyGrants } from './copy-grants';
import type { CopyDestination } from './copy-grants';
import { CopyVaultStack } from './copy-vault';
import { BackupServiceStack, BackupStateStack } from './stacks';

export interface BackupStacks {
  readonly stateStack: BackupStateStack;
  readonly serviceStack: BackupServiceStack;
  /** The copy vault's stack, unless the config leaves it out (`vault: false`). */
  readonly vaultStack?: CopyVaultStack;
}

/**
 * The copy vault's stack, in the service's environment or the one `vault` names, and the
 * worker's grant to export into it (never to delete from it).
 */
function buildVault(app: App, prefix: string, vault: VaultConfig, env: Environment | undefined, serviceStack: BackupServiceStack, tagKey: string): CopyVaultStack {
  const elsewhere = vault.account !== undefined || vault.region !== undefined;
  const { account, region, ...props } = vault;
  const vaultStack = new CopyVaultStack(app, `${prefix}Vault`, {
    env: { account: account ?? env?.account, region: region ?? env?.region },
    description: 'DynamoDB backup service: the copy vault (S3 Object Lock bucket and key for off-site copies)',
    ...props,
    ...(props.sourceAccounts === undefined && elsewhere && env?.account ? { sourceAccounts: [env.account] } : {}),
  });
  // By name, never by reference: the service stack does not depend on the vault's (a generated
  // name starts with the vault stack's name, lower-cased); the vault's key policy decides the key.
  const bucket = vault.bucketName ?? `${vaultStack.stackName.toLowerCase()}-*`;
  const destination: CopyDestination = { bucketArn: `arn:${Aws.PARTITION}:s3:::${bucket}` };
  new CopyGrants({ scope: serviceStack, destinations: [destination], tagKey }).maker(serviceStack.service.worker);
  return vaultStack;
}

/** Builds the two stacks of the app from its config. Stacks only wire. */
export function buildStacks(app: App, config: AppConfig, env?: Environment): BackupStacks {
  const { stackPrefix, ledgerRemovalPolicy, notificationEmails, vault, ...serviceOptions } = config;
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
  const vaultStack = vault === false ? undefined : buildVault(app, stackPrefix, vault ?? {}, env, serviceStack, config.tagKey ?? DEFAULTS.TAG_KEY);
  return { stateStack, serviceStack, ...(vaultStack ? { vaultStack } : {}) };
}
