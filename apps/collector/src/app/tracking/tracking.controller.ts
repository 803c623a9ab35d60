import {
  BadRequestException,
  Controller,
  HttpCode,
  Logger,
  Param,
  ParseEnumPipe,
  Post,
  Req,
  Res,
  ServiceUnavailableException,
  UnauthorizedException,
} from '@nestjs/common';
import type { Request, Response } from 'express';
import { AccessService, basicAuthUser, keyRefusal } from '@cdp/access';
import { EVENT_TYPES } from '@cdp/contracts';
import { bodyWriteKey, jsonBodyOf } from './body';
import { callerTrace, EventWriter } from './event-writer';
import { InvalidMessageError, prepareEvents } from './segment-message';

const CALLS = [...EVENT_TYPES, 'batch', 'import'] as const;
type Call = (typeof CALLS)[number];
/** analytics.js (analytics-next) posts to the call's initial: /v1/t, /v1/p, ..., and batches to /v1/b. */
const SHORT_PATHS = { i: 'identify', t: 'track', p: 'page', s: 'screen', g: 'group', a: 'alias', b: 'batch' } as const;
const ROUTES = [...CALLS, ...Object.keys(SHORT_PATHS)] as const;
type Route = Call | keyof typeof SHORT_PATHS;
const ROUTE_ENUM = Object.fromEntries(ROUTES.map((r) => [r, r]));
const callOf = (route: Route): Call => (route in SHORT_PATHS ? SHORT_PATHS[route as keyof typeof SHORT_PATHS] : (route as Call));

/** The Segment HTTP Tracking API. A 200 means the events are durably in Kafka. */
@Controller('v1')
export class TrackingController {
  private readonly logger = new Logger(TrackingController.name);

  constructor(
    private readonly access: AccessService,
    private readonly writer: EventWriter,
  ) {}

  @Post(':route')
  @HttpCode(200)
  async track(
    @Param(
      'route',
      new ParseEnumPipe(ROUTE_ENUM, { exceptionFactory: () => new BadRequestException(`unknown call; use one of ${CALLS.join(', ')}`) }),
    )
    route: Route,
    @Req() req: Request,
    @Res({ passthrough: true }) res: Response,
  ): Promise<{ success: true }> {
    const call = callOf(route);
    const receivedAt = new Date();
    const body = jsonBodyOf(req);
    const writeKey = basicAuthUser(req.headers.authorization) ?? bodyWriteKey(body);
    if (!writeKey) throw new UnauthorizedException('write key required: send it as the Basic auth user name or as "writeKey" in the body');
    const principal = await this.access.verify(writeKey, 'write');
    if (!principal) throw new UnauthorizedException(keyRefusal(writeKey, 'write'));

    const edge = { receivedAt, ip: req.ip, userAgent: req.headers['user-agent'] };
    const batched = (call === 'batch' || call === 'import') && typeof body === 'object' && body !== null;
    const batch = batched
      ? { context: (body as Record<string, unknown>)['context'], sentAt: (body as Record<string, unknown>)['sentAt'] }
      : undefined;
    let events;
    try {
      events = prepareEvents(call === 'import' ? 'batch' : call, body, edge, batch);
    } catch (e) {
      if (e instanceof InvalidMessageError) throw new BadRequestException(e.message);
      throw e;
    }
    try {
      await this.writer.write(principal.workspaceId, principal.sourceId, receivedAt, events, callerTrace(req.headers));
    } catch (e) {
      this.logger.error(
        `could not write ${events.length} events for ${principal.workspaceId}: ${e instanceof Error ? e.message : String(e)}`,
      );
      res.setHeader('Retry-After', '5');
      throw new ServiceUnavailableException('events could not be stored; retry later');
    }
    return { success: true };
  }
}
