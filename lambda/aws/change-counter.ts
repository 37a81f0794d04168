import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { ChangeCounts, CounterSnapshot, StormCounts, StormWindow } from '../core/triggers/changes';
import type { ChangeCounterPort } from '../core/triggers/stream-trigger';
import { conditionHeld, isConditionFailure, withRetryable } from './errors';

/**
 * The change counter in the ledger table, one item per table:
 *
 *   pk=TABLE#<table>  sk=CHANGES
 *     inserts, modifies, removes                   cumulative, ADDed once per table per batch
 *     baselineInserts/Modifies/Removes, baselineAt  the cumulative values when the last backup was
 *                                                   recorded (Ledger.markChangesBaseline)
 *     createdAt, updatedAt, table
 *     enq_<policy> = {slot, at}                     the last crossing enqueued for a policy
 *     storm<L>c<p>, storm<L>w<p>                    REMOVEs in the storm window with index w, for window
 *                                                   length L minutes; p = w mod 2 (a ring of two: the
 *                                                   current and the previous window)
 *     storm<L>h                                     index of the last window whose storm was handled
 *
 * The storm windows live on the same item so that one UpdateItem counts a batch, storm included.
 *
 * pk=TABLE#<table> sk=STATE#<policy> gets `pruneFrozenUntil` on a delete storm.
 */

export const CHANGES_SK = 'CHANGES';
const pk = (table: string) => `TABLE#${table}`;
const stateSk = (policy: string) => `STATE#${policy}`;
const countAttr = (minutes: number, parity: number) => `storm${minutes}c${parity}`;
const windowAttr = (minutes: number, parity: number) => `storm${minutes}w${parity}`;
const handledAttr = (minutes: number) => `storm${minutes}h`;
const enqueuedAttr = (policy: string) => `enq_${policy}`;

type Item = Record<string, unknown>;

function num(v: unknown): number {
  return typeof v === 'number' ? v : typeof v === 'string' && v !== '' ? Number(v) : 0;
}

/** How one storm window ring slot is written, given what the item holds. */
type SlotPlan = { kind: 'add' } | { kind: 'reset'; old?: number } | { kind: 'skip'; held: number };

export function snapshotOf(item: Item | undefined, windows: readonly Pick<StormWindow, 'minutes' | 'index'>[]): CounterSnapshot {
  const i = item ?? {};
  const enqueued: Record<string, { slot: string; at: string }> = {};
  for (const [k, v] of Object.entries(i)) {
    if (k.startsWith('enq_') && v && typeof v === 'object') enqueued[k.slice(4)] = v as { slot: string; at: string };
  }
  const storm: Record<number, StormCounts> = {};
  for (const w of windows) {
    const at = (index: number): number => {
      const p = ((index % 2) + 2) % 2;
      return num(i[windowAttr(w.minutes, p)]) === index && i[windowAttr(w.minutes, p)] !== undefined ? num(i[countAttr(w.minutes, p)]) : 0;
    };
    storm[w.minutes] = { current: at(w.index), previous: at(w.index - 1) };
  }
  return {
    totals: { inserts: num(i.inserts), modifies: num(i.modifies), removes: num(i.removes) },
    baseline: { inserts: num(i.baselineInserts), modifies: num(i.baselineModifies), removes: num(i.baselineRemoves) },
    baselineAt: typeof i.baselineAt === 'string' ? i.baselineAt : undefined,
    createdAt: typeof i.createdAt === 'string' ? i.createdAt : undefined,
    enqueued,
    storm,
  };
}

export class ChangeCounter implements ChangeCounterPort {
  private readonly doc: DynamoDBDocumentClient;
  /** Last window index seen per (table, window length): the first attempt's guess. */
  private readonly known = new Map<string, number>();

  constructor(
    ddb: DynamoDBClient,
    readonly tableName: string,
  ) {
    this.doc = DynamoDBDocumentClient.from(ddb, { marshallOptions: { removeUndefinedValues: true } });
  }

  private call<T>(fn: () => Promise<T>): Promise<T> {
    return withRetryable(`change counter ${this.tableName}`, fn);
  }

  /**
   * One UpdateItem: `ADD inserts :i, modifies :m, removes :r` (+ the storm window slots), returning
   * the item after the write. A storm slot is ADDed to when it already holds the current window and
   * reset otherwise, under a condition on what it holds; only when that guess was wrong (once per
   * window change, at most) is the write repeated after a consistent read. A failed condition writes
   * nothing, so the counts are added exactly once.
   */
  async add(table: string, counts: ChangeCounts, windows: readonly StormWindow[], now: Date): Promise<CounterSnapshot> {
    let plans = windows.map((w): SlotPlan => (this.known.get(`${table}|${w.minutes}`) === w.index ? { kind: 'add' } : { kind: 'reset' }));
    for (let attempt = 1; ; attempt++) {
      try {
        const out = await this.call(() => this.doc.send(new UpdateCommand(this.addInput(table, counts, windows, plans, now))));
        for (const w of windows) this.known.set(`${table}|${w.minutes}`, w.index);
        return snapshotOf(out.Attributes, windows);
      } catch (err) {
        const cause = (err as { cause?: unknown }).cause ?? err;
        if (!(isConditionFailure(err) || isConditionFailure(cause)) || windows.length === 0) throw err;
        if (attempt >= 5) {
          // Storm slots keep changing under us: count without them rather than not at all.
          windows = [];
          plans = [];
          continue;
        }
        const current = await this.get(table);
        plans = windows.map((w): SlotPlan => {
          const held = current?.[windowAttr(w.minutes, w.index % 2)];
          if (held === undefined) return { kind: 'reset' };
          const h = num(held);
          if (h === w.index) return { kind: 'add' };
          if (h < w.index) return { kind: 'reset', old: h };
          return { kind: 'skip', held: h }; // a later window already (clock skew between invocations)
        });
      }
    }
  }

