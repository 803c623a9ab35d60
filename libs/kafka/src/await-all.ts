/**
 * Promise.all that waits for every promise before it fails (with the first failure). A handler's
 * batch that fails is handed again to the handler: with Promise.all the rest of the failed
 * attempt would still be writing beside the retry.
 */
export async function awaitAll<T extends readonly unknown[]>(values: T): Promise<{ -readonly [K in keyof T]: Awaited<T[K]> }> {
  const results = await Promise.allSettled(values);
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
  return results.map((r) => (r as PromiseFulfilledResult<unknown>).value) as { -readonly [K in keyof T]: Awaited<T[K]> };
}
