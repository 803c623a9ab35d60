import fc from 'fast-check';
import { emptyProfile } from '@cdp/profile-model';
import { ProfileExporter } from './profile-export';
import type { ProfileSegmentsRepository } from './profile-segments.repository';
import type { SegmentNamesRepository } from './segment-names.repository';
import type { TimelineCursor } from './timeline-cursor';
import type { TimelineDoc, TimelineRepository } from './timeline.repository';

/** The timeline's paging contract (newest first, strictly after the cursor) over an array: the exporter's bound is what is tested. */
function timelineOf(docs: TimelineDoc[]): TimelineRepository {
  const sorted = [...docs].sort((a, b) => b.timestamp - a.timestamp || (a.messageId < b.messageId ? 1 : -1));
  return {
    page: async (_ws: string, _ids: string[], limit: number, after: TimelineCursor | null) =>
      sorted
        .filter((d) => !after || d.timestamp < after.timestamp || (d.timestamp === after.timestamp && d.messageId < after.messageId))
        .slice(0, limit),
  } as unknown as TimelineRepository;
}

const segments = { allOf: async () => [] } as unknown as ProfileSegmentsRepository;
const names = { withCurrentNames: async <D>(_ws: string, docs: D[]) => docs } as unknown as SegmentNamesRepository;

const doc = (i: number, timestamp: number): TimelineDoc => ({
  workspaceId: 'ws',
  messageId: `m${String(i).padStart(5, '0')}`,
  profileId: 'p',
  type: 'track',
  event: 'E',
  name: null,
  sourceId: null,
  timestamp,
  receivedAt: timestamp,
  properties: '{}',
  traits: '{}',
});

describe('ProfileExporter', () => {
  it('exports the newest events up to the bound, across pages, and says when it truncated', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.integer({ min: 0, max: 50 }), { maxLength: 1300 }),
        fc.integer({ min: 1, max: 1200 }),
        async (times, max) => {
          const docs = times.map((t, i) => doc(i, t));
          const out = await new ProfileExporter(timelineOf(docs), segments, names).export(emptyProfile('ws', 'p', 0), max);
          expect(out.timeline.events).toHaveLength(Math.min(docs.length, max));
          expect(out.timeline.truncated).toBe(docs.length > max);
          expect(new Set(out.timeline.events.map((e) => e.messageId)).size).toBe(out.timeline.events.length);
          const stamps = out.timeline.events.map((e) => Date.parse(e.timestamp));
          expect(stamps).toEqual([...stamps].sort((a, b) => b - a));
        },
      ),
      { numRuns: 40 },
    );
  });

  it('exports the identifiers taken off the person too, with when', async () => {
    const profile = {
      ...emptyProfile('ws', 'p', 0),
      removedIdentifiers: [{ type: 'anonymous_id', value: 'kiosk', removedAt: Date.UTC(2026, 0, 2) }],
    };
    const out = await new ProfileExporter(timelineOf([]), segments, names).export(profile);
    expect(out.removedIdentifiers).toEqual([{ type: 'anonymous_id', value: 'kiosk', removedAt: '2026-01-02T00:00:00.000Z' }]);
    expect((await new ProfileExporter(timelineOf([]), segments, names).export(emptyProfile('ws', 'p', 0))).removedIdentifiers).toEqual([]);
  });
});
