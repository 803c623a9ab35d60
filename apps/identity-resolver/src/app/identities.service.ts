import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { recordKey, Topics, type IdentityRemoval } from '@cdp/contracts';
import { profileIdAfterRemoval, type Identifier } from '@cdp/identity-graph';
import { KafkaGateway } from '@cdp/kafka';
import { IdentitiesRepository } from './identities.repository';
import { IdentityProfilesRepository, type IdentityProfileDoc } from './identity-profiles.repository';
import { IdentityRefusalsRepository, type IdentityRefusal } from './identity-refusals.repository';
import { describeMerge } from './outputs';
import { ProfileGraph } from './profile-graph';

export type Lookup =
  | { found: false; why: 'unknown' }
  | { found: false; why: 'profile_missing'; attachedTo: string }
  | { found: true; profile: IdentityProfileDoc; attachedTo: string; chain: IdentityProfileDoc[] };

/** Explanations and removals of identifiers (the API's side of the graph). */
@Injectable()
export class IdentitiesService {
  constructor(
    private readonly identities: IdentitiesRepository,
    private readonly profiles: IdentityProfilesRepository,
    private readonly kafka: KafkaGateway,
    private readonly refusals: IdentityRefusalsRepository,
  ) {}

  /** The identifier's canonical profile and the profiles from the one it was attached to up to it. */
  async lookup(workspaceId: string, id: Identifier): Promise<Lookup> {
    const identity = await this.identities.get(workspaceId, id);
    if (!identity) return { found: false, why: 'unknown' };
    const graph = await ProfileGraph.load([identity.profileId], (ids) => this.profiles.findMany(workspaceId, ids));
    const chain = graph.chain(identity.profileId);
    const canonical = chain.at(-1);
    if (!canonical || canonical.mergedInto) return { found: false, why: 'profile_missing', attachedTo: identity.profileId };
    return { found: true, profile: canonical, attachedTo: identity.profileId, chain };
  }

  /**
   * The API answer: the profile and the chain of merges that led there, oldest pointer first, each
   * with its reason; and the profiles a limit kept the identifier off (also when it has none).
   */
  async explain(workspaceId: string, id: Identifier) {
    const [found, refusals] = await Promise.all([this.lookup(workspaceId, id), this.refusals.ofIdentifier(workspaceId, id)]);
    const refused = refusals.map(describeRefusal);
    if (!found.found) return { ...found, refusals: refused };
    const { profile, attachedTo, chain } = found;
    return {
      found: true as const,
      body: {
        profileId: profile.profileId,
        identifier: id,
        attachedTo,
        profile: {
          profileId: profile.profileId,
          createdAt: profile.createdAt.toISOString(),
          // A type whose identifiers were all removed counts 0: not listed.
          identifierCounts: Object.fromEntries(Object.entries(profile.counts ?? {}).filter(([, n]) => n > 0)),
        },
        merges: chain.flatMap((node) =>
          node.mergedInto && node.merge
            ? [describeMerge({ fromProfileId: node.profileId, intoProfileId: node.mergedInto, merge: node.merge })]
            : [],
        ),
        refusals: refused,
      },
    };
  }

  /**
   * Removes an identifier from its person (like Segment's delete-external-ids): from now on it
   * stands for a new person of its own, so later events carrying it go there. Deleting the
   * identity would not do: the next event would derive the profile it created at first
   * (`profileIdFor`), often the very one it is removed from. The merges it caused stay (history).
   * Steps, each safe to repeat: the removal is published (cdp.identity.removals.v1, so the
   * profile-store drops it from the profile and its lookup); the new profile is made and counts
   * it; the identity is moved there (compare-and-set); the old profile's counts are lowered. A
   * failure leaves counts too high at worst, which only makes a limit stricter.
   */
  async remove(workspaceId: string, id: Identifier): Promise<{ removed: boolean; profileId?: string; newProfileId?: string }> {
    const found = await this.lookup(workspaceId, id);
    if (!found.found && found.why === 'unknown') return { removed: false };
    const profileId = found.found ? found.profile.profileId : found.attachedTo;
    const removal = await this.publishRemoval(workspaceId, profileId, found.attachedTo, id);
    const fresh = profileIdAfterRemoval(workspaceId, id, removal.removalId);
    await this.profiles.ensure(workspaceId, fresh, new Date(removal.removedAt));
    await this.profiles.reserveCounts(workspaceId, fresh, [id], removal.removedAt, {});
    if (!(await this.identities.repoint(workspaceId, id, found.attachedTo, fresh, new Date(removal.removedAt)))) return { removed: false };
    // An identity whose profile document is missing has no counts to lower.
    if (!found.found) return { removed: true, newProfileId: fresh };
    await this.profiles.uncountIdentifier(workspaceId, found.profile.profileId, found.attachedTo, id);
    return { removed: true, profileId: found.profile.profileId, newProfileId: fresh };
  }

  private async publishRemoval(
    workspaceId: string,
    profileId: string,
    attachedTo: string,
    identifier: Identifier,
  ): Promise<IdentityRemoval> {
    const codec = await this.kafka.codec(Topics.identityRemovals);
    const removal: IdentityRemoval = {
      workspaceId,
      removalId: randomUUID(),
      profileId,
      attachedTo,
      identifier: { type: identifier.type, value: identifier.value },
      removedAt: Date.now(),
    };
    await this.kafka.producer.send([{ topic: codec.topic, key: recordKey(workspaceId, profileId), value: await codec.encode(removal) }]);
    return removal;
  }
}

const describeRefusal = (r: IdentityRefusal) => ({
  profileId: r.profileId,
  limit: r.limit,
  firstAt: r.firstAt.toISOString(),
  lastAt: r.lastAt.toISOString(),
  messageId: r.messageId,
});
