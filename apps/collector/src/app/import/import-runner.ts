import { Transform, type Readable, type TransformCallback } from 'node:stream';
import { createBrotliDecompress, createGunzip, createInflate } from 'node:zlib';
import {
  BadRequestException,
  ForbiddenException,
  HttpException,
  HttpStatus,
  Injectable,
  Logger,
  NotFoundException,
  ServiceUnavailableException,
  UnauthorizedException,
} from '@nestjs/common';
import type { Request, Response } from 'express';
import { AccessService, basicAuthUser, bearerToken, KeyAdminService, keyRefusal, type Principal } from '@cdp/access';
import { CollectorConfig } from '../collector.config';
import { EventWriter } from '../tracking/event-writer';
import { enrich, InvalidMessageError, messagesOf, type EdgeContext, type SegmentMessage } from '../tracking/segment-message';
import type { ColumnType } from './column-types';
import { checkMap, importEvent, MappingError, parseMapParam, parseTypesParam, rowTrack, type RowResult } from './csv-mapping';

const CHUNK_ROWS = 500;
/** The Content-Encodings an import body may have, as the tracking routes accept them. */
const DECODERS = new Map<string, () => Transform>([
  ['gzip', createGunzip],
  ['deflate', createInflate],
  ['br', createBrotliDecompress],
]);
const MAX_REPORTED_ERRORS = 1_000;

/** The query parameters both imports take (`?map=&types=&event=&source=&lineOffset=`), as sent. */
export interface ImportQuery {
  lineOffset?: unknown;
  source?: unknown;
  map?: unknown;
  types?: unknown;
  event?: unknown;
}

export interface ImportReport {
  success: true;
  rows: number;
  imported: number;
  rejected: number;
  /** The first 1000 rejected rows: line number in the file and why. */
  errors: { line: number; reason: string }[];
}

/** The decoded body passed the import size limit. */
export class TooLarge extends Error {}

/** One import request: rows are checked, written in chunks of 500, and counted in the report. */
export class ImportSession {
  readonly report: ImportReport = { success: true, rows: 0, imported: 0, rejected: 0, errors: [] };
  private chunk: SegmentMessage[] = [];
  /** Rows whose messages (an identify, and a track with an event) are in `chunk`. */
  private chunkRows = 0;

  constructor(
    private readonly runner: ImportRunner,
    readonly principal: Principal,
    private readonly edge: EdgeContext,
    private readonly library: { name: string; version: string },
    /** Added to reported line numbers: a client sending a big file in parts says where each part starts. */
    private readonly lineOffset: number,
    private readonly res: Response,
    /** Each row also a track of this name (the import's `event`); null: identifies only. */
    private readonly event: string | null,
  ) {}

  get sourceKey(): string {
    return `${this.principal.workspaceId}/${this.principal.sourceId ?? ''}`;
  }

  reject(line: number, reason: string): void {
    this.report.rejected++;
    if (this.report.errors.length < MAX_REPORTED_ERRORS) this.report.errors.push({ line: line + this.lineOffset, reason });
  }

  /** A row the parser could not read (a stray quote): counted as a row, and rejected. */
  unreadable(line: number, reason: string): void {
    this.report.rows++;
    this.reject(line, reason);
  }

  /** One data row (already counted by the caller's parser as a line). */
  async row(line: number, result: RowResult): Promise<void> {
    this.report.rows++;
    if (!result.ok) return this.reject(line, result.reason);
    let messages: Record<string, unknown>[];
    try {
      // Both checked before either is kept: a row goes in whole or not at all.
      messages = [
        ...messagesOf('identify', result.message),
        ...(this.event === null ? [] : messagesOf('track', rowTrack(result, this.event))),
      ];
    } catch (e) {
      if (!(e instanceof InvalidMessageError)) throw e;
      return this.reject(line, e.message);
    }
    for (const m of messages) this.chunk.push(enrich({ ...m, context: { library: this.library } }, this.edge));
    this.chunkRows++;
    if (this.chunkRows >= CHUNK_ROWS) await this.flush();
  }

  async flush(): Promise<void> {
    const [chunk, rows] = [this.chunk, this.chunkRows];
    this.chunk = [];
    this.chunkRows = 0;
    await this.runner.write(this.principal, this.edge.receivedAt, chunk, this.report, this.res);
    this.report.imported += rows;
  }
}

/**
 * What the CSV and NDJSON imports share: write-key auth, the size limit on the decoded stream,
 * line offsets, chunked writes acknowledged by Kafka, and the errors' wording.
 */
@Injectable()
export class ImportRunner {
  private readonly logger = new Logger(ImportRunner.name);

  constructor(
    private readonly access: AccessService,
    private readonly keys: KeyAdminService,
    private readonly writer: EventWriter,
    private readonly config: CollectorConfig,
  ) {}

  limitMessage(kind: string): string {
    return `${kind} body is over the ${Math.round(this.config.CDP_IMPORT_MAX_BYTES / (1024 * 1024))} MB import limit; use the CLI for larger files`;
  }

