import { Readable } from 'node:stream';
import { HttpResponse, type HttpRequest } from '@smithy/protocol-http';
import { backupName } from '../lambda/core/naming';

/**
 * A simulated AWS for the benchmarks: an SDK v3 request handler that answers DynamoDB's backup
 * control plane and the tagging API in-process, with per-call latency and the per-account rates
 * enforced by throttling errors. The real adapters, retry strategy and rate limiters run on top.
 */

export interface SimOptions {
  /** Calls per second per API; exceeding one returns ThrottlingException. */
  readonly rates: Readonly<Record<string, number>>;
  readonly latencyMs: readonly [number, number];
  /** Simulated time runs this many times faster than the wall clock (rates ×, latency ÷). */
  readonly timeScale: number;
  /** A CreateBackup answers CREATING; the backup becomes AVAILABLE this long after. */
  readonly availableAfterMs: number;
}

interface SimBackup {
  arn: string;
  name: string;
  table: string;
  createdAt: number;
  status: string;
  sizeBytes: number;
}

interface SimTable {
  name: string;
  arn: string;
  sizeBytes: number;
  itemCount: number;
  tags: Record<string, string>;
  /** Point-in-time recovery on, with its period in days. */
  pitrDays?: number;
}

/** A token bucket per API at `rate` per (scaled) second, burst of one second's worth. */
class Bucket {
  private tokens: number;
  private last = performance.now();
  constructor(private readonly perMs: number, private readonly capacity: number) {
    this.tokens = capacity;
  }
  take(): boolean {
    const now = performance.now();
    this.tokens = Math.min(this.capacity, this.tokens + (now - this.last) * this.perMs);
    this.last = now;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}

const ACCOUNT = '123456789012';
const REGION = 'us-east-1';

export class SimulatedAws {
  readonly tables = new Map<string, SimTable>();
  readonly backups = new Map<string, SimBackup>();
  readonly calls = new Map<string, number>();
  readonly throttles = new Map<string, number>();
  /** Items written with UpdateItem (the ledger's change counters). */
  readonly items = new Map<string, Record<string, unknown>>();
  /** SSM parameters by name. */
  readonly parameters = new Map<string, string>();
  private readonly buckets = new Map<string, Bucket>();
  private seq = 0;

  constructor(readonly opts: SimOptions) {
    for (const [api, rate] of Object.entries(opts.rates)) {
      const scaled = rate * opts.timeScale;
      this.buckets.set(api, new Bucket(scaled / 1000, Math.max(1, rate)));
    }
  }

  addTable(name: string, tags: Record<string, string>, opts: { pitrDays?: number } = {}): SimTable {
    const t: SimTable = { name, arn: `arn:aws:dynamodb:${REGION}:${ACCOUNT}:table/${name}`, sizeBytes: 1_000_000 + (this.tables.size % 97) * 4096, itemCount: 1000, tags, ...opts };
    this.tables.set(name, t);
    return t;
  }

  addBackup(table: string, name: string, createdAt: number, status = 'AVAILABLE'): SimBackup {
    const arn = `arn:aws:dynamodb:${REGION}:${ACCOUNT}:table/${table}/backup/${String(createdAt).padStart(14, '0')}-${(this.seq++).toString(16).padStart(8, '0')}`;
    const b = { arn, name, table, createdAt, status, sizeBytes: this.tables.get(table)?.sizeBytes ?? 0 };
    this.backups.set(arn, b);
    return b;
  }

  /** Simulated milliseconds elapsed for a wall-clock interval. */
  simMs(wallMs: number): number {
    return wallMs * this.opts.timeScale;
  }

  private settle(b: SimBackup): void {
    if (b.status === 'CREATING' && (Date.now() - b.createdAt) * this.opts.timeScale >= this.opts.availableAfterMs) b.status = 'AVAILABLE';
  }

  private count(map: Map<string, number>, api: string): void {
    map.set(api, (map.get(api) ?? 0) + 1);
  }

  /** The SDK v3 HttpHandler interface. */
  readonly handler = {
    handle: async (request: HttpRequest): Promise<{ response: HttpResponse }> => {
      const target = String(request.headers['x-amz-target'] ?? request.headers['X-Amz-Target'] ?? '');
      const api = target.split('.').pop() ?? 'Unknown';
      this.count(this.calls, api);
      const [lo, hi] = this.opts.latencyMs;
      await new Promise((r) => setTimeout(r, (lo + Math.random() * (hi - lo)) / this.opts.timeScale));
      const bucket = this.buckets.get(api);
      if (bucket && !bucket.take()) {
        this.count(this.throttles, api);
        return this.error(api.startsWith('GetResources') ? 'ThrottledException' : 'ThrottlingException', 'Rate exceeded', target);
      }
      const raw: unknown = request.body;
      const text = raw instanceof Uint8Array ? Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength).toString('utf8') : typeof raw === 'string' ? raw : '';
      const body = JSON.parse(text || '{}') as Record<string, unknown>;
      try {
        return this.ok(this.dispatch(api, body), target);
      } catch (err) {
        const e = err as { code?: string; message: string };
        return this.error(e.code ?? 'InternalServerError', e.message, target);
      }
    },
    updateHttpClientConfig: () => {},
    httpHandlerConfigs: () => ({}),
    destroy: () => {},
  };

