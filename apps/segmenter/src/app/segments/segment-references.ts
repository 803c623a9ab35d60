import { findCycle, segmentsRead, type Condition } from '@cdp/segment-language';

export interface KnownSegment {
  segmentId: string;
  name: string;
  definition: Condition;
}

export type ResolveResult = { ok: true; definition: Condition } | { ok: false; message: string };

/**
 * Replaces each `segment('<name or id>')` by the id of the segment it names (an id wins over a
 * name) and refuses unknown or ambiguous names and any cycle through `selfId`. Pure, so the
 * rules are unit-tested without Mongo.
 */
export function resolveReferences(selfId: string, definition: Condition, known: readonly KnownSegment[]): ResolveResult {
  const others = known.filter((k) => k.segmentId !== selfId);
  const byId = new Map(others.map((k) => [k.segmentId, k]));
  // Its stored name (an update): a reference by it reads the segment itself, unless another has it too.
  const selfName = known.find((k) => k.segmentId === selfId)?.name;
  let problem: string | undefined;
  const resolve = (ref: string): string => {
    const named = others.filter((k) => k.name === ref);
    if (ref === selfId || (ref === selfName && named.length === 0 && !byId.has(ref))) {
      problem ??= `segment('${ref}') is this segment itself`;
      return ref;
    }
    if (byId.has(ref)) return ref;
    if (named.length === 1) return (named[0] as KnownSegment).segmentId;
    problem ??=
      named.length === 0
        ? `segment('${ref}') names no segment of this workspace`
        : `segment('${ref}') is ambiguous: ${named.length} segments have that name; use the id`;
    return ref;
  };
  const walk = (c: Condition): Condition => {
    switch (c.op) {
      case 'segment':
        return { op: 'segment', segment: resolve(c.segment) };
      case 'not':
        return { op: 'not', of: walk(c.of) };
      case 'and':
      case 'or':
        return { op: c.op, of: c.of.map(walk) };
      default:
        return c;
    }
  };
  const resolved = walk(definition);
  if (problem) return { ok: false, message: problem };
  const cycle = findCycle(selfId, segmentsRead(resolved), (id) => {
    const k = byId.get(id);
    return k ? segmentsRead(k.definition) : [];
  });
  // Named as people know them; the segment being written may have no stored name yet.
  const label = (id: string) => {
    const name = id === selfId ? selfName : byId.get(id)?.name;
    return name === undefined ? (id === selfId ? 'this segment' : id) : `'${name}' (${id})`;
  };
  if (cycle) return { ok: false, message: `segment references form a cycle: ${cycle.map(label).join(' -> ')}` };
  return { ok: true, definition: resolved };
}

/**
 * Segments whose definitions read `segmentId` (deleting it would silently empty their conditions),
 * with their names, so a refusal can say which segments a person knows by name.
 */
export const readersOf = (segmentId: string, known: readonly KnownSegment[]): { segmentId: string; name: string }[] =>
  known
    .filter((k) => k.segmentId !== segmentId && segmentsRead(k.definition).includes(segmentId))
    .map(({ segmentId: id, name }) => ({ segmentId: id, name }));
