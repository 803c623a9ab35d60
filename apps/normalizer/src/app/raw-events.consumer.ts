import { Injectable, type OnModuleDestroy } from '@nestjs/common';
import { Counter, Histogram } from 'prom-client';
import { normalizeEvent, planViolations } from '@cdp/cleaning';
import { recordKey, Topics, type NormalizedEvent, type RawEvent } from '@cdp/contracts';
import { KafkaGateway, PipelineConsumer, type InboundRecord, type OutboundRecord, type Rejection, type TopicCodec } from '@cdp/kafka';
import { HealthRegistry, Metrics } from '@cdp/platform';
import { claimsOf, isDuplicate, positionOf, type Candidate } from './dedupe';
import { DEDUPE_WINDOW_MS, DedupeRepository } from './dedupe.repository';
import { hasConsent } from './privacy/consent';
import { NormalizerConfig } from './normalizer.config';
import { applyPii } from './privacy/pii';
import { PiiCipher } from './privacy/pii-crypto';
import { rawFromJson } from './raw-from-json';
import { SettingsRepository, type WorkspaceSettings } from './settings.repository';
import { eventIdentifierHashes, parseObject, type IdentifierSource } from './suppression/suppressed-identifiers';
import { SuppressionsRepository } from './suppression/suppressions.repository';
import { TrackingPlansRepository } from './tracking-plans.repository';

/** A record after decoding and cleaning, with the hashes of its identifiers (for the suppression check). */
type Cleaned = { workspaceId: string | null; hashes: string[] } & (
  | { kind: 'rejected'; rejection: Rejection }
  | { kind: 'cleaned'; event: NormalizedEvent; record: InboundRecord; settings: WorkspaceSettings }
);

/** How often expired dedupe entries are swept. */
const SWEEP_EVERY_MS = 10 * 60 * 1000;

/**
 * cdp.events.raw.v1 -> cleaning -> suppression, consent -> tracking plan -> PII -> dedupe -> cdp.events.normalized.v1 (or the DLQ with a reason).
 * Accepts Avro in the Confluent wire format and, from apps without a registry client, plain
 * JSON Segment messages keyed by workspace id.
 */
@Injectable()
export class RawEventsConsumer extends PipelineConsumer implements OnModuleDestroy {
  private out!: TopicCodec<NormalizedEvent>;
  private readonly duplicates: Counter<'topic'>;
  private readonly outcomes: Counter<'outcome' | 'reason'>;
  /** The PII `encrypt` action's cipher; null without CDP_PII_ENCRYPTION_KEY (then encrypted fields are dropped). */
  private readonly cipher: PiiCipher | null;
  private readonly stageSeconds: Histogram<'stage'>;
  private sweeper: NodeJS.Timeout | undefined;

