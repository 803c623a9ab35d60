import fc from 'fast-check';
import { ProfileGraph, type ProfileNode } from './profile-graph';

const node = (profileId: string, mergedInto: string | null = null): ProfileNode => ({ profileId, mergedInto });

describe('ProfileGraph', () => {
  it('follows pointers to the canonical profile, loading one level per query', async () => {
    const store = new Map([node('a', 'b'), node('b', 'c'), node('c'), node('x')].map((n) => [n.profileId, n]));
    const queries: string[][] = [];
    const graph = await ProfileGraph.load(['a', 'x', 'a'], async (ids) => {
      queries.push(ids);
      return ids.flatMap((id) => store.get(id) ?? []);
    });
    expect(queries).toEqual([['a', 'x'], ['b'], ['c']]);
    expect(graph.canonical('a')).toBe('c');
    expect(graph.canonical('x')).toBe('x');
    expect(graph.chain('a').map((n) => n.profileId)).toEqual(['a', 'b', 'c']);
  });

  it('has no canonical profile when a node is missing', () => {
    const graph = ProfileGraph.of([node('a', 'gone')]);
    expect(graph.canonical('a')).toBeUndefined();
    expect(graph.canonical('unknown')).toBeUndefined();
  });

  it('refuses a cycle instead of looping', async () => {
    const graph = ProfileGraph.of([node('a', 'b'), node('b', 'a')]);
    expect(() => graph.chain('a')).toThrow(/cycle/);
    const store = new Map([node('a', 'b'), node('b', 'a')].map((n) => [n.profileId, n]));
    await expect(ProfileGraph.load(['a'], async (ids) => ids.flatMap((id) => store.get(id) ?? []))).resolves.toBeDefined();
  });

  it('maps every node of a forest whose pointers go to older profiles onto its root', () => {
    fc.assert(
      fc.property(fc.array(fc.nat(), { minLength: 1, maxLength: 30 }), (parents) => {
        // Node i points to a node with a smaller index (or nowhere), as survivorship guarantees.
        const nodes = parents.map((p, i) => node(`p${i}`, i === 0 || p % 3 === 0 ? null : `p${p % i}`));
        const graph = ProfileGraph.of(nodes);
        for (const n of nodes) {
          const root = graph.canonical(n.profileId);
          expect(root).toBeDefined();
          expect(graph.nodes.get(root as string)?.mergedInto).toBeNull();
          expect(graph.chain(n.profileId).at(-1)?.profileId).toBe(root);
        }
      }),
    );
  });
});
