import { randomBytes } from 'node:crypto';
import type { Condition } from '@cdp/segment-language';
import type { SegmentDocument } from './segments.repository';

export interface SegmentView {
  id: string;
  name: string;
  definition: Condition;
  text: string;
  createdAt: string;
  updatedAt: string;
}

export const toView = (d: SegmentDocument): SegmentView => ({
  id: d.segmentId,
  name: d.name,
  definition: d.definition,
  text: d.text,
  createdAt: d.createdAt.toISOString(),
  updatedAt: d.updatedAt.toISOString(),
});

/** A new segment id: random, URL-safe, recognisable. */
export const newSegmentId = (): string => `seg_${randomBytes(12).toString('base64url')}`;

/** Members page size: 100 unless asked, capped by the DTO at 1000. */
export const pageSize = (limit: number | undefined): number => limit ?? 100;
