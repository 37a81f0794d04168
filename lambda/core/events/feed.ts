/**
 * The CloudTrail feed's clock: when the feed counts as alive, and how often the worker's upkeep
 * (settings snapshot, PITR check) runs with and without it. Pure; no SDK imports.
 *
 * While the feed is alive, deletions and settings changes made outside the service reach the
 * ledger as events (./table-events.ts), so the prune needs no confirming ListBackups and the
 * upkeep needs only a slow safety refresh. While it is not (no CloudTrail trail in the account,
 * a CLI run without a deployment), the worker confirms and refreshes as it always did.
 */

/** The feed is alive while its last event is younger than this. The service's own daily DeleteBackups keep it beating; 48 h tolerates one quiet day. */
export const FEED_ALIVE_WINDOW_MS = 48 * 3_600_000;

/** The heartbeat is written at most this often (per container, and by a conditional write across containers). */
export const HEARTBEAT_EVERY_MS = 60_000;

/** A worker container reads the heartbeat at most this often. */
export const FEED_CHECK_EVERY_MS = 60_000;

/** Upkeep period while the feed is not alive: every table's settings and PITR once a day, as before the feed. */
export const DAILY_UPKEEP_MS = 24 * 3_600_000;

/** Default safety refresh period of the settings snapshot and PITR check while the feed is alive. */
export const SETTINGS_REFRESH_MS = 30 * 24 * 3_600_000;

/** An event time this far ahead of the reader's clock still counts (clock skew between hosts). */
const SKEW_MS = 5 * 60_000;

/** True when the feed's last event (ISO time) is younger than FEED_ALIVE_WINDOW_MS at `now`. */
export function feedIsAlive(lastEventAt: string | undefined, now: Date, windowMs = FEED_ALIVE_WINDOW_MS): boolean {
  const t = lastEventAt ? Date.parse(lastEventAt) : Number.NaN;
  if (Number.isNaN(t)) return false;
  const age = now.getTime() - t;
  return age < windowMs && age > -SKEW_MS;
}

/** FNV-1a of the table name with murmur3's finaliser: a stable phase, spread evenly over the refresh period. */
function phaseOf(table: string, periodMs: number): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < table.length; i++) h = Math.imul(h ^ table.charCodeAt(i), 0x01000193);
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  h = (h ^ (h >>> 16)) >>> 0;
  return Math.floor((h / 0x1_0000_0000) * periodMs);
}

/**
 * Whether upkeep last done at `at` (ISO; absent or unreadable: never) is due again at `now`.
 *  - `periodMs` of DAILY_UPKEEP_MS or less (the feed is not alive): due once `at` is that old, as
 *    before the feed.
 *  - a longer period (the feed is alive): due once `at` and `now` fall in different cycles of the
 *    table's own phase, so each table comes due on its own day of the cycle, once per cycle, and a
 *    fleet onboarded on one day spreads over the whole period after the first refresh.
 */
export function upkeepDue(table: string, at: string | undefined, now: Date, periodMs: number): boolean {
  const t = at ? Date.parse(at) : Number.NaN;
  if (Number.isNaN(t)) return true;
  if (periodMs <= DAILY_UPKEEP_MS) return !(now.getTime() - t < periodMs);
  const phase = phaseOf(table, periodMs);
  return Math.floor((now.getTime() + phase) / periodMs) > Math.floor((t + phase) / periodMs);
}
