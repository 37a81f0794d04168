/**
 * One stray tag does not spoil every run: a table whose tag names a policy that does not exist is
 * a warning about that table (listed, counted apart), not a failure of the runs of other policies.
 */
import { PolicyUnavailableError } from '../../lambda/core/errors';
import type { JobResult } from '../../lambda/core/jobs';
import { parsePolicy, resolveEffectivePolicy, type EffectivePolicy, type Policy, type PolicyInput } from '../../lambda/core/policy';
import type { PolicySource, TableDiscovery } from '../../lambda/core/ports';
import type { TaggedTable } from '../../lambda/core/tags';
import { shouldNotify } from '../../lambda/core/backup/in-process';
import { dispatchRun, finishJobResult } from '../../lambda/core/backup/runs';
import {
  countResults,
  hasFailures,
  isWarning,
  outcomeOf,
  parseSummaryJson,
  summaryMessage,
  summarySubject,
  type RunProblem,
  type RunReport,
} from '../../lambda/core/backup/summary';
import { assessTable } from '../../lambda/core/coverage/coverage';
import { MemoryNotifier, MemoryQueue, MemoryRunLedger, memoryLog } from '../support/run-fakes';

const NOW = new Date('2026-11-24T03:00:05.000Z');
const clock = { now: () => NOW };

const stray: RunProblem = { kind: 'unknown-policy', table: 'carts', message: 'tag names unknown policy "dialy"' };

function ok(table: string): JobResult {
  return { table, policy: 'daily', status: 'backed-up', backupArn: `arn:aws:dynamodb:eu-west-1:123456789012:table/${table}/backup/01` };
}

function report(results: JobResult[], problems: RunProblem[]): RunReport {
  return {
    runId: 'daily|schedule|schedule:2026-11-24T03:00:00.000Z',
    policy: 'daily',
    trigger: 'schedule',
    startedAt: '2026-11-24T03:00:01.000Z',
    finishedAt: '2026-11-24T03:00:09.000Z',
    results,
    problems,
  };
}

class Policies implements PolicySource {
  constructor(private readonly docs: Record<string, PolicyInput>) {}
  async listNames(): Promise<Set<string>> {
    return new Set(Object.keys(this.docs));
  }
  async getPolicy(name: string): Promise<Policy> {
    if (!(name in this.docs)) throw new PolicyUnavailableError(name, `no policy named "${name}"`);
    return parsePolicy(this.docs[name]);
  }
  async getEffective(name: string, _table: string): Promise<EffectivePolicy> {
    if (!(name in this.docs)) throw new PolicyUnavailableError(name, `no policy named "${name}"`);
    return resolveEffectivePolicy(name, this.docs[name]);
  }
}

const tagged = (table: string, value: string): TaggedTable => ({
  table,
  arn: `arn:aws:dynamodb:eu-west-1:123456789012:table/${table}`,
  policies: value.split(/[ +]/),
});

/** The queued (Lambda) path of one scheduled run of "daily": orders is tagged daily, carts has a typo. */
async function scheduledRun(notify: 'failures' | 'all') {
  const runs = new MemoryRunLedger();
  const queue = new MemoryQueue();
  const notifier = new MemoryNotifier();
  const log = memoryLog();
  const discovery: TableDiscovery = { discover: async () => [tagged('orders', 'daily'), tagged('carts', 'dialy')] };
  const policies = new Policies({ daily: { schedule: 'cron(0 3 * * ? *)', notify } });
  const deps = { policies, discovery, runs, queue, notifier, clock, log };
  const outcome = await dispatchRun(deps, { policy: 'daily', trigger: 'schedule', slot: 'schedule:2026-11-24T03:00:00.000Z', requestedAt: '2026-11-24T03:00:00.000Z' });
  // The worker finishes the one job.
  for (const job of queue.enqueued) await finishJobResult(deps, job.runId, ok(job.table));
  return { outcome, notifier, log, queue };
}

