import { Injectable } from '@nestjs/common';
import type { SegmentChange } from '@cdp/contracts';
import { groupBy } from '@cdp/platform';
import { MembershipEvaluator } from '../evaluation/membership-evaluator';
import { SegmentChangePublisher } from '../evaluation/segment-change-publisher';
import { SegmentProfilesRepository } from '../history/segment-profiles.repository';
import { changedSince, SegmentCatalog, type CompiledSegment } from '../segments/segment-catalog';
import { stateKey, type AbsorbedMark, type Decoded } from './chunk-records';
import { MembershipsRepository } from './memberships.repository';

/**
 * A consumer chunk evaluates with the catalog it read when it decoded its records; a definition
 * written meanwhile (by this instance, or up to SEGMENT_CACHE_TTL_MS earlier by another) is looked
 * at again once the chunk's snapshots are saved and its memberships written:
 * - a segment created or changed meanwhile is evaluated on the chunk's saved snapshots, since its
 *   backfill may have read them before the chunk saved them;
 * - a segment deleted meanwhile has what the chunk entered in it exit again, since its deletion
 *   may have read the memberships before the chunk wrote them.
 * Backfill and deletion wait SEGMENT_CACHE_TTL_MS before they read: a check that still finds the
 * chunk's catalog current ran before that, so they read what the chunk wrote.
 */
@Injectable()
export class ChunkCatalogCheck {
  constructor(
    private readonly catalog: SegmentCatalog,
    private readonly evaluator: MembershipEvaluator,
    private readonly profiles: SegmentProfilesRepository,
    private readonly memberships: MembershipsRepository,
    private readonly publisher: SegmentChangePublisher,
  ) {}

  /** The transitions of the segments created or changed since the chunk read its catalog (to produce with the chunk's). */
  async lateDefinitions(decoded: Decoded[], absorbed: AbsorbedMark[]): Promise<SegmentChange[]> {
    const gone = new Set(absorbed.map((m) => stateKey(m.workspaceId, m.profileId)));
    const changes = await Promise.all(
      [...groupBy(decoded, (d) => d.change.workspaceId)].map(async ([workspaceId, list]) => {
        const current = await this.catalog.forWorkspace(workspaceId);
        // Records decoded with one catalog share its object: each catalog compared once.
        const late = new Set([...new Set(list.map((d) => d.segments))].flatMap((seen) => changedSince(seen, current)));
        if (late.size === 0) return [];
        const ids = [...new Set(list.map((d) => d.change.profileId))].filter((id) => !gone.has(stateKey(workspaceId, id)));
        const snapshots = [...(await this.profiles.getMany(workspaceId, ids)).values()].filter((s) => !s.deleted);
        return this.evaluator.evaluateSnapshots(workspaceId, current, snapshots, late);
      }),
    );
    return changes.flat();
  }

  /**
   * Exits the members the chunk left in segments deleted since it read its catalog: per segment
   * and profile, the last of its transitions (`produced`, already produced) when that entered.
   */
  async deletedDefinitions(decoded: Decoded[], produced: readonly SegmentChange[]): Promise<void> {
    const last = new Map<string, SegmentChange>();
    for (const c of produced) {
      const key = `${stateKey(c.workspaceId, c.profileId)}\u0000${c.segmentId}`;
      if ((last.get(key)?.membershipVersion ?? 0) < c.membershipVersion) last.set(key, c);
    }
    const entered = [...last.values()].filter((c) => c.change === 'entered');
    if (entered.length === 0) return;
    // The definition the chunk evaluated, for a segment the catalog no longer has.
    const evaluated = (workspaceId: string, segmentId: string): CompiledSegment | undefined =>
      decoded.find((d) => d.change.workspaceId === workspaceId && d.segments.byId.has(segmentId))?.segments.byId.get(segmentId);
    await Promise.all(
      [...groupBy(entered, (c) => c.workspaceId)].map(async ([workspaceId, changes]) => {
        const current = await this.catalog.forWorkspace(workspaceId);
        const bySegment = groupBy(
          changes.filter((c) => !current.byId.has(c.segmentId)),
          (c) => c.segmentId,
        );
        for (const [segmentId, list] of bySegment) {
          const now = Date.now();
          const exits = list.map(
            (c): SegmentChange => ({
              ...c,
              change: 'exited',
              membershipVersion: c.membershipVersion + 1,
              occurredAt: now,
              receivedAt: null,
            }),
          );
          // Its own topic from the definition the chunk evaluated: the catalog no longer has it.
          await this.publisher.publish(exits, evaluated(workspaceId, segmentId)?.outputTopic ?? null);
          await this.memberships.removeProfiles(
            workspaceId,
            segmentId,
            list.map((c) => c.profileId),
          );
        }
      }),
    );
  }
}
