/**
 * The coverage digest's use-case (lambda/core/coverage/digest.ts) over fake ports: which tables are left
 * out, what is published, and what a refused publish leaves behind.
 */
import { DIGEST_FLAGS, coverageReport, type CoverageFlag, type CoverageReport } from '../../lambda/core/coverage/coverage';
import { ignoreList, runCoverageDigest, type DigestPorts } from '../../lambda/core/coverage/digest';
import { RUN_NOT_PUBLISHED } from '../../lambda/core/backup/runs';
import { memoryLog } from '../support/run-fakes';

const NOW = new Date('2026-11-24T12:00:00.000Z');

/** `loose` has no policy (UNPROTECTED), `orders` is backed up, `users` failed its last attempt. */
const REPORT: CoverageReport = coverageReport(
  [
    { table: 'loose', policies: [] },
    { table: 'orders', policies: [{ name: 'daily', policy: { schedule: 'rate(1 day)', minIntervalMinutes: 0 }, lastBackupAt: '2026-11-24T03:00:00.000Z', lastAttemptStatus: 'succeeded' }] },
    { table: 'users', policies: [{ name: 'daily', policy: { schedule: 'rate(1 day)', minIntervalMinutes: 0 }, lastBackupAt: '2026-11-24T03:00:00.000Z', lastAttemptStatus: 'failed', lastError: 'LimitExceededException' }] },
  ],
  NOW,
);

function ports(publish: DigestPorts['publish'] = async (_r, _f) => ({ flagged: 2, messageId: 'm-1' })) {
  const log = memoryLog();
  const collect = jest.fn(async (_ignore: string[]) => REPORT);
  const p = { clock: { now: () => NOW }, log, collect, publish: jest.fn(publish) } satisfies DigestPorts;
  return p;
}

describe('ignoreList', () => {
  it.each([
    [undefined, []],
    ['', []],
    ['scratch-*', ['scratch-*']],
    [' a , b* ,, c ', ['a', 'b*', 'c']],
  ])('%j -> %j', (value, expected) => {
    // Act / Assess
    expect(ignoreList(value)).toEqual(expected);
  });
});

describe('runCoverageDigest', () => {
  it('leaves out the ignored tables and the ledger, publishes the digest flags, and returns the counts', async () => {
    // Prepare
    const p = ports();

    // Act
    const out = await runCoverageDigest(p, { ignoreTables: 'scratch-*, tmp', ledgerTable: 'ddb-backup-ledger' });

    // Assess
    expect(p.collect).toHaveBeenCalledWith(['scratch-*', 'tmp', 'ddb-backup-ledger']);
    expect(p.publish).toHaveBeenCalledWith(REPORT, DIGEST_FLAGS);
    expect(out).toEqual({ tables: 3, flagged: 2, messageId: 'm-1' });
    expect(p.log.lines).toEqual([
      [
        'info',
        'coverage digest',
        {
          counts: REPORT.counts,
          flagged: [
            { table: 'loose', flags: ['UNPROTECTED'] },
            { table: 'users', flags: ['FAILING'] },
          ],
          messageId: 'm-1',
        },
      ],
    ]);
  });

  it('without a ledger or ignore setting, nothing is left out; nothing sent means no messageId', async () => {
    // Prepare
    const p = ports(async (_r: CoverageReport, _f: readonly CoverageFlag[]) => ({ flagged: 0 }));

    // Act
    const out = await runCoverageDigest(p, {});

    // Assess
    expect(p.collect).toHaveBeenCalledWith([]);
    expect(out).toEqual({ tables: 3, flagged: 0 });
    expect(out).not.toHaveProperty('messageId');
  });

  it('a publish that fails is logged as an unpublished summary (one metric filter counts both) and thrown', async () => {
    // Prepare
    const refused = Object.assign(new Error('Topic does not exist'), { name: 'NotFoundException' });
    const p = ports(async () => {
      throw refused;
    });

    // Act
    const err = await runCoverageDigest(p, { ledgerTable: 'ddb-backup-ledger' }).then(
      () => undefined,
      (e: unknown) => e,
    );

    // Assess
    expect(err).toBe(refused);
    expect(p.log.lines).toEqual([
      [
        'error',
        RUN_NOT_PUBLISHED,
        { runId: `coverage-digest|${NOW.toISOString()}`, policy: '(coverage digest)', flagged: 2, error: 'NotFoundException: Topic does not exist' },
      ],
    ]);
  });

  it('a table listing that fails is thrown before anything is published', async () => {
    // Prepare
    const p = ports();
    p.collect.mockRejectedValueOnce(new Error('AccessDeniedException: ListTables'));

    // Act
    const err = await runCoverageDigest(p, {}).then(
      () => undefined,
      (e: unknown) => e,
    );

    // Assess
    expect((err as Error).message).toBe('AccessDeniedException: ListTables');
    expect(p.publish).not.toHaveBeenCalled();
    expect(p.log.lines).toEqual([]);
  });
});
