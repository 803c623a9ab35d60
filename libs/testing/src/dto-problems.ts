import { BadRequestException, type Type } from '@nestjs/common';
import { DtoValidationPipe } from '@cdp/platform';

/** The 400 messages the REST controllers' pipe gives for a body or query of `metatype`, or [] when it is accepted. */
export async function dtoProblems(metatype: Type<unknown>, value: unknown, type: 'body' | 'query' = 'body'): Promise<string[]> {
  try {
    await new DtoValidationPipe().transform(value, { type, metatype });
    return [];
  } catch (e) {
    if (!(e instanceof BadRequestException)) throw e;
    return (e.getResponse() as { message: string[] }).message;
  }
}
