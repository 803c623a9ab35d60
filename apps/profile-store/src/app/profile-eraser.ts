import { Injectable, Logger } from '@nestjs/common';
import { deletedChange, recordKey, Topics, type ProfileChange } from '@cdp/contracts';
import { KafkaGateway, type TopicCodec } from '@cdp/kafka';
import { erasureHash, identifierKey, type Profile } from '@cdp/profile-model';
import { ErasuresRepository, SUPPRESS_FOREVER } from './erasures.repository';
import { ProfileIdentifiersRepository } from './profile-identifiers.repository';
import { ProfileSegmentsRepository } from './profile-segments.repository';
import { ProfileStoreConfig } from './profile-store.config';
import { ProfilesRepository } from './profiles.repository';
import { RegulationSuppressions } from './regulation-suppressions';
import { TimelineRepository } from './timeline.repository';

const DAY_MS = 24 * 60 * 60 * 1000;

/** The `regulationId` of the suppression records an erasure publishes. */
const ERASURE = 'erasure';

/**
 * Erases a person: suppression records first (so events arriving meanwhile are dropped, here and,
 * for the identifiers, at the normalizer), then a 'deleted' change and a tombstone per profile id,
 * then the timeline, memberships and absorbed profiles, and the profile document last. Every step
 * is idempotent and the profile stays findable until the end, so a failed erasure is completed by
 * repeating the DELETE.
 */
@Injectable()
export class ProfileEraser {
  private readonly logger = new Logger(ProfileEraser.name);
  private changes: Promise<TopicCodec<ProfileChange>> | undefined;

  constructor(
    private readonly kafka: KafkaGateway,
    private readonly config: ProfileStoreConfig,
    private readonly profiles: ProfilesRepository,
    private readonly timeline: TimelineRepository,
    private readonly segments: ProfileSegmentsRepository,
    private readonly erasures: ErasuresRepository,
    private readonly identifiers: ProfileIdentifiersRepository,
    private readonly suppressions: RegulationSuppressions,
  ) {}

  async erase(profile: Profile): Promise<void> {
    const { workspaceId, profileId } = profile;
    const now = Date.now();
    const absorbedIds = [
      ...new Set([...profile.absorbedProfileIds, ...(await this.profiles.redirectingTo(workspaceId, profileId))]),
    ].filter((id) => id !== profileId);
    const absorbed = (await Promise.all(absorbedIds.map((id) => this.profiles.get(workspaceId, id)))).filter((p): p is Profile => !!p);
    const all = [profile, ...absorbed];
    const ids = [profileId, ...absorbedIds];

    const days = this.config.PROFILE_ERASURE_SUPPRESSION_DAYS;
    if (days > 0) {
      const identifierHashes = all.flatMap((p) => p.identifiers.map((i) => erasureHash(workspaceId, { kind: 'identifier', ...i })));
      const profileHashes = ids.map((id) => erasureHash(workspaceId, { kind: 'profile', profileId: id }));
      await this.erasures.remember(workspaceId, [...profileHashes, ...identifierHashes], now, now + days * DAY_MS);
      // The normalizer drops the identifiers' events too, so no stage after it (the identity graph
      // above all) learns the person again while the window lasts. Not those a regulation holds
      // for good: their records say so already, under the regulation's id.
      const held = await this.erasures.untilOf(workspaceId, identifierHashes);
      const windowed = identifierHashes.filter((h) => (held.get(h) ?? 0) < SUPPRESS_FOREVER);
      await this.suppressions.mirror(workspaceId, windowed, held, ERASURE, now);
    }

    // 'deleted' before the tombstones (separate acked sends), so consumers see why the key went away.
    const versionOf = new Map(all.map((p) => [p.profileId, p.version]));
    const codec = await this.codec();
    const deleted = await Promise.all(
      ids.map(async (id) => ({
        topic: codec.topic,
        key: recordKey(workspaceId, id),
        value: await codec.encode(deletedChange(workspaceId, id, (versionOf.get(id) ?? 0) + 1, now)),
      })),
    );
    await this.kafka.producer.send(deleted);
    await this.kafka.producer.send(ids.map((id) => ({ topic: codec.topic, key: recordKey(workspaceId, id), value: null })));

    await this.identifiers.forget(
      workspaceId,
      all.flatMap((p) => p.identifiers.map((i) => identifierKey(i.type, i.value))),
    );
    await this.timeline.erase(workspaceId, ids);
    await this.segments.erase(workspaceId, ids);
    if (absorbedIds.length > 0) await this.profiles.erase(workspaceId, absorbedIds);
    await this.profiles.erase(workspaceId, [profileId]);
    this.logger.log(`erased profile ${profileId} of ${workspaceId} (${absorbedIds.length} absorbed)`);
  }

  private codec(): Promise<TopicCodec<ProfileChange>> {
    if (!this.changes) {
      this.changes = this.kafka.codec(Topics.profileChanges);
      this.changes.catch(() => (this.changes = undefined));
    }
    return this.changes;
  }
}
