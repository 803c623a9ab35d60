import { Injectable } from '@nestjs/common';
import { recordKey, Topics, type IdentityMerge, type NormalizedEvent, type ResolvedEvent } from '@cdp/contracts';
import { KafkaGateway, PipelineConsumer, type InboundRecord, type OutboundRecord, type Rejection, type TopicCodec } from '@cdp/kafka';
import { extractIdentifiers, type IdentityRules } from '@cdp/identity-graph';
import { HealthRegistry, Metrics } from '@cdp/platform';
import { IdentityRulesService } from './identity-rules.service';
import { toIdentityMerge, toResolvedEvent } from './outputs';
import { mapLimit } from './independent-groups';
import { ResolverService, type Resolution } from './resolver.service';

/** Independent groups of a chunk resolved at the same time (each a few database round trips per event). */
const GROUP_CONCURRENCY = 16;

/**
 * cdp.events.normalized.v1 -> identity graph (MongoDB) -> cdp.events.resolved.v1 and
 * cdp.identity.merges.v1. Records that share an identifier or a profile are resolved one after
 * the other in offset order, independent ones concurrently; the outputs are produced in offset
 * order once the chunk's graph writes are stored: a redelivery re-derives the same ones.
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
  ) {
    super(kafka, metrics, health, [Topics.normalizedEvents], 'identity-resolver');
  }

  protected async prepare(): Promise<void> {
    this.resolved = await this.kafka.codec(Topics.resolvedEvents);
    this.merges = await this.kafka.codec(Topics.identityMerges);
  }

  protected async handle(records: InboundRecord[]): Promise<Rejection[]> {
    const rejections: Rejection[] = [];
    const events: { record: InboundRecord; event: NormalizedEvent; rules: IdentityRules }[] = [];
    for (const record of records) {
      const decoded = await this.decodeRecord<NormalizedEvent>(record);
      if (!decoded.ok) rejections.push(decoded.rejection);
      else events.push({ record, event: decoded.value, rules: await this.rules.forWorkspace(decoded.value.workspaceId) });
    }
    // Events that share no identifier or profile are resolved concurrently; within a group, in offset order.
    const groups = await this.resolver.independentGroups(
      events.map(({ event, rules }) => ({ workspaceId: event.workspaceId, identifiers: extractIdentifiers(event, rules) })),
    );
    const results = new Array<Resolution>(events.length);
    await mapLimit(groups, GROUP_CONCURRENCY, async (group) => {
      for (const i of group) {
        const { event, rules } = events[i] as (typeof events)[number];
        results[i] = await this.resolver.resolve(event, rules);
      }
    });
    const outbound: OutboundRecord[] = [];
    for (const [i, { record, event }] of events.entries()) {
      const result = results[i] as Resolution;
      if (!result.ok) {
        rejections.push({ record, workspaceId: event.workspaceId, reason: result.reason, message: result.message });
        continue;
      }
      for (const merge of result.merges) {
        this.logger.log(`merged ${merge.fromProfileId} into ${merge.intoProfileId} (${event.workspaceId}/${event.messageId})`);
        outbound.push({
          topic: this.merges.topic,
          key: recordKey(event.workspaceId, merge.intoProfileId),
          value: await this.merges.encode(toIdentityMerge(event.workspaceId, merge)),
        });
      }
      outbound.push({
        topic: this.resolved.topic,
        key: recordKey(event.workspaceId, result.profileId),
        value: await this.resolved.encode(toResolvedEvent(event, result.profileId, result.identifiers)),
      });
    }
    await this.kafka.producer.send(outbound);
    return rejections;
  }
}
