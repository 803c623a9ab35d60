import { Injectable, Logger } from '@nestjs/common';
import type { NormalizedEvent } from '@cdp/contracts';
import type { Identifier } from '@cdp/identity-graph';
import { blockingKeys, isEligible } from '@cdp/record-linkage';
import type { ChunkGraph } from './chunk-graph';
import { mergeWithinLimits } from './count-guards';
import { candidateIds, decideFuzzy, keysToAdd } from './fuzzy-decision';
import type { FuzzySettings } from './fuzzy-rules';
import { IdentityProfilesRepository, type IdentityProfileDoc, type MergeInfo, type MergeScore } from './identity-profiles.repository';
import { IdentityMetrics } from './identity-metrics';
import { IdentityReviewsRepository } from './identity-reviews.repository';
import type { ResolverRules } from './identity-rules';
import { BlockingKeysRepository, LinkageRecordsRepository } from './linkage.repository';
import type { StoredMerge } from './outputs';
import { personRecordOf } from './person-record';
import { ProfileGraph } from './profile-graph';
import { toState, type Resolution } from './resolver.service';
import { decideWithinWindows } from './windowed-limits';

/** Stands for "matched this profile" in flat matching's decision; sorts after every real type (a-z, 0-9, _ -), so it is demoted first. */
const FUZZY_LINK = '~fuzzy';
const MAX_ATTEMPTS = 5;

export type FuzzyMergeResult =
  | { status: 'merged'; profileId: string; merge: StoredMerge }
  | { status: 'same'; profileId: string }
  | { status: 'limits' }
  | { status: 'missing' };

/**
 * Fuzzy matching (issue #5 item 5) after flat matching: an eligible identify call (a name and a
 * birthday, address or phone) is scored against the profiles found under its blocking keys
 * (point reads by `_id`: the key documents, then the candidates' linkage records and profiles).
 * Above the auto-merge threshold its profile is merged with the candidate's under the same limits
 * as flat matching; between the thresholds the pair is queued for review. Then the event's person
 * record is stored for its profile and the profile added under its keys.
 */
@Injectable()
export class FuzzyLinker {
  private readonly logger = new Logger(FuzzyLinker.name);

  constructor(
    private readonly profiles: IdentityProfilesRepository,
    private readonly records: LinkageRecordsRepository,
    private readonly blocks: BlockingKeysRepository,
    private readonly reviews: IdentityReviewsRepository,
    private readonly metrics: IdentityMetrics,
  ) {}

  async link(
    event: NormalizedEvent,
    rules: ResolverRules,
    settings: FuzzySettings,
    resolution: Resolution & { ok: true },
    chunk?: ChunkGraph,
  ): Promise<Resolution & { ok: true }> {
    if (!settings.enabled) return resolution;
    const person = personRecordOf(event);
    if (!person) return resolution;
    const record = settings.matcher.prepare(person);
    if (!isEligible(record)) return resolution;
    const ws = event.workspaceId;
    const keys = blockingKeys(record);
    const blocks = await this.blocks.findMany(ws, keys);
    const ids = candidateIds(blocks, settings.maxBlockSize);
    const [linkage, graph] = await Promise.all([
      this.records.findMany(ws, ids),
      ProfileGraph.load(ids, (profileIds) => this.profiles.findMany(ws, profileIds)),
    ]);
    const candidates = linkage.map((l) => ({ profileId: l.profileId, canonical: graph.canonical(l.profileId), record: l.record }));
    this.metrics.fuzzyComparisons.inc(candidates.filter((c) => c.canonical !== undefined && c.canonical !== resolution.profileId).length);
    const outcome = decideFuzzy(settings.matcher, record, resolution.profileId, candidates);

    let result = resolution;
    if (outcome.kind === 'merge') {
      const merged = await this.merge(
        ws,
        resolution.profileId,
        outcome.candidateProfileId,
        rules,
        event.timestamp,
        {
          reason: 'fuzzy_match',
          identifiers: [],
          messageId: event.messageId,
          receivedAt: new Date(event.receivedAt),
          timestamp: new Date(event.timestamp),
          score: outcome.score,
        },
        chunk,
      );
      if (merged.status === 'merged') {
        result = { ...resolution, profileId: merged.profileId, action: 'merge', merges: [...resolution.merges, merged.merge] };
      }
      this.metrics.fuzzyOutcomes.inc({ outcome: merged.status === 'merged' ? 'merged' : merged.status === 'limits' ? 'limits' : 'none' });
      // 'limits': the identity limits forbid joining them (two user ids, say): not merged, and not
      // queued either, since accepting would be refused for the same reason.
    } else if (outcome.kind === 'review') {
      if (await this.mergeable(ws, resolution.profileId, outcome.candidateProfileId, rules, event.timestamp)) {
        await this.queueReview(ws, resolution.profileId, outcome.candidateProfileId, outcome.score, event.messageId);
        this.metrics.fuzzyOutcomes.inc({ outcome: 'reviewed' });
      } else this.metrics.fuzzyOutcomes.inc({ outcome: 'limits' });
    } else this.metrics.fuzzyOutcomes.inc({ outcome: 'none' });

    await Promise.all([
      this.records.put(ws, result.profileId, record),
      this.blocks.add(ws, keysToAdd(keys, blocks, result.profileId, settings.maxBlockSize), result.profileId),
    ]);
    return result;
  }

