/**
 * The recovery point objective of a policy, one definition for the RPO alarm (CDK) and the
 * report's breaches. Pure.
 */
import { policyRpoMinutes } from '../coverage/coverage';
import type { Policy } from '../policy';

/** A scheduled backup may run late or retry: the target allows half an interval more. */
export const RPO_SLACK = 1.5;

/**
 * Minutes a table of this policy may go without a new recovery point: `rpoHours` when set, else
 * the schedule's interval (or the cooldown when longer) × 1.5. Undefined for a policy with
 * neither (size- or change-only: no time promise to check).
 */
export function rpoTargetMinutes(policy: Pick<Policy, 'schedule' | 'minIntervalMinutes' | 'rpoHours'>): number | undefined {
  if (policy.rpoHours !== undefined) return Math.round(policy.rpoHours * 60);
  const every = policyRpoMinutes({ schedule: policy.schedule, minIntervalMinutes: policy.minIntervalMinutes ?? 0 });
  return every === undefined ? undefined : Math.round(every * RPO_SLACK);
}