  private ok(payload: unknown, target: string): { response: HttpResponse } {
    return {
      response: new HttpResponse({
        statusCode: 200,
        headers: { 'content-type': target.startsWith('DynamoDB') ? 'application/x-amz-json-1.0' : 'application/x-amz-json-1.1' },
        body: Readable.from([Buffer.from(JSON.stringify(payload))]),
      }),
    };
  }

  private error(code: string, message: string, target: string): { response: HttpResponse } {
    return {
      response: new HttpResponse({
        statusCode: 400,
        headers: {
          'content-type': target.startsWith('DynamoDB') ? 'application/x-amz-json-1.0' : 'application/x-amz-json-1.1',
          'x-amzn-errortype': code,
        },
        body: Readable.from([Buffer.from(JSON.stringify({ __type: `com.amazonaws.dynamodb.v20120810#${code}`, message }))]),
      }),
    };
  }

  private table(body: Record<string, unknown>): SimTable {
    const t = this.tables.get(String(body.TableName));
    if (!t) this.fail('ResourceNotFoundException', `Requested resource not found: Table: ${String(body.TableName)} not found`);
    return t;
  }

  private fail(code: string, message: string): never {
    throw Object.assign(new Error(message), { code });
  }

  private summary(b: SimBackup) {
    this.settle(b);
    return {
      TableName: b.table,
      TableArn: this.tables.get(b.table)?.arn,
      BackupArn: b.arn,
      BackupName: b.name,
      BackupCreationDateTime: b.createdAt / 1000,
      BackupStatus: b.status,
      BackupType: 'USER',
      BackupSizeBytes: b.sizeBytes,
    };
  }

