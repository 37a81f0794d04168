/**
 * Gaps between recovery points and RPO breaches. Pure.
 */

export interface Gap {
  readonly from: string;
  readonly to: string;
  readonly minutes: number;
}

export interface GapReport {
  /** The longest stretch without a recovery point, in the window (undefined for an empty window). */
  readonly longestGap?: Gap;
  /** Every gap longer than the RPO target, oldest first (none without a target). */
  readonly breaches: readonly Gap[];
}

const MINUTE_MS = 60_000;

/**
 * The gaps between consecutive recovery points in the window `[from, to]`, counted from the later
 * of the window start and the table's creation (`since`), up to the window end: the time before
 * the first point and after the last one are gaps too. Points outside the window are ignored. A
 * gap longer than `targetMinutes` is a breach.
 */
export function gapsAndBreaches(pointTimes: readonly string[], window: { from: Date; to: Date; since?: Date }, targetMinutes?: number): GapReport {
  const start = Math.max(window.from.getTime(), window.since?.getTime() ?? -Infinity);
  const end = window.to.getTime();
  if (!(end > start)) return { breaches: [] };
  const times = pointTimes
    .map((t) => Date.parse(t))
    .filter((t) => !Number.isNaN(t) && t >= start && t <= end)
    .sort((a, b) => a - b);
  const edges = [start, ...times, end];
  const gaps: Gap[] = [];
  for (let i = 1; i < edges.length; i++) {
    gaps.push({ from: new Date(edges[i - 1]).toISOString(), to: new Date(edges[i]).toISOString(), minutes: (edges[i] - edges[i - 1]) / MINUTE_MS });
  }
  const longestGap = gaps.reduce<Gap | undefined>((a, g) => (!a || g.minutes > a.minutes ? g : a), undefined);
  const breaches = targetMinutes === undefined ? [] : gaps.filter((g) => g.minutes > targetMinutes);
  return { ...(longestGap ? { longestGap } : {}), breaches };
}
