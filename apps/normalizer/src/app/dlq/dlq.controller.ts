import { BadRequestException, Body, Controller, Get, HttpCode, Post, Query, UseGuards } from '@nestjs/common';
import { ApiKeyGuard, Audit, RequireScope, WorkspaceId } from '@cdp/access';
import { ALL_TOPICS } from '@cdp/contracts';
import { KafkaGateway, type OutboundRecord } from '@cdp/kafka';
import { DlqIndexRepository, type DlqCount, type DlqEntryView, type DlqOriginal } from './dlq-index.repository';
import {
  LIST_DEFAULT_LIMIT,
  LIST_MAX_LIMIT,
  parseFilter,
  parseLimit,
  REPLAY_DEFAULT_LIMIT,
  REPLAY_MAX_LIMIT,
  type Parsed,
} from './dlq-query';
import { REPLAY_OF_HEADER } from './replay-header';

const PRODUCE_BATCH = 500;

const orBadRequest = <T>(parsed: Parsed<T>): T => {
  if (!parsed.ok) throw new BadRequestException(parsed.problem);
  return parsed.value;
};

/** The workspace's dead letters (every stage): counts by reason and stage, recent letters, and replay. */
@Controller('v1/dlq')
@UseGuards(ApiKeyGuard)
@RequireScope('admin')
export class DlqController {
  constructor(
    private readonly index: DlqIndexRepository,
    private readonly kafka: KafkaGateway,
  ) {}

  @Get()
  async list(
    @WorkspaceId() workspaceId: string,
    @Query() query: Record<string, unknown>,
  ): Promise<{ total: number; replayed: number; counts: DlqCount[]; entries: DlqEntryView[] }> {
    const { limit, ...rest } = query;
    const filter = orBadRequest(parseFilter(rest, ['reason', 'stage', 'since', 'until'], Date.now()));
    const n = orBadRequest(parseLimit(limit, LIST_DEFAULT_LIMIT, LIST_MAX_LIMIT));
    const [counts, entries] = await Promise.all([this.index.counts(workspaceId, filter), this.index.recent(workspaceId, filter, n)]);
    const sum = (field: 'count' | 'replayed'): number => counts.reduce((n, c) => n + c[field], 0);
    return { total: sum('count'), replayed: sum('replayed'), counts, entries };
  }

  /**
   * Writes the original bytes of matching letters (oldest first) back to the topic they came
   * from, and notes them replayed: the next replay leaves them out unless `again`. Replaying twice
   * has no second effect anyway: the normalizer drops a messageId it has seen (and later stages are
   * idempotent on their keys).
   */
  @Post('replay')
  @HttpCode(200)
  @Audit('dlq.replay')
  async replay(
    @WorkspaceId() workspaceId: string,
    @Body() body: unknown,
  ): Promise<{ replayed: number; skipped: number; replayedBefore: number }> {
    if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new BadRequestException('the body must be a JSON object');
    const { limit, again, ...rest } = body as Record<string, unknown>;
    const filter = orBadRequest(parseFilter(rest, ['reason', 'stage', 'since', 'until'], Date.now()));
    const n = orBadRequest(parseLimit(limit, REPLAY_DEFAULT_LIMIT, REPLAY_MAX_LIMIT));
    if (again !== undefined && typeof again !== 'boolean') throw new BadRequestException('again must be true or false');
    const originals = await this.index.originals(workspaceId, filter, n, again === true);
    // Only back to this deployment's own pipeline topics, whatever a letter says.
    const allowed = new Set(ALL_TOPICS.map((t) => this.kafka.topic(t)));
    const sendable = originals.filter((o): o is DlqOriginal & { value: Buffer } => allowed.has(o.sourceTopic) && o.value !== null);
    const records: OutboundRecord[] = sendable.map((o) => ({
      topic: o.sourceTopic,
      key: o.key ?? '',
      value: o.value,
      headers: { [REPLAY_OF_HEADER]: `${o.sourceTopic}/${o.sourcePartition}/${o.sourceOffset}` },
    }));
    for (let i = 0; i < records.length; i += PRODUCE_BATCH) await this.kafka.producer.send(records.slice(i, i + PRODUCE_BATCH));
    // Counted before these are marked: the ones a replay before this one wrote back.
    const replayedBefore = again === true ? 0 : await this.index.countReplayed(workspaceId, filter);
    await this.index.markReplayed(workspaceId, sendable, new Date());
    return { replayed: records.length, skipped: originals.length - records.length, replayedBefore };
  }
}
