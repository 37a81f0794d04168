import { createHash } from 'node:crypto';
import { z } from 'zod';
import { PolicyValidationError } from './errors';

/**
 * The one policy schema, shared by the CDK app (deploy-time validation and SSM parameters), the
 * Lambdas (runtime reads from SSM) and the CLI (`policy validate|put`).
 */

export const POLICY_NAME_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;

const count = (max: number) => z.number().int().min(0).max(max);

/** EventBridge schedule expression: rate(N unit[s]) or cron(6 fields). */
const scheduleExpression = z
  .string()
  .trim()
  .refine(
    (s) =>
      /^rate\(\s*(1\s+(minute|hour|day)|([2-9]|[1-9]\d+)\s+(minutes|hours|days))\s*\)$/.test(s) ||
      /^cron\(\s*\S+(\s+\S+){5}\s*\)$/.test(s),
    { message: 'must be an EventBridge expression: rate(N unit) or cron(min hour day-of-month month day-of-week year)' },
  );

export const RetentionSchema = z
  .object({
    keepLast: count(10000).optional(),
    keepHourly: count(10000).optional(),
    keepDaily: count(10000).optional(),
    keepWeekly: count(10000).optional(),
    keepMonthly: count(10000).optional(),
    keepYearly: count(1000).optional(),
    maxAgeDays: z.number().int().min(1).max(36500).optional(),
    /**
     * The floor: no prune path ever leaves the table with fewer existing AVAILABLE backups of
     * this policy than this, whatever the rules say. Absent means 1 (the newest is always kept).
     */
    minKeep: z.number().int().min(1).max(10000).optional(),
  })
  .strict();

export const SizeTriggerSchema = z
  .object({
    growthBytes: z.number().int().positive().optional(),
    growthPercent: z.number().positive().max(100000).optional(),
  })
  .strict()
  .refine((s) => s.growthBytes !== undefined || s.growthPercent !== undefined, {
    message: 'needs growthBytes or growthPercent',
  });

export const ChangesTriggerSchema = z
  .object({
    writes: z.number().int().positive().optional(),
    deletes: z.number().int().positive().optional(),
    deleteStorm: z.number().int().positive().optional(),
    windowMinutes: z.number().int().positive().max(1440).optional(),
    pruneFreezeHours: z.number().int().positive().max(8760).optional(),
  })
  .strict()
  .refine((c) => c.writes !== undefined || c.deletes !== undefined || c.deleteStorm !== undefined, {
    message: 'needs writes, deletes or deleteStorm',
  });

export const PointInTimeRecoverySchema = z
  .object({
    enabled: z.boolean(),
    recoveryPeriodDays: z.number().int().min(1).max(35).default(35),
  })
  .strict();

export const NOTIFY_MODES = ['failures', 'all'] as const;

/** `s3://BUCKET/PREFIX`: an S3 bucket name (3-63, lower case) and an optional key prefix. */
export const COPY_DESTINATION_PATTERN = /^s3:\/\/([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])(?:\/(.*))?$/;

/**
 * Off-site copies: a DynamoDB export to S3 (full, DYNAMODB_JSON) into the vault bucket, made at a
 * policy run when the newest copy is older than `minIntervalHours`. Needs PITR (the export reads it).
 */
export const CopySchema = z
  .object({
    to: z
      .string()
      .regex(COPY_DESTINATION_PATTERN, { message: 'must be s3://BUCKET/PREFIX (a bucket name of 3-63 lower-case letters, digits, "." and "-")' })
      .refine((s) => !s.endsWith('/'), { message: 'must not end with "/"' }),
    minIntervalHours: z.number().int().min(1).max(8760).default(24),
    keepDays: z.number().int().min(1).max(36500).default(35),
    /** The 12-digit account that owns the bucket (cross-account copies). */
    owner: z.string().regex(/^\d{12}$/, { message: 'must be a 12-digit AWS account id' }).optional(),
    /** The bucket's region, when it is not the table's. */
    region: z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d$/, { message: 'must be an AWS region such as eu-west-1' }).optional(),
  })
  .strict();

