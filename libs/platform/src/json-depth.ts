import { type ArgumentMetadata, BadRequestException, Injectable, type PipeTransform } from '@nestjs/common';

/**
 * Deepest JSON body a service takes. Far above any real one (a segment definition at its own
 * limit of 32 levels is under 80), far below what overflows the stack of class-transformer
 * (a few thousand levels), which would otherwise answer a client's mistake with a 500.
 */
export const MAX_BODY_DEPTH = 128;

/** Whether a parsed JSON value nests deeper than `max` (iterative: the check must not overflow itself). */
export function nestsDeeperThan(value: unknown, max: number): boolean {
  const stack: [unknown, number][] = [[value, 0]];
  while (stack.length > 0) {
    const [v, depth] = stack.pop() as [unknown, number];
    if (typeof v !== 'object' || v === null || ArrayBuffer.isView(v)) continue;
    if (depth >= max) return true;
    for (const child of Array.isArray(v) ? v : Object.values(v)) stack.push([child, depth + 1]);
  }
  return false;
}

/** Refuses over-deep bodies with a 400 before any other pipe walks them. Registered globally by runService. */
@Injectable()
export class BodyDepthPipe implements PipeTransform<unknown, unknown> {
  transform(value: unknown, metadata: ArgumentMetadata): unknown {
    if (metadata.type === 'body' && nestsDeeperThan(value, MAX_BODY_DEPTH))
      throw new BadRequestException(`request body is nested deeper than ${MAX_BODY_DEPTH} levels`);
    return value;
  }
}
