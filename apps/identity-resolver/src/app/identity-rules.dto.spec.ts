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
