import fc from 'fast-check';
import { parseSettings, settingsWarnings } from './settings-input';

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

describe('settingsWarnings', () => {
  const base = { defaultRegion: 'US', anonymizeIp: false, consent: [], pii: [] };
  it('names the PII and consent rules a replacement drops, and nothing when it keeps them', () => {
    const before = {
      ...base,
      pii: [{ path: 'traits.email', action: 'hash' as const }],
      consent: [{ event: '*', categories: ['analytics', 'ads'] }],
    };
    expect(settingsWarnings(before, { ...base, defaultRegion: 'DE' })).toEqual([
      'pii: "hash traits.email" is gone: new events keep traits.email as sent (list it again to keep it)',
      'consent: "*: ads, analytics" is gone: those events no longer need that consent (list it again to keep it)',
    ]);
    expect(settingsWarnings(before, { ...before, consent: [{ event: '*', categories: ['ads', 'analytics'] }] })).toEqual([]);
    // A changed action is a dropped rule too: encrypt instead of hash stores another form.
    expect(settingsWarnings(before, { ...before, pii: [{ path: 'traits.email', action: 'drop' }] })).toHaveLength(1);
  });
});
