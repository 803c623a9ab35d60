import { awaitAll } from './await-all';

/**
 * Splits items into groups that share nothing: two items land in one group when they name a
 * common node, directly or through other items. Each group keeps the items' original order, and
 * groups are ordered by their first item. Items with no node are groups of their own.
 */
export function independentGroups(nodesPerItem: readonly (readonly string[])[]): number[][] {
  const parent = nodesPerItem.map((_, i) => i);
  const find = (i: number): number => {
    while (parent[i] !== i) {
      parent[i] = parent[parent[i]]; // path halving keeps the trees flat
      i = parent[i];
    }
    return i;
  };
  const owner = new Map<string, number>();
  nodesPerItem.forEach((nodes, i) => {
    for (const node of nodes) {
      const other = owner.get(node);
      if (other === undefined) owner.set(node, i);
      else {
        const [a, b] = [find(other), find(i)];
        // The smaller index stays the root, so a group's root is its first item.
        if (a !== b) parent[Math.max(a, b)] = Math.min(a, b);
      }
    }
  });
  const groups = new Map<number, number[]>();
  nodesPerItem.forEach((_, i) => {
    const root = find(i);
    const group = groups.get(root);
    if (group) group.push(i);
    else groups.set(root, [i]);
  });
  return [...groups.values()];
}

/**
 * Runs `work` over the items with at most `limit` running at once; results keep the items' order.
 * After a failure no further item starts, and it rejects once the running ones have settled (a
 * failed batch is handed to its handler again, which must not run beside what is left of it).
 */
export async function mapLimit<T, R>(items: readonly T[], limit: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  let failed = false;
  const worker = async () => {
    while (!failed && next < items.length) {
      const i = next++;
      try {
        results[i] = await work(items[i] as T);
      } catch (e) {
        failed = true;
        throw e;
      }
    }
  };
  await awaitAll(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}
