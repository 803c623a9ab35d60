import { Injectable, type PipeTransform, ValidationPipe } from '@nestjs/common';
import { parseJsonBody } from '../tracking/body';

/** The collector reads raw bodies (see http-setup); admin routes want them as JSON. */
@Injectable()
export class JsonBodyPipe implements PipeTransform<unknown, unknown> {
  transform(value: unknown): unknown {
    return parseJsonBody(value);
  }
}

/** class-validator DTOs: unknown fields refused, each problem named in the 400's message list. */
export const validateDto = new ValidationPipe({ whitelist: true, forbidNonWhitelisted: true, transform: true });
