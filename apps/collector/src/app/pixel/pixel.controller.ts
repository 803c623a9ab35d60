import {
  BadRequestException,
  Controller,
  Get,
  Header,
  Logger,
  Param,
  ParseEnumPipe,
  Query,
  Req,
  Res,
  ServiceUnavailableException,
  UnauthorizedException,
} from '@nestjs/common';
import type { Request, Response } from 'express';
import { AccessService, keyRefusal } from '@cdp/access';
import { EVENT_TYPES, type EventType } from '@cdp/contracts';
import { EventWriter } from '../tracking/event-writer';
import { enrich, InvalidMessageError, messagesOf } from '../tracking/segment-message';
import { decodePixelData, PixelDataError } from './pixel-data';

/** The smallest transparent 1x1 GIF. */
export const PIXEL_GIF = Buffer.from('R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7', 'base64');
const CALL_ENUM = Object.fromEntries(EVENT_TYPES.map((t) => [t, t]));

/**
 * The tracking pixel, for email opens and pages without scripts: `GET /v1/pixel/<call>?data=`
 * base64 of the event as JSON, with `writeKey` inside it (as Segment's pixel API). The GIF is
 * answered only once the event is acknowledged by Kafka, like every other write.
 */
@Controller('v1/pixel')
export class PixelController {
  private readonly logger = new Logger(PixelController.name);

  constructor(
    private readonly access: AccessService,
    private readonly writer: EventWriter,
  ) {}

  @Get(':call')
  @Header('Cache-Control', 'no-cache, no-store, must-revalidate')
  async pixel(
    @Param(
      'call',
      new ParseEnumPipe(CALL_ENUM, {
        exceptionFactory: () => new BadRequestException(`unknown call; use one of ${EVENT_TYPES.join(', ')}`),
      }),
    )
    call: EventType,
    @Query('data') data: unknown,
    @Req() req: Request,
    @Res() res: Response,
  ): Promise<void> {
    const receivedAt = new Date();
    let event: Record<string, unknown>;
    try {
      event = decodePixelData(data);
    } catch (e) {
      if (e instanceof PixelDataError) throw new BadRequestException(e.message);
      throw e;
    }
    const writeKey = typeof event['writeKey'] === 'string' && event['writeKey'] !== '' ? event['writeKey'] : null;
    if (!writeKey) throw new UnauthorizedException('write key required: put "writeKey" in the data');
    const principal = await this.access.verify(writeKey, 'write');
    if (!principal) throw new UnauthorizedException(keyRefusal(writeKey, 'write'));
    let checked: Record<string, unknown>;
    try {
      [checked] = messagesOf(call, event) as [Record<string, unknown>];
    } catch (e) {
      if (e instanceof InvalidMessageError) throw new BadRequestException(e.message);
      throw e;
    }
    const message = enrich(checked, { receivedAt, ip: req.ip, userAgent: req.headers['user-agent'] });
    try {
      await this.writer.write(principal.workspaceId, principal.sourceId, receivedAt, [message]);
    } catch (e) {
      this.logger.error(`could not write a pixel event for ${principal.workspaceId}: ${e instanceof Error ? e.message : String(e)}`);
      res.setHeader('Retry-After', '5');
      throw new ServiceUnavailableException('event could not be stored; retry later');
    }
    res.status(200).type('image/gif').send(PIXEL_GIF);
  }
}
