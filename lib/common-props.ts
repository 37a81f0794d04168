import type * as logs from 'aws-cdk-lib/aws-logs';

/** Props shared by the service and its triggers: how a table opts in. */
export interface OptInTagProps {
  /**
   * Tag key that opts a table in; its value names one or more policies.
   *
   * @default 'backup:policy' (DEFAULTS.TAG_KEY)
   */
  readonly tagKey?: string;
}

/** Props shared by the constructs that deploy functions. */
export interface LogRetentionProps {
  /**
   * Retention of the log groups of the construct's functions.
   *
   * @default logs.RetentionDays.ONE_MONTH
   */
  readonly logRetention?: logs.RetentionDays;
}
