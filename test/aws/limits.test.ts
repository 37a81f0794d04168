import { ACCOUNT_RATES, RateLimits, sharedRates } from '../../lambda/aws/limits';

describe('account rates shared by the containers of a function', () => {
  it('gives each of N containers 1/N of every account rate, so together they stay within it', () => {
    const share = sharedRates(10);
    expect(share).toEqual({ CreateBackup: 5, DeleteBackup: 1, ListBackups: 0.5, GetResources: 1.5 });
    for (const api of Object.keys(ACCOUNT_RATES)) expect(share[api] * 10).toBeCloseTo(ACCOUNT_RATES[api]);
  });

  it('treats a missing or nonsensical share as one process with the whole rate', () => {
    expect(sharedRates(Number.NaN)).toEqual(ACCOUNT_RATES);
    expect(sharedRates(0)).toEqual(ACCOUNT_RATES);
    expect(sharedRates(1)).toEqual(ACCOUNT_RATES);
  });

  it('spaces a container\'s DeleteBackup calls by its share: 3 calls at 1/s take about 2 s', async () => {
    const limits = new RateLimits(sharedRates(10));
    const started = Date.now();
    await Promise.all([1, 2, 3].map(() => limits.schedule('DeleteBackup', async () => Date.now())));
    expect(Date.now() - started).toBeGreaterThanOrEqual(1900);
  });
});
