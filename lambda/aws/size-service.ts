import { SIZE_DEFAULTS, SIZE_ENV } from '../env';
import { assertAlarmPrefix, parseStaticAlarms, type StaticSizeAlarm } from '../core/triggers/size-alarms';
import { runSizeProbe, type SizeProbeDeps, type SizeProbeReport } from '../core/triggers/size-probe';
import type { RunProblem, RunReport } from '../core/backup/summary';
import type { Log } from '../core/backup/worker';
import { CloudWatchSizeAlarms } from './alarms';
import type { Service } from './service';
import { CloudWatchMetricSink } from './size-metrics';

/** Settings of the size trigger; the Lambdas read them from env, tests pass them. */
export interface SizeConfig {
  readonly alarmPrefix: string;
  readonly namespace: string;
  readonly maxAlarmWrites: number;
  /** (table, policy) whose alarms CDK owns (SIZE_ENV.STATIC_ALARMS); the reconciler skips them. */
  readonly staticAlarms?: readonly StaticSizeAlarm[];
}

export function sizeConfigFromEnv(env: NodeJS.ProcessEnv = process.env): SizeConfig {
  const alarmPrefix = env[SIZE_ENV.ALARM_PREFIX] || SIZE_DEFAULTS.ALARM_PREFIX;
  assertAlarmPrefix(alarmPrefix);
  const rawMax = env[SIZE_ENV.MAX_ALARM_WRITES];
  const maxAlarmWrites = rawMax ? Number(rawMax) : SIZE_DEFAULTS.MAX_ALARM_WRITES;
  if (!Number.isInteger(maxAlarmWrites) || maxAlarmWrites < 1) {
    throw new Error(`${SIZE_ENV.MAX_ALARM_WRITES} must be a whole number >= 1, got "${rawMax}"`);
  }
  return {
    alarmPrefix,
    namespace: env[SIZE_ENV.METRIC_NAMESPACE] || SIZE_DEFAULTS.METRIC_NAMESPACE,
    maxAlarmWrites,
    staticAlarms: parseStaticAlarms(env[SIZE_ENV.STATIC_ALARMS]),
  };
}

/** The probe's ports over a Service's adapters and its CloudWatch client. */
export function sizeProbeDeps(svc: Service, cfg: SizeConfig, log?: Log): SizeProbeDeps {
  return {
    policies: svc.policies,
    discovery: svc.discovery,
    tables: svc.backups,
    ledger: svc.ledger(),
    alarms: new CloudWatchSizeAlarms(svc.clients.cloudwatch, cfg.alarmPrefix),
    metrics: new CloudWatchMetricSink(svc.clients.cloudwatch, cfg.namespace),
    clock: svc.clock,
    log,
  };
}

/**
 * One probe (or reconcile-only) run; its problems, if any, go to the topic as one message, so a
 * broken size policy or an unreadable table is never only a log line.
 */
export async function runSizeTrigger(
  svc: Service,
  cfg: SizeConfig,
  mode: 'probe' | 'reconcile',
  log?: Log,
): Promise<SizeProbeReport> {
  const startedAt = svc.clock.now();
  const report = await runSizeProbe(sizeProbeDeps(svc, cfg, log), {
    prefix: cfg.alarmPrefix,
    namespace: cfg.namespace,
    mode,
    maxAlarmWrites: cfg.maxAlarmWrites,
    staticAlarms: cfg.staticAlarms,
  });
  if (report.problems.length > 0) {
    const problems: RunProblem[] = report.problems.map((p) => ({
      kind: p.message.startsWith('invalid policy') || p.message.startsWith('unusable policy') ? 'invalid-policy' : 'discovery',
      ...(p.table ? { table: p.table } : {}),
      ...(p.policy ? { policy: p.policy } : {}),
      message: p.message,
    }));
    const summary: RunReport = {
      runId: `size-${mode}|${startedAt.toISOString()}`,
      policy: '*',
      trigger: `size-${mode}`,
      startedAt: startedAt.toISOString(),
      finishedAt: svc.clock.now().toISOString(),
      results: [],
      problems,
    };
    await svc.notifier.publishRun(summary);
  }
  return report;
}
