/** The part of a profile document the merge pointers need. */
export interface ProfileNode {
  profileId: string;
  mergedInto: string | null;
}

/** Merge chains are short; a longer walk means corrupted pointers (a cycle), not a deep graph. */
export const MAX_CHAIN = 64;

/**
 * The loaded part of the identity graph: profile nodes by id, with their merge pointers
 * followed to the canonical (never absorbed) profiles.
 */
export class ProfileGraph<T extends ProfileNode> {
  private constructor(readonly nodes: ReadonlyMap<string, T>) {}

  /**
   * Loads the profiles and every profile their pointers lead to, level by level (one query
   * per level, so a chain of n merges costs n reads, not one per profile).
   */
  static async load<T extends ProfileNode>(start: string[], fetch: (profileIds: string[]) => Promise<T[]>): Promise<ProfileGraph<T>> {
    const nodes = new Map<string, T>();
    const tried = new Set<string>();
    let frontier = [...new Set(start)];
    for (let level = 0; frontier.length > 0; level++) {
      if (level > MAX_CHAIN) throw new Error(`merge chain longer than ${MAX_CHAIN}`);
      for (const id of frontier) tried.add(id);
      for (const node of await fetch(frontier)) nodes.set(node.profileId, node);
      frontier = [...new Set(frontier.flatMap((id) => nodes.get(id)?.mergedInto ?? []))].filter((id) => !tried.has(id));
    }
    return new ProfileGraph(nodes);
  }

  static of<T extends ProfileNode>(nodes: T[]): ProfileGraph<T> {
    return new ProfileGraph(new Map(nodes.map((n) => [n.profileId, n])));
  }

  /** The nodes from `profileId` to its canonical profile, both included (missing nodes end the chain). */
  chain(profileId: string): T[] {
    const out: T[] = [];
    const seen = new Set<string>();
    let node = this.nodes.get(profileId);
    while (node) {
      if (seen.has(node.profileId)) throw new Error(`merge pointers form a cycle at ${node.profileId}`);
      seen.add(node.profileId);
      out.push(node);
      node = node.mergedInto ? this.nodes.get(node.mergedInto) : undefined;
    }
    return out;
  }

  /** The canonical profile id of `profileId`, or undefined when a node on the way is missing. */
  canonical(profileId: string): string | undefined {
    const last = this.chain(profileId).at(-1);
    // `!mergedInto`, not `=== null`: FerretDB 1.24 drops null fields written by $setOnInsert.
    return last && !last.mergedInto ? last.profileId : undefined;
  }
}