  private dispatch(api: string, body: Record<string, unknown>): unknown {
    switch (api) {
      case 'DescribeTable': {
        const t = this.tables.get(String(body.TableName));
        if (!t) this.fail('ResourceNotFoundException', `Requested resource not found: Table: ${String(body.TableName)} not found`);
        return { Table: { TableName: t.name, TableArn: t.arn, TableStatus: 'ACTIVE', TableSizeBytes: t.sizeBytes, ItemCount: t.itemCount } };
      }
      case 'CreateBackup': {
        const t = this.tables.get(String(body.TableName));
        if (!t) this.fail('TableNotFoundException', `Table not found: ${String(body.TableName)}`);
        const b = this.addBackup(t.name, String(body.BackupName), Date.now(), 'CREATING');
        return { BackupDetails: { BackupArn: b.arn, BackupName: b.name, BackupStatus: b.status, BackupCreationDateTime: b.createdAt / 1000, BackupSizeBytes: b.sizeBytes, BackupType: 'USER' } };
      }
      case 'DescribeBackup': {
        const b = this.backups.get(String(body.BackupArn));
        if (!b || b.status === 'DELETED') this.fail('BackupNotFoundException', 'Backup not found');
        return { BackupDescription: { BackupDetails: this.summary(b) } };
      }
      case 'DeleteBackup': {
        const b = this.backups.get(String(body.BackupArn));
        if (!b || b.status === 'DELETED') this.fail('BackupNotFoundException', 'Backup not found');
        this.settle(b);
        if (b.status === 'CREATING') this.fail('BackupInUseException', 'Backup is being created');
        b.status = 'DELETED';
        this.backups.delete(b.arn);
        return { BackupDescription: { BackupDetails: { ...this.summary(b), BackupStatus: 'DELETED' } } };
      }
      case 'ListBackups': {
        const limit = Math.min(100, Number(body.Limit ?? 100));
        let all = [...this.backups.values()];
        if (body.TableName) all = all.filter((b) => b.table === body.TableName);
        all.sort((a, b) => (a.arn < b.arn ? -1 : 1));
        const start = body.ExclusiveStartBackupArn ? all.findIndex((b) => b.arn > String(body.ExclusiveStartBackupArn)) : 0;
        const from = start < 0 ? all.length : start;
        const page = all.slice(from, from + limit);
        const more = from + limit < all.length;
        return { BackupSummaries: page.map((b) => this.summary(b)), ...(more ? { LastEvaluatedBackupArn: page[page.length - 1].arn } : {}) };
      }
      case 'GetResources': {
        const key = (body.TagFilters as { Key: string }[] | undefined)?.[0]?.Key;
        const all = [...this.tables.values()].filter((t) => !key || key in t.tags);
        const per = Number(body.ResourcesPerPage ?? 50);
        const from = body.PaginationToken ? Number(body.PaginationToken) : 0;
        const page = all.slice(from, from + per);
        return {
          ResourceTagMappingList: page.map((t) => ({ ResourceARN: t.arn, Tags: Object.entries(t.tags).map(([Key, Value]) => ({ Key, Value })) })),
          PaginationToken: from + per < all.length ? String(from + per) : '',
        };
      }
      case 'UpdateItem': {
        // The change counter: ADD the batch's counts to the item and answer ALL_NEW.
        const key = body.Key as Record<string, { S: string }>;
        const id = `${key.pk.S}|${key.sk.S}`;
        const item = this.items.get(id) ?? { pk: { S: key.pk.S }, sk: { S: key.sk.S }, createdAt: { S: new Date().toISOString() } };
        const values = (body.ExpressionAttributeValues ?? {}) as Record<string, { N?: string }>;
        const names = (body.ExpressionAttributeNames ?? {}) as Record<string, string>;
        const adds = /ADD ([^]*?)(?: SET | REMOVE |$)/.exec(String(body.UpdateExpression ?? ''))?.[1] ?? '';
        for (const part of adds.split(',')) {
          const [rawName, ref] = part.trim().split(/\s+/);
          if (!rawName || !ref) continue;
          const attr = names[rawName] ?? rawName;
          const prev = Number((item[attr] as { N?: string } | undefined)?.N ?? 0);
          item[attr] = { N: String(prev + Number(values[ref]?.N ?? 0)) };
        }
        this.items.set(id, item);
        return { Attributes: item };
      }
      case 'GetItem':
        return {};
      // What the settings snapshot and the PITR check read: a plain table with PITR per SimTable.
      case 'DescribeTimeToLive':
        this.table(body);
        return { TimeToLiveDescription: { TimeToLiveStatus: 'DISABLED' } };
      case 'DescribeContinuousBackups': {
        const t = this.table(body);
        return {
          ContinuousBackupsDescription: {
            ContinuousBackupsStatus: 'ENABLED',
            PointInTimeRecoveryDescription: t.pitrDays
              ? { PointInTimeRecoveryStatus: 'ENABLED', RecoveryPeriodInDays: t.pitrDays }
              : { PointInTimeRecoveryStatus: 'DISABLED' },
          },
        };
      }
      case 'UpdateContinuousBackups': {
        const t = this.table(body);
        const spec = body.PointInTimeRecoverySpecification as { PointInTimeRecoveryEnabled?: boolean; RecoveryPeriodInDays?: number };
        t.pitrDays = spec.PointInTimeRecoveryEnabled ? (spec.RecoveryPeriodInDays ?? 35) : undefined;
        return {};
      }
      case 'GetResourcePolicy':
        return this.fail('PolicyNotFoundException', 'Resource-based policy not found');
      case 'DescribeContributorInsights':
        this.table(body);
        return { TableName: body.TableName, ContributorInsightsStatus: 'DISABLED' };
      case 'DescribeKinesisStreamingDestination':
        this.table(body);
        return { TableName: body.TableName, KinesisDataStreamDestinations: [] };
      case 'DescribeScalableTargets':
        return { ScalableTargets: [] };
      case 'DescribeScalingPolicies':
        return { ScalingPolicies: [] };
      case 'ListTagsOfResource': {
        const t = [...this.tables.values()].find((x) => x.arn === body.ResourceArn);
        return { Tags: Object.entries(t?.tags ?? {}).map(([Key, Value]) => ({ Key, Value })) };
      }
      case 'GetParameter': {
        const value = this.parameters.get(String(body.Name));
        if (value === undefined) this.fail('ParameterNotFound', `parameter ${String(body.Name)} not found`);
        return { Parameter: { Name: body.Name, Value: value, Type: 'String', Version: 1 } };
      }
      case 'GetParametersByPath': {
        const path = String(body.Path).replace(/\/?$/, '/');
        const params = [...this.parameters.entries()].filter(([k]) => k.startsWith(path) && !k.slice(path.length).includes('/'));
        return { Parameters: params.map(([Name, Value]) => ({ Name, Value, Type: 'String', Version: 1 })) };
      }
      default:
        return this.fail('UnknownOperationException', `simulator does not model ${api}`);
    }
  }
}

/** Names for pre-existing steady-state backups. */
export function seededBackupName(policy: string, at: Date, i: number): string {
  return backupName(policy, 'schedule', at, `seed:${i}`);
}
