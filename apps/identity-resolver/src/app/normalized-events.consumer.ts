import { Injectable } from '@nestjs/common';
import { recordKey, Topics, type IdentityMerge, type NormalizedEvent, type ResolvedEvent } from '@cdp/contracts';
import { KafkaGateway, PipelineConsumer, type InboundRecord, type OutboundRecord, type Rejection, type TopicCodec } from '@cdp/kafka';
import { HealthRegistry, Metrics } from '@cdp/platform';
import { IdentityRulesService } from './identity-rules.service';
import { toIdentityMerge, toResolvedEvent } from './outputs';
import { ResolverService } from './resolver.service';

/**
 * cdp.events.normalized.v1 -> identity graph (MongoDB) -> cdp.events.resolved.v1 and
 * cdp.identity.merges.v1. Records are resolved one after the other, in offset order, and the
 * outputs produced only once the graph writes are stored: a redelivery re-derives the same ones.
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
    const outbound: OutboundRecord[] = [];
    for (const record of records) {
      const decoded = await this.decodeRecord<NormalizedEvent>(record);
      if (!decoded.ok) {
        rejections.push(decoded.rejection);
        continue;
      }
      const event = decoded.value;
      const result = await this.resolver.resolve(event, await this.rules.forWorkspace(event.workspaceId));
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
