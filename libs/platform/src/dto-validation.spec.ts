import { BadRequestException } from '@nestjs/common';
import { Type } from 'class-transformer';
import { IsArray, IsInt, IsObject, IsOptional, IsString, Length, Max, Min, ValidateNested } from 'class-validator';
import { DtoValidationPipe } from './dto-validation';

class Inner {
  @IsOptional()
  @IsArray({ message: 'values must be an array of strings' })
  @IsString({ each: true, message: 'values must be an array of strings' })
  @Length(1, 5, { each: true, message: 'each of values must be 1 to 5 characters' })
  values?: string[];
}

class Body {
  @IsString({ message: 'name must be a string' })
  @Length(1, 10, { message: 'name must be 1 to 10 characters' })
  name!: string;

  @IsOptional()
  @IsInt({ message: 'limit must be an integer from 1 to 9' })
  @Min(1, { message: 'limit must be an integer from 1 to 9' })
  @Max(9, { message: 'limit must be an integer from 1 to 9' })
  limit?: number;

  @IsOptional()
  @IsObject({ message: 'inner must be an object {values?}' })
  @ValidateNested()
  @Type(() => Inner)
  inner?: Inner;

  @IsOptional()
  @IsArray({ message: 'items must be an array of {values?}' })
  @ValidateNested({ each: true })
  @Type(() => Inner)
  items?: Inner[];
}

async function messages(body: unknown): Promise<string[]> {
  try {
    await new DtoValidationPipe().transform(body, { type: 'body', metatype: Body });
  } catch (e) {
    if (e instanceof BadRequestException) return (e.getResponse() as { message: string[] }).message;
    throw e;
  }
  return [];
}

describe('DtoValidationPipe', () => {
  it('names each wrong field once, by its type check when the type is wrong', async () => {
    expect(await messages({ name: 5, limit: 'x', inner: { values: [3] } })).toEqual([
      'name must be a string',
      'limit must be an integer from 1 to 9',
      'inner.values must be an array of strings',
    ]);
  });

  it('names a nested field of the wrong type by its own type check, not by what is inside', async () => {
    expect(await messages({ name: 'ok', inner: 5, items: 'str' })).toEqual([
      'inner must be an object {values?}',
      'items must be an array of {values?}',
    ]);
    expect(await messages({ name: 'ok', inner: [1], items: { a: 1 } })).toEqual([
      'inner must be an object {values?}',
      'items must be an array of {values?}',
    ]);
    expect(await messages({ name: 'ok', items: [{ values: ['ok'] }, { values: 'x' }, 7] })).toEqual([
      'items.1.values must be an array of strings',
      'items.each value in nested property items must be either object or array',
    ]);
  });

  it('names the check that failed when the type is right, and refuses unknown fields', async () => {
    expect(await messages({ name: 'far too long a name', inner: { values: ['toolong'] }, extra: 1 })).toEqual([
      'property extra should not exist',
      'name must be 1 to 10 characters',
      'inner.each of values must be 1 to 5 characters',
    ]);
  });

  it('passes a valid body through, converted to the DTO', async () => {
    expect(await messages({ name: 'ok', limit: 3 })).toEqual([]);
    expect(await new DtoValidationPipe().transform({ name: 'ok' }, { type: 'body', metatype: Body })).toBeInstanceOf(Body);
  });
});
