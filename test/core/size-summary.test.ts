import type { SizeProbeReport, SizeTarget } from '../../lambda/core/triggers/size-probe';
import { callsBetween, sizeProbeLog, sizeProbeOutput, sizeReconcileOutput } from '../../lambda/core/triggers/size-summary';

const ALARMS = { created: 1, updated: 2, deleted: 3, unchanged: 4, deferred: 0, kept: 5 };
const target = (table: string, breaching: boolean): SizeTarget => ({
  table,
  policy: 'daily',
  threshold: { metric: 'GrowthSinceLastBackupBytes', threshold: 1000, source: 'size.growthBytes' },
  breaching,
});

function report(targets: SizeTarget[]): SizeProbeReport {
  return { targets, alarms: ALARMS, points: 12, putMetricDataCalls: 1, problems: [{ table: 'x', message: 'invalid policy' }] };
}

describe('callsBetween', () => {
  it('gives the calls made between two snapshots, leaving out APIs not called since', () => {
    // Act
    const calls = callsBetween({ DescribeTable: 3, GetResources: 1 }, { DescribeTable: 10, GetResources: 1, PutMetricData: 2 });

    // Assess
    expect(calls).toEqual({ DescribeTable: 7, PutMetricData: 2 });
  });

  it('is empty between two empty snapshots', () => {
    // Act / Assess
    expect(callsBetween({}, {})).toEqual({});
  });
});

describe('the size Lambdas: log line and result', () => {
  it('the probe logs counts, the first 50 breaching as policy/table, and its calls', () => {
    // Prepare
    const r = report([...Array.from({ length: 60 }, (_, i) => target(`t${i}`, true)), target('calm', false)]);

    // Act
    const line = sizeProbeLog(r, { PutMetricData: 1 });

    // Assess
    expect(line).toEqual({
      targets: 61,
      breaching: Array.from({ length: 50 }, (_, i) => `daily/t${i}`),
      alarms: ALARMS,
      points: 12,
      putMetricDataCalls: 1,
      problems: 1,
      calls: { PutMetricData: 1 },
    });
  });

  it('the probe returns counts; the reconciler returns targets, alarms and problems', () => {
    // Prepare
    const r = report([target('a', true), target('b', false)]);

    // Act / Assess
    expect(sizeProbeOutput(r)).toEqual({ targets: 2, alarms: ALARMS, points: 12, putMetricDataCalls: 1, problems: 1 });
    expect(sizeReconcileOutput(r)).toEqual({ targets: 2, alarms: ALARMS, problems: 1 });
  });
});
