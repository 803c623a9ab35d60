import { setTimeout as sleep } from 'node:timers/promises';
import { Injectable } from '@nestjs/common';
import { SegmentChangePublisher } from '../evaluation/segment-change-publisher';
import { SegmentProfilesRepository } from '../history/segment-profiles.repository';
import { MembershipsRepository } from '../membership/memberships.repository';
import { parseTraits, pickTraits, toSegmentChange } from '../membership/transition';
import { SegmentSizesRepository } from '../sizes/segment-sizes.repository';
import { SegmenterConfig } from '../segmenter.config';
import type { SegmentDocument } from './segments.repository';

/** Members exited per page (one read of memberships, one of snapshots, one produce). */
const PAGE = 500;

/**
 * What deleting a segment leaves behind: each member exits (one `exited` per member, numbered
 * one past its membership, as of now), so downstream consumers and the profile-store's read model
 * stop counting it; then the memberships and size counters go. The caller marks the segment
 * `deleting` first (so no evaluation of this instance enters anyone meanwhile) and removes the
 * definition after. The members are read SEGMENT_CACHE_TTL_MS after that mark, once every other
 * instance's catalog has it too; a consumer chunk that evaluated the segment before then, and
 * wrote after, exits what it entered itself (ChunkCatalogCheck).
 */
@Injectable()
export class SegmentRemoval {
  constructor(
    private readonly memberships: MembershipsRepository,
    private readonly profiles: SegmentProfilesRepository,
    private readonly publisher: SegmentChangePublisher,
    private readonly sizes: SegmentSizesRepository,
    private readonly config: SegmenterConfig,
  ) {}

  /** Exits the segment's members and removes its state; answers how many exited. */
  async remove(
    segment: Pick<SegmentDocument, 'workspaceId' | 'segmentId' | 'name' | 'version' | 'outputTraits' | 'outputTopic'>,
  ): Promise<number> {
    const { workspaceId, segmentId } = segment;
    await sleep(this.config.SEGMENT_CACHE_TTL_MS);
    let exited = 0;
    for (let after: string | undefined; ; ) {
      const page = await this.memberships.members(workspaceId, segmentId, after, PAGE);
      if (page.length === 0) break;
      const snapshots = await this.profiles.getMany(
        workspaceId,
        page.map((m) => m.profileId),
      );
      const now = Date.now();
      await this.publisher.publish(
        page.map((m) => {
          const snapshot = snapshots.get(m.profileId);
          const traits = parseTraits(snapshot?.traits ?? '{}') ?? {};
          return toSegmentChange(
            {
              workspaceId,
              segmentId,
              segmentName: segment.name,
              segmentVersion: segment.version,
              profileId: m.profileId,
              identifiers: snapshot?.identifiers ?? [],
              traits: pickTraits(traits, segment.outputTraits ?? []),
            },
            {
              change: 'exited',
              membershipVersion: m.membershipVersion + 1,
              profileVersion: m.lastProfileVersion,
              asOf: now,
              occurredAt: now,
              receivedAt: null,
            },
          );
        }),
        // The catalog no longer has the segment: its own topic from the deleted definition.
        segment.outputTopic ?? null,
      );
      exited += page.length;
      after = page.at(-1)?.profileId;
    }
    await this.memberships.removeSegment(workspaceId, segmentId);
    await this.sizes.removeSegment(workspaceId, segmentId);
    return exited;
  }
}
