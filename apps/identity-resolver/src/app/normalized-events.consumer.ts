import { Injectable } from '@nestjs/common';
import { recordKey, Topics, type IdentityMerge, type NormalizedEvent, type ResolvedEvent } from '@cdp/contracts';
import {
  awaitAll,
  KafkaGateway,
  mapLimit,
  PipelineConsumer,
  traceIdOf,
  type ChunkContext,
  type InboundRecord,
  type OutboundRecord,
  type Rejection,
  type TopicCodec,
} from '@cdp/kafka';
import { HealthRegistry, Metrics } from '@cdp/platform';
import { eventIdentifiers } from './alias';
import type { ResolverRules } from './identity-rules';
import { IdentityRulesService } from './identity-rules.service';
import { erasuresOf, ProfileErasures } from './profile-erasures';
import { toIdentityMerge, toResolvedEvent } from './outputs';
import { ChunkGraph } from './chunk-graph';
import { FuzzyLinker } from './fuzzy-linker.service';
import { IdentityMetrics } from './identity-metrics';
import { IdentityRefusalsRepository, type Refused } from './identity-refusals.repository';
import { ResolverService, type Resolution } from './resolver.service';

/**
 * Independent groups of a chunk resolved at the same time. Their reads and writes are sent
 * together (CoalescedReads, CoalescedWrites), so more at once means fewer, larger round trips.
 */
const GROUP_CONCURRENCY = 64;

/**
 * cdp.events.normalized.v1 -> identity graph (MongoDB) -> cdp.events.resolved.v1 and
 * cdp.identity.merges.v1. Records that share an identifier or a profile are resolved one after
 * the other in offset order, independent ones concurrently; the outputs are produced in offset
 * order once the chunk's graph writes are stored: a redelivery re-derives the same ones.
 * Also reads the tombstones of cdp.profiles.changes.v1 (erasures) and drops those profiles.
 */
@Injectable()
export class NormalizedEventsConsumer extends PipelineConsumer {
  private resolved!: TopicCodec<ResolvedEvent>;
  private merges!: TopicCodec<IdentityMerge>;

  constructor(
    kafka: KafkaGateway,
    metrics: Metrics,
    health: HealthRegistry,
    private readonly resolver: ResolverService,
    private readonly rules: IdentityRulesService,
    private readonly erasures: ProfileErasures,
    private readonly fuzzy: FuzzyLinker,
    private readonly identityMetrics: IdentityMetrics,
    private readonly refusals: IdentityRefusalsRepository,
  ) {
    super(kafka, metrics, health, [Topics.normalizedEvents, Topics.profileChanges], 'identity-resolver');
  }

  protected async prepare(): Promise<void> {
    this.resolved = await this.kafka.codec(Topics.resolvedEvents);
    this.merges = await this.kafka.codec(Topics.identityMerges);
  }

  protected async handle(records: InboundRecord[], context: ChunkContext): Promise<Rejection[]> {
    if (context.topic === this.kafka.topic(Topics.profileChanges)) {
      // Only tombstones matter here; the other changes are not even decoded.
      await this.erasures.apply(erasuresOf(records));
      return [];
    }
    const stage = (name: 'decode' | 'group' | 'resolve' | 'produce') => this.identityMetrics.stageSeconds.startTimer({ stage: name });
    const decoding = stage('decode');
    const rejections: Rejection[] = [];
    const events: { record: InboundRecord; event: NormalizedEvent; rules: ResolverRules }[] = [];
    for (const record of records) {
      const decoded = await this.decodeRecord<NormalizedEvent>(record);
      if (!decoded.ok) rejections.push(decoded.rejection);
      else events.push({ record, event: decoded.value, rules: await this.rules.forWorkspace(decoded.value.workspaceId) });
    }
    decoding();
    // Events that share no identifier or profile are resolved concurrently; within a group, in offset order.
    const grouping = stage('group');
    // One read of the chunk's identifiers and profiles; each event's first attempt is served from it.
    const graph = new ChunkGraph();
    const groups = await this.resolver.independentGroups(
      events.map(({ event, rules }) => ({ workspaceId: event.workspaceId, identifiers: eventIdentifiers(event, rules) })),
      graph,
    );
    grouping();
    const resolving = stage('resolve');
    const results = new Array<Resolution>(events.length);
    await mapLimit(groups, GROUP_CONCURRENCY, async (group) => {
      for (const i of group) {
        const { event, rules } = events[i] as (typeof events)[number];
        const result = await this.resolver.resolve(event, rules, graph);
        // Fuzzy matching after flat matching, in the group's order, so the next event of the group sees its merge.
        results[i] = result.ok ? await this.fuzzy.link(event, rules, await this.rules.fuzzy(event.workspaceId), result, graph) : result;
      }
    });
    resolving();
    const producing = stage('produce');
    const outbound: OutboundRecord[] = [];
    const refused: Refused[] = [];
    for (const [i, { record, event }] of events.entries()) {
      const result = results[i] as Resolution;
      if (!result.ok) {
        rejections.push({
          record,
          workspaceId: event.workspaceId,
          messageId: event.messageId,
          reason: result.reason,
          message: result.message,
        });
        continue;
      }
      const { workspaceId, messageId, timestamp } = event;
      if (result.demoted.length > 0)
        refused.push({ workspaceId, messageId, timestamp, profileId: result.profileId, demoted: result.demoted });
      // The event's trace continues on the resolved event and on the merges it caused.
      const headers = this.traceHeaders(record);
      for (const merge of result.merges) {
        this.logger.log({
          msg: `merged ${merge.fromProfileId} into ${merge.intoProfileId}`,
          workspaceId: event.workspaceId,
          messageId: event.messageId,
          traceId: traceIdOf(headers),
        });
        outbound.push({
          topic: this.merges.topic,
          key: recordKey(event.workspaceId, merge.intoProfileId),
          value: await this.merges.encode(toIdentityMerge(event.workspaceId, merge)),
          headers,
        });
      }
      outbound.push({
        topic: this.resolved.topic,
        key: recordKey(event.workspaceId, result.profileId),
        value: await this.resolved.encode(toResolvedEvent(event, result.profileId, result.identifiers)),
        headers,
      });
    }
    // The refusals are an effect too (explanations read them): stored before the offsets are committed.
    await awaitAll([this.kafka.producer.send(outbound), this.refusals.record(refused)]);
    producing();
    return rejections;
  }
}
