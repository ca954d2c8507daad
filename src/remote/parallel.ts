/**
 * Run `fn` over items with at most `limit` in flight; results keep the input order and every
 * item settles (one unreachable host must not stop the others from being planned).
 */
export async function mapSettledLimit<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T, index: number) => Promise<R>,
): Promise<PromiseSettledResult<R>[]> {
  if (!Number.isInteger(limit) || limit < 1) throw new RangeError(`parallel limit must be a positive integer, got ${limit}`)
  const results: PromiseSettledResult<R>[] = new Array(items.length)
  let next = 0
  async function worker(): Promise<void> {
    while (next < items.length) {
      const i = next++
      try {
        results[i] = {status: 'fulfilled', value: await fn(items[i]!, i)}
      } catch (error) {
        results[i] = {status: 'rejected', reason: error}
      }
    }
  }
  await Promise.all(Array.from({length: Math.min(limit, items.length)}, () => worker()))
  return results
}
