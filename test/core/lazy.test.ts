import { lazy } from '../../lambda/core/lazy';

describe('lazy: a composition built on first use, once', () => {
  it('builds nothing until asked, then shares the one build with every caller', async () => {
    // Prepare
    const make = jest.fn(async () => ({ built: true }));
    const get = lazy(make);

    // Act
    const beforeUse = make.mock.calls.length;
    const [a, b] = await Promise.all([get(), get()]);
    const c = await get();

    // Assess
    expect(beforeUse).toBe(0);
    expect(make).toHaveBeenCalledTimes(1);
    expect(a).toBe(b);
    expect(c).toBe(a);
  });

  it('does not keep a failed build: the next call builds again', async () => {
    // Prepare
    const make = jest
      .fn<Promise<string>, []>()
      .mockRejectedValueOnce(new Error('missing setting: ledger table'))
      .mockResolvedValue('service');
    const get = lazy(make);

    // Act
    const first = await get().then(
      () => undefined,
      (e: unknown) => e,
    );
    const second = await get();
    const third = await get();

    // Assess
    expect((first as Error).message).toBe('missing setting: ledger table');
    expect(second).toBe('service');
    expect(third).toBe('service');
    expect(make).toHaveBeenCalledTimes(2);
  });

  it('callers waiting on a build that fails all see its error', async () => {
    // Prepare
    let fail: (err: Error) => void = () => undefined;
    const get = lazy(() => new Promise<string>((_resolve, reject) => (fail = reject)));

    // Act
    const waiting = [get(), get()].map((p) =>
      p.then(
        () => 'resolved',
        (e: unknown) => (e as Error).message,
      ),
    );
    fail(new Error('boom'));

    // Assess
    expect(await Promise.all(waiting)).toEqual(['boom', 'boom']);
  });
});
