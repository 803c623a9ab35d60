import { BadRequestException, Injectable, type PipeTransform } from '@nestjs/common';
import { DtoValidationPipe, MAX_BODY_DEPTH, nestsDeeperThan } from '@cdp/platform';
import { parseJsonBody } from '../tracking/body';

/** The collector reads raw bodies (see http-setup); admin routes want them as JSON. */
@Injectable()
export class JsonBodyPipe implements PipeTransform<unknown, unknown> {
  transform(value: unknown): unknown {
    const body = parseJsonBody(value);
    // The ValidationPipe after this one recurses: a hostile nesting would overflow its stack (a 500).
    if (nestsDeeperThan(body, MAX_BODY_DEPTH)) throw new BadRequestException(`request body is nested deeper than ${MAX_BODY_DEPTH} levels`);
    return body;
  }
}

/** class-validator DTOs: unknown fields refused, each wrong field named once in the 400's message list. */
export const validateDto = new DtoValidationPipe();

/** For a route whose fields all have defaults: no body at all reads as `{}`. */
@Injectable()
export class OptionalJsonBodyPipe extends JsonBodyPipe {
  override transform(value: unknown): unknown {
    const none = value === undefined || (Buffer.isBuffer(value) ? value.length === 0 : isEmptyObject(value));
    return none ? {} : super.transform(value);
  }
}

const isEmptyObject = (v: unknown): boolean => typeof v === 'object' && v !== null && Object.keys(v).length === 0;
