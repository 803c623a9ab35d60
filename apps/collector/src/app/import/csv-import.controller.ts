import { BadRequestException, Controller, HttpCode, Post, Query, Req, Res } from '@nestjs/common';
import { parse } from 'csv-parse';
import { CSV_MAX_QUOTED_RECORD_BYTES, CSV_QUOTE_PROBLEMS, csvQuoteGuard } from '@cdp/cleaning';
import type { Request, Response } from 'express';
import { resolveMapping, rowToIdentify, type Mapping } from './csv-mapping';
import { ImportRunner, type ImportQuery, type ImportReport } from './import-runner';

export type { ImportReport } from './import-runner';

/**
 * Bulk CRM import over HTTP: a CSV body (gzip, deflate or br allowed), header row first, each row an
 * identify (and a track, with `event`). Streamed: rows are parsed and written in chunks of 500 as the body arrives, so memory
 * stays flat. A 200 means every imported row is acknowledged by Kafka; re-sending the same file
 * is safe (messageIds derive from the rows as mapped).
 */
@Controller('v1/import')
export class CsvImportController {
  constructor(private readonly runner: ImportRunner) {}

  @Post('csv')
  @HttpCode(200)
  async importCsv(@Req() req: Request, @Res({ passthrough: true }) res: Response, @Query() query: ImportQuery): Promise<ImportReport> {
    const opened = await this.runner.open(req, res, 'CSV', 'cdp-csv-import', query);
    const { session, body } = opened;
    const parser = parse({ info: true, bom: true, skip_empty_lines: true, relax_column_count: true, skip_records_with_error: true });
    let lastSkipped = 0;
    parser.on('skip', (err: Error & { lines?: number }) => {
      const line = err.lines ?? parser.info.lines;
      // csv-parse may report one bad record twice (a stray quote: opening and closing).
      if (line !== lastSkipped) session.unreadable(line, err.message);
      lastSkipped = line;
    });
    // A misplaced quote would swallow every row after it: that record alone is left out.
    const guard = csvQuoteGuard(CSV_MAX_QUOTED_RECORD_BYTES, (line, problem) => session.unreadable(line, CSV_QUOTE_PROBLEMS[problem]));
    body.on('error', (e: unknown) => guard.destroy(e instanceof Error ? e : new Error(String(e))));
    guard.on('error', (e) => parser.destroy(e));
    body.pipe(guard).pipe(parser);

    let mapping: Mapping | undefined;
    let header = '';
    try {
      for await (const item of parser as AsyncIterable<{ record: string[]; info: { lines: number } }>) {
        if (!mapping) {
          mapping = resolveMapping(item.record, opened.map, opened.types);
          header = headerKey(item.record);
        } else if (headerKey(item.record) === header)
          // Files appended to one another repeat their header: it names no person.
          await session.row(item.info.lines, { ok: false, reason: 'repeats the header row' });
        else await session.row(item.info.lines, rowToIdentify(mapping, item.record, session.sourceKey));
      }
      await session.flush();
    } catch (e) {
      body.unpipe(guard);
      throw this.runner.failure(e, 'CSV', session, req, body);
    }
    if (!mapping) throw new BadRequestException('CSV body is empty; the first row must name the columns');
    return session.report;
  }
}

/** A row compared with the header: cells trimmed, case ignored. */
const headerKey = (cells: string[]): string => JSON.stringify(cells.map((c) => c.trim().toLowerCase()));
