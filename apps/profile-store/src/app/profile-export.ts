import { Injectable } from '@nestjs/common';
import type { Profile } from '@cdp/profile-model';
import { ProfileSegmentsRepository } from './profile-segments.repository';
import { SegmentNamesRepository } from './segment-names.repository';
import { identifiersView, profileView, removedIdentifiersView, timelineView, traitsView } from './profile-views';
import { TimelineRepository } from './timeline.repository';

/** Most timeline entries in one export (a person with more gets the newest and `timeline.truncated`). */
export const MAX_EXPORT_EVENTS = 10_000;
const EXPORT_PAGE = 500;

/** Everything held about a person, for a data subject access request. */
@Injectable()
export class ProfileExporter {
  constructor(
    private readonly timeline: TimelineRepository,
    private readonly segments: ProfileSegmentsRepository,
    private readonly segmentNames: SegmentNamesRepository,
  ) {}

  async export(profile: Profile, maxEvents = MAX_EXPORT_EVENTS) {
    const { workspaceId, profileId } = profile;
    const ids = [profileId, ...profile.absorbedProfileIds];
    const events = [];
    let after: { timestamp: number; messageId: string } | null = null;
    let truncated = false;
    for (;;) {
      // One more than still fits tells whether the timeline goes on beyond the bound.
      const want = Math.min(EXPORT_PAGE, maxEvents + 1 - events.length);
      const page = await this.timeline.page(workspaceId, ids, want, after);
      for (const doc of page) {
        if (events.length === maxEvents) {
          truncated = true;
          break;
        }
        events.push(timelineView(doc));
      }
      const last = page[page.length - 1];
      if (truncated || !last || page.length < want) break;
      after = { timestamp: last.timestamp, messageId: last.messageId };
    }
    const memberships = await this.segmentNames.withCurrentNames(workspaceId, await this.segments.allOf(workspaceId, ids));
    return {
      exportedAt: new Date().toISOString(),
      workspaceId,
      profile: profileView(profile),
      traits: traitsView(profile, true),
      identifiers: identifiersView(profile.identifiers),
      removedIdentifiers: removedIdentifiersView(profile),
      absorbedProfileIds: profile.absorbedProfileIds,
      timeline: { events, truncated, limit: maxEvents },
      segments: memberships.map((m) => ({
        segmentId: m.segmentId,
        segmentName: m.segmentName,
        member: m.member,
        membershipVersion: m.membershipVersion,
        changedAt: new Date(m.changedAt).toISOString(),
        profileId: m.profileId,
      })),
    };
  }
}
