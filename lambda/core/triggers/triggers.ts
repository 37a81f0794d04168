/** What caused a backup. */
export const TRIGGERS = ['schedule', 'size', 'changes', 'manual'] as const;
export type Trigger = (typeof TRIGGERS)[number];
