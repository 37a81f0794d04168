import { PutMetricDataCommand, type CloudWatchClient, type MetricDatum } from '@aws-sdk/client-cloudwatch';
import { batchPoints, type MetricPoint } from '../core/triggers/size';
import type { MetricSink } from '../core/triggers/size-probe';
import { retryableOr } from './errors';

/** PutMetricData limits: 1,000 data points per call and a 1 MB request. */
export const PUT_METRIC_DATA_MAX_POINTS = 1000;
/** The 1 MB request limit less room for the envelope (namespace, headers of the JSON body). */
export const PUT_METRIC_DATA_MAX_BYTES = 1_000_000;

function datumOf(p: MetricPoint): MetricDatum {
  return {
    MetricName: p.name,
    Dimensions: Object.entries(p.dimensions).map(([Name, Value]) => ({ Name, Value })),
    Value: p.value,
    Unit: p.unit,
    Timestamp: p.timestamp,
    StorageResolution: 60,
  };
}

/**
 * Serialised size of a datum, over-estimated: its JSON (the client speaks JSON 1.0) with the
 * timestamp as an ISO string, which is longer than the epoch seconds actually sent, plus 16 bytes.
 */
export function estimatedBytes(d: MetricDatum): number {
  return Buffer.byteLength(JSON.stringify(d)) + 16;
}

/** Publishes the probe's data points, batched to the API limits. Counts its calls. */
export class CloudWatchMetricSink implements MetricSink {
  constructor(
    private readonly cw: CloudWatchClient,
    readonly namespace: string,
  ) {}

  async publish(points: readonly MetricPoint[]): Promise<number> {
    const batches = batchPoints(points.map(datumOf), estimatedBytes, PUT_METRIC_DATA_MAX_POINTS, PUT_METRIC_DATA_MAX_BYTES);
    let calls = 0;
    for (const MetricData of batches) {
      try {
        await this.cw.send(new PutMetricDataCommand({ Namespace: this.namespace, MetricData }));
      } catch (err) {
        throw retryableOr(err, `PutMetricData (${MetricData.length} points)`);
      }
      calls++;
    }
    return calls;
  }
}
