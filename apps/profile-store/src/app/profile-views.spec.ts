import { emptyProfile, type Profile } from '@cdp/profile-model';
import { traitsView } from './profile-views';

const entry = (value: unknown, updatedAt: number) => ({ value, updatedAt, source: 'src', messageId: `m${updatedAt}` });

const profile = {
  ...emptyProfile('ws', 'p', 0),
  traits: { plan: entry('pro', 1_000), country: entry('DE', 2_000), age: entry(42, 3_000) },
} as unknown as Profile;

describe('traitsView', () => {
  it('answers every trait without include', () => {
    expect(traitsView(profile, false)).toEqual({ age: 42, country: 'DE', plan: 'pro' });
  });

  it('answers only the included traits; unknown names and inherited keys are absent', () => {
    const include = new Set(['plan', 'age', 'missing', 'constructor', 'toString', '__proto__']);
    expect(traitsView(profile, false, include)).toEqual({ age: 42, plan: 'pro' });
    expect(Object.keys(traitsView(profile, false, include))).toEqual(['age', 'plan']);
    expect(traitsView(profile, true, include)).toEqual({
      age: { value: 42, updatedAt: new Date(3_000).toISOString(), source: 'src', messageId: 'm3000' },
      plan: { value: 'pro', updatedAt: new Date(1_000).toISOString(), source: 'src', messageId: 'm1000' },
    });
    expect(traitsView(profile, true, new Set(['missing']))).toEqual({});
  });
});
