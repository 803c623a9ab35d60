import { Injectable, type OnModuleDestroy } from '@nestjs/common';
import { Counter } from 'prom-client';
import { normalizeEvent, planViolations } from '@cdp/cleaning';
import { recordKey, Topics, type NormalizedEvent, type RawEvent } from '@cdp/contracts';
import { KafkaGateway, PipelineConsumer, type InboundRecord, type OutboundRecord, type Rejection, type TopicCodec } from '@cdp/kafka';
import { HealthRegistry, Metrics } from '@cdp/platform';
import { claimsOf, isDuplicate, positionOf, type Candidate } from './dedupe';
import { DEDUPE_WINDOW_MS, DedupeRepository } from './dedupe.repository';
import { rawFromJson } from './raw-from-json';
import { SettingsRepository } from './settings.repository';
import { TrackingPlansRepository } from './tracking-plans.repository';

/** How often expired dedupe entries are swept. */
const SWEEP_EVERY_MS = 10 * 60 * 1000;

/**
 * cdp.events.raw.v1 -> cleaning -> tracking plan -> dedupe -> cdp.events.normalized.v1 (or the DLQ with a reason).
 * Accepts Avro in the Confluent wire format and, from apps without a registry client, plain
 * JSON Segment messages keyed by workspace id.
 */
@Injectable()
export class RawEventsConsumer extends PipelineConsumer implements OnModuleDestroy {
  private out!: TopicCodec<NormalizedEvent>;
  private readonly duplicates: Counter<'topic'>;
  private sweeper: NodeJS.Timeout | undefined;

  constructor(
    kafka: KafkaGateway,
    metrics: Metrics,
    health: HealthRegistry,
    private readonly dedupe: DedupeRepository,
    private readonly settings: SettingsRepository,
    private readonly plans: TrackingPlansRepository,
  ) {
    super(kafka, metrics, health, [Topics.rawEvents], 'normalizer');
    this.duplicates = new Counter({
      name: 'cdp_normalizer_duplicates_total',
      help: 'Events dropped because another record already carried their workspace + messageId within the dedupe window.',
      labelNames: ['topic'] as const,
      registers: [metrics.registry],
    });
  }

  protected async prepare(): Promise<void> {
    this.out = await this.kafka.codec(Topics.normalizedEvents);
    await this.sweep();
    this.sweeper = setInterval(() => void this.sweep(), SWEEP_EVERY_MS);
    this.sweeper.unref();
  }

  onModuleDestroy(): void {
    if (this.sweeper) clearInterval(this.sweeper);
  }

  private async sweep(): Promise<void> {
    try {
      const deleted = await this.dedupe.sweep(new Date(Date.now() - DEDUPE_WINDOW_MS));
      if (deleted > 0) this.logger.log(`swept ${deleted} expired dedupe entries`);
    } catch (e) {
      // The next sweep catches up; dedupe stays correct with entries kept longer.
      this.logger.warn(`dedupe sweep failed: ${e instanceof Error ? e.message : String(e)}`);
    }
  }

  protected async handle(records: InboundRecord[]): Promise<Rejection[]> {
    const rejections: Rejection[] = [];
    const accepted: { event: NormalizedEvent; candidate: Candidate }[] = [];
    for (const record of records) {
      const raw = await this.readRaw(record);
      if ('reason' in raw) {
        rejections.push(raw);
        continue;
      }
      let message: unknown;
      try {
        message = JSON.parse(raw.payload);
      } catch {
        rejections.push({ record, workspaceId: raw.workspaceId, reason: 'invalid_json', message: 'payload is not valid JSON' });
        continue;
      }
      const result = normalizeEvent(message, raw, await this.settings.options(raw.workspaceId));
      if (!result.ok) {
        rejections.push({ record, workspaceId: raw.workspaceId, reason: result.reason, message: result.message });
        continue;
      }
      const e = result.event;
      const plan = await this.plans.plan(e.workspaceId);
      if (plan) {
        const violations = planViolations(plan, { ...e, properties: JSON.parse(e.properties), traits: JSON.parse(e.traits) });
        if (violations.length > 0 && plan.mode === 'block') {
          const message = `tracking plan: ${violations.join('; ')}`.slice(0, 1_000);
          rejections.push({ record, workspaceId: e.workspaceId, reason: 'tracking_plan_violation', message });
          continue;
        }
        e.violations = violations;
      }
      accepted.push({ event: e, candidate: { workspaceId: e.workspaceId, messageId: e.messageId, position: positionOf(record) } });
    }

    // Claim before producing: a crash after the claim redelivers the same record, which holds
    // the claim and so is produced again (see README, "Dedupe").
    const holders = new Map<string, Map<string, string>>();
    const now = new Date();
    for (const [workspaceId, claims] of claimsOf(accepted.map((a) => a.candidate))) {
      holders.set(workspaceId, await this.dedupe.claim(workspaceId, claims, now));
    }
    const outbound: OutboundRecord[] = [];
    for (const { event: e, candidate } of accepted) {
      if (isDuplicate(candidate, holders)) {
        this.duplicates.inc({ topic: records[0]?.topic ?? '' });
        continue;
      }
      outbound.push({
        topic: this.out.topic,
        key: recordKey(e.workspaceId, e.anonymousId ?? e.userId ?? e.messageId),
        value: await this.out.encode(e),
      });
    }
    await this.kafka.producer.send(outbound);
    return rejections;
  }

  /** The raw envelope from Avro, or from a plain JSON message keyed `<workspaceId>:...`. */
  private async readRaw(record: InboundRecord): Promise<RawEvent | Rejection> {
    const value = record.value;
    if (value && value[0] === 0x7b /* '{' */) return rawFromJson(record, value);
    const decoded = await this.decodeRecord<RawEvent>(record);
    return decoded.ok ? decoded.value : decoded.rejection;
  }
}
