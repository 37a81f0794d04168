import type { SizeProbeReport } from './size-probe';

/** What the size probe and the size-alarm reconciler log and return of a run. */

/** Calls per API made between two snapshots of a call counter; APIs not called are left out. */
export function callsBetween(before: Readonly<Record<string, number>>, after: Readonly<Record<string, number>>): Record<string, number> {
  return Object.fromEntries(
    Object.entries(after)
      .map(([api, n]): [string, number] => [api, n - (before[api] ?? 0)])
      .filter(([, n]) => n > 0),
  );
}

/** The probe's log line: counts, the first 50 breaching (policy/table), and the calls it made. */
export function sizeProbeLog(report: SizeProbeReport, calls: Record<string, number>): Record<string, unknown> {
  return {
    targets: report.targets.length,
    breaching: report.targets
      .filter((t) => t.breaching)
      .map((t) => `${t.policy}/${t.table}`)
      .slice(0, 50),
    alarms: report.alarms,
    points: report.points,
    putMetricDataCalls: report.putMetricDataCalls,
    problems: report.problems.length,
    calls,
  };
}

export interface SizeProbeOutput {
  readonly targets: number;
  readonly alarms: SizeProbeReport['alarms'];
  readonly points: number;
  readonly putMetricDataCalls: number;
  readonly problems: number;
}

/** What the probe Lambda returns. */
export function sizeProbeOutput(r: SizeProbeReport): SizeProbeOutput {
  return { targets: r.targets.length, alarms: r.alarms, points: r.points, putMetricDataCalls: r.putMetricDataCalls, problems: r.problems.length };
}

export interface SizeReconcileOutput {
  readonly targets: number;
  readonly alarms: SizeProbeReport['alarms'];
  readonly problems: number;
}

/** What the size-alarm reconciler logs and returns. */
export function sizeReconcileOutput(r: SizeProbeReport): SizeReconcileOutput {
  return { targets: r.targets.length, alarms: r.alarms, problems: r.problems.length };
}
