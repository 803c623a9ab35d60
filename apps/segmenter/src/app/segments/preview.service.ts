import { Injectable } from '@nestjs/common';
import { compileDefinition, type Condition } from '@cdp/segment-language';
import { MembershipEvaluator } from '../evaluation/membership-evaluator';
import { SegmentProfilesRepository, snapshotComputed } from '../history/segment-profiles.repository';
import { parseTraits } from '../membership/transition';

export interface PreviewResult {
  /** Profiles matching now. */
  count: number;
  /** Profiles looked at (every live snapshot). */
  total: number;
  /** Up to `sampleSize` matching profile ids, in profile-id order. */
  sample: string[];
}

const PAGE = 1_000;

/** Counts the profiles a draft definition matches, over the segmenter's own snapshots; writes nothing. */
@Injectable()
export class PreviewService {
  constructor(
    private readonly profiles: SegmentProfilesRepository,
    private readonly evaluator: MembershipEvaluator,
  ) {}

  async preview(workspaceId: string, definition: Condition, sampleSize = 10): Promise<PreviewResult> {
    const compiled = compileDefinition(definition);
    const result: PreviewResult = { count: 0, total: 0, sample: [] };
    const now = Date.now();
    for await (const page of this.profiles.pages(workspaceId, PAGE)) {
      const ids = page.map((p) => p.profileId);
      const data = await this.evaluator.load(workspaceId, ids, compiled.events, [...compiled.segments], compiled.traits);
      for (const p of page) {
        const d = data.get(p.profileId);
        const memberships = new Set([...(d?.memberships.values() ?? [])].filter((m) => m.member).map((m) => m.segmentId));
        const traits = { ...(parseTraits(p.traits) ?? {}), ...d?.predicted };
        if (compiled.matches({ traits, computed: snapshotComputed(p), events: d?.events ?? [], memberships, now })) {
          result.count++;
          if (result.sample.length < sampleSize) result.sample.push(p.profileId);
        }
      }
      result.total += page.length;
    }
    return result;
  }
}
