import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import { AwsSolutionsChecks } from 'cdk-nag';
import { createApp } from '../../bin/ddb-backup-app';
import { CopyGrants } from '../../lib/copy-grants';
import { CopyVault, CopyVaultStack } from '../../lib/copy-vault';
import { appProps } from './helpers';

/** Every IAM action any identity policy of the stack allows. */
function allowedActions(template: Template): string[] {
  return Object.values(template.findResources('AWS::IAM::Policy')).flatMap((p) =>
    (p.Properties.PolicyDocument.Statement as { Effect: string; Action: string | string[] }[])
      .filter((s) => s.Effect === 'Allow')
      .flatMap((s) => (Array.isArray(s.Action) ? s.Action : [s.Action])),
  );
}

function nagFindings(app: App): string[] {
  return new AwsSolutionsChecks().validateScope(app).violations.flatMap((v) => v.violatingResources.map((r) => `${v.severity} ${v.ruleName} at ${r.constructPath}`));
}

describe('CopyVault', () => {
  it('locks copies (Object Lock COMPLIANCE, keepDays), versions them, expires them by lifecycle, encrypts with its own key, TLS only, no public access', () => {
    // Prepare
    const app = new App();
    const stack = new CopyVaultStack(app, 'Vault', { env: { account: '111122223333', region: 'us-east-1' } });
    // Act
    const template = Template.fromStack(stack);
    // Assess
    template.hasResourceProperties('AWS::S3::Bucket', {
      ObjectLockEnabled: true,
      ObjectLockConfiguration: { ObjectLockEnabled: 'Enabled', Rule: { DefaultRetention: { Mode: 'COMPLIANCE', Days: 35 } } },
      VersioningConfiguration: { Status: 'Enabled' },
      LifecycleConfiguration: { Rules: [Match.objectLike({ Id: 'expire-copies', ExpirationInDays: 35, NoncurrentVersionExpiration: { NoncurrentDays: 1 }, Status: 'Enabled' })] },
      BucketEncryption: { ServerSideEncryptionConfiguration: [{ BucketKeyEnabled: true, ServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: Match.anyValue() } }] },
      PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true },
      LoggingConfiguration: Match.objectLike({ LogFilePrefix: 'vault/' }),
    });
    template.hasResource('AWS::S3::Bucket', { DeletionPolicy: 'Retain', Properties: Match.objectLike({ ObjectLockEnabled: true }) });
    template.hasResource('AWS::KMS::Key', { DeletionPolicy: 'Retain', Properties: Match.objectLike({ EnableKeyRotation: true }) });
    expect(stack.terminationProtection).toBe(true);
  });

  it("lets the source account's principals write and read copies, through S3 only for the key, and denies them every delete", () => {
    // Prepare
    const app = new App();
    const stack = new CopyVaultStack(app, 'Vault', { env: { account: '222233334444', region: 'eu-west-1' }, sourceAccounts: ['111122223333'] });
    // Act
    const template = Template.fromStack(stack);
    // Assess
    const statements = Object.values(template.findResources('AWS::S3::BucketPolicy')).flatMap((p) => p.Properties.PolicyDocument.Statement as Record<string, unknown>[]);
    expect(statements).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        expect.objectContaining({
          Sid: 'CopiesWrite',
          Effect: 'Allow',
          Action: ['s3:PutObject', 's3:AbortMultipartUpload', 's3:PutObjectAcl', 's3:GetObject'],
          Condition: { StringEquals: { 'aws:PrincipalAccount': ['111122223333'] } },
        }),
        expect.objectContaining({
          Sid: 'CopiesNeverDeletedBySources',
          Effect: 'Deny',
          Principal: { AWS: '*' },
          Action: expect.arrayContaining(['s3:DeleteObject', 's3:DeleteObjectVersion', 's3:PutObjectRetention', 's3:BypassGovernanceRetention']),
          Condition: { StringEquals: { 'aws:PrincipalAccount': ['111122223333'] } },
        }),
      ]),
    );
    const allows = statements.filter((s) => s.Effect === 'Allow').flatMap((s) => s.Action as string[]);
    expect(allows.filter((a) => a.startsWith('s3:Delete'))).toEqual([]);
    template.hasResourceProperties('AWS::KMS::Key', {
      KeyPolicy: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Sid: 'CopiesThroughS3',
            Action: ['kms:GenerateDataKey', 'kms:Encrypt', 'kms:Decrypt', 'kms:DescribeKey'],
            Condition: { StringEquals: { 'aws:PrincipalAccount': ['111122223333'] }, StringLike: { 'kms:ViaService': 's3.eu-west-1.amazonaws.com' } },
          }),
        ]),
      },
    });
  });

  it('takes GOVERNANCE mode and another keepDays for lock and lifecycle alike', () => {
    // Prepare
    const stack = new Stack(new App(), 'S');
    // Act
    new CopyVault(stack, 'V', { keepDays: 90, lockMode: 'GOVERNANCE' });
    // Assess
    Template.fromStack(stack).hasResourceProperties('AWS::S3::Bucket', {
      ObjectLockConfiguration: { ObjectLockEnabled: 'Enabled', Rule: { DefaultRetention: { Mode: 'GOVERNANCE', Days: 90 } } },
      LifecycleConfiguration: { Rules: [Match.objectLike({ ExpirationInDays: 90 })] },
    });
  });

  it('refuses at synth a keepDays out of range and a malformed source account', () => {
    // Prepare
    const app = new App();
    const stack = new Stack(app, 'S');
    new CopyVault(stack, 'V', { keepDays: 0, sourceAccounts: ['12345'] });
    // Act
    const synth = () => app.synth();
    // Assess
    expect(synth).toThrow(/keepDays must be a whole number of days from 1 to 36500, got 0[\s\S]*sourceAccounts: "12345" is not a 12-digit account id/);
  });

  it('grants the maker export, DescribeExport and write, and no delete in the vault', () => {
    // Prepare
    const stack = new Stack(new App(), 'S', { env: { account: '111122223333', region: 'us-east-1' } });
    const role = new iam.Role(stack, 'R', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
    // Act
    new CopyGrants({ scope: stack, destinations: [{ bucketArn: 'arn:aws:s3:::acme-vault' }], tagKey: 'backup:policy' }).maker(role);
    // Assess
    const template = Template.fromStack(stack);
    const actions = allowedActions(template);
    expect(actions).toEqual(expect.arrayContaining(['dynamodb:ExportTableToPointInTime', 'dynamodb:DescribeExport', 'dynamodb:ListExports', 's3:PutObject']));
    expect(actions.filter((a) => /^s3:(Delete|\*)|^s3:PutObjectRetention|^\*$/.test(a))).toEqual([]);
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Action: 'dynamodb:ExportTableToPointInTime', Condition: { StringLike: { 'aws:ResourceTag/backup:policy': '*' } } }),
          Match.objectLike({ Action: ['s3:PutObject', 's3:AbortMultipartUpload', 's3:PutObjectAcl'], Resource: 'arn:aws:s3:::acme-vault/*' }),
        ]),
      },
    });
  });
});

