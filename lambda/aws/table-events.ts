import { DynamoDBDocumentClient, GetCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { FEED_CHECK_EVERY_MS, HEARTBEAT_EVERY_MS, feedIsAlive } from '../core/events/feed';
import type { KnownTable, TableEventPorts, TableFeedStore } from '../core/events/table-events';
import type { Log } from '../core/log';
import type { ExistenceFeed } from '../core/ports';
import { FEED_DEFAULTS, FEED_ENV } from '../env';
import { conditionHeld } from './errors';
import type { Service } from './service';
import { captureSettingsAndFacts, settingsClients } from './table-settings';

/**
 * The CloudTrail feed in the ledger table:
 *  - its heartbeat, pk=FEED#cloudtrail sk=HEARTBEAT: `lastEventAt` (the newest event's time, never
 *    moved back) and `beatAt` (when it was written), at most about once a minute;
 *  - the settings upkeep an event asks for: a snapshot now (pk=TABLE#<table> sk=SETTINGS, through
 *    the Ledger), or the next backup's (settingsCapturedAt / pitrCheckedHash removed from the
 *    table's STATE#<policy> items).
 */

export const FEED_PK = 'FEED#cloudtrail';
export const HEARTBEAT_SK = 'HEARTBEAT';

const tablePk = (table: string) => `TABLE#${table}`;
const STATE_PREFIX = 'STATE#';
const DAY_MS = 86_400_000;

export class TableFeedLedger implements TableFeedStore {
  private readonly doc: DynamoDBDocumentClient;
  private lastBeat = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly svc: Service,
    private readonly opts: { endpoint?: string; region?: string } = {},
  ) {
    this.doc = DynamoDBDocumentClient.from(svc.clients.dynamodb, { marshallOptions: { removeUndefinedValues: true } });
  }

  private get tableName(): string {
    return this.svc.ledger().tableName;
  }

  async beat(at: Date, now: Date): Promise<void> {
    // This container wrote a beat for an event this recent: another write would say nothing new.
    if (at.getTime() - this.lastBeat < HEARTBEAT_EVERY_MS) return;
    await conditionHeld(() =>
      this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { pk: FEED_PK, sk: HEARTBEAT_SK },
          UpdateExpression: 'SET lastEventAt = :at, beatAt = :now',
          // Across containers: at most one write a minute, and the beat never moves back.
          ConditionExpression: 'attribute_not_exists(lastEventAt) OR lastEventAt < :cut',
          ExpressionAttributeValues: { ':at': at.toISOString(), ':now': now.toISOString(), ':cut': new Date(at.getTime() - HEARTBEAT_EVERY_MS).toISOString() },
        }),
      ),
    );
    this.lastBeat = Math.max(this.lastBeat, at.getTime());
  }

  /** The newest event time the heartbeat holds; undefined when the feed never beat. */
  async lastEventAt(): Promise<string | undefined> {
    const out = await this.doc.send(new GetCommand({ TableName: this.tableName, Key: { pk: FEED_PK, sk: HEARTBEAT_SK } }));
    const at = (out.Item as { lastEventAt?: unknown } | undefined)?.lastEventAt;
    return typeof at === 'string' ? at : undefined;
  }

  async knownTable(table: string): Promise<KnownTable> {
    const states = await this.doc.send(
      new QueryCommand({
        TableName: this.tableName,
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :s)',
        ExpressionAttributeValues: { ':pk': tablePk(table), ':s': STATE_PREFIX },
        ProjectionExpression: 'sk',
      }),
    );
    const policies = (states.Items ?? []).map((i) => String(i.sk).slice(STATE_PREFIX.length));
    if (policies.length > 0) return { policies, snapshot: false };
    const settings = await this.doc.send(new GetCommand({ TableName: this.tableName, Key: { pk: tablePk(table), sk: 'SETTINGS' }, ProjectionExpression: 'pk' }));
    return { policies, snapshot: settings.Item !== undefined };
  }

  async snapshot(table: string, now: Date): Promise<'captured' | 'not-ready'> {
    const { settings, facts } = await captureSettingsAndFacts(settingsClients(this.svc.clients, this.opts), table, now);
    // A table being created or updated may not answer every read yet (an UpdateTable leaves it
    // UPDATING for a while): the next backup takes the snapshot instead.
    if (facts.status !== 'ACTIVE') return 'not-ready';
    await this.svc.ledger().putSettingsSnapshot(table, settings, now);
    return 'captured';
  }

  async redoUpkeep(table: string, policies: readonly string[], what: { settings: boolean; pitr: boolean }): Promise<void> {
    const remove = [...(what.settings ? ['settingsCapturedAt'] : []), ...(what.pitr ? ['pitrCheckedHash'] : [])];
    if (remove.length === 0) return;
    for (const policy of policies) {
      await conditionHeld(() =>
        this.doc.send(
          new UpdateCommand({
            TableName: this.tableName,
            Key: { pk: tablePk(table), sk: `${STATE_PREFIX}${policy}` },
            UpdateExpression: `REMOVE ${remove.join(', ')}`,
            ConditionExpression: 'attribute_exists(pk)',
          }),
        ),
      );
    }
  }
}

/** The table-events handler's ports over the service. */
export function tableEventPorts(svc: Service, log: Log): TableEventPorts {
  return { ledger: svc.ledger(), feed: new TableFeedLedger(svc), clock: svc.clock, tagKey: svc.config.tagKey, log };
}

/** The safety refresh period while the feed is alive, from FEED_ENV.SETTINGS_REFRESH_DAYS (whole days, at least 1). */
export function settingsRefreshMs(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env[FEED_ENV.SETTINGS_REFRESH_DAYS];
  if (raw === undefined || raw === '') return FEED_DEFAULTS.SETTINGS_REFRESH_DAYS * DAY_MS;
  const days = Number(raw);
  if (!Number.isInteger(days) || days < 1) throw new Error(`${FEED_ENV.SETTINGS_REFRESH_DAYS} must be a whole number of days, at least 1, got "${raw}"`);
  return days * DAY_MS;
}

const feeds = new WeakMap<Service, ExistenceFeed>();

/**
 * The worker's view of the feed, one per service (per container): the heartbeat is read at most
 * once per FEED_CHECK_EVERY_MS. Any doubt (no heartbeat, a failed read) is "not alive": the prune
 * then lists and the upkeep runs daily, as without the feed.
 */
export function existenceFeed(svc: Service, env: NodeJS.ProcessEnv = process.env): ExistenceFeed {
  const known = feeds.get(svc);
  if (known) return known;
  const store = new TableFeedLedger(svc);
  let cached: { checkedAt: number; alive: boolean } | undefined;
  const feed: ExistenceFeed = {
    settingsRefreshMs: settingsRefreshMs(env),
    async eventsAlive(now: Date): Promise<boolean> {
      const t = now.getTime();
      if (cached && t - cached.checkedAt < FEED_CHECK_EVERY_MS && t >= cached.checkedAt) return cached.alive;
      try {
        const alive = feedIsAlive(await store.lastEventAt(), now);
        cached = { checkedAt: t, alive };
        return alive;
      } catch {
        return false;
      }
    },
  };
  feeds.set(svc, feed);
  return feed;
}