export const PolicySchema = z
  .object({
    description: z.string().max(1024).optional(),
    schedule: scheduleExpression.optional(),
    size: SizeTriggerSchema.optional(),
    changes: ChangesTriggerSchema.optional(),
    enableStream: z.boolean().optional(),
    minIntervalMinutes: z.number().int().min(0).max(527040).default(0),
    retention: RetentionSchema.default({ keepLast: 7 }),
    pointInTimeRecovery: PointInTimeRecoverySchema.optional(),
    /** Restore drills: on this schedule, one table of the policy (in turn) is restored and checked. */
    drill: z.object({ schedule: scheduleExpression }).strict().optional(),
    /** `failures`: only failures are published; `all`: every run summary. Failures are always sent. */
    notify: z.enum(NOTIFY_MODES).default('failures'),
    /** Recovery point objective, hours: the RPO alarm and the report's breaches. Absent: the schedule's interval × 1.5. */
    rpoHours: z.number().positive().max(8784).optional(),
    copy: CopySchema.optional(),
  })
  .strict();

export type Policy = z.output<typeof PolicySchema>;
export type PolicyInput = z.input<typeof PolicySchema>;
export type Retention = z.output<typeof RetentionSchema>;
export type CopySettings = z.output<typeof CopySchema>;

/** Checks across fields that the object schema cannot state alone. */
function crossFieldIssues(policy: Policy): string[] {
  const issues: string[] = [];
  if (policy.copy && !policy.pointInTimeRecovery?.enabled) {
    issues.push('copy: needs pointInTimeRecovery.enabled: true (a copy is an export to S3, which reads the table\'s point-in-time recovery)');
  }
  return issues;
}

/** A policy after name resolution and per-table override, ready for the worker. */
export interface EffectivePolicy {
  readonly name: string;
  readonly policy: Policy;
  /** Short content hash of the effective policy, recorded with each backup. */
  readonly hash: string;
  /** True when a per-table override was merged in. */
  readonly overridden: boolean;
}

/** Built-in policies: a zero-config deploy backs up tables tagged with these names. */
export const DEFAULT_POLICIES: Readonly<Record<string, PolicyInput>> = {
  hourly: {
    description: 'Every hour; keeps 24 hourly and 7 daily backups.',
    schedule: 'cron(0 * * * ? *)',
    minIntervalMinutes: 30,
    retention: { keepHourly: 24, keepDaily: 7 },
  },
  daily: {
    description: 'Every day at 03:00 UTC; keeps 7 daily, 4 weekly and 6 monthly backups.',
    schedule: 'cron(0 3 * * ? *)',
    minIntervalMinutes: 60,
    retention: { keepDaily: 7, keepWeekly: 4, keepMonthly: 6 },
  },
  weekly: {
    description: 'Every Sunday at 04:00 UTC; keeps 8 weekly and 12 monthly backups.',
    schedule: 'cron(0 4 ? * SUN *)',
    minIntervalMinutes: 360,
    retention: { keepWeekly: 8, keepMonthly: 12 },
  },
};

function formatIssues(error: z.ZodError): string[] {
  return error.issues.map((issue) => {
    const path = issue.path.length > 0 ? issue.path.map(String).join('.') : '(policy)';
    return `${path}: ${issue.message}`;
  });
}

export function assertPolicyName(name: string): void {
  if (!POLICY_NAME_PATTERN.test(name)) {
    throw new PolicyValidationError(`"${name}"`, [`name: must match ${POLICY_NAME_PATTERN.source}`]);
  }
}

/** Validates an already-parsed policy object. Throws PolicyValidationError naming each field at fault. */
export function parsePolicy(input: unknown, source = 'policy'): Policy {
  const result = PolicySchema.safeParse(input);
  if (!result.success) {
    throw new PolicyValidationError(source, formatIssues(result.error));
  }
  const issues = crossFieldIssues(result.data);
  if (issues.length > 0) throw new PolicyValidationError(source, issues);
  return result.data;
}

/** U+FEFF: some editors (and PowerShell's `Out-File`) start UTF-8 files with it. */
const BYTE_ORDER_MARK = '\uFEFF';

/**
 * Parses JSON text of a policy or an override (SSM value, file), without validating it. A leading
 * byte order mark is ignored; malformed JSON is reported like a schema error, on "(json)".
 */
export function parsePolicyDocument(text: string, source = 'policy'): unknown {
  const body = text.startsWith(BYTE_ORDER_MARK) ? text.slice(BYTE_ORDER_MARK.length) : text;
  try {
    return JSON.parse(body);
  } catch (err) {
    throw new PolicyValidationError(source, [`(json): ${(err as Error).message}`], { cause: err });
  }
}

/** Parses and validates policy JSON text (SSM value, file). */
export function parsePolicyJson(text: string, source = 'policy'): Policy {
  return parsePolicy(parsePolicyDocument(text, source), source);
}

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Deep-merges a per-table override over a named policy. Objects merge key by key; scalars
 * replace; `null` removes the key (e.g. `{"retention": {"keepDaily": null}}`). Only a key that
 * may be absent can be removed: `resolveEffectivePolicy` refuses the rest (see `overrideIssues`).
 */
