import * as iam from 'aws-cdk-lib/aws-iam';
import type { IConstruct } from 'constructs';
import * as perms from './perms';
import { acknowledgeWildcardResource } from './private/acknowledge';
import { tableArn } from './private/arns';

/** A vault the service copies into: its bucket and, when known, its key. */
export interface CopyDestination {
  /** ARN of the vault bucket (`arn:aws:s3:::BUCKET`). */
  readonly bucketArn: string;
  /**
   * ARN of the vault's KMS key.
   * @default - any key, through S3 only (kms:ViaService); the vault's key policy decides
   */
  readonly keyArn?: string;
}

export interface CopyGrantsProps {
  /** The construct in whose stack (account, region, partition) the table ARNs are. */
  readonly scope: IConstruct;
  /** The vaults copies go to. */
  readonly destinations: readonly CopyDestination[];
  /** Tag key that opts a table in: only opted-in tables are exported by the service's roles. */
  readonly tagKey: string;
}

/**
 * The permissions of off-site copies, from the named lists of perms.ts. None of them deletes an
 * object: copies expire by the vault's lifecycle only (and the vault's bucket policy denies it).
 */
export class CopyGrants {
  constructor(private readonly props: CopyGrantsProps) {}

  /** The worker (and `ddb-backup copy` / `run`): export opted-in tables into the vaults and follow the exports. */
  public maker(grantee: iam.IGrantable): iam.Grant {
    const grant = [
      this.allow(grantee, perms.COPY_EXPORT_ACTIONS, [tableArn(this.props.scope, '*')], { StringLike: { [`aws:ResourceTag/${this.props.tagKey}`]: '*' } }),
      this.waiter(grantee),
      this.allow(grantee, perms.COPY_LIST_ACTIONS, ['*']),
      this.allow(grantee, perms.COPY_VAULT_WRITE_ACTIONS, this.objects()),
      this.key(grantee),
    ].reduce((a, b) => a.combine(b));
    this.acknowledge(grantee);
    return grant;
  }

  /** The 'copy' long task (the deployed waiter): DescribeExport on the tables' exports (the ledger is granted with it). */
  public waiter(grantee: iam.IGrantable): iam.Grant {
    return this.allow(grantee, perms.COPY_DESCRIBE_ACTIONS, [tableArn(this.props.scope, '*/export/*')]);
  }

  /** `restore --from-copy`: read the copies, import into a new table, let the import log. */
  public restorer(grantee: iam.IGrantable): iam.Grant {
    return [
      this.allow(grantee, perms.COPY_VAULT_READ_ACTIONS, this.objects()),
      this.allow(grantee, perms.COPY_VAULT_LIST_ACTIONS, this.props.destinations.map((d) => d.bucketArn)),
      this.allow(grantee, perms.COPY_IMPORT_ACTIONS, [tableArn(this.props.scope, '*')]),
      this.allow(grantee, perms.COPY_IMPORT_LOG_ACTIONS, ['*']),
      this.key(grantee),
    ].reduce((a, b) => a.combine(b));
  }

  private objects(): string[] {
    return this.props.destinations.map((d) => `${d.bucketArn}/*`);
  }

  private key(grantee: iam.IGrantable): iam.Grant {
    const keys = this.props.destinations.map((d) => d.keyArn ?? '*');
    return this.allow(grantee, perms.COPY_VAULT_KEY_ACTIONS, [...new Set(keys)], { StringLike: { 'kms:ViaService': 's3.*.amazonaws.com' } });
  }

  private allow(grantee: iam.IGrantable, actions: readonly string[], resourceArns: string[], conditions?: Record<string, Record<string, unknown>>): iam.Grant {
    return iam.Grant.addToPrincipal({ grantee, actions: [...actions], resourceArns, ...(conditions ? { conditions } : {}) });
  }

  private acknowledge(grantee: iam.IGrantable): void {
    const role = grantee.grantPrincipal as unknown as IConstruct;
    if (!('node' in role)) return;
    acknowledgeWildcardResource(role, tableArn(this.props.scope, '*/export/*'), 'DescribeExport on the exports of the tables copied at run time (their ids are DynamoDB\'s); read-only.');
    acknowledgeWildcardResource(role, '*', 'dynamodb:ListExports does not support resource-level permissions; read-only.');
    for (const d of this.props.destinations) {
      acknowledgeWildcardResource(role, `${d.bucketArn}/*`, 'Exports write objects under keys DynamoDB chooses (PREFIX/<table>/<copy>/AWSDynamoDB/<export id>/...) in the copy vault; write only, never delete.');
      if (!d.keyArn) acknowledgeWildcardResource(role, '*', 'The vault key of another account is not known here; use is limited to S3 (kms:ViaService) and decided by the vault\'s key policy.');
    }
  }
}
