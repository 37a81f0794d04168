import { CfnResource, Duration, Token } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { DEFAULTS, ENV, SIZE_DEFAULTS, SIZE_ENV } from '../lambda/env';
import type { Policy } from '../lambda/core/policy';
import {
  ALARM_PREFIX_PATTERN,
  ALARM_STATE_CHANGE,
  TABLE_NAME_PATTERN,
  alarmDefinition,
  desiredSizeAlarm,
  formatStaticAlarms,
  type SizeAlarmSpec,
} from '../lambda/core/triggers/size-alarms';
import type { LogRetentionProps, OptInTagProps } from './common-props';
import * as perms from './perms';
import { acknowledgeWildcardAction, acknowledgeWildcardResource } from './private/acknowledge';
import { alarmArn as formatAlarmArn, policyParameterArn, tableArn as formatTableArn } from './private/arns';
import { handlerFunction } from './private/handler-function';

/** Reconciling up to 500 alarms at CloudWatch's 3 PutMetricAlarm/s takes ~3 min; room to spare. */
const PROBE_TIMEOUT = Duration.minutes(10);

/** Lambda allows 4 KB of environment in all; leave room for the other variables. */
const MAX_STATIC_ALARMS_ENV = 2048;

/** A table whose size alarm for `policy` CloudFormation owns (see `sizeAlarmTables`). */
export interface SizeAlarmTable {
  /** Table name (a literal: the alarm name holds it). */
  readonly table: string;
  /** A declared policy with a `size` trigger. */
  readonly policy: string;
}

export interface SizeTriggerProps extends OptInTagProps, LogRetentionProps {
  /** The service's planner: receives the size alarms' state changes (ALARM) from EventBridge. */
  readonly planner: lambda.IFunction;

  /**
   * The ledger (read: the size recorded at each (table, policy)'s last backup is the growth
   * baseline). When it is encrypted with a customer managed key, import it with that key.
   */
  readonly ledgerTable: dynamodb.ITable;

  /**
   * Topic for probe problems (invalid size policy, unreadable table).
   *
   * @default - problems are logged only
   */
  readonly topic?: sns.ITopic;

  /**
   * Key of the topic: the probe gets kms:Decrypt/GenerateDataKey* on it to publish.
   *
   * @default - no key grant
   */
  readonly encryptionKey?: kms.IKey;

  /**
   * When the probe runs. Each run reconciles the alarms, then publishes the metrics.
   *
   * @default events.Schedule.rate(Duration.hours(1))
   */
  readonly probeSchedule?: events.Schedule;

  /**
   * CloudWatch namespace of the size metrics.
   *
   * @default 'DynamoDBBackupService' (SIZE_DEFAULTS.METRIC_NAMESPACE)
   */
  readonly namespace?: string;

  /**
   * Prefix of the alarms the service owns: the reconciler deletes any alarm with it that no
   * (table, policy) wants. Give each deployment in an account its own prefix.
   *
   * @default 'ddb-backup-size-' (SIZE_DEFAULTS.ALARM_PREFIX)
   */
  readonly alarmPrefix?: string;

  /**
   * Most PutMetricAlarm/DeleteAlarms calls per probe run (CloudWatch allows 3/s by default);
   * further changes follow at the next run.
   *
   * @default 500
   */
  readonly maxAlarmWrites?: number;

  /**
   * Dead-letter queue for failed deliveries of both rules and failed asynchronous probe runs
   * (the service's trigger DLQ, watched by its alarm).
   *
   * @default - none
   */
  readonly deadLetterQueue?: sqs.IQueue;

  /**
   * The declared policies, by name (the size policies of `sizeAlarmTables` are looked up here).
   *
   * @default - none
   */
  readonly policies?: Readonly<Record<string, Policy>>;

  /**
   * Tables whose size alarm CDK creates at deploy time, one AWS::CloudWatch::Alarm per entry,
   * defined as the reconciler would (same name, metric, dimensions, period, ...), and which the
   * reconciler then leaves alone (SIZE_ENV.STATIC_ALARMS). Differences from a reconciled alarm:
   *  - threshold: with no baseline at synth, the policy's growthBytes if set, else growthPercent
   *    (a policy with both watches growthBytes only, not the smaller-at-the-baseline one);
   *  - a per-table SSM override of the policy is not applied (it is read at run time only).
   * The table must still carry the tag: the probe publishes the growth metric, and the planner
   * backs up, only tagged (table, policy).
   *
   * @default - none: every alarm is the reconciler's
   */
  readonly sizeAlarmTables?: readonly SizeAlarmTable[];
}

/**
 * Size-triggered backups. DynamoDB publishes no table-size metric, so a scheduled probe reads
 * DescribeTable (whose TableSizeBytes AWS refreshes about every 6 hours) and publishes custom
 * metrics; one CloudWatch alarm per (table, policy) with a `size` trigger watches the growth since
 * the last backup; EventBridge sends the alarm's move into ALARM to the planner, which enqueues a
 * size job for that table and policy.
 */
