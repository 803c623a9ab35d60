import { MAX_ACCOUNTS } from './limits';
import type { AccountEntry } from './types';

/** Whether observation a of a group is newer than b (timestamp, then messageId), as for traits. */
const newer = (a: AccountEntry, b: AccountEntry): boolean =>
  a.updatedAt > b.updatedAt || (a.updatedAt === b.updatedAt && a.messageId > b.messageId);

/**
 * Two observations of one group as one: the newer one's traits, the earliest first seen and the
 * latest last seen. Commutative and associative, so any order of group calls and merges agrees.
 */
function combine(a: AccountEntry, b: AccountEntry): AccountEntry {
  const latest = newer(b, a) ? b : a;
  return { ...latest, firstSeen: Math.min(a.firstSeen, b.firstSeen), lastSeen: Math.max(a.lastSeen, b.lastSeen) };
}

/**
 * The accounts of both lists, one per groupId, sorted by groupId; past MAX_ACCOUNTS the most
 * recently seen are kept (ties by groupId). Which groups, their traits and last seen do not depend
 * on the order of calls and merges; a first seen does once a group was dropped and came back.
 */
export function uniteAccounts(a: readonly AccountEntry[], b: readonly AccountEntry[]): AccountEntry[] {
  const byGroup = new Map<string, AccountEntry>();
  for (const entry of [...a, ...b]) {
    const current = byGroup.get(entry.groupId);
    byGroup.set(entry.groupId, current ? combine(current, entry) : entry);
  }
  let all = [...byGroup.values()];
  if (all.length > MAX_ACCOUNTS)
    all = all.sort((x, y) => y.lastSeen - x.lastSeen || (x.groupId < y.groupId ? -1 : 1)).slice(0, MAX_ACCOUNTS);
  return all.sort((x, y) => (x.groupId < y.groupId ? -1 : x.groupId > y.groupId ? 1 : 0));
}
