/**
 * A value built on first use and shared afterwards: the Lambdas build their composition once per
 * execution environment, on the first invocation rather than at cold start.
 *
 * Every caller gets the promise of the one build. A build that fails is not kept: the next call
 * builds again (as a synchronous `value ??= make()` would).
 */
export function lazy<T>(make: () => Promise<T>): () => Promise<T> {
  let value: Promise<T> | undefined;
  return () =>
    (value ??= make().catch((err: unknown) => {
      value = undefined;
      throw err;
    }));
}
