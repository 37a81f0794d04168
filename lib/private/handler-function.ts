import * as path from 'node:path';
import { RemovalPolicy } from 'aws-cdk-lib';
import type { Duration } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import { acknowledgeRule } from './acknowledge';

/** Repository root: the Lambda entry points and package-lock.json live there. */
const PROJECT_ROOT = path.join(__dirname, '..', '..');
const HANDLERS_DIR = path.join(PROJECT_ROOT, 'lambda', 'handlers');

/** Local esbuild bundling of every handler: one CommonJS file (with its source map), no externals. */
const BUNDLING: nodejs.BundlingOptions = {
  forceDockerBundling: false,
  minify: true,
  sourceMap: true,
  target: 'node22',
  format: nodejs.OutputFormat.CJS,
  externalModules: [],
};

const L1_REASON =
  'nodejs22.x is pinned on purpose: it matches the esbuild target (node22) and the runtime the handlers are tested on; runtime upgrades are deliberate changes.';

/**
 * `environment`, `deadLetterQueue` and `reservedConcurrentExecutions` go to the function as
 * given, in the caller's key order: the CDK analytics metadata in the template records which
 * props were given (even `undefined`) and in which order.
 */
export interface HandlerFunctionOptions
  extends Pick<nodejs.NodejsFunctionProps, 'environment' | 'deadLetterQueue' | 'reservedConcurrentExecutions'> {
  /** Handler name: the entry point is `lambda/handlers/<handler>.handler.ts`. */
  readonly handler: string;
  /** Description of the function (and of its role, unless `roleDescription` is given). */
  readonly description: string;
  /** @default - `description` */
  readonly roleDescription?: string;
  readonly timeout: Duration;
  readonly logRetention: logs.RetentionDays;
}

export interface HandlerFunction {
  readonly fn: nodejs.NodejsFunction;
  readonly role: iam.Role;
  readonly logGroup: logs.LogGroup;
}

/**
 * One handler of the service under `scope`: `<id>LogGroup` (retained), `<id>Role` and the
 * function `<id>` (nodejs22.x, arm64, 512 MB, bundled locally with esbuild), with the cdk-nag
 * AwsSolutions-L1 acknowledgement on the function.
 */
export function handlerFunction(scope: Construct, id: string, opts: HandlerFunctionOptions): HandlerFunction {
  const { handler, description, roleDescription, timeout, logRetention, ...passThrough } = opts;
  const logGroup = new logs.LogGroup(scope, `${id}LogGroup`, {
    retention: logRetention,
    removalPolicy: RemovalPolicy.RETAIN,
  });
  // Own role without AWSLambdaBasicExecutionRole: logs go to this function's log group only.
  const role = new iam.Role(scope, `${id}Role`, {
    assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
    description: roleDescription ?? description,
  });
  logGroup.grantWrite(role);

  const fn = new nodejs.NodejsFunction(scope, id, {
    entry: path.join(HANDLERS_DIR, `${handler}.handler.ts`),
    handler: 'handler',
    description,
    runtime: lambda.Runtime.NODEJS_22_X,
    architecture: lambda.Architecture.ARM_64,
    memorySize: 512,
    timeout,
    role,
    logGroup,
    ...passThrough,
    projectRoot: PROJECT_ROOT,
    depsLockFilePath: path.join(PROJECT_ROOT, 'package-lock.json'),
    bundling: BUNDLING,
  });
  acknowledgeRule(fn, 'AwsSolutions-L1', L1_REASON);
  return { fn, role, logGroup };
}
