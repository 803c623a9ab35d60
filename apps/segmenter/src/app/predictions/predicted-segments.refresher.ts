import { Injectable } from '@nestjs/common';
import { BackfillService } from '../segments/backfill.service';
import { SegmentCatalog } from '../segments/segment-catalog';
import { readsPredictions } from './order-histories';

/**
 * After a run, re-evaluates the segments that read a predicted_* trait over every snapshot (a
 * backfill of their current version): predictions change without any profile change, so no
 * consumer record would move those memberships otherwise.
 */
@Injectable()
export class PredictedSegmentsRefresher {
  constructor(
    private readonly catalog: SegmentCatalog,
    private readonly backfill: BackfillService,
  ) {}

  async refresh(workspaceId: string): Promise<string[]> {
    this.catalog.invalidate(workspaceId);
    const segments = await this.catalog.forWorkspace(workspaceId);
    const readers = segments.ordered.filter((s) => readsPredictions(s.compiled.traits));
    await Promise.all(readers.map((s) => this.backfill.start(workspaceId, s.segmentId, s.version)));
    return readers.map((s) => s.segmentId);
  }
}
