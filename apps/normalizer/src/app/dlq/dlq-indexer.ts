import { Injectable, Logger, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import { Binary } from 'mongodb';
import { Topics, type DeadLetter } from '@cdp/contracts';
import { ConsumerRunner, DecodeError, KafkaGateway, type InboundRecord } from '@cdp/kafka';
import { HealthRegistry } from '@cdp/platform';
import { SuppressionsRepository } from '../suppression/suppressions.repository';
import { DLQ_INDEX_DAYS, DlqIndexRepository, type DlqEntryDoc } from './dlq-index.repository';
import { letterIdentifierHashes, letterMessageId } from './letter-identifiers';

const SWEEP_EVERY_MS = 60 * 60 * 1000;
const DAY_MS = 86_400_000;

/**
 * Reads cdp.events.dlq.v1 (every stage's letters) in its own consumer group and indexes each
 * letter per workspace in `normalizer_dlq`, so the API can count, list and replay them without
 * scanning the topic per request. Offsets are committed after the letters are stored, and a
 * letter is stored under its DLQ position, so a redelivery changes nothing.
 */
@Injectable()
export class DlqIndexer implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(DlqIndexer.name);
  private runner: ConsumerRunner | undefined;
  private sweeper: NodeJS.Timeout | undefined;

  constructor(
    private readonly kafka: KafkaGateway,
    private readonly health: HealthRegistry,
    private readonly index: DlqIndexRepository,
    private readonly suppressions: SuppressionsRepository,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const topic = this.kafka.topic(Topics.deadLetters);
    this.runner = new ConsumerRunner({
      client: this.kafka.client,
      groupId: this.kafka.groupId('.dlq-index'),
      topics: [topic],
      handle: (records) => this.handle(records),
      onError: (e) => this.logger.error(`indexing dead letters failed, will be redelivered: ${e instanceof Error ? e.message : String(e)}`),
    });
    this.health.register('consumer:dlq-index', async () => {
      if (!this.runner?.isRunning) throw new Error('DLQ indexer not running');
    });
    void this.sweep();
    this.sweeper = setInterval(() => void this.sweep(), SWEEP_EVERY_MS);
    this.sweeper.unref();
    await this.runner.start();
  }

  async beforeApplicationShutdown(): Promise<void> {
    if (this.sweeper) clearInterval(this.sweeper);
    await this.runner?.stop();
  }

  private async handle(records: InboundRecord[]): Promise<void> {
    const byWorkspace = new Map<string, Omit<DlqEntryDoc, 'workspaceId'>[]>();
    for (const record of records) {
      let letter: DeadLetter;
      try {
        letter = await this.kafka.decode<DeadLetter>(record.value, record.topic);
      } catch (e) {
        if (!(e instanceof DecodeError)) throw e;
        this.logger.warn(`DLQ record ${record.partition}@${record.offset} not indexed: ${e.code}`);
        continue;
      }
      // A letter too broken to name its workspace belongs to no one who could list or replay it.
      if (!letter.workspaceId) continue;
      const entries = byWorkspace.get(letter.workspaceId) ?? [];
      entries.push({
        dlqPartition: record.partition,
        dlqOffset: record.offset,
        stage: letter.stage,
        reason: letter.reason,
        message: letter.message,
        sourceTopic: letter.sourceTopic,
        sourcePartition: letter.sourcePartition,
        sourceOffset: letter.sourceOffset,
        failedAt: new Date(letter.failedAt),
        originalKey: letter.originalKey ? new Binary(letter.originalKey) : null,
        originalValue: letter.originalValue ? new Binary(letter.originalValue) : null,
        ...(await this.aboutOriginal(letter.workspaceId, letter.originalValue)),
      });
      byWorkspace.set(letter.workspaceId, entries);
    }
    for (const [workspaceId, entries] of byWorkspace) {
      // A letter about a suppressed person is not kept: a regulation purged the ones before it.
      const suppressed = await this.suppressions.suppressed(workspaceId, [...new Set(entries.flatMap((e) => e.identifierHashes))]);
      await this.index.add(
        workspaceId,
        entries.filter((e) => !e.identifierHashes.some((h: string) => suppressed.has(h))),
      );
    }
  }

  /** Who and which event the letter's original record is about. */
  private async aboutOriginal(
    workspaceId: string,
    value: Buffer | null,
  ): Promise<{ identifierHashes: string[]; messageId: string | null }> {
    const original = await this.readOriginal(value);
    return { identifierHashes: letterIdentifierHashes(workspaceId, original), messageId: letterMessageId(original) };
  }

  /** The letter's original record: Avro of the registry, or JSON; null when neither. */
  private async readOriginal(value: Buffer | null): Promise<unknown> {
    if (!value || value.length === 0) return null;
    try {
      return await this.kafka.decode<unknown>(value);
    } catch (e) {
      if (!(e instanceof DecodeError)) throw e;
    }
    try {
      return JSON.parse(value.toString('utf8')) as unknown;
    } catch {
      return null;
    }
  }

  private async sweep(): Promise<void> {
    try {
      const deleted = await this.index.sweep(new Date(Date.now() - DLQ_INDEX_DAYS * DAY_MS));
      if (deleted > 0) this.logger.log(`swept ${deleted} expired dead letters from the index`);
    } catch (e) {
      this.logger.warn(`DLQ index sweep failed: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
}
