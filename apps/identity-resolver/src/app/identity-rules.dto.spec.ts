import 'reflect-metadata';
import { dtoProblems } from '@cdp/testing';
import { IdentityRulesDto } from './identity-rules.dto';

const messages = (body: unknown) => dtoProblems(IdentityRulesDto, body);

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

describe('IdentityRulesDto identifier types', () => {
  const hint = 'is no identifier type: did you mean email? (built in: user_id, anonymous_id, email, phone, device_id, advertising_id;';
  it('refuses a misspelled built-in type in limits and priority, which would apply to no identifier', async () => {
    expect(await messages({ limits: { emial: 4 } })).toEqual([expect.stringContaining(`limits.emial ${hint}`)]);
    expect(await messages({ priority: ['user_id', 'e-mail'] })).toEqual([
      expect.stringContaining(`priority names "e-mail", which ${hint}`),
    ]);
  });

  it('takes custom types (context.externalIds) and numbered variants', async () => {
    expect(await messages({ limits: { 'crm-id': 1, email2: 3 }, priority: ['crm-id', 'user_id', 'email'] })).toEqual([]);
  });
});
