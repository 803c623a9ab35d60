import { Transform, type TransformCallback, type Readable } from 'node:stream';
import { createGunzip, createInflate } from 'node:zlib';
import {
  BadRequestException,
  Controller,
  HttpCode,
  HttpException,
  HttpStatus,
  Logger,
  Post,
  Query,
  Req,
  Res,
  ServiceUnavailableException,
  UnauthorizedException,
} from '@nestjs/common';
import { parse } from 'csv-parse';
import type { Request, Response } from 'express';
import { AccessService, basicAuthUser, type Principal } from '@cdp/access';
import { CollectorConfig } from '../collector.config';
import { EventWriter } from '../tracking/event-writer';
import { enrich, InvalidMessageError, messagesOf, type SegmentMessage } from '../tracking/segment-message';
import { MappingError, parseMapParam, resolveMapping, rowToIdentify, type Mapping } from './csv-mapping';

const CHUNK_ROWS = 500;
const MAX_REPORTED_ERRORS = 1_000;
const LIBRARY = { name: 'cdp-csv-import', version: '1' };

export interface ImportReport {
  success: true;
  rows: number;
  imported: number;
  rejected: number;
  /** The first 1000 rejected rows: line number in the file and why. */
  errors: { line: number; reason: string }[];
}

class TooLarge extends Error {}

/**
 * Bulk CRM import over HTTP: a CSV body (gzip/deflate allowed), header row first, each row an
 * identify. Streamed: rows are parsed and written in chunks of 500 as the body arrives, so memory
 * stays flat. A 200 means every imported row is acknowledged by Kafka; re-sending the same file
 * is safe (messageIds derive from the rows).
 */
@Controller('v1/import')
export class CsvImportController {
  private readonly logger = new Logger(CsvImportController.name);

  constructor(
    private readonly access: AccessService,
    private readonly writer: EventWriter,
    private readonly config: CollectorConfig,
  ) {}

  @Post('csv')
  @HttpCode(200)
  async importCsv(@Req() req: Request, @Res({ passthrough: true }) res: Response, @Query('map') map?: string): Promise<ImportReport> {
    const writeKey = basicAuthUser(req.headers.authorization);
    if (!writeKey) throw new UnauthorizedException('write key required: send it as the Basic auth user name');
    const principal = await this.access.verify(writeKey, 'write');
    if (!principal) throw new UnauthorizedException('write key is not valid');
    const explicit = guard(() => parseMapParam(typeof map === 'string' ? map : undefined));
    const max = this.config.CDP_IMPORT_MAX_BYTES;
    const limitMessage = `CSV body is over the ${Math.round(max / (1024 * 1024))} MB import limit; use the CLI for larger files`;
    if (Number(req.headers['content-length'] ?? 0) > max) {
      res.setHeader('Connection', 'close');
      throw new BadRequestException(limitMessage);
    }

    const report: ImportReport = { success: true, rows: 0, imported: 0, rejected: 0, errors: [] };
    const reject = (line: number, reason: string) => {
      report.rejected++;
      if (report.errors.length < MAX_REPORTED_ERRORS) report.errors.push({ line, reason });
    };
    const parser = parse({ info: true, bom: true, skip_empty_lines: true, relax_column_count: true, skip_records_with_error: true });
    parser.on('skip', (err: Error) => reject(parser.info.lines, err.message));
    const body = this.decoded(req, max);
    body.on('error', (e: unknown) => parser.destroy(e instanceof Error ? e : new Error(String(e))));
    body.pipe(parser);

    const edge = { receivedAt: new Date(), ip: req.ip, userAgent: req.headers['user-agent'] };
    const sourceKey = `${principal.workspaceId}/${principal.sourceId ?? ''}`;
    let mapping: Mapping | undefined;
    let chunk: SegmentMessage[] = [];
    try {
      for await (const item of parser as AsyncIterable<{ record: string[]; info: { lines: number } }>) {
        if (!mapping) {
          mapping = guard(() => resolveMapping(item.record, explicit));
          continue;
        }
        report.rows++;
        const row = rowToIdentify(mapping, item.record, sourceKey);
        if (!row.ok) {
          reject(item.info.lines, row.reason);
          continue;
        }
        try {
          const [checked] = messagesOf('identify', row.message);
          if (checked) chunk.push(enrich({ ...checked, context: { library: LIBRARY } }, edge));
        } catch (e) {
          if (!(e instanceof InvalidMessageError)) throw e;
          reject(item.info.lines, e.message);
        }
        if (chunk.length >= CHUNK_ROWS) {
          await this.write(principal, edge.receivedAt, chunk, report, res);
          chunk = [];
        }
      }
      await this.write(principal, edge.receivedAt, chunk, report, res);
    } catch (e) {
      body.unpipe(parser);
      req.resume();
      if (e instanceof HttpException) throw e;
      if (e instanceof TooLarge)
        throw new BadRequestException(`${limitMessage}; ${report.imported} rows were imported (re-sending is safe)`);
      throw new BadRequestException(`CSV body could not be read: ${e instanceof Error ? e.message : String(e)}`);
    }
    if (!mapping) throw new BadRequestException('CSV body is empty; the first row must name the columns');
    return report;
  }

  private async write(principal: Principal, receivedAt: Date, chunk: SegmentMessage[], report: ImportReport, res: Response): Promise<void> {
    if (chunk.length === 0) return;
    try {
      await this.writer.write(principal.workspaceId, principal.sourceId, receivedAt, chunk);
    } catch (e) {
      this.logger.error(`import for ${principal.workspaceId} stopped: ${e instanceof Error ? e.message : String(e)}`);
      res.setHeader('Retry-After', '5');
      throw new ServiceUnavailableException(`events could not be stored after ${report.imported} rows; retry later (re-sending is safe)`);
    }
    report.imported += chunk.length;
  }

  /** The body, decompressed, failing with TooLarge past `max` decoded bytes (a gzip bomb stops there). */
  private decoded(req: Request, max: number): Readable {
    const encoding = String(req.headers['content-encoding'] ?? 'identity').toLowerCase();
    const decoder =
      encoding === 'gzip' ? createGunzip() : encoding === 'deflate' ? createInflate() : encoding === 'identity' ? null : undefined;
    if (decoder === undefined)
      throw new HttpException('unsupported Content-Encoding; send gzip, deflate or none', HttpStatus.UNSUPPORTED_MEDIA_TYPE);
    let seen = 0;
    const counter = new Transform({
      transform(data: Buffer, _enc: BufferEncoding, done: TransformCallback) {
        seen += data.length;
        done(seen > max ? new TooLarge() : null, data);
      },
    });
    const source: Readable = decoder ? req.pipe(decoder) : req;
    if (decoder) decoder.on('error', (e) => counter.destroy(e));
    return source.pipe(counter);
  }
}

function guard<T>(run: () => T): T {
  try {
    return run();
  } catch (e) {
    if (e instanceof MappingError) throw new BadRequestException(e.message);
    throw e;
  }
}
