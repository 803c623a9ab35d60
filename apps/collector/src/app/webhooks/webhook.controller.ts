import {
  BadRequestException,
  Controller,
  HttpCode,
  Logger,
  NotFoundException,
  Param,
  Post,
  Query,
  Req,
  Res,
  ServiceUnavailableException,
  UnauthorizedException,
} from '@nestjs/common';
import type { Request, Response } from 'express';
import { AccessService, basicAuthUser, keyRefusal } from '@cdp/access';
import { isEventType } from '@cdp/contracts';
import { jsonBodyOf } from '../tracking/body';
import { callerTrace, EventWriter } from '../tracking/event-writer';
import { enrich, InvalidMessageError, messagesOf, type SegmentMessage } from '../tracking/segment-message';
import { isObject, mapPayload } from './webhook-mapping';
import { WebhookMappingRepository } from './webhook-mapping.repository';

const LIBRARY = { name: 'cdp-webhook', version: '1' };
const MAX_EVENTS = 500;

/**
 * Webhook sources: tools that can only send their own JSON post it here; the source's mapping
 * (admin API) turns it into Segment calls. A JSON array is a list of payloads, all or nothing.
 * Authenticated with a write key of that very source, as Basic user or `?writeKey=` (for tools
 * that can only be given a URL; query strings are never logged). 200 once Kafka acknowledged.
 */
@Controller('v1/webhooks')
export class WebhookController {
  private readonly logger = new Logger(WebhookController.name);

  constructor(
    private readonly access: AccessService,
    private readonly writer: EventWriter,
    private readonly mappings: WebhookMappingRepository,
  ) {}

  @Post(':sourceId')
  @HttpCode(200)
  async receive(
    @Param('sourceId') sourceId: string,
    @Query('writeKey') queryKey: unknown,
    @Req() req: Request,
    @Res({ passthrough: true }) res: Response,
  ): Promise<{ success: true; events: number }> {
    const receivedAt = new Date();
    const writeKey = basicAuthUser(req.headers.authorization) ?? (typeof queryKey === 'string' && queryKey !== '' ? queryKey : null);
    if (!writeKey) throw new UnauthorizedException('write key required: send it as the Basic auth user name or as ?writeKey=');
    const principal = await this.access.verify(writeKey, 'write');
    if (!principal) throw new UnauthorizedException(keyRefusal(writeKey, 'write'));
    if (principal.sourceId !== sourceId) throw new UnauthorizedException('write key is not valid for this source');
    const stored = await this.mappings.get(principal.workspaceId, sourceId);
    if (!stored)
      throw new NotFoundException(
        'this source has no webhook mapping; set one with PUT /v1/admin/workspaces/{workspaceId}/sources/{sourceId}/webhook-mapping',
      );

    const body = jsonBodyOf(req);
    const payloads = Array.isArray(body) ? body : [body];
    if (payloads.length === 0) throw new BadRequestException('request body is an empty array');
    if (payloads.length > MAX_EVENTS) throw new BadRequestException(`request body has more than ${MAX_EVENTS} payloads`);
    const sourceKey = `${principal.workspaceId}/${sourceId}`;
    const edge = { receivedAt, ip: req.ip, userAgent: req.headers['user-agent'] };
    const messages: SegmentMessage[] = payloads.map((payload, i) => {
      const at = Array.isArray(body) ? `[${i}] ` : '';
      const mapped = mapPayload(stored.mapping, payload, sourceKey, Buffer.from(JSON.stringify(payload)));
      // Pointers read fields of an object: for a bare "x" the cause is the payload, not a missing userId.
      if (!mapped.ok) throw new BadRequestException(`${at}${isObject(payload) ? '' : `payload is not a JSON object, so `}${mapped.reason}`);
      const type = mapped.message['type'];
      try {
        const [checked] = messagesOf(isEventType(type) ? type : 'track', mapped.message);
        const context = typeof checked?.['context'] === 'object' && checked['context'] !== null ? checked['context'] : {};
        return enrich({ ...checked, context: { library: LIBRARY, ...context } }, edge);
      } catch (e) {
        if (e instanceof InvalidMessageError) throw new BadRequestException(`${at}mapped event: ${e.message}`);
        throw e;
      }
    });
    try {
      await this.writer.write(principal.workspaceId, principal.sourceId, receivedAt, messages, callerTrace(req.headers));
    } catch (e) {
      this.logger.error(
        `could not write ${messages.length} webhook events for ${principal.workspaceId}: ${e instanceof Error ? e.message : String(e)}`,
      );
      res.setHeader('Retry-After', '5');
      throw new ServiceUnavailableException('events could not be stored; retry later');
    }
    return { success: true, events: messages.length };
  }
}
