import { Controller, HttpCode, Post, Query, Req, Res } from '@nestjs/common';
import type { Request, Response } from 'express';
import { MAX_EVENT_BYTES } from '../tracking/segment-message';
import { recordToIdentify } from './csv-mapping';
import { ImportRunner, type ImportQuery, type ImportReport } from './import-runner';
import { ndjsonLines } from './ndjson-lines';

/**
 * Bulk import of NDJSON (one JSON object per line, gzip, deflate or br allowed): each line an identify
 * (and a track with `event`), its fields mapped like CSV columns (same defaults, same `map`, same
 * stable messageIds).
 * Streamed line by line; the same limits and answers as the CSV import.
 */
@Controller('v1/import')
export class NdjsonImportController {
  constructor(private readonly runner: ImportRunner) {}

  @Post('ndjson')
  @HttpCode(200)
  async importNdjson(@Req() req: Request, @Res({ passthrough: true }) res: Response, @Query() query: ImportQuery): Promise<ImportReport> {
    const opened = await this.runner.open(req, res, 'NDJSON', 'cdp-ndjson-import', query);
    const { session, body } = opened;
    try {
      for await (const item of ndjsonLines(body, MAX_EVENT_BYTES)) {
        if ('tooLong' in item) {
          await session.row(item.line, { ok: false, reason: `line is over the ${MAX_EVENT_BYTES / 1024} KB per-event limit` });
          continue;
        }
        let record: unknown;
        try {
          record = JSON.parse(item.text);
        } catch (e) {
          await session.row(item.line, { ok: false, reason: `not valid JSON: ${e instanceof Error ? e.message : 'parse error'}` });
          continue;
        }
        await session.row(item.line, recordToIdentify(record, opened.map, session.sourceKey, opened.types));
      }
      await session.flush();
    } catch (e) {
      throw this.runner.failure(e, 'NDJSON', session, req, body);
    }
    return session.report;
  }
}
