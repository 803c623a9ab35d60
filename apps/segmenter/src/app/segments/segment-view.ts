import { randomBytes } from 'node:crypto';
import type { Condition } from '@cdp/segment-language';
import type { SegmentDocument } from './segments.repository';

export interface BackfillView {
  version: number;
  status: 'running' | 'done' | 'failed';
  percent: number;
  processed: number;
  total: number;
  entered: number;
  profilesPerSecond: number;
  startedAt: string;
  finishedAt: string | null;
}

export interface SegmentView {
  id: string;
  name: string;
  version: number;
  definition: Condition;
  text: string;
  outputTraits: string[];
  outputTopic: string | null;
  backfill: BackfillView | null;
  createdAt: string;
  updatedAt: string;
}

export const toView = (d: SegmentDocument): SegmentView => ({
  id: d.segmentId,
  name: d.name,
  version: d.version ?? 1,
  definition: d.definition,
  text: d.text,
  outputTraits: d.outputTraits ?? [],
  outputTopic: d.outputTopic ?? null,
  backfill: d.backfill
    ? {
        version: d.backfill.version,
        status: d.backfill.status,
        percent:
          d.backfill.status === 'done'
            ? 100
            : d.backfill.total > 0
              ? Math.min(100, Math.floor((100 * d.backfill.processed) / d.backfill.total))
              : 0,
        processed: d.backfill.processed,
        total: d.backfill.total,
        entered: d.backfill.entered,
        profilesPerSecond: d.backfill.profilesPerSecond,
        startedAt: new Date(d.backfill.startedAt).toISOString(),
        finishedAt: d.backfill.finishedAt ? new Date(d.backfill.finishedAt).toISOString() : null,
      }
    : null,
  createdAt: d.createdAt.toISOString(),
  updatedAt: d.updatedAt.toISOString(),
});

/** A new segment id: random, URL-safe, recognisable. */
export const newSegmentId = (): string => `seg_${randomBytes(12).toString('base64url')}`;

/** Members page size: 100 unless asked, capped by the DTO at 1000. */
export const pageSize = (limit: number | undefined): number => limit ?? 100;
