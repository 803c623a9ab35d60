import 'reflect-metadata';
import { BadRequestException } from '@nestjs/common';
import { DtoValidationPipe } from '@cdp/platform';
import { IdentityRulesDto } from './identity-rules.dto';

/** The 400 messages for a body, or [] when it is accepted. */
async function messages(body: unknown): Promise<string[]> {
  try {
    await new DtoValidationPipe().transform(body, { type: 'body', metatype: IdentityRulesDto });
    return [];
  } catch (e) {
    if (!(e instanceof BadRequestException)) throw e;
    return (e.getResponse() as { message: string[] }).message;
  }
}

describe('IdentityRulesDto', () => {
  it('names priority entries of the wrong type by the type check, even when repeated', async () => {
    expect(await messages({ priority: [1, 1] })).toEqual(['priority must be an array of identifier types, strongest first']);
    expect(await messages({ priority: 'email' })).toEqual(['priority must be an array of identifier types, strongest first']);
  });

  it('still refuses a type named twice', async () => {
    expect(await messages({ priority: ['email', 'email'] })).toEqual(['priority must not name a type twice']);
    expect(await messages({ priority: ['email', 'user_id'] })).toEqual([]);
  });
});
