import type { JobResult } from '../../lambda/core/jobs';
import {
  countResults,
  hasFailures,
  outcomeOf,
  parseSummaryJson,
  summaryMessage,
  summarySubject,
  type RunProblem,
  type RunReport,
} from '../../lambda/core/backup/summary';

const ok = (table: string): JobResult => ({
  table,
  policy: 'daily',
  status: 'backed-up',
  backupArn: `arn:aws:dynamodb:us-east-1:123456789012:table/${table}/backup/01700000000000-abcdef`,
});
const skip = (table: string, reason = 'cooldown: last backup 5 min ago'): JobResult => ({ table, policy: 'daily', status: 'skipped', reason });
const fail = (table: string, reason = 'CreateBackup orders: LimitExceededException'): JobResult => ({ table, policy: 'daily', status: 'failed', reason });

function report(results: JobResult[], problems: RunProblem[] = [], extra: Partial<RunReport> = {}): RunReport {
  return {
    runId: 'daily|schedule|schedule:2026-11-24T03:00:00.000Z',
    policy: 'daily',
    trigger: 'schedule',
    startedAt: '2026-11-24T03:00:01.000Z',
    finishedAt: '2026-11-24T03:00:09.000Z',
    results,
    problems,
    ...extra,
  };
}

/** SNS subjects: printable ASCII, one line, at most 100 characters. */
const SNS_SUBJECT = /^[\x20-\x7e]{1,100}$/;

interface MachineSummary {
  version: number;
  runId: string;
  policy: string;
  trigger: string;
  outcome: string;
  counts: { backedUp: number; skipped: number; failed: number; problems: number; warnings: number };
  results: JobResult[];
  problems: RunProblem[];
  warnings: RunProblem[];
}

describe('countResults / outcomeOf / hasFailures', () => {
  it.each([
    ['OK', [ok('a'), skip('b')], []],
    ['OK', [skip('a')], []],
    ['PARTIAL', [ok('a'), fail('b')], []],
    ['OK', [skip('a')], [{ kind: 'unknown-policy', table: 'b', message: 'tag names unknown policy "dialy"' }]],
    ['PARTIAL', [skip('a')], [{ kind: 'listing', message: 'ListBackups failed' }]],
    ['FAILED', [fail('a'), fail('b')], []],
    ['FAILED', [], [{ kind: 'invalid-policy', policy: 'daily', message: 'invalid policy' }]],
    ['NOTHING TO DO', [], []],
  ] as [string, JobResult[], RunProblem[]][])('%s for %j / %j', (expected, results, problems) => {
    // Prepare
    const r = report(results, problems);
    // Act
    const outcome = outcomeOf(countResults(r));
    // Assess
    expect(outcome).toBe(expected);
    expect(hasFailures(r)).toBe(expected === 'PARTIAL' || expected === 'FAILED');
  });

  it('counts each status and the problems', () => {
    // Prepare
    const r = report([ok('a'), ok('b'), skip('c'), fail('d')], [{ kind: 'discovery', message: 'x' }]);
    // Act
    const counts = countResults(r);
    // Assess
    expect(counts).toMatchObject({ backedUp: 2, skipped: 1, failed: 1, problems: 1, warnings: 0 });
  });

  it('counts unknown-policy problems as warnings, apart from the problems', () => {
    // Prepare
    const r = report([ok('a')], [
      { kind: 'unknown-policy', table: 'b', message: 'tag names unknown policy "dialy"' },
      { kind: 'discovery', message: 'x' },
    ]);
    // Act
    const counts = countResults(r);
    // Assess
    expect(counts).toMatchObject({ problems: 1, warnings: 1 });
  });
});

describe('summarySubject', () => {
  it.each([
    ['OK', report([ok('a'), ok('b'), skip('c')]), '[ddb-backup] OK: daily (schedule) - 2 backed up, 1 skipped'],
    ['PARTIAL', report([ok('a'), fail('b')]), '[ddb-backup] PARTIAL: daily (schedule) - 1 backed up, 1 failed'],
    ['FAILED', report([fail('a')], [{ kind: 'invalid-policy', policy: 'daily', message: 'm' }]), '[ddb-backup] FAILED: daily (schedule) - 0 backed up, 1 failed, 1 problem'],
    ['FAILED', report([fail('a')], [{ kind: 'unknown-policy', table: 'b', message: 'm' }]), '[ddb-backup] FAILED: daily (schedule) - 0 backed up, 1 failed, 1 warning'],
    ['NOTHING TO DO', report([]), '[ddb-backup] NOTHING TO DO: daily (schedule) - 0 backed up'],
  ])('says %s first', (outcome, r, expected) => {
    // Prepare (the table row)
    // Act
    const subject = summarySubject(r);
    // Assess
    expect(subject).toBe(expected);
    expect(subject.startsWith(`[ddb-backup] ${outcome}:`)).toBe(true);
    expect(subject).toMatch(SNS_SUBJECT);
  });

  it('pluralises problems', () => {
    // Prepare
    const problems: RunProblem[] = [
      { kind: 'discovery', message: 'm' },
      { kind: 'listing', message: 'm' },
      { kind: 'unknown-policy', table: 'a', message: 'm' },
      { kind: 'unknown-policy', table: 'b', message: 'm' },
    ];
    // Act
    const subject = summarySubject(report([], problems));
    // Assess
    expect(subject).toContain('2 problems, 2 warnings');
  });

  it('stays at most 100 ASCII characters with a long policy name, keeping the outcome', () => {
    // Prepare
    const r = report([ok('a'), fail('b'), skip('c')], [{ kind: 'discovery', message: 'm' }], {
      policy: 'p'.repeat(64),
      trigger: 'changes',
    });
    // Act
    const subject = summarySubject(r);
    // Assess
    expect(subject).toMatch(SNS_SUBJECT);
    expect(subject).toHaveLength(100);
    expect(subject.startsWith('[ddb-backup] PARTIAL: ')).toBe(true);
    expect(subject.endsWith('...')).toBe(true);
  });

  it('replaces non-ASCII and control characters so SNS accepts the subject', () => {
    // Prepare
    const r = report([ok('a')], [], { policy: 'täglich\nx', trigger: 'sched✓' });
    // Act
    const subject = summarySubject(r);
    // Assess
    expect(subject).toMatch(SNS_SUBJECT);
    expect(subject).toContain('t?glich?x');
  });
});

