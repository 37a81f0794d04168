import { ArnFormat, Stack } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';
import { ssmScope } from './ssm';

/**
 * The ARNs the service's grants name, in the account, region and partition of `scope`'s stack
 * (pseudo parameters in an environment-agnostic stack).
 */

/** DynamoDB `table/<resourceName>`: every table (`*`), or their backups, indexes or streams (`*` + `/backup/*`, ...). */
export function tableArn(scope: IConstruct, resourceName: string): string {
  return Stack.of(scope).formatArn({ service: 'dynamodb', resource: 'table', resourceName, arnFormat: ArnFormat.SLASH_RESOURCE_NAME });
}

/** Kinesis data streams of this account and region. */
export function kinesisStreamArn(scope: IConstruct): string {
  return Stack.of(scope).formatArn({ service: 'kinesis', resource: 'stream', resourceName: '*', arnFormat: ArnFormat.SLASH_RESOURCE_NAME });
}

/** The SSM parameters of the named policies and the per-table overrides (their common path). */
export function policyParameterArn(scope: IConstruct): string {
  return Stack.of(scope).formatArn({
    service: 'ssm',
    resource: 'parameter',
    resourceName: `${ssmScope()}*`,
    arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
  });
}

/** KMS keys of this account and region. */
export function kmsKeyArn(scope: IConstruct): string {
  return Stack.of(scope).formatArn({ service: 'kms', resource: 'key', resourceName: '*', arnFormat: ArnFormat.SLASH_RESOURCE_NAME });
}

/** CloudWatch alarms of this account and region named `alarmName` (a pattern with `*`). */
export function alarmArn(scope: IConstruct, alarmName: string): string {
  return Stack.of(scope).formatArn({ service: 'cloudwatch', resource: 'alarm', resourceName: alarmName, arnFormat: ArnFormat.COLON_RESOURCE_NAME });
}

/** The service-linked role `roleName` of `service` (IAM: no region). */
export function serviceLinkedRoleArn(scope: IConstruct, service: string, roleName: string): string {
  return Stack.of(scope).formatArn({
    service: 'iam',
    region: '',
    resource: 'role',
    resourceName: `aws-service-role/${service}/${roleName}`,
    arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
  });
}
