import { Injectable, type OnModuleDestroy } from '@nestjs/common';
import { Counter, Histogram } from 'prom-client';
import { normalizeFields, planViolations, serializeFields, type NormalizedFields, type TimestampReplaced } from '@cdp/cleaning';
import { recordKey, Topics, type NormalizedEvent, type RawEvent } from '@cdp/contracts';
import {
  awaitAll,
  type InboundRecord,
  KafkaGateway,
  type OutboundRecord,
  PipelineConsumer,
  type Rejection,
  type TopicCodec,
} from '@cdp/kafka';
import { HealthRegistry, Metrics } from '@cdp/platform';
import { claimedNow, claimsOf, isDuplicate, positionOf, type Candidate } from './dedupe';
import { DEDUPE_WINDOW_MS, DedupeRepository } from './dedupe.repository';
import { hasConsent } from './privacy/consent';
import { NormalizerConfig } from './normalizer.config';
import { applyPii } from './privacy/pii';
import { PiiCipher } from './privacy/pii-crypto';
import { isText, rawFromJson } from './raw-from-json';
import { SettingsRepository, type WorkspaceSettings } from './settings.repository';
import { eventIdentifierHashes, type IdentifierSource } from './suppression/suppressed-identifiers';
import { SuppressionsRepository } from './suppression/suppressions.repository';
import type { WorkspacePlan } from './tracking-plan-doc';
import { TrackingPlansRepository } from './tracking-plans.repository';
import { summarize, type FlaggedEvent } from './violations/violation-summary';
import { VIOLATION_RETENTION_DAYS, ViolationsRepository } from './violations/violations.repository';

/**
 * A record after decoding, cleaning and the workspace's policies, with the hashes of its
 * identifiers (for the suppression check, which comes first whatever else happened to it).
 */
type Screened = { workspaceId: string | null; hashes: string[] } & (
  | { kind: 'rejected'; rejection: Rejection }
  | { kind: 'consent_dropped' }
  | { kind: 'accepted'; event: NormalizedFields; record: InboundRecord; candidate: Candidate; timestampReplaced: TimestampReplaced | null }
);

/** A workspace's settings and compiled tracking plan (none: undefined). */
type Policies = [WorkspaceSettings, WorkspacePlan | undefined];