  private async queueReview(
    ws: string,
    profileId: string,
    candidateProfileId: string,
    score: MergeScore,
    messageId: string,
  ): Promise<void> {
    if (await this.reviews.queue(ws, { profileId, candidateProfileId, score, messageId })) this.metrics.reviews.inc({ decision: 'queued' });
  }

  /** Whether the limits would let the two profiles be merged (a pair they forbid is not worth a review). */
  private async mergeable(ws: string, a: string, b: string, rules: ResolverRules, at: number): Promise<boolean> {
    const plan = await this.plan(ws, a, b, rules, at);
    return plan.status === 'step';
  }

  /** The merge flat matching would make of the canonical profiles of `a` and `b`, if the limits allow it. */
  private async plan(ws: string, a: string, b: string, rules: ResolverRules, at: number) {
    const graph = await ProfileGraph.load([a, b], (ids) => this.profiles.findMany(ws, ids));
    const [ca, cb] = [graph.canonical(a), graph.canonical(b)];
    if (!ca || !cb) return { status: 'missing' as const };
    if (ca === cb) return { status: 'same' as const, profileId: ca };
    const links: Identifier[] = [ca, cb].map((value) => ({ type: FUZZY_LINK, value }));
    const decision = decideWithinWindows({
      workspaceId: ws,
      identifiers: links,
      matches: links.map((identifier) => ({ identifier, profileId: identifier.value })),
      profiles: [ca, cb].map((id) => toState(graph.nodes.get(id) as IdentityProfileDoc)),
      rules,
      windows: rules.windows ?? {},
      at,
    });
    const [step] = decision.action === 'merge' ? decision.merges : [];
    return step
      ? { status: 'step' as const, step, from: graph.nodes.get(step.fromProfileId) as IdentityProfileDoc }
      : { status: 'limits' as const };
  }

  /**
   * Merges the canonical profiles of `a` and `b` as flat matching would merge two profiles an event
   * matched: the older survives, lifetime and windowed limits apply (a merge that breaks one is not
   * made), compare-and-set on the absorbed profile's pointer (re-read and retried on a conflict).
   */
  async merge(
    ws: string,
    a: string,
    b: string,
    rules: ResolverRules,
    at: number,
    info: Omit<MergeInfo, 'mergeId' | 'mergedAt'>,
    graph?: ChunkGraph,
  ): Promise<FuzzyMergeResult> {
    for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
      const plan = await this.plan(ws, a, b, rules, at);
      if (plan.status !== 'step') return plan;
      const { step, from } = plan;
      const merge: MergeInfo = { ...info, mergeId: step.mergeId, mergedAt: new Date() };
      // The chunk's later events read both profiles afresh.
      graph?.forgetProfiles(ws, step.fromProfileId, step.intoProfileId);
      const outcome = await mergeWithinLimits(this.profiles, ws, from, step.intoProfileId, merge, rules);
      if (outcome.status === 'conflict' || outcome.status === 'survivor_changed') {
        this.logger.debug(`${ws}: ${step.fromProfileId} was merged, or ${step.intoProfileId} counted, concurrently, attempt ${attempt}`);
        continue;
      }
      return {
        status: 'merged',
        profileId: step.intoProfileId,
        merge: { fromProfileId: step.fromProfileId, intoProfileId: step.intoProfileId, merge: outcome.merge },
      };
    }
    throw new Error(`fuzzy merge of ${a} and ${b} did not settle after ${MAX_ATTEMPTS} attempts`);
  }
}
