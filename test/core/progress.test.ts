import { progressSeconds, startProgress } from '../../lambda/cli/progress';

describe('progress lines', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('says what starts, then reports at least every interval with the counts, until stopped', () => {
    const lines: string[] = [];
    const p = startProgress('backing up', 3, (l) => lines.push(l), 30);
    p.done('backed-up');
    jest.advanceTimersByTime(30_000);
    p.done('failed');
    jest.advanceTimersByTime(30_000);
    p.stop();
    jest.advanceTimersByTime(90_000);

    expect(lines).toEqual([
      'backing up: 3 to do',
      expect.stringMatching(/^backing up: 1\/3 done after \d+ s \(1 backed-up\)$/),
      expect.stringMatching(/^backing up: 2\/3 done after \d+ s \(1 backed-up, 1 failed\)$/),
    ]);
  });

  it('takes its interval from DDB_BACKUP_PROGRESS_SECONDS, 30 s otherwise', () => {
    expect(progressSeconds({})).toBe(30);
    expect(progressSeconds({ DDB_BACKUP_PROGRESS_SECONDS: '2' })).toBe(2);
    expect(progressSeconds({ DDB_BACKUP_PROGRESS_SECONDS: 'x' })).toBe(30);
  });
});
