import 'reflect-metadata';
import { BadRequestException } from '@nestjs/common';
import { DtoValidationPipe } from '@cdp/platform';
import { CreateRegulationBody } from './regulations.dto';

// The controller's pipe, so the messages are the ones the API answers.
const pipe = new DtoValidationPipe();

/** The accepted body, or the 400 messages. */
async function check(body: unknown): Promise<CreateRegulationBody | string[]> {
  try {
    return (await pipe.transform(body, { type: 'body', metatype: CreateRegulationBody })) as CreateRegulationBody;
  } catch (e) {
    if (!(e instanceof BadRequestException)) throw e;
    return (e.getResponse() as { message: string[] }).message;
  }
}

const suppress = (...identifiers: unknown[]) => ({ type: 'suppress', identifiers });

describe('CreateRegulationBody', () => {
  it('accepts the built-in types and custom types as the identity-resolver names externalIds types', async () => {
    const types = [
      'user_id',
      'anonymous_id',
      'email',
      'phone',
      'device_id',
      'advertising_id',
      'crm_id',
      'crm-id',
      '2fa_id',
      'email2',
      'phone_2',
    ];
    const body = await check(suppress(...types.map((type) => ({ type, value: 'v' }))));
    expect(Array.isArray(body)).toBe(false);
    expect((body as CreateRegulationBody).identifiers.map((i) => i.type)).toEqual(types);
  });

  it('names a type the way the resolver does: trimmed and lower-cased', async () => {
    const body = (await check(suppress({ type: ' CRM_ID ', value: 'c1' }, { type: 'Email', value: 'a@b.c' }))) as CreateRegulationBody;
    expect(body.identifiers.map((i) => i.type)).toEqual(['crm_id', 'email']);
  });

  it('refuses a blank value, naming the entry', async () => {
    expect(await check(suppress({ type: 'email', value: 'a@b.c' }, { type: 'email', value: '  ' }))).toEqual([
      'identifiers.1.value "  " (type "email") is empty once trimmed',
    ]);
    expect(await check(suppress({ type: 'user_id', value: '' }))).toEqual([
      'identifiers.0.value "" (type "user_id") is empty once trimmed',
    ]);
  });

  it('refuses a misspelled built-in type, naming the entry and the likely type', async () => {
    const messages = await check(suppress({ type: 'email', value: 'a@b.c' }, { type: 'mail', value: 'a@b.c' }));
    expect(messages).toEqual([expect.stringMatching(/^identifiers\.1\.type "mail" is not an identifier type: did you mean email\?/)]);
  });

  it('refuses a type no event can carry', async () => {
    expect(await check(suppress({ type: 'e.mail', value: 'x' }))).toEqual([
      'identifiers.0.type "e.mail" is not an identifier type: lower-case letters, digits, _ and - (at most 64), e.g. email, user_id',
    ]);
    expect(await check(suppress({ type: 7, value: 'x' }))).toEqual(['identifiers.0.type must be a string']);
  });
});