  constructor(
    kafka: KafkaGateway,
    metrics: Metrics,
    health: HealthRegistry,
    private readonly dedupe: DedupeRepository,
    private readonly settings: SettingsRepository,
    private readonly plans: TrackingPlansRepository,
    private readonly suppressions: SuppressionsRepository,
    config: NormalizerConfig,
  ) {
    super(kafka, metrics, health, [Topics.rawEvents], 'normalizer');
    this.cipher = PiiCipher.fromBase64(config.CDP_PII_ENCRYPTION_KEY);
    this.duplicates = new Counter({
      name: 'cdp_normalizer_duplicates_total',
      help: 'Events dropped because another record already carried their workspace + messageId within the dedupe window.',
      labelNames: ['topic'] as const,
      registers: [metrics.registry],
    });
    this.outcomes = new Counter({
      name: 'cdp_normalizer_events_total',
      help: 'Raw records by outcome: ok, flagged (passed with tracking-plan violations), dlq (by reason), deduped, consent_dropped, suppressed.',
      labelNames: ['outcome', 'reason'] as const,
      registers: [metrics.registry],
    });
    this.stageSeconds = new Histogram({
      name: 'cdp_normalizer_stage_seconds',
      help: 'Time per chunk in each step: clean (decode, clean, consent, tracking plan, PII), suppress (suppressed-identifier lookup), dedupe (messageId claims), produce (encode, send).',
      labelNames: ['stage'] as const,
      buckets: [0.0005, 0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
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
    const accepted: { event: NormalizedEvent; record: InboundRecord; candidate: Candidate }[] = [];
    let started = process.hrtime.bigint();
    const cleaned: Cleaned[] = [];
    for (const record of records) cleaned.push(await this.clean(record));
    let cleanNs = process.hrtime.bigint() - started;

    // Before anything keeps an event (not even the DLQ): events of suppressed identifiers are dropped.
    const suppressing = this.stageSeconds.startTimer({ stage: 'suppress' });
    const suppressed = await this.suppressedOf(cleaned);
    suppressing();

    started = process.hrtime.bigint();
    let dropped = 0;
    for (const item of cleaned) {
      if (item.workspaceId !== null && item.hashes.some((h) => suppressed.get(item.workspaceId as string)?.has(h))) {
        this.outcomes.inc({ outcome: 'suppressed', reason: '' });
        dropped++;
        continue;
      }
      if (item.kind === 'rejected') {
        rejections.push(item.rejection);
        continue;
      }
      const { event: e, record, settings } = item;
      // An event without the consent it needs is dropped, never dead-lettered.
      if (settings.consent.length > 0 && !hasConsent(settings.consent, e, JSON.parse(e.context))) {
        this.outcomes.inc({ outcome: 'consent_dropped', reason: '' });
        continue;
      }
      const plan = await this.plans.plan(e.workspaceId);
      const mode = plan?.modeOf(e) ?? 'allow';
      if (plan && mode !== 'allow') {
        const violations = planViolations(plan.compiled, { ...e, properties: JSON.parse(e.properties), traits: JSON.parse(e.traits) });
        if (violations.length > 0 && mode === 'block') {
          const message = `tracking plan: ${violations.join('; ')}`.slice(0, 1_000);
          rejections.push({ record, workspaceId: e.workspaceId, reason: 'tracking_plan_violation', message });
          continue;
        }
        e.violations = violations;
      }
      if (settings.pii.length > 0) {
        const { cipher } = this;
        const encrypt = cipher ? (value: unknown) => cipher.encrypt(e.workspaceId, value) : null;
        const f = applyPii(
          settings.pii,
          { salt: settings.piiSalt, encrypt },
          {
            traits: JSON.parse(e.traits) as Record<string, unknown>,
            properties: JSON.parse(e.properties) as Record<string, unknown>,
            context: JSON.parse(e.context) as Record<string, unknown>,
          },
        );
        e.traits = JSON.stringify(f.traits);
        e.properties = JSON.stringify(f.properties);
        e.context = JSON.stringify(f.context);
      }
      accepted.push({ event: e, record, candidate: { workspaceId: e.workspaceId, messageId: e.messageId, position: positionOf(record) } });
    }
    cleanNs += process.hrtime.bigint() - started;
    this.stageSeconds.observe({ stage: 'clean' }, Number(cleanNs) / 1e9);
    // Counts and positions only: the identifiers are what the person asked to be forgotten by.
    if (dropped > 0)
      this.logger.log(`dropped ${dropped} events of suppressed identifiers from ${records[0]?.topic}[${records[0]?.partition}]`);

    // Claim before producing: a crash after the claim redelivers the same record, which holds
    // the claim and so is produced again (see README, "Dedupe").
    const deduping = this.stageSeconds.startTimer({ stage: 'dedupe' });
    const holders = new Map<string, Map<string, string>>();
    const now = new Date();
    for (const [workspaceId, claims] of claimsOf(accepted.map((a) => a.candidate))) {
      holders.set(workspaceId, await this.dedupe.claim(workspaceId, claims, now));
    }
    deduping();
    const producing = this.stageSeconds.startTimer({ stage: 'produce' });
    const outbound: OutboundRecord[] = [];
    for (const { event: e, record, candidate } of accepted) {
      if (isDuplicate(candidate, holders)) {
        this.duplicates.inc({ topic: records[0]?.topic ?? '' });
        this.outcomes.inc({ outcome: 'deduped', reason: '' });
        continue;
      }
      this.outcomes.inc({ outcome: e.violations.length > 0 ? 'flagged' : 'ok', reason: '' });
      outbound.push({
        topic: this.out.topic,
        key: recordKey(e.workspaceId, e.anonymousId ?? e.userId ?? e.messageId),
        value: await this.out.encode(e),
        headers: this.traceHeaders(record),
      });
    }
    await this.kafka.producer.send(outbound);
    producing();
    for (const r of rejections) this.outcomes.inc({ outcome: 'dlq', reason: r.reason });
    return rejections;
  }

  /**
   * Decodes and cleans one record. A record that will be dead-lettered still names the hashes of
   * the identifiers it visibly carries, so a suppressed person's bytes do not end up in the DLQ.
   */
  private async clean(record: InboundRecord): Promise<Cleaned> {
    const raw = await this.readRaw(record);
    if ('reason' in raw) return { kind: 'rejected', rejection: raw, workspaceId: raw.workspaceId, hashes: [] };
    let message: unknown;
    try {
      message = JSON.parse(raw.payload);
    } catch {
      const rejection = { record, workspaceId: raw.workspaceId, reason: 'invalid_json', message: 'payload is not valid JSON' };
      return { kind: 'rejected', rejection, workspaceId: raw.workspaceId, hashes: [] };
    }
    const settings = await this.settings.settings(raw.workspaceId);
    const result = normalizeEvent(message, raw, settings.cleaning);
    if (!result.ok) {
      const rejection = { record, workspaceId: raw.workspaceId, reason: result.reason, message: result.message };
      const source = typeof message === 'object' && message !== null ? (message as IdentifierSource) : {};
      return { kind: 'rejected', rejection, workspaceId: raw.workspaceId, hashes: eventIdentifierHashes(raw.workspaceId, source) };
    }
    const e = result.event;
    const hashes = eventIdentifierHashes(e.workspaceId, { ...e, traits: parseObject(e.traits), context: parseObject(e.context) });
    return { kind: 'cleaned', event: e, record, settings, workspaceId: e.workspaceId, hashes };
  }

  /** The suppressed hashes among the chunk's, per workspace: one lookup by `_id` per workspace. */
  private async suppressedOf(cleaned: readonly Cleaned[]): Promise<Map<string, Set<string>>> {
    const byWorkspace = new Map<string, string[]>();
    for (const item of cleaned) {
      if (item.workspaceId === null || item.hashes.length === 0) continue;
      const list = byWorkspace.get(item.workspaceId);
      if (list) list.push(...item.hashes);
      else byWorkspace.set(item.workspaceId, [...item.hashes]);
    }
    const out = new Map<string, Set<string>>();
    for (const [workspaceId, hashes] of byWorkspace) {
      const found = await this.suppressions.suppressed(workspaceId, hashes);
      if (found.size > 0) out.set(workspaceId, found);
    }
    return out;
  }

  /** The raw envelope from Avro, or from a plain JSON message keyed `<workspaceId>:...`. */
  private async readRaw(record: InboundRecord): Promise<RawEvent | Rejection> {
    const value = record.value;
    if (value && value[0] === 0x7b /* '{' */) return rawFromJson(record, value);
    const decoded = await this.decodeRecord<RawEvent>(record);
    return decoded.ok ? decoded.value : decoded.rejection;
  }
}
