/** Items by key, each group in input order, the groups in the order their keys first appear. */
export function groupBy<T, K = string>(items: Iterable<T>, key: (item: T, index: number) => K): Map<K, T[]> {
  const groups = new Map<K, T[]>();
  let index = 0;
  for (const item of items) {
    const k = key(item, index++);
    const list = groups.get(k);
    if (list) list.push(item);
    else groups.set(k, [item]);
  }
  return groups;
}

/** The indexes of `items` by key (for answers that must come back in the input's order). */
export function indexesBy<T, K = string>(items: readonly T[], key: (item: T) => K): Map<K, number[]> {
  return groupBy(
    items.map((_, i) => i),
    (i) => key(items[i] as T),
  );
}
