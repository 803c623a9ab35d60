import fc from 'fast-check';
import { applyEvent, eventTraits, type ProfileEvent } from './apply-event';
import { consentFromContext } from './consent';
import { emptyProfile } from './profile';
import type { Profile } from './types';

const event = (over: Partial<ProfileEvent> & { messageId: string }): ProfileEvent => ({
  type: 'track',
  event: 'Viewed',
  timestamp: 1_000,
  sourceId: 'src',
  identifiers: [],
  traits: '{}',
  properties: '{}',
  context: '{}',
  ...over,
});
const withPrefs = (prefs: Record<string, boolean>) => JSON.stringify({ ip: '1.2.3.4', consent: { categoryPreferences: prefs } });
const fresh = (): Profile => emptyProfile('ws', 'p1', 0);
const applyAll = (events: readonly ProfileEvent[]): Profile => events.reduce((p, e) => applyEvent(p, e).profile, fresh());

describe('consentFromContext', () => {
  it("takes Segment's categoryPreferences object and nothing else", () => {
    expect(consentFromContext(withPrefs({ marketing: true }))).toEqual({ categoryPreferences: { marketing: true } });
    expect(consentFromContext('{"consent":{"categoryPreferences":{}}}')).toEqual({ categoryPreferences: {} });
    for (const context of [
      undefined,
      null,
      '',
      'not json',
      '[]',
      '{}',
      '{"consent":true}',
      '{"consent":{"marketing":true}}',
      '{"consent":{"categoryPreferences":[true]}}',
      '{"consent":{"categoryPreferences":"marketing"}}',
    ])
      expect({ context, consent: consentFromContext(context) }).toEqual({ context, consent: undefined });
  });

  it('lets an explicit consent trait of the same event win over the context', () => {
    expect(eventTraits({ type: 'identify', traits: '{"consent":{"marketing":false}}', context: withPrefs({ marketing: true }) })).toEqual({
      consent: { marketing: false },
    });
    expect(eventTraits({ type: 'track', traits: '{"plan":"pro"}', context: withPrefs({ ads: false }) })).toEqual({
      plan: 'pro',
      consent: { categoryPreferences: { ads: false } },
    });
  });
});

// Few timestamps, so equal times (decided by messageId) are common.
const consentEventsArb = fc
  .uniqueArray(
    fc.record({
      messageId: fc.string({ minLength: 1, maxLength: 3 }),
      timestamp: fc.integer({ min: 0, max: 4 }),
      type: fc.constantFrom('track' as const, 'page' as const, 'identify' as const),
      prefs: fc.option(fc.dictionary(fc.constantFrom('marketing', 'ads', 'analytics'), fc.boolean(), { maxKeys: 3 }), { nil: undefined }),
    }),
    { selector: (e) => e.messageId, maxLength: 10 },
  )
  .map((rows) =>
    rows.map((r) => event({ messageId: r.messageId, timestamp: r.timestamp, type: r.type, context: r.prefs ? withPrefs(r.prefs) : '{}' })),
  );

describe('consent from event context', () => {
  it('sets the consent trait from any event type and reports it changed only when its value changes', () => {
    const granted = applyEvent(fresh(), event({ messageId: 'm1', context: withPrefs({ marketing: true }) }));
    expect(granted.changedTraits).toEqual(['consent']);
    expect(granted.profile.traits['consent']).toEqual({
      value: { categoryPreferences: { marketing: true } },
      updatedAt: 1_000,
      source: 'src',
      messageId: 'm1',
    });
    const same = applyEvent(granted.profile, event({ messageId: 'm2', timestamp: 2_000, context: withPrefs({ marketing: true }) }));
    expect(same.changedTraits).toEqual([]);
    const withdrawn = applyEvent(same.profile, event({ messageId: 'm3', timestamp: 3_000, context: withPrefs({ marketing: false }) }));
    expect(withdrawn.changedTraits).toEqual(['consent']);
    const none = applyEvent(withdrawn.profile, event({ messageId: 'm4', timestamp: 4_000 }));
    expect(none.profile.traits['consent']?.value).toEqual({ categoryPreferences: { marketing: false } });
  });

  it('keeps the consent of the latest event carrying one (then messageId), whatever the arrival order', () => {
    fc.assert(
      fc.property(
        consentEventsArb.chain((events) => fc.tuple(fc.constant(events), fc.shuffledSubarray(events, { minLength: events.length }))),
        ([events, shuffled]) => {
          // Oracle: the last consent-carrying event by (timestamp, messageId).
          const carrying = events
            .filter((e) => consentFromContext(e.context) !== undefined)
            .sort((a, b) => a.timestamp - b.timestamp || (a.messageId < b.messageId ? -1 : a.messageId > b.messageId ? 1 : 0));
          const latest = carrying[carrying.length - 1];
          const expected = latest ? consentFromContext(latest.context) : undefined;
          for (const order of [events, shuffled]) expect(applyAll(order).traits['consent']?.value).toEqual(expected);
        },
      ),
    );
  });

  it('never lets an older event overwrite a newer consent', () => {
    fc.assert(
      fc.property(consentEventsArb, fc.integer({ min: 5, max: 10 }), fc.boolean(), (older, t, marketing) => {
        const newest = event({ messageId: 'newest', timestamp: t, context: withPrefs({ marketing }) });
        let p = applyEvent(fresh(), newest).profile;
        for (const e of older) {
          const r = applyEvent(p, e);
          expect(r.changedTraits).not.toContain('consent');
          p = r.profile;
        }
        expect(p.traits['consent']).toMatchObject({ value: { categoryPreferences: { marketing } }, messageId: 'newest' });
      }),
    );
  });
});
