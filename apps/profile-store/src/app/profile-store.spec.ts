import fc from 'fast-check';
import { deletedChange, type ResolvedEvent } from '@cdp/contracts';
import { applyEvent, emptyProfile, type JsonValue } from '@cdp/profile-model';
import { eventNameOf } from './event-name';
import { profileChange } from './profile-change';
import { notFoundMessage, parseProfileRef, type ProfileRef } from './profile-ref';
import { fromDoc, storeTrait, toDoc } from './stored-profile';
import { decodeCursor, encodeCursor } from './timeline-cursor';

const resolved: ResolvedEvent = {
  workspaceId: 'ws',
  profileId: 'p1',
  identifiers: [{ type: 'email', value: 'jane@example.com' }],
  sourceId: 'src',
  messageId: 'm1',
  type: 'track',
  event: 'Order Completed',
  name: null,
  userId: null,
  anonymousId: 'a1',
  groupId: null,
  timestamp: 1_000,
  receivedAt: 1_500,
  traits: '{"plan":"pro","tags":[[1,2],[3]]}',
  properties: '{"total":120}',
  context: '{}',
};

describe('parseProfileRef', () => {
  it('reads type:value, keeping every later ":" and "@" in the value', () => {
    expect(parseProfileRef('email:Jane@Example.com')).toEqual({
      kind: 'identifier',
      type: 'email',
      value: 'jane@example.com',
      idKey: 'email:jane@example.com',
    });
    expect(parseProfileRef('user_id:42')).toMatchObject({ type: 'user_id', value: '42' });
    expect(parseProfileRef('anonymous_id:a:b@c')).toMatchObject({ type: 'anonymous_id', value: 'a:b@c' });
    // Custom externalIds types as the identity-resolver names them, hyphens and leading digits too.
    expect(parseProfileRef('crm-id:C-77')).toMatchObject({ kind: 'identifier', type: 'crm-id', value: 'C-77' });
    expect(parseProfileRef('2fa_id:x')).toMatchObject({ kind: 'identifier', type: '2fa_id' });
  });
  it('reads a phone as the normalizer stores it: E.164 when valid, else as given', () => {
    for (const written of ['phone:+49 170 1234567', 'phone: +49 (170) 123-4567 ', 'phone:+491701234567'])
      expect(parseProfileRef(written)).toMatchObject({ type: 'phone', value: '+491701234567', idKey: 'phone:+491701234567' });
    expect(parseProfileRef('phone:(415) 555-2671')).toMatchObject({ value: '+14155552671' });
    expect(parseProfileRef('phone:12')).toMatchObject({ value: '12' });
  });
  it('says, when no profile answers a national phone number, that it was read as a US one', () => {
    const message = (raw: string) => notFoundMessage(parseProfileRef(raw) as ProfileRef, raw);
    expect(message('phone:06 11 22 33 44')).toContain('read without a country code as a US number');
    expect(message('phone:+33 6 11 22 33 44')).toBe('no profile has identifier phone:…');
    expect(message('phone:0033611223344')).toBe('no profile has identifier phone:…');
    expect(message('email:jane@example.com')).toBe('no profile has identifier email:…');
    expect(message('p_123')).toMatch(/^profile not found/);
  });
  it('reads anything else as a profile id', () => {
    expect(parseProfileRef('6f1c2a9e-1b0e-4d8e-9d5a-0c1f2e3d4b5a')).toEqual({
      kind: 'profile',
      profileId: '6f1c2a9e-1b0e-4d8e-9d5a-0c1f2e3d4b5a',
    });
  });
  it('reads the type case-insensitively, as the identity-resolver does', () => {
    expect(parseProfileRef('Email:Jane@Example.com')).toMatchObject({ type: 'email', idKey: 'email:jane@example.com' });
    expect(parseProfileRef('USER_ID:Ab')).toMatchObject({ type: 'user_id', value: 'Ab', idKey: 'user_id:Ab' });
  });
  it('refuses empty ids and empty values', () => {
    expect(parseProfileRef('  ')).toBeNull();
    expect(parseProfileRef('email: ')).toBeNull();
    expect(parseProfileRef('x'.repeat(2000))).toBeNull();
  });
  it('keeps non-email values as given', () => {
    fc.assert(
      fc.property(
        fc.string({ minLength: 1 }).filter((s) => s.trim() !== '' && s.trim() === s),
        (value) => {
          expect(parseProfileRef(`user_id:${value}`)).toMatchObject({ kind: 'identifier', value });
        },
      ),
    );
  });
});

describe('timeline cursor', () => {
  it('round-trips', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 42 }), fc.string(), (timestamp, messageId) => {
        expect(decodeCursor(encodeCursor({ timestamp, messageId }))).toEqual({ timestamp, messageId });
      }),
    );
  });
  it('refuses what it did not issue', () => {
    expect(decodeCursor('garbage')).toBeNull();
    expect(decodeCursor(Buffer.from('{"a":1}').toString('base64url'))).toBeNull();
    expect(decodeCursor(Buffer.from('["1","m"]').toString('base64url'))).toBeNull();
  });
});

