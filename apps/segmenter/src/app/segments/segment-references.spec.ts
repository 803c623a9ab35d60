import { parseSegment, type Condition } from '@cdp/segment-language';
import { dependencyOrder, compileSegments } from './segment-catalog';
import { readersOf, resolveReferences, type KnownSegment } from './segment-references';

const ast = (text: string): Condition => {
  const r = parseSegment(text);
  if (!r.ok) throw new Error(r.error.message);
  return r.definition;
};
const seg = (segmentId: string, name: string, text: string): KnownSegment => ({ segmentId, name, definition: ast(text) });

const known = [
  seg('s1', 'Churned', "trait('churned') = true"),
  seg('s2', 'Dup', "trait('a') exists"),
  seg('s3', 'Dup', "trait('b') exists"),
  seg('s4', 'Not churned', "not segment('s1')"),
];

describe('resolveReferences', () => {
  it('replaces names by ids and keeps ids', () => {
    expect(resolveReferences('new', ast("segment('Churned') or segment('s4')"), known)).toEqual({
      ok: true,
      definition: ast("segment('s1') or segment('s4')"),
    });
  });

  it.each([
    ["segment('nope')", 'names no segment'],
    ["segment('Dup')", 'ambiguous'],
    ["segment('new')", 'itself'],
  ])('refuses %s', (text, message) => {
    const r = resolveReferences('new', ast(text), known);
    expect(r).toMatchObject({ ok: false });
    if (!r.ok) expect(r.message).toContain(message);
  });

  it('says an update naming its own segment by name reads itself', () => {
    expect(resolveReferences('s1', ast("segment('Churned')"), known)).toEqual({
      ok: false,
      message: "segment('Churned') is this segment itself",
    });
  });

  it('refuses a definition that closes a cycle, naming it', () => {
    const r = resolveReferences('s1', ast("segment('Not churned')"), known);
    expect(r).toEqual({ ok: false, message: "segment references form a cycle: 'Churned' (s1) -> 'Not churned' (s4) -> 'Churned' (s1)" });
  });

  it('lists the segments that read a segment', () => {
    expect(readersOf('s1', known)).toEqual([{ segmentId: 's4', name: 'Not churned' }]);
    expect(readersOf('s2', known)).toEqual([]);
  });
});

describe('dependencyOrder', () => {
  it('puts every segment after the segments it reads, whatever the input order', () => {
    const segments = compileSegments([
      { segmentId: 'c', name: 'c', definition: ast("segment('b') and segment('a')") },
      { segmentId: 'b', name: 'b', definition: ast("segment('a')") },
      { segmentId: 'a', name: 'a', definition: ast("trait('x') exists") },
    ]);
    expect(segments.ordered.map((s) => s.segmentId)).toEqual(['a', 'b', 'c']);
  });

  it('terminates on a cycle (concurrent writes) and keeps every segment once', () => {
    const ordered = dependencyOrder(
      compileSegments([
        { segmentId: 'a', name: 'a', definition: ast("segment('b')") },
        { segmentId: 'b', name: 'b', definition: ast("segment('a')") },
      ]).ordered,
    );
    expect(ordered.map((s) => s.segmentId).sort()).toEqual(['a', 'b']);
  });
});
