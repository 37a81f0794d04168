import { Aws, CfnOutput, Duration, RemovalPolicy, Stack, Token } from 'aws-cdk-lib';
import type { StackProps } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import * as perms from './perms';
import { acknowledgeRule } from './private/acknowledge';

export type CopyVaultLockMode = 'COMPLIANCE' | 'GOVERNANCE';

export interface CopyVaultProps {
  /**
   * Days each copy is locked (Object Lock default retention) and kept (lifecycle expiry). Match
   * the `copy.keepDays` of the policies that copy here.
   * @default 35
   */
  readonly keepDays?: number;
  /**
   * Object Lock mode. COMPLIANCE: nobody, the root user included, can delete or shorten a lock.
   * @default 'COMPLIANCE'
   */
  readonly lockMode?: CopyVaultLockMode;
  /**
   * Accounts whose DynamoDB exports may write copies (and whose restores may read them).
   * @default - the vault's own account
   */
  readonly sourceAccounts?: readonly string[];
  /**
   * The roles of the source accounts that make copies and restore them (the worker, operators).
   * @default - any principal of the source accounts that its own IAM policies allow
   */
  readonly writerRoleArns?: readonly string[];
  /**
   * The bucket's name (the `s3://BUCKET` of the policies' `copy.to`).
   * @default - a name CloudFormation generates (see the stack's outputs)
   */
  readonly bucketName?: string;
}

const ACCOUNT = /^\d{12}$/;

/**
 * The off-site vault of the copies: an S3 bucket with Object Lock (COMPLIANCE, `keepDays`),
 * versioning, a lifecycle rule that expires copies after `keepDays`, SSE-KMS with its own key,
 * TLS only, public access blocked, access logs. The source accounts may write and read copies,
 * never delete them: copies go by lifecycle only. Everything is retained when the stack goes.
 */
export class CopyVault extends Construct {
  public readonly bucket: s3.Bucket;
  public readonly key: kms.Key;
  public readonly keepDays: number;
  public readonly sourceAccounts: readonly string[];

  constructor(scope: Construct, id: string, props: CopyVaultProps = {}) {
    super(scope, id);
    this.keepDays = props.keepDays ?? 35;
    this.sourceAccounts = props.sourceAccounts ?? [Aws.ACCOUNT_ID];
    this.node.addValidation({
      validate: () => [
        ...(Number.isInteger(this.keepDays) && this.keepDays >= 1 && this.keepDays <= 36500 ? [] : [`keepDays must be a whole number of days from 1 to 36500, got ${this.keepDays}`]),
        ...this.sourceAccounts.filter((a) => !Token.isUnresolved(a) && !ACCOUNT.test(a)).map((a) => `sourceAccounts: "${a}" is not a 12-digit account id`),
        ...(this.sourceAccounts.length === 0 ? ['sourceAccounts must name at least one account'] : []),
      ],
    });
    // Out-of-range values are reported by the validation above; the lock is built with a legal one meanwhile.
    const days = Duration.days(Math.min(36500, Math.max(1, Math.floor(this.keepDays) || 1)));
    const mode = props.lockMode ?? 'COMPLIANCE';
    const writers: iam.IPrincipal[] = props.writerRoleArns?.length
      ? props.writerRoleArns.map((arn) => new iam.ArnPrincipal(arn))
      : this.sourceAccounts.map((a) => new iam.AccountPrincipal(a));
    const fromSource = { StringEquals: { 'aws:PrincipalAccount': [...this.sourceAccounts] } };

    this.key = new kms.Key(this, 'Key', {
      description: 'Off-site copies of DynamoDB tables (exports) in the copy vault',
      enableKeyRotation: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    // Exports write SSE-KMS objects, and imports read them, through S3 only.
    this.key.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'CopiesThroughS3',
        principals: writers,
        actions: [...perms.COPY_VAULT_KEY_ACTIONS],
        resources: ['*'],
        conditions: { ...fromSource, StringLike: { 'kms:ViaService': `s3.${Stack.of(this).region}.amazonaws.com` } },
      }),
    );

    const logs = new s3.Bucket(this, 'AccessLogs', {
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      lifecycleRules: [{ id: 'expire-access-logs', expiration: Duration.days(Math.max(400, this.keepDays)) }],
      removalPolicy: RemovalPolicy.RETAIN,
    });
    acknowledgeRule(logs, 'AwsSolutions-S1', 'This bucket is the target of the vault bucket\'s access logs; logging it into itself would loop.');

    this.bucket = new s3.Bucket(this, 'Bucket', {
      bucketName: props.bucketName,
      objectLockEnabled: true,
      objectLockDefaultRetention: mode === 'COMPLIANCE' ? s3.ObjectLockRetention.compliance(days) : s3.ObjectLockRetention.governance(days),
      versioned: true,
      encryption: s3.BucketEncryption.KMS,
      encryptionKey: this.key,
      bucketKeyEnabled: true,
      enforceSSL: true,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      serverAccessLogsBucket: logs,
      serverAccessLogsPrefix: 'vault/',
      lifecycleRules: [
        {
          id: 'expire-copies',
          // The lock holds each version for keepDays; then the lifecycle removes it (the only way copies go).
          expiration: days,
          noncurrentVersionExpiration: Duration.days(1),
          abortIncompleteMultipartUploadAfter: Duration.days(7),
        },
      ],
      removalPolicy: RemovalPolicy.RETAIN,
    });
    // Scoped to the source accounts' principals: DynamoDB writes an export (and reads an import)
    // with the requester's own credentials.
    this.bucket.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'CopiesWrite',
        principals: writers,
        actions: [...perms.COPY_VAULT_WRITE_ACTIONS, ...perms.COPY_VAULT_READ_ACTIONS],
        resources: [this.bucket.arnForObjects('*')],
        conditions: fromSource,
      }),
    );
    this.bucket.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'CopiesList',
        principals: writers,
        actions: [...perms.COPY_VAULT_LIST_ACTIONS],
        resources: [this.bucket.bucketArn],
        conditions: fromSource,
      }),
    );
    // Nobody of the source accounts deletes a copy or touches its lock, whatever their IAM says.
    this.bucket.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'CopiesNeverDeletedBySources',
        effect: iam.Effect.DENY,
        principals: [new iam.AnyPrincipal()],
        actions: [...perms.COPY_VAULT_DENIED_ACTIONS],
        resources: [this.bucket.arnForObjects('*')],
        conditions: fromSource,
      }),
    );
  }

  /** The `copy.to` of a policy that copies into this vault under `prefix`. */
  public copyTo(prefix = 'copies'): string {
    return `s3://${this.bucket.bucketName}/${prefix}`;
  }
}

export interface CopyVaultStackProps extends StackProps, CopyVaultProps {}

/**
 * The vault in its own stack: in the service's account and region by default, or in another
 * account or region (context `ddbBackup.vault`). Termination protection is on.
 */
export class CopyVaultStack extends Stack {
  public readonly vault: CopyVault;

  constructor(scope: Construct, id: string, props: CopyVaultStackProps = {}) {
    super(scope, id, { ...props, terminationProtection: props.terminationProtection ?? true });
    this.vault = new CopyVault(this, 'Vault', props);
    new CfnOutput(this, 'VaultBucketName', { description: 'Copy vault bucket: use s3://<this>/<prefix> as a policy\'s copy.to', value: this.vault.bucket.bucketName });
    new CfnOutput(this, 'VaultKeyArn', { description: 'KMS key of the copy vault', value: this.vault.key.keyArn });
  }
}