export class SizeTrigger extends Construct {
  /** Reconciles the size alarms, then publishes the size metrics. */
  public readonly probe: nodejs.NodejsFunction;
  /** Runs the probe. */
  public readonly probeRule: events.Rule;
  /** Sends the size alarms' ALARM state changes to the planner. */
  public readonly alarmRule: events.Rule;
  public readonly namespace: string;
  public readonly alarmPrefix: string;

  constructor(scope: Construct, id: string, props: SizeTriggerProps) {
    super(scope, id);
    const errors: string[] = [];
    this.node.addValidation({ validate: () => errors });

    this.namespace = props.namespace ?? SIZE_DEFAULTS.METRIC_NAMESPACE;
    this.alarmPrefix = props.alarmPrefix ?? SIZE_DEFAULTS.ALARM_PREFIX;
    if (!ALARM_PREFIX_PATTERN.test(this.alarmPrefix)) {
      errors.push(`alarmPrefix: must match ${ALARM_PREFIX_PATTERN.source}, got "${this.alarmPrefix}"`);
    }
    if (this.namespace.length < 1 || this.namespace.length > 255 || this.namespace.startsWith('AWS/') || !/^[\x20-\x7e]+$/.test(this.namespace)) {
      errors.push(`namespace: must be 1-255 printable ASCII characters and not start with "AWS/", got "${this.namespace}"`);
    }
    const maxAlarmWrites = props.maxAlarmWrites ?? SIZE_DEFAULTS.MAX_ALARM_WRITES;
    if (!Number.isInteger(maxAlarmWrites) || maxAlarmWrites < 1) {
      errors.push(`maxAlarmWrites: must be a whole number >= 1, got ${maxAlarmWrites}`);
    }
    if (props.encryptionKey && !props.topic) {
      errors.push('encryptionKey: is the topic\'s key; give it together with topic');
    }
    const tagKey = props.tagKey ?? DEFAULTS.TAG_KEY;
    const staticAlarms = this.staticAlarmSpecs(props, errors);
    const staticEnv = formatStaticAlarms(staticAlarms.map(({ table, policy }) => ({ table, policy })));
    if (staticEnv.length > MAX_STATIC_ALARMS_ENV) {
      errors.push(`sizeAlarmTables: ${staticAlarms.length} entries take ${staticEnv.length} characters of Lambda environment, more than ${MAX_STATIC_ALARMS_ENV}`);
    }

    // ---- the probe ------------------------------------------------------------------------------
    const probe = handlerFunction(this, 'Probe', {
      handler: 'probe',
      description: 'DynamoDB backups: reconciles the size alarms and publishes table size and growth metrics',
      roleDescription: 'DynamoDB backups: size probe and alarm reconciler',
      timeout: PROBE_TIMEOUT,
      logRetention: props.logRetention ?? logs.RetentionDays.ONE_MONTH,
      deadLetterQueue: props.deadLetterQueue,
      environment: {
        [ENV.LEDGER_TABLE]: props.ledgerTable.tableName,
        ...(props.topic ? { [ENV.TOPIC_ARN]: props.topic.topicArn } : {}),
        [ENV.TAG_KEY]: tagKey,
        [ENV.POLICY_PREFIX]: DEFAULTS.POLICY_PREFIX,
        [ENV.TABLE_OVERRIDE_PREFIX]: DEFAULTS.TABLE_OVERRIDE_PREFIX,
        [SIZE_ENV.ALARM_PREFIX]: this.alarmPrefix,
        [SIZE_ENV.METRIC_NAMESPACE]: this.namespace,
        [SIZE_ENV.MAX_ALARM_WRITES]: String(maxAlarmWrites),
        ...(staticEnv ? { [SIZE_ENV.STATIC_ALARMS]: staticEnv } : {}),
        POWERTOOLS_SERVICE_NAME: 'ddb-backup',
      },
    });
    this.probe = probe.fn;
    const role = probe.role;

    // ---- permissions ----------------------------------------------------------------------------
    const alarmArn = formatAlarmArn(this, `${this.alarmPrefix}*`);
    const tableArn = formatTableArn(this, '*');
    const parameterArn = policyParameterArn(this);
    role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'PublishSizeMetrics',
        // PutMetricData has no resource type; the namespace condition is what scopes it.
        actions: [...perms.SIZE_METRIC_ACTIONS],
        resources: ['*'],
        conditions: { StringEquals: { 'cloudwatch:namespace': this.namespace } },
      }),
    );
    role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'ReconcileSizeAlarms',
        actions: [...perms.SIZE_ALARM_ACTIONS],
        resources: [alarmArn],
      }),
    );
    role.addToPolicy(new iam.PolicyStatement({ sid: 'DescribeTables', actions: [...perms.TABLE_DESCRIBE_ACTIONS], resources: [tableArn] }));
    // GetResources does not support resource-level permissions.
    role.addToPolicy(new iam.PolicyStatement({ sid: 'DiscoverTaggedTables', actions: [...perms.TAG_DISCOVERY_ACTIONS], resources: ['*'] }));
    role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'ReadPolicies',
        actions: [...perms.POLICY_READ_ACTIONS],
        resources: [parameterArn],
      }),
    );
    props.ledgerTable.grantReadData(role);
    if (props.topic) props.topic.grantPublish(role);
    if (props.encryptionKey) props.encryptionKey.grant(role, ...perms.TOPIC_KEY_ACTIONS);

    // ---- the alarms CDK owns (sizeAlarmTables) --------------------------------------------------
    // Same definition as the reconciler's PutMetricAlarm (alarmDefinition); the properties of
    // AWS::CloudWatch::Alarm carry the same names.
    for (const spec of staticAlarms) {
      new CfnResource(this, `Alarm.${spec.policy}.${spec.table}`, { type: 'AWS::CloudWatch::Alarm', properties: { ...alarmDefinition(spec) } });
    }

    // ---- rules ----------------------------------------------------------------------------------
    this.probeRule = new events.Rule(this, 'ProbeSchedule', {
      description: 'DynamoDB backups: size probe (reconcile the size alarms, publish size metrics)',
      schedule: props.probeSchedule ?? events.Schedule.rate(Duration.hours(1)),
      targets: [
        new targets.LambdaFunction(this.probe, {
          retryAttempts: 2,
          maxEventAge: Duration.hours(1),
          ...(props.deadLetterQueue ? { deadLetterQueue: props.deadLetterQueue } : {}),
        }),
      ],
    });

    this.alarmRule = new events.Rule(this, 'SizeAlarmToPlanner', {
      description: `DynamoDB backups: size alarms (${this.alarmPrefix}*) going into ALARM -> planner`,
      eventPattern: {
        source: ['aws.cloudwatch'],
        detailType: [ALARM_STATE_CHANGE],
        detail: {
          alarmName: [{ prefix: this.alarmPrefix }],
          state: { value: ['ALARM'] },
        },
      },
      targets: [
        // The whole event: the planner reads the alarm name, dimensions and state-change time.
        new targets.LambdaFunction(props.planner, {
          retryAttempts: 2,
          maxEventAge: Duration.hours(2),
          ...(props.deadLetterQueue ? { deadLetterQueue: props.deadLetterQueue } : {}),
        }),
      ],
    });

    // ---- cdk-nag acknowledgements (each with its reason) ----------------------------------------
    acknowledgeWildcardResource(
      role,
      '*',
      'tag:GetResources has no resource-level permissions (it discovers tables by tag), and cloudwatch:PutMetricData has no resource type; PutMetricData is limited to the service namespace by the cloudwatch:namespace condition.',
    );
    acknowledgeWildcardResource(
      role,
      alarmArn,
      'The reconciler creates, updates and deletes one alarm per tagged table and policy, named at run time; the grant covers only alarms with the service prefix.',
    );
    acknowledgeWildcardResource(
      role,
      tableArn,
      'DescribeTable (size and item count) on the tables discovered at run time by tag, so they cannot be listed at deploy time; scoped to DynamoDB tables of this account and region.',
    );
    acknowledgeWildcardResource(
      role,
      parameterArn,
      'Reads the named policies (/dynamodb-backup/policies/*) and per-table overrides (/dynamodb-backup/tables/*), which operators add at run time; GetParametersByPath needs the path itself, hence the common prefix.',
    );
    for (const action of props.encryptionKey ? perms.TOPIC_KEY_ACTIONS.filter((a) => a.endsWith('*')) : []) {
      acknowledgeWildcardAction(
        role,
        action,
        'KMS data-key actions for the single key that encrypts the notification topic, so the probe can publish its problems.',
      );
    }
  }

  /** The specs of `sizeAlarmTables`, validated; problems go to `errors`. */
  private staticAlarmSpecs(props: SizeTriggerProps, errors: string[]): SizeAlarmSpec[] {
    const out: SizeAlarmSpec[] = [];
    const seen = new Set<string>();
    const declared = Object.keys(props.policies ?? {}).sort();
    (props.sizeAlarmTables ?? []).forEach((entry, i) => {
      const where = `sizeAlarmTables[${i}]`;
      if (Token.isUnresolved(entry.table) || !TABLE_NAME_PATTERN.test(entry.table)) {
        errors.push(`${where}.table: must be a literal table name matching ${TABLE_NAME_PATTERN.source}, got "${entry.table}"`);
        return;
      }
      const policy = Object.hasOwn(props.policies ?? {}, entry.policy) ? props.policies![entry.policy] : undefined;
      if (!policy) {
        errors.push(`${where}.policy: "${entry.policy}" is not a declared policy (${declared.join(', ') || 'none'})`);
        return;
      }
      const spec = desiredSizeAlarm({
        prefix: this.alarmPrefix,
        namespace: this.namespace,
        table: entry.table,
        policy: entry.policy,
        effective: policy,
        owner: 'cdk',
      });
      if (!spec) {
        errors.push(`${where}.policy: "${entry.policy}" has no size trigger (size.growthBytes or size.growthPercent)`);
        return;
      }
      if (seen.has(spec.name)) {
        errors.push(`${where}: table "${entry.table}" with policy "${entry.policy}" is listed twice`);
        return;
      }
      seen.add(spec.name);
      out.push(spec);
    });
    return out;
  }
}