describe('summaryMessage / parseSummaryJson', () => {
  const problems: RunProblem[] = [
    { kind: 'unknown-policy', table: 'carts', message: 'tag names unknown policy "dialy"' },
    { kind: 'invalid-policy', policy: 'daily', message: 'retention.keepLast: too small' },
  ];
  const results = [ok('orders'), skip('users'), fail('payments', 'table "payments" does not exist (deleted after discovery?)')];
  const r = report(results, problems);

  it('opens with the outcome and the counts, in plain text', () => {
    // Prepare (the report above)
    // Act
    const message = summaryMessage(r);
    // Assess
    const lines = message.split('\n');
    expect(lines[0]).toBe('DynamoDB backup run PARTIAL');
    expect(lines[1]).toBe('policy: daily   trigger: schedule');
    expect(lines[2]).toBe('started: 2026-11-24T03:00:01.000Z   finished: 2026-11-24T03:00:09.000Z');
    expect(lines[3]).toMatch(/^backed up: 1 {3}skipped: 1 {3}failed: 1 {3}problems: 1 {3}warnings: 1 {3}deleted by retention: 0$/);
  });

  it('has one human section per kind of outcome, problems and failures first, then warnings', () => {
    // Prepare (the report above)
    // Act
    const message = summaryMessage(r);
    // Assess
    const text = message.slice(0, message.indexOf('--- machine-readable ---'));
    expect(text).toContain('Problems:\n  - policy daily: retention.keepLast: too small\n\n');
    expect(text).toContain('Failed:\n  - payments [daily]: table "payments" does not exist (deleted after discovery?)');
    expect(text).toContain('Warnings:\n  - table carts: tag names unknown policy "dialy"\n\n');
    expect(text).toContain('Skipped:\n  - users [daily]: cooldown: last backup 5 min ago');
    expect(text).toContain(`Backed up:\n  - orders [daily]: ${ok('orders').backupArn}`);
    const order = ['Problems:', 'Failed:', 'Warnings:', 'Skipped:', 'Backed up:'].map((h) => text.indexOf(h));
    expect(order).toEqual([...order].sort((a, b) => a - b));
  });

  it('leaves out empty sections', () => {
    // Prepare
    const allGood = report([ok('orders')]);
    // Act
    const message = summaryMessage(allGood);
    // Assess
    expect(message).not.toContain('Problems:');
    expect(message).not.toContain('Failed:');
    expect(message).not.toContain('Skipped:');
    expect(message).toContain('Backed up:');
  });

  it('ends with a JSON block that parseSummaryJson reads back with counts, results, problems and warnings', () => {
    // Prepare (the report above)
    // Act
    const machine = parseSummaryJson(summaryMessage(r)) as MachineSummary;
    // Assess
    expect(machine).toEqual({
      version: 1,
      runId: r.runId,
      policy: 'daily',
      trigger: 'schedule',
      outcome: 'PARTIAL',
      startedAt: r.startedAt,
      finishedAt: r.finishedAt,
      counts: expect.objectContaining({ backedUp: 1, skipped: 1, failed: 1, problems: 1, warnings: 1 }),
      problems: [problems[1]],
      warnings: [problems[0]],
      results,
    });
  });

  it('keeps reasons with quotes, newlines and backticks intact in the JSON block', () => {
    // Prepare
    const tricky = report([fail('orders', 'line 1\nline 2 with ``` fence and "quotes"')]);
    // Act
    const machine = parseSummaryJson(summaryMessage(tricky)) as MachineSummary;
    // Assess
    expect(machine.results[0].reason).toBe('line 1\nline 2 with ``` fence and "quotes"');
  });

  it('parseSummaryJson throws on a message without a JSON block', () => {
    // Prepare
    const message = 'DynamoDB backup run OK\nno machine block here';
    // Act
    const act = () => parseSummaryJson(message);
    // Assess
    expect(act).toThrow('no JSON block in message');
  });
});
