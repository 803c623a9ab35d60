import fc from 'fast-check';
import { parseSettings } from './settings-input';

const DEFAULTS = { defaultRegion: 'US', anonymizeIp: false, consent: [], pii: [] };

describe('parseSettings', () => {
  it('fills omitted fields with the defaults and upper-cases the region', () => {
    expect(parseSettings({}, DEFAULTS)).toEqual({ ok: true, value: DEFAULTS });
    expect(parseSettings({ defaultRegion: 'de', anonymizeIp: true }, DEFAULTS)).toEqual({
      ok: true,
      value: { defaultRegion: 'DE', anonymizeIp: true, consent: [], pii: [] },
    });
    expect(
      parseSettings({ consent: [{ event: '*', categories: ['analytics'] }], pii: [{ path: 'traits.email', action: 'hash' }] }, DEFAULTS),
    ).toEqual({
      ok: true,
      value: { ...DEFAULTS, consent: [{ event: '*', categories: ['analytics'] }], pii: [{ path: 'traits.email', action: 'hash' }] },
    });
  });

  it.each([
    [[], 'JSON object'],
    [null, 'JSON object'],
    [{ defaultRegion: 'XX' }, 'defaultRegion'],
    [{ defaultRegion: 'USA' }, 'defaultRegion'],
    [{ defaultRegion: 49 }, 'defaultRegion'],
    [{ anonymizeIp: 'yes' }, 'anonymizeIp'],
    [{ region: 'DE' }, '"region"'],
    [{ consent: { '*': ['a'] } }, 'consent must be a list'],
    [{ pii: [{ path: 'userId', action: 'hash' }] }, 'pii[0].path'],
    [
      {
        pii: [
          { path: 'traits.a', action: 'hash' },
          { path: 'traits.b', action: 'encrypt' },
        ],
      },
      'pii[1].action encrypt needs CDP_PII_ENCRYPTION_KEY',
    ],
  ])('refuses %j naming the problem', (body, problem) => {
    const parsed = parseSettings(body, DEFAULTS);
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.problem).toContain(problem);
  });

  it('accepts encrypt rules once the normalizer has a key', () => {
    const pii = [{ path: 'traits.b', action: 'encrypt' }];
    expect(parseSettings({ pii }, DEFAULTS, true)).toEqual({ ok: true, value: { ...DEFAULTS, pii } });
  });

  it('never throws, and what it accepts it accepts again unchanged', () => {
    fc.assert(
      fc.property(fc.anything(), (body) => {
        const parsed = parseSettings(body, DEFAULTS);
        if (parsed.ok) expect(parseSettings(parsed.value, DEFAULTS)).toEqual(parsed);
      }),
    );
  });
});