export function mergeOverride(base: unknown, override: unknown): unknown {
  if (!isPlainObject(base) || !isPlainObject(override)) {
    return override === undefined ? base : override;
  }
  const out: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(override)) {
    if (value === null) {
      delete out[key];
    } else if (isPlainObject(value)) {
      // Over nothing (or a scalar) the override's object is taken as is, minus its removals.
      out[key] = mergeOverride(isPlainObject(out[key]) ? out[key] : {}, value);
    } else {
      out[key] = value;
    }
  }
  return out;
}

/** Per-table override documents: any subset of a policy's fields, checked for shape only. */
export function parseOverrideJson(text: string, source: string): Record<string, unknown> {
  const raw = parsePolicyDocument(text, source);
  if (!isPlainObject(raw)) {
    throw new PolicyValidationError(source, ['(override): must be a JSON object']);
  }
  return raw;
}

/** The fields of an object schema (through `.optional()` and `.default()`); undefined for any other. */
function fieldsOf(schema: z.ZodType): Record<string, z.ZodType> | undefined {
  let inner: z.ZodType = schema;
  while (inner instanceof z.ZodDefault || inner instanceof z.ZodOptional) inner = inner.unwrap() as z.ZodType;
  return inner instanceof z.ZodObject ? (inner.shape as Record<string, z.ZodType>) : undefined;
}

function collectOverrideIssues(override: Record<string, unknown>, fields: Record<string, z.ZodType>, path: string[], issues: string[]): void {
  for (const [key, value] of Object.entries(override)) {
    const at = [...path, key].join('.');
    const field = Object.hasOwn(fields, key) ? fields[key] : undefined;
    if (!field) {
      issues.push(`${at}: unknown field`);
    } else if (value === null) {
      if (field instanceof z.ZodDefault) {
        const fallback = JSON.stringify(field.parse(undefined));
        issues.push(`${at}: null would remove it and put the default (${fallback}) in its place; give the value to use`);
      } else if (!(field instanceof z.ZodOptional)) {
        issues.push(`${at}: required, cannot be removed (null)`);
      }
    } else {
      const nested = fieldsOf(field);
      if (nested && isPlainObject(value)) collectOverrideIssues(value, nested, [...path, key], issues);
    }
  }
}

/**
 * What a per-table override may not do, one issue per field: name a field the policy schema does
 * not have, or remove (`null`) a field that has a default or is required. Such an override is
 * refused rather than merged, so that it never turns into the schema's default (a `retention:
 * null` would otherwise become `keepLast: 7` and delete backups). Values are checked on the
 * merged policy.
 */
export function overrideIssues(override: Record<string, unknown>): string[] {
  const issues: string[] = [];
  collectOverrideIssues(override, PolicySchema.shape, [], issues);
  return issues;
}

function canonical(value: unknown): Json {
  if (Array.isArray(value)) return value.map(canonical);
  if (isPlainObject(value)) {
    const out: Record<string, Json> = {};
    for (const key of Object.keys(value).sort()) {
      if (value[key] !== undefined) out[key] = canonical(value[key]);
    }
    return out;
  }
  return value as Json;
}

/** Stable short hash of a policy's content (key order does not matter). */
export function policyHash(policy: Policy): string {
  return createHash('sha256').update(JSON.stringify(canonical(policy))).digest('hex').slice(0, 12);
}

/**
 * Resolves the effective policy of a table: the named policy's raw document, with the table's
 * override (if any) merged over it, validated as a whole. An override that names an unknown field
 * or removes a field the policy needs is refused (PolicyValidationError naming the field, the
 * table and the policy), never merged into a policy with defaults.
 */
export function resolveEffectivePolicy(
  name: string,
  rawPolicy: unknown,
  rawOverride?: Record<string, unknown>,
  table?: string,
): EffectivePolicy {
  const source = rawOverride ? `"${name}" with the override of table "${table ?? '?'}"` : `"${name}"`;
  if (rawOverride) {
    const issues = overrideIssues(rawOverride);
    if (issues.length > 0) throw new PolicyValidationError(source, issues);
  }
  const merged = rawOverride ? mergeOverride(rawPolicy, rawOverride) : rawPolicy;
  const policy = parsePolicy(merged, source);
  return { name, policy, hash: policyHash(policy), overridden: rawOverride !== undefined };
}

/** Serialises a policy for SSM: compact, canonical key order. */
export function serialisePolicy(policy: PolicyInput | Policy): string {
  return JSON.stringify(canonical(policy));
}