  private addInput(table: string, counts: ChangeCounts, windows: readonly StormWindow[], plans: readonly SlotPlan[], now: Date) {
    const names: Record<string, string> = { '#t': 'table', '#ins': 'inserts', '#mod': 'modifies', '#rem': 'removes' };
    const values: Record<string, unknown> = {
      ':i': counts.inserts,
      ':m': counts.modifies,
      ':r': counts.removes,
      ':table': table,
      ':now': now.toISOString(),
    };
    // `modifies` is a DynamoDB reserved word: every counter goes through a name placeholder.
    const add = ['#ins :i', '#mod :m', '#rem :r'];
    const set = ['#t = if_not_exists(#t, :table)', 'createdAt = if_not_exists(createdAt, :now)', 'updatedAt = :now'];
    const conditions: string[] = [];
    windows.forEach((w, n) => {
      const plan = plans[n];
      const p = w.index % 2;
      names[`#c${n}`] = countAttr(w.minutes, p);
      names[`#w${n}`] = windowAttr(w.minutes, p);
      values[`:w${n}`] = w.index;
      if (plan.kind === 'add') {
        add.push(`#c${n} :r`);
        conditions.push(`#w${n} = :w${n}`);
      } else if (plan.kind === 'reset') {
        set.push(`#c${n} = :r`, `#w${n} = :w${n}`);
        if (plan.old === undefined) conditions.push(`attribute_not_exists(#w${n})`);
        else {
          values[`:o${n}`] = plan.old;
          conditions.push(`#w${n} = :o${n}`);
        }
      } else {
        values[`:w${n}`] = plan.held;
        conditions.push(`#w${n} = :w${n}`);
      }
    });
    return {
      TableName: this.tableName,
      Key: { pk: pk(table), sk: CHANGES_SK },
      UpdateExpression: `ADD ${add.join(', ')} SET ${set.join(', ')}`,
      ...(conditions.length ? { ConditionExpression: conditions.join(' AND ') } : {}),
      ExpressionAttributeNames: names,
      ExpressionAttributeValues: values,
      ReturnValues: 'ALL_NEW' as const,
    };
  }

  /** The counter item as stored (consistent read); undefined when the table has no counter yet. */
  async get(table: string): Promise<Item | undefined> {
    const out = await this.call(() =>
      this.doc.send(new GetCommand({ TableName: this.tableName, Key: { pk: pk(table), sk: CHANGES_SK }, ConsistentRead: true })),
    );
    return out.Item;
  }

  async snapshot(table: string, windows: readonly Pick<StormWindow, 'minutes' | 'index'>[] = []): Promise<CounterSnapshot> {
    return snapshotOf(await this.get(table), windows);
  }

  async markEnqueued(table: string, policy: string, slot: string, now: Date): Promise<void> {
    await this.call(() =>
      this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { pk: pk(table), sk: CHANGES_SK },
          UpdateExpression: 'SET #e = :e',
          ExpressionAttributeNames: { '#e': enqueuedAttr(policy) },
          ExpressionAttributeValues: { ':e': { slot, at: now.toISOString() } },
        }),
      ),
    );
  }

  async claimStorm(table: string, window: StormWindow, now: Date): Promise<boolean> {
    return conditionHeld(() =>
      this.call(() =>
        this.doc.send(
          new UpdateCommand({
            TableName: this.tableName,
            Key: { pk: pk(table), sk: CHANGES_SK },
            UpdateExpression: 'SET #h = :k, stormHandledAt = :now',
            ConditionExpression: 'attribute_not_exists(#h) OR #h < :prev',
            ExpressionAttributeNames: { '#h': handledAttr(window.minutes) },
            ExpressionAttributeValues: { ':k': window.index, ':prev': window.index - 1, ':now': now.toISOString() },
          }),
        ),
      ),
    );
  }

  async releaseStorm(table: string, window: StormWindow): Promise<void> {
    await conditionHeld(() =>
      this.call(() =>
        this.doc.send(
          new UpdateCommand({
            TableName: this.tableName,
            Key: { pk: pk(table), sk: CHANGES_SK },
            UpdateExpression: 'REMOVE #h',
            ConditionExpression: '#h = :k',
            ExpressionAttributeNames: { '#h': handledAttr(window.minutes) },
            ExpressionAttributeValues: { ':k': window.index },
          }),
        ),
      ),
    );
  }

  async freezePruning(table: string, policies: readonly string[], until: Date): Promise<void> {
    for (const policy of policies) {
      // A condition that does not hold: frozen until later already.
      await conditionHeld(() =>
        this.call(() =>
          this.doc.send(
            new UpdateCommand({
              TableName: this.tableName,
              Key: { pk: pk(table), sk: stateSk(policy) },
              UpdateExpression: 'SET pruneFrozenUntil = :u, #t = if_not_exists(#t, :table), policy = if_not_exists(policy, :policy)',
              ConditionExpression: 'attribute_not_exists(pruneFrozenUntil) OR pruneFrozenUntil < :u',
              ExpressionAttributeNames: { '#t': 'table' },
              ExpressionAttributeValues: { ':u': until.toISOString(), ':table': table, ':policy': policy },
            }),
          ),
        ),
      );
    }
  }
}
