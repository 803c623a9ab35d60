import { Injectable } from '@nestjs/common';
import type { IndexDescription } from 'mongodb';
import type { PredictionReport } from '@cdp/predictions';
import { MongoConnection, type WorkspaceDocument, WorkspaceRepository } from '@cdp/mongo';

const LATEST = 'latest';

export interface PredictionReportDocument extends WorkspaceDocument {
  reportId: string;
  /** JSON text of the PredictionReport (tier names hold spaces; NaN-free numbers as JSON has them). */
  report: string;
  startedAt: number;
  finishedAt: number;
}

/** The model report of each workspace's latest predictions run (collection `segment_prediction_reports`). */
@Injectable()
export class PredictionReportsRepository extends WorkspaceRepository<PredictionReportDocument> {
  constructor(mongo: MongoConnection) {
    super(mongo.db, 'segment_prediction_reports', ['reportId']);
  }

  indexes(): IndexDescription[] {
    return [{ key: { workspaceId: 1, reportId: 1 }, name: 'workspace_report', unique: true }];
  }

  async save(workspaceId: string, report: PredictionReport, startedAt: number, finishedAt: number): Promise<void> {
    await this.upsertEach(workspaceId, [
      { filter: { reportId: LATEST }, update: { $set: { reportId: LATEST, report: JSON.stringify(report), startedAt, finishedAt } } },
    ]);
  }

  async latest(workspaceId: string): Promise<{ report: PredictionReport; startedAt: number; finishedAt: number } | null> {
    const d = await this.findOne(workspaceId, { reportId: LATEST }, { projection: { _id: 0 } });
    return d ? { report: JSON.parse(d.report) as PredictionReport, startedAt: d.startedAt, finishedAt: d.finishedAt } : null;
  }
}