describe('the vault in the app', () => {
  it('is synthesized by default beside the service, and the service roles get no delete on it', () => {
    // Act
    const { serviceStack, vaultStack } = createApp(appProps());
    // Assess
    expect(vaultStack?.stackName).toBe('DdbBackupVault');
    const service = Template.fromStack(serviceStack);
    const actions = allowedActions(service);
    expect(actions).toEqual(expect.arrayContaining(['dynamodb:ExportTableToPointInTime', 's3:PutObject']));
    expect(actions.filter((a) => a.startsWith('s3:Delete') || a === 's3:*' || a === 's3:PutObjectRetention' || a === 's3:BypassGovernanceRetention')).toEqual([]);
  });

  it('goes to another account and region chosen by context, trusting the service account, and stays nag-clean', () => {
    // Act
    const { app, vaultStack, serviceStack } = createApp(
      appProps({ ddbBackup: { vault: { account: '222233334444', region: 'eu-west-1', bucketName: 'acme-ddb-vault', keepDays: 90 } } }),
    );
    // Assess
    expect([vaultStack?.account, vaultStack?.region]).toEqual(['222233334444', 'eu-west-1']);
    expect(vaultStack?.vault.keepDays).toBe(90);
    const worker = Object.values(Template.fromStack(serviceStack).findResources('AWS::IAM::Policy')).find((p) => JSON.stringify(p).includes('ExportTableToPointInTime'));
    expect(JSON.stringify(worker)).toContain(':s3:::acme-ddb-vault/*');
    app.synth();
    expect(nagFindings(app)).toEqual([]);
  });

  it('is left out with vault: false, and a vault elsewhere without bucketName is refused', () => {
    // Act
    const { vaultStack } = createApp(appProps({ ddbBackup: { vault: false } }));
    const elsewhere = () => createApp(appProps({ ddbBackup: { vault: { account: '222233334444' } } }));
    // Assess
    expect(vaultStack).toBeUndefined();
    expect(elsewhere).toThrow(/vault: a vault in another account or region needs bucketName/);
  });
});