describe('a table tagged with an unknown policy', () => {
  it('is a warning: the run whose only problem it is stays OK, with no PARTIAL in the subject', () => {
    // Prepare
    const r = report([ok('orders')], [stray]);
    // Act
    const counts = countResults(r);
    const subject = summarySubject(r);
    // Assess
    expect(isWarning(stray)).toBe(true);
    expect(counts).toMatchObject({ backedUp: 1, problems: 0, warnings: 1 });
    expect(outcomeOf(counts)).toBe('OK');
    expect(hasFailures(r)).toBe(false);
    expect(subject).toBe('[ddb-backup] OK: daily (schedule) - 1 backed up, 1 warning');
    expect(subject).not.toContain('PARTIAL');
  });

  it('does not by itself cause a publish under notify: failures (nor without notify), but rides along under notify: all', () => {
    // Prepare
    const r = report([ok('orders')], [stray]);
    // Act / Assess
    expect(shouldNotify(r, 'failures')).toBe(false);
    expect(shouldNotify(r, undefined)).toBe(false);
    expect(shouldNotify(r, 'all')).toBe(true);
  });

  it('is listed under "Warnings" (not "Problems") in a published summary, and apart in its JSON block', () => {
    // Prepare
    const r = report([ok('orders')], [stray]);
    // Act
    const message = summaryMessage(r);
    // Assess
    const text = message.slice(0, message.indexOf('--- machine-readable ---'));
    expect(text.split('\n')[0]).toBe('DynamoDB backup run OK');
    expect(text).toContain('Warnings:\n  - table carts: tag names unknown policy "dialy"');
    expect(text).not.toContain('Problems:');
    expect(parseSummaryJson(message)).toMatchObject({ outcome: 'OK', counts: { problems: 0, warnings: 1 }, problems: [], warnings: [stray] });
  });

  it('scheduled run under notify: failures: the other tables are backed up, the warning is logged once, nothing is published', async () => {
    // Prepare / Act
    const { outcome, notifier, log, queue } = await scheduledRun('failures');
    // Assess
    expect(queue.enqueued.map((j) => j.table)).toEqual(['orders']);
    expect(outcome.plan.problems).toEqual([{ kind: 'unknown-policy', table: 'carts', message: 'tag names unknown policy "dialy"' }]);
    expect(notifier.published).toEqual([]);
    expect(log.lines.filter(([, message]) => message === 'run warning')).toEqual([['warn', 'run warning', expect.objectContaining({ kind: 'unknown-policy', table: 'carts' })]]);
    expect(log.lines.filter(([level]) => level === 'error')).toEqual([]);
  });

  it('scheduled run under notify: all: one OK summary that lists the warning', async () => {
    // Prepare / Act
    const { notifier } = await scheduledRun('all');
    // Assess
    expect(notifier.published).toHaveLength(1);
    const published = notifier.published[0];
    expect(summarySubject(published)).toBe('[ddb-backup] OK: daily (schedule) - 1 backed up, 1 warning');
    expect(summaryMessage(published)).toContain('Warnings:\n  - table carts: tag names unknown policy "dialy"');
  });

  it.each<[RunProblem['kind'], RunProblem]>([
    ['invalid-policy', { kind: 'invalid-policy', policy: 'daily', message: 'retention.keepLast: too small' }],
    ['discovery', { kind: 'discovery', message: 'cannot list tagged tables: AccessDenied' }],
    ['listing', { kind: 'listing', message: 'ListBackups failed' }],
  ])('does not hide another problem kind (%s): that still makes the run PARTIAL and publishes under notify: failures', (_kind, problem) => {
    // Prepare
    const r = report([ok('orders')], [stray, problem]);
    // Act
    const counts = countResults(r);
    // Assess
    expect(counts).toMatchObject({ problems: 1, warnings: 1 });
    expect(outcomeOf(counts)).toBe('PARTIAL');
    expect(hasFailures(r)).toBe(true);
    expect(shouldNotify(r, 'failures')).toBe(true);
    expect(summarySubject(r)).toBe('[ddb-backup] PARTIAL: daily (schedule) - 1 backed up, 1 problem, 1 warning');
    const message = summaryMessage(r);
    expect(message).toContain('Problems:\n  - ');
    expect(message).toContain('Warnings:\n  - table carts: tag names unknown policy "dialy"');
  });

  it('a failed job still makes the run FAILED or PARTIAL whatever the warnings', () => {
    // Prepare
    const failed: JobResult = { table: 'orders', policy: 'daily', status: 'failed', reason: 'boom' };
    // Act / Assess
    expect(outcomeOf(countResults(report([failed], [stray])))).toBe('FAILED');
    expect(outcomeOf(countResults(report([failed, ok('users')], [stray])))).toBe('PARTIAL');
    expect(shouldNotify(report([failed], [stray]), 'failures')).toBe(true);
  });

  it('is flagged by status / coverage as POLICY_ERROR with the reason "tag names unknown policy"', () => {
    // Prepare
    const facts = {
      table: 'carts',
      policies: [{ name: 'dialy', error: 'PolicyUnavailableError: no policy named "dialy" (/dynamodb-backup/policies/dialy does not exist)' }],
    };
    // Act
    const t = assessTable(facts, NOW);
    // Assess
    expect(t.flags).toEqual(['POLICY_ERROR']);
    expect(t.reasons).toEqual(['tag names unknown policy "dialy"']);
    expect(t.policies).toEqual([expect.objectContaining({ name: 'dialy', error: expect.stringContaining('no policy named "dialy"') })]);
  });

  it('keeps the error of a policy that exists but is unreadable as it is', () => {
    // Prepare
    const facts = { table: 'orders', policies: [{ name: 'daily', error: 'PolicyValidationError: retention.keepLast: too small' }] };
    // Act
    const t = assessTable(facts, NOW);
    // Assess
    expect(t.flags).toEqual(['POLICY_ERROR']);
    expect(t.reasons).toEqual(['daily: PolicyValidationError: retention.keepLast: too small']);
  });
});