  /**
   * Authenticates, reads the parameters (`map` and `types` as the rows will apply them) and checks
   * the declared size; then the body may be read.
   */
  async open(
    req: Request,
    res: Response,
    kind: string,
    library: string,
    query: ImportQuery,
  ): Promise<{ session: ImportSession; body: Readable; map: Record<string, string>; types: Record<string, ColumnType> }> {
    const principal = await this.importer(req, query.source);
    const line = query.lineOffset;
    const lineOffset = line === undefined ? 0 : Number(line);
    if (!Number.isInteger(lineOffset) || lineOffset < 0) throw new BadRequestException('lineOffset must be a whole number >= 0');
    let params: { map: Record<string, string>; types: Record<string, ColumnType>; event: string | null };
    try {
      const map = parseMapParam(typeof query.map === 'string' ? query.map : undefined);
      checkMap(map);
      const types = parseTypesParam(typeof query.types === 'string' ? query.types : undefined);
      params = { map, types, event: importEvent(query.event, map) };
    } catch (e) {
      if (e instanceof MappingError) throw new BadRequestException(e.message);
      throw e;
    }
    if (Number(req.headers['content-length'] ?? 0) > this.config.CDP_IMPORT_MAX_BYTES) {
      res.setHeader('Connection', 'close');
      throw new BadRequestException(this.limitMessage(kind));
    }
    const edge = { receivedAt: new Date(), ip: req.ip, userAgent: req.headers['user-agent'] };
    const session = new ImportSession(this, principal, edge, { name: library, version: '1' }, lineOffset, res, params.event);
    return { session, body: this.decoded(req, this.config.CDP_IMPORT_MAX_BYTES), map: params.map, types: params.types };
  }

  /**
   * Who imports into which source: a source's write key (Basic auth user name), or an API key
   * with the admin scope (Bearer) naming a source of its workspace by id or name in `source`, so
   * that an operator imports without holding each source's write key.
   */
  private async importer(req: Request, source: unknown): Promise<Principal> {
    const named = typeof source === 'string' && source !== '' ? source : null;
    const writeKey = basicAuthUser(req.headers.authorization);
    if (writeKey) {
      const principal = await this.access.verify(writeKey, 'write');
      if (!principal) throw new UnauthorizedException(keyRefusal(writeKey, 'write'));
      if (named !== null && named !== principal.sourceId) throw new BadRequestException('the write key belongs to another source');
      return principal;
    }
    const apiKey = bearerToken(req.headers.authorization);
    if (!apiKey)
      throw new UnauthorizedException(
        'credentials required: a write key as the Basic auth user name, or an admin API key (Bearer) with ?source=',
      );
    const principal = await this.access.verify(apiKey, 'api');
    if (!principal) throw new UnauthorizedException(keyRefusal(apiKey, 'api'));
    if (!principal.scopes.includes('admin')) throw new ForbiddenException('importing with an API key needs the admin scope');
    if (named === null) throw new BadRequestException('name the source to import into: ?source=<source id or name>');
    const matches = (await this.keys.listSources(principal.workspaceId)).filter((s) => s.sourceId === named || s.name === named);
    const [match, ...more] = matches.sort((a, b) => Number(b.sourceId === named) - Number(a.sourceId === named));
    if (!match) throw new NotFoundException(`no source ${JSON.stringify(named)} in workspace ${principal.workspaceId}`);
    if (more.length > 0 && match.sourceId !== named)
      throw new BadRequestException(`${matches.length} sources are named ${JSON.stringify(named)}; use the source id`);
    return { ...principal, kind: 'write', sourceId: match.sourceId };
  }

  /** Turns what stopped a streamed import into its 4xx/5xx, saying how far it got. */
  failure(e: unknown, kind: string, session: ImportSession, req: Request, body: Readable): HttpException {
    body.destroy();
    req.resume();
    if (e instanceof HttpException) return e;
    if (e instanceof MappingError) return new BadRequestException(e.message);
    if (e instanceof TooLarge)
      return new BadRequestException(`${this.limitMessage(kind)}; ${session.report.imported} rows were imported (re-sending is safe)`);
    return new BadRequestException(`${kind} body could not be read: ${e instanceof Error ? e.message : String(e)}`);
  }

  async write(principal: Principal, receivedAt: Date, chunk: SegmentMessage[], report: ImportReport, res: Response): Promise<void> {
    if (chunk.length === 0) return;
    try {
      await this.writer.write(principal.workspaceId, principal.sourceId, receivedAt, chunk);
    } catch (e) {
      this.logger.error(`import for ${principal.workspaceId} stopped: ${e instanceof Error ? e.message : String(e)}`);
      res.setHeader('Retry-After', '5');
      throw new ServiceUnavailableException(`events could not be stored after ${report.imported} rows; retry later (re-sending is safe)`);
    }
  }

  /** The body, decompressed, failing with TooLarge past `max` decoded bytes (a gzip bomb stops there). */
  private decoded(req: Request, max: number): Readable {
    const encoding = String(req.headers['content-encoding'] ?? 'identity').toLowerCase();
    const decoder = DECODERS.get(encoding)?.() ?? (encoding === 'identity' ? null : undefined);
    if (decoder === undefined)
      throw new HttpException('unsupported Content-Encoding; send gzip, deflate, br or none', HttpStatus.UNSUPPORTED_MEDIA_TYPE);
    let seen = 0;
    const counter = new Transform({
      transform(data: Buffer, _enc: BufferEncoding, done: TransformCallback) {
        seen += data.length;
        done(seen > max ? new TooLarge() : null, data);
      },
    });
    const source: Readable = decoder ? req.pipe(decoder) : req;
    if (decoder) decoder.on('error', (e) => counter.destroy(e));
    // A failed counter stops the decoder too, so a bomb is not inflated past the limit.
    counter.on('error', () => {
      if (decoder) {
        req.unpipe(decoder);
        decoder.destroy();
      }
    });
    return source.pipe(counter);
  }
}