describe('stored profile', () => {
  it('stores a value with nested arrays as JSON text and reads it back', () => {
    const meta = { updatedAt: 1, source: 's', messageId: 'm' };
    expect(storeTrait({ value: [[1], 2], ...meta })).toEqual({ json: '[[1],2]', ...meta });
    expect(storeTrait({ value: { a: [1, { b: [[2]] }] }, ...meta })).toHaveProperty('json');
    expect(storeTrait({ value: [1, { a: [2] }], ...meta })).toEqual({ value: [1, { a: [2] }], ...meta });
  });
  it('round-trips a fieldwise trait with its observations (parts, reset)', () => {
    const at = (messageId: string, timestamp: number, address: unknown) =>
      ({ ...resolved, messageId, timestamp, traits: JSON.stringify({ address }) }) as typeof resolved;
    let profile = emptyProfile('ws', 'p1', 0);
    for (const e of [at('a1', 1, 'Old St 1'), at('a2', 2, { city: 'Berlin', street: [['x']] }), at('a3', 3, { postalCode: '10115' })])
      profile = applyEvent(profile, e, 5_000).profile;
    expect(profile.traits['address']).toMatchObject({ parts: { city: {}, street: {}, postalCode: {} }, reset: { value: 'Old St 1' } });
    expect(fromDoc(toDoc(profile))).toEqual(profile);
  });
  it('round-trips a profile', () => {
    const { profile } = applyEvent(emptyProfile('ws', 'p1', 0), resolved, 2_000);
    expect(fromDoc(toDoc(profile))).toEqual(profile);
  });
  it('round-trips any JSON trait value', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        const v = JSON.parse(JSON.stringify(value)) as JsonValue;
        const p = { ...emptyProfile('ws', 'p', 0), traits: { t: { value: v, updatedAt: 1, source: 's', messageId: 'm' } } };
        expect(fromDoc(toDoc(p)).traits['t']?.value).toEqual(v);
      }),
    );
  });
});

describe('profileChange', () => {
  it('carries the full traits and the causing event', () => {
    const { profile, changedTraits } = applyEvent(emptyProfile('ws', 'p1', 0), resolved, 2_000);
    const change = profileChange(profile, { kind: 'event', event: resolved, created: true, changedTraits }, 2_000);
    expect(change).toMatchObject({
      workspaceId: 'ws',
      profileId: 'p1',
      version: 1,
      change: 'created',
      changedTraits: ['plan', 'tags'],
      identifiers: [{ type: 'email', value: 'jane@example.com' }],
      messageId: 'm1',
      eventName: 'Order Completed',
      eventTimestamp: 1_000,
      eventProperties: '{"total":120}',
      receivedAt: 1_500,
    });
    expect(JSON.parse(change.traits)).toEqual({ plan: 'pro', tags: [[1, 2], [3]] });
    expect(JSON.parse(change.computedTraits)).toEqual({
      first_seen: '1970-01-01T00:00:01.000Z',
      last_seen: '1970-01-01T00:00:01.000Z',
      event_count: 1,
      revenue: 120,
    });
  });
  it('names page and screen calls as Segment destinations do, so segments can count page views', () => {
    expect(eventNameOf({ type: 'page', event: null, name: 'Pricing' })).toBe('Viewed Pricing Page');
    expect(eventNameOf({ type: 'screen', event: null, name: ' Home ' })).toBe('Viewed Home Screen');
    expect(eventNameOf({ type: 'page', event: null, name: null })).toBe('Loaded a Page');
    expect(eventNameOf({ type: 'screen', event: null, name: '' })).toBe('Loaded a Screen');
    expect(eventNameOf({ type: 'track', event: 'Order Completed', name: null })).toBe('Order Completed');
    for (const type of ['identify', 'group', 'alias'] as const) expect(eventNameOf({ type, event: null, name: null })).toBeNull();
    const page: ResolvedEvent = { ...resolved, type: 'page', event: null, name: 'Pricing', properties: '{"path":"/pricing"}' };
    const { profile, changedTraits } = applyEvent(emptyProfile('ws', 'p1', 0), page, 2_000);
    expect(profileChange(profile, { kind: 'event', event: page, created: true, changedTraits }, 2_000)).toMatchObject({
      eventName: 'Viewed Pricing Page',
      eventProperties: '{"path":"/pricing"}',
    });
  });
  it('describes a merge', () => {
    const change = profileChange(
      emptyProfile('ws', 'p1', 0),
      { kind: 'merge', absorbedProfileIds: ['p2'], changedTraits: [], messageId: null, receivedAt: 7 },
      9,
    );
    expect(change).toMatchObject({ change: 'merged', absorbedProfileIds: ['p2'], eventName: null, receivedAt: 7, changedAt: 9 });
  });
});

describe('deletedChange', () => {
  it('carries no personal data and a version above the last one', () => {
    const change = deletedChange('ws', 'p1', 8, 9);
    expect(change).toMatchObject({ workspaceId: 'ws', profileId: 'p1', version: 8, change: 'deleted', traits: '{}', identifiers: [] });
    expect(change.messageId).toBeNull();
  });
});