/** How often expired dedupe entries and violation rows are swept. */
const SWEEP_EVERY_MS = 10 * 60 * 1000;
const DAY_MS = 24 * 60 * 60 * 1000;

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
  private readonly timestampsReplaced: Counter<'reason'>;
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
    private readonly violations: ViolationsRepository,
    config: NormalizerConfig,
  ) {
    super(kafka, metrics, health, [Topics.rawEvents], 'normalizer');
    this.cipher = PiiCipher.fromBase64(config.CDP_PII_ENCRYPTION_KEY, config.CDP_PII_PREVIOUS_KEYS);
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
    this.timestampsReplaced = new Counter({
      name: 'cdp_normalizer_timestamps_replaced_total',
      help: 'Events passed on with receivedAt as their time instead of the one they gave, by reason: unreadable, future (over 10 min ahead), past (before 2000).',
      labelNames: ['reason'] as const,
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
    try {
      const deleted = await this.violations.sweep(new Date(Date.now() - VIOLATION_RETENTION_DAYS * DAY_MS));
      if (deleted > 0) this.logger.log(`swept ${deleted} tracking-plan violation rows not seen in ${VIOLATION_RETENTION_DAYS} days`);
    } catch (e) {
      this.logger.warn(`violation sweep failed: ${e instanceof Error ? e.message : String(e)}`);
    }
  }

  protected async handle(records: InboundRecord[]): Promise<Rejection[]> {
    const started = process.hrtime.bigint();
    const screened: Screened[] = [];
    // A workspace's settings and plan, read (through their caches) once per chunk, not per record.
    const policies = new Map<string, Policies>();
    const policiesOf = (workspaceId: string): Policies | Promise<Policies> =>
      policies.get(workspaceId) ??
      Promise.all([this.settings.settings(workspaceId), this.plans.plan(workspaceId)]).then((p) => {
        policies.set(workspaceId, p);
        return p;
      });
    for (const record of records) screened.push(await this.screen(record, policiesOf));
    this.stageSeconds.observe({ stage: 'clean' }, Number(process.hrtime.bigint() - started) / 1e9);

    // The suppression lookup and the dedupe claims are independent round trips: sent together.
    // Claim before producing: a crash after the claim redelivers the same record, which holds
    // the claim and so is produced again (see README, "Dedupe"). An event found suppressed gives
    // its claim back below, so suppression leaves no trace of it.
    const accepted = screened.flatMap((s) => (s.kind === 'accepted' ? [s] : []));
    const now = new Date();
    const [suppressed, { holders, earlier }] = await Promise.all([
      this.timed('suppress', () => this.suppressedOf(screened)),
      this.timed('dedupe', () =>
        this.claim(
          accepted.map((a) => a.candidate),
          now,
        ),
      ),
    ]);
    const isSuppressed = (item: Screened): boolean =>
      item.workspaceId !== null && item.hashes.some((h) => suppressed.get(item.workspaceId as string)?.has(h));

    const producing = this.stageSeconds.startTimer({ stage: 'produce' });
    const rejections: Rejection[] = [];
    const outbound: OutboundRecord[] = [];
    const released: Candidate[] = [];
    const flagged: FlaggedEvent[] = [];
    // Counted per chunk: a labelled counter's inc costs a label lookup each time.
    const counts = { suppressed: 0, consent_dropped: 0, deduped: 0, flagged: 0, ok: 0 };
    const replaced = new Map<TimestampReplaced, number>();
    for (const item of screened) {
      // Before anything keeps an event (not even the DLQ): events of suppressed identifiers are dropped.
      if (isSuppressed(item)) {
        counts.suppressed++;
        if (item.kind === 'accepted' && !isDuplicate(item.candidate, holders)) released.push(item.candidate);
        continue;
      }
      if (item.kind === 'rejected') {
        rejections.push(item.rejection);
        continue;
      }
      if (item.kind === 'consent_dropped') {
        counts.consent_dropped++;
        continue;
      }
      const { event: e, record, candidate, timestampReplaced } = item;
      if (isDuplicate(candidate, holders)) {
        counts.deduped++;
        continue;
      }
      if (timestampReplaced) replaced.set(timestampReplaced, (replaced.get(timestampReplaced) ?? 0) + 1);
      if (e.violations.length > 0) {
        counts.flagged++;
        // Only the delivery that claimed the messageId: a redelivered chunk or a copy adds nothing.
        if (claimedNow(candidate, holders, earlier))
          flagged.push({ workspaceId: e.workspaceId, type: e.type, event: e.event, messageId: e.messageId, violations: e.violations });
      } else counts.ok++;
      outbound.push({
        topic: this.out.topic,
        key: recordKey(e.workspaceId, e.anonymousId ?? e.userId ?? e.messageId),
        value: await this.out.encode(serializeFields(e)),
        headers: this.traceHeaders(record),
      });
    }
    // Counts and positions only: the identifiers are what the person asked to be forgotten by.
    if (counts.suppressed > 0)
      this.logger.log(`dropped ${counts.suppressed} events of suppressed identifiers from ${records[0]?.topic}[${records[0]?.partition}]`);
    await awaitAll([this.kafka.producer.send(outbound), this.release(released), this.recordViolations(flagged, now)]);
    producing();
    for (const [outcome, n] of Object.entries(counts)) if (n > 0) this.outcomes.inc({ outcome, reason: '' }, n);
    for (const [reason, n] of replaced) this.timestampsReplaced.inc({ reason }, n);
    if (counts.deduped > 0) this.duplicates.inc({ topic: records[0]?.topic ?? '' }, counts.deduped);
    for (const r of rejections) this.outcomes.inc({ outcome: 'dlq', reason: r.reason });
    return rejections;
  }

  private async timed<T>(stage: string, work: () => Promise<T>): Promise<T> {
    const end = this.stageSeconds.startTimer({ stage });
    try {
      return await work();
    } finally {
      end();
    }
  }

  /**
   * Claims the chunk's messageIds: one bulk insert per workspace (all at once); who holds each,
   * and which were claimed before.
   */
  private async claim(
    candidates: Candidate[],
    now: Date,
  ): Promise<{ holders: Map<string, Map<string, string>>; earlier: Map<string, Set<string>> }> {
    const claims = [...claimsOf(candidates)];
    const held = await awaitAll(claims.map(([workspaceId, c]) => this.dedupe.claim(workspaceId, c, now)));
    return {
      holders: new Map(claims.map(([workspaceId], i) => [workspaceId, held[i]?.holders ?? new Map<string, string>()])),
      earlier: new Map(claims.map(([workspaceId], i) => [workspaceId, held[i]?.earlier ?? new Set<string>()])),
    };
  }

  /**
   * Adds the chunk's flagged events to the violation summary: one bulk per workspace, shared with
   * concurrent chunks. A failure is logged, not retried: a redelivery would not count these
   * events (their claims are taken), so failing the chunk would only hold the pipeline up.
   */
  private async recordViolations(flagged: FlaggedEvent[], now: Date): Promise<void> {
    if (flagged.length === 0) return;
    try {
      await this.violations.record(summarize(flagged), now);
    } catch (e) {
      this.logger.warn(`violations of ${flagged.length} flagged events not recorded: ${e instanceof Error ? e.message : String(e)}`);
    }
  }

  /** Gives back the claims of suppressed events (rare: only chunks with such events pay the round trip). */
  private async release(candidates: Candidate[]): Promise<void> {
    for (const [workspaceId, claims] of claimsOf(candidates)) await this.dedupe.release(workspaceId, claims);
  }

  /**
   * Decodes and cleans one record, then applies its workspace's consent policy, tracking plan and
   * PII policy (all in memory). A record that will be dead-lettered still names the hashes of the
   * identifiers it visibly carries, so a suppressed person's bytes do not end up in the DLQ.
   */
  private async screen(record: InboundRecord, policiesOf: (workspaceId: string) => Policies | Promise<Policies>): Promise<Screened> {
    const raw = await this.readRaw(record);
    if ('reason' in raw) return { kind: 'rejected', rejection: raw, workspaceId: raw.workspaceId, hashes: [] };
    let message: unknown;
    try {
      message = JSON.parse(raw.payload);
    } catch {
      const rejection: Rejection = {
        record,
        workspaceId: raw.workspaceId,
        messageId: raw.messageId,
        reason: 'invalid_json',
        message: 'payload is not valid JSON',
      };
      return { kind: 'rejected', rejection, workspaceId: raw.workspaceId, hashes: [] };
    }
    const known = policiesOf(raw.workspaceId);
    const [settings, plan] = known instanceof Promise ? await known : known;
    const result = normalizeFields(message, raw, settings.cleaning);
    if (!result.ok) {
      const rejection = { record, workspaceId: raw.workspaceId, messageId: raw.messageId, reason: result.reason, message: result.message };
      const source = typeof message === 'object' && message !== null ? (message as IdentifierSource) : {};
      return { kind: 'rejected', rejection, workspaceId: raw.workspaceId, hashes: eventIdentifierHashes(raw.workspaceId, source) };
    }
    const e = result.event;
    const { workspaceId } = e;
    // Before PII: a suppression names the identifier as sent, not as hashed.
    const hashes = eventIdentifierHashes(workspaceId, e);
    // An event without the consent it needs is dropped, never dead-lettered.
    if (settings.consent.length > 0 && !hasConsent(settings.consent, e, e.context)) return { kind: 'consent_dropped', workspaceId, hashes };
    const mode = plan?.modeOf(e) ?? 'allow';
    if (plan && mode !== 'allow') {
      const violations = planViolations(plan.compiled, e);
      if (violations.length > 0 && mode === 'block') {
        const message = `tracking plan: ${violations.join('; ')}`.slice(0, 1_000);
        const rejection: Rejection = { record, workspaceId, messageId: e.messageId, reason: 'tracking_plan_violation', message };
        return { kind: 'rejected', rejection, workspaceId, hashes };
      }
      e.violations = violations;
    }
    if (settings.pii.length > 0) {
      const { cipher } = this;
      const encrypt = cipher ? (value: unknown) => cipher.encrypt(workspaceId, value) : null;
      const f = applyPii(
        settings.pii,
        { salt: settings.piiSalt, encrypt },
        { traits: e.traits, properties: e.properties, context: e.context },
      );
      e.traits = f.traits as NormalizedFields['traits'];
      e.properties = f.properties as NormalizedFields['properties'];
      e.context = f.context as NormalizedFields['context'];
    }
    const candidate = { workspaceId, messageId: e.messageId, position: positionOf(record) };
    // An erased person is suppressed by the identifiers the profile-store held, which are hashed
    // where the policy hashes their field: checked as stored too.
    const stored = settings.pii.length > 0 ? eventIdentifierHashes(workspaceId, e) : [];
    return {
      kind: 'accepted',
      event: e,
      record,
      candidate,
      workspaceId,
      hashes: union(hashes, stored),
      timestampReplaced: result.timestampReplaced,
    };
  }

  /** The suppressed hashes among the chunk's, per workspace: one lookup by `_id` per workspace. */
  private async suppressedOf(screened: readonly Screened[]): Promise<Map<string, Set<string>>> {
    const byWorkspace = new Map<string, string[]>();
    for (const item of screened) {
      if (item.workspaceId === null || item.hashes.length === 0) continue;
      const list = byWorkspace.get(item.workspaceId);
      if (list) list.push(...item.hashes);
      else byWorkspace.set(item.workspaceId, [...item.hashes]);
    }
    const found = await Promise.all([...byWorkspace].map(([workspaceId, hashes]) => this.suppressions.suppressed(workspaceId, hashes)));
    return new Map([...byWorkspace.keys()].map((workspaceId, i) => [workspaceId, found[i] as Set<string>]));
  }

  /** The raw envelope from Avro, or from a plain JSON message keyed `<workspaceId>:...`. */
  private async readRaw(record: InboundRecord): Promise<RawEvent | Rejection> {
    const value = record.value;
    if (value && isText(value)) return rawFromJson(record, value);
    const decoded = await this.decodeRecord<RawEvent>(record);
    return decoded.ok ? decoded.value : decoded.rejection;
  }
}

/** The hashes of both lists, each once (the second is usually empty or the same). */
const union = (a: string[], b: string[]): string[] => (b.length === 0 ? a : [...new Set([...a, ...b])]);
