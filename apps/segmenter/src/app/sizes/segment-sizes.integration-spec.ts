import { repositoryUnderTest } from '../../testing/repository-under-test';
import type { Transition } from '../membership/transition';
import { DAY_MS } from './size-history';
import { SegmentSizesRepository } from './segment-sizes.repository';

/** Size counters against the real store (FerretDB): every counted transition is in the history exactly once. */
describe('SegmentSizesRepository.count (FerretDB)', () => {
  const workspaceId = 'ws-sizes';
  const now = Date.UTC(2026, 10, 30, 12);
  const repository = repositoryUnderTest('segment-sizes', (mongo) => new SegmentSizesRepository(mongo));

  const transition = (change: Transition['change'], daysAgo: number): Transition => ({
    change,
    membershipVersion: 1,
    profileVersion: 1,
    asOf: now - daysAgo * DAY_MS,
    occurredAt: now - daysAgo * DAY_MS,
    receivedAt: null,
  });

  it('counts concurrent transitions of several segments and days exactly, first writes and later ones alike', async () => {
    const sizes = repository();
    const segments = ['seg-a', 'seg-b', 'seg-c'];
    // Per segment and round: 5 entered two days ago, 3 entered today, 2 exited today.
    const round = () =>
      Promise.all(
        segments.flatMap((segmentId) => [
          ...Array.from({ length: 5 }, () => sizes.count(workspaceId, segmentId, transition('entered', 2))),
          ...Array.from({ length: 3 }, () => sizes.count(workspaceId, segmentId, transition('entered', 0))),
          ...Array.from({ length: 2 }, () => sizes.count(workspaceId, segmentId, transition('exited', 0))),
        ]),
      );
    await round(); // the counters' first writes (upserts)
    await round(); // the counters known: bulk increments
    for (const segmentId of segments) {
      const history = await sizes.history(workspaceId, segmentId, 3, now);
      expect(history.map(({ members, entered, exited }) => ({ members, entered, exited }))).toEqual([
        { members: 10, entered: 10, exited: 0 },
        { members: 10, entered: 0, exited: 0 },
        { members: 12, entered: 6, exited: 4 },
      ]);
    }
  });
});
