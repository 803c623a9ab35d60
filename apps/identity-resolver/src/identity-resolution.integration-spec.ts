import { recordKey, Topics } from '@cdp/contracts';
import { waitFor } from '@cdp/testing';
import { startResolverStack, T0, WS, type ResolverStack } from './app/testing/resolver-stack';

/**
 * The built identity-resolver on the real stack (Kafka, registry, FerretDB): normalized events in
 * as Avro, resolved events and merges out; alias calls, windowed limits, explanations, removal
 * of an identifier, and erasure tombstones of cdp.profiles.changes.v1.
 */
const DAY = 86_400_000;

let stack: ResolverStack;

beforeAll(async () => {
  stack = await startResolverStack('idres');
}, 120_000);

afterAll(() => stack?.stop());

const withLogs = (run: () => Promise<void>): Promise<void> => stack.withLogs(run);
const resolve: ResolverStack['resolve'] = (over) => stack.resolve(over);
const id = (tag: string) => stack.id(tag);
const identity = (typeValue: string, init: RequestInit = {}) => stack.api(`/v1/identities/${encodeURIComponent(typeValue)}`, init);
const putRules = (body: unknown) =>
  stack.api('/v1/identity-rules', { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

it('links an alias previousId to the userId as a merge with reason alias, and explains it', () =>
  withLogs(async () => {
    const visitor = await resolve({ anonymousId: id('visitor') });
    const user = await resolve({ userId: id('user') });
    expect(user.profileId).not.toBe(visitor.profileId);
    const alias = await resolve({ type: 'alias', userId: id('user'), previousId: id('visitor'), timestamp: T0 + 5_000 });
    // The older profile (the visitor's) survives.
    expect(alias.profileId).toBe(visitor.profileId);
    const merge = (await stack.merges.waitForRecord((m) => m.messageId === alias.messageId, 'the alias merge')).value;
    expect(merge).toMatchObject({ fromProfileId: user.profileId, intoProfileId: visitor.profileId, reason: 'alias' });

    const res = await identity(`user_id:${id('user')}`);
    expect(res.status).toBe(200);
    const body = (await res.json()) as Record<string, unknown>;
    expect(body).toMatchObject({
      profileId: visitor.profileId,
      attachedTo: user.profileId,
      profile: { profileId: visitor.profileId, identifierCounts: { anonymous_id: 1, user_id: 1 } },
      merges: [
        {
          fromProfileId: user.profileId,
          intoProfileId: visitor.profileId,
          reason: 'alias',
          identifiers: [
            { type: 'user_id', value: id('user') },
            { type: 'anonymous_id', value: id('visitor') },
          ],
          messageId: alias.messageId,
          eventTimestamp: new Date(T0 + 5_000).toISOString(),
          score: null,
        },
      ],
    });
    // The survivor's own identifier has no merge on its way.
    expect(await (await identity(`anonymous_id:${id('visitor')}`)).json()).toMatchObject({ profileId: visitor.profileId, merges: [] });
  }));

it('counts a windowed limit over the events’ time', () =>
  withLogs(async () => {
    expect((await putRules({ limits: { email: { max: 1, window: '30d' } } })).status).toBe(200);
    // An array is no rules object: refused, not read as "every rule at its default".
    const array = await putRules([]);
    expect([array.status, ((await array.json()) as { message: string }).message]).toEqual([
      400,
      'the body must be a JSON object, not an array',
    ]);
    try {
      const first = await resolve({ userId: id('w'), traits: JSON.stringify({ email: `${id('w1')}@x.io` }), timestamp: T0 });
      // Ten days later: a second email within 30 days is demoted.
      const second = await resolve({ userId: id('w'), traits: JSON.stringify({ email: `${id('w2')}@x.io` }), timestamp: T0 + 10 * DAY });
      expect(second.profileId).toBe(first.profileId);
      expect(second.identifiers).toEqual([{ type: 'user_id', value: id('w') }]);
      expect((await identity(`email:${id('w2')}@x.io`)).status).toBe(404);
      // Forty days later the first one has left the window.
      const third = await resolve({ userId: id('w'), traits: JSON.stringify({ email: `${id('w3')}@x.io` }), timestamp: T0 + 40 * DAY });
      expect(third.identifiers.map((i) => i.type)).toEqual(['user_id', 'email']);
      expect(await (await identity(`email:${id('w3')}@x.io`)).json()).toMatchObject({ profileId: first.profileId });
    } finally {
      expect((await putRules({})).status).toBe(200);
    }
  }));

it('removes an identifier from its profile (admin, audited): later events carrying it start elsewhere', () =>
  withLogs(async () => {
    const first = await resolve({ userId: id('d'), anonymousId: id('shared-kiosk') });
    expect((await identity(`anonymous_id:${id('shared-kiosk')}`, { method: 'DELETE', headers: { authorization: '' } })).status).toBe(401);
    const del = await identity(`anonymous_id:${id('shared-kiosk')}`, { method: 'DELETE' });
    expect(del.status).toBe(200);
    const removed = (await del.json()) as { removed: boolean; profileId: string; newProfileId: string };
    expect(removed).toMatchObject({ removed: true, profileId: first.profileId });
    expect(removed.newProfileId).not.toBe(first.profileId);
    // The profile-store learns of it from cdp.identity.removals.v1, keyed like the profile's events.
    const removal = await stack.removals.waitForRecord((r) => r.identifier.value === id('shared-kiosk'), 'the removal record');
    expect(removal.key).toBe(`${first.workspaceId}:${first.profileId}`);
    expect(removal.value).toMatchObject({
      profileId: first.profileId,
      attachedTo: first.profileId,
      identifier: { type: 'anonymous_id', value: id('shared-kiosk') },
    });
    // It stands for a new person of its own now.
    expect(await (await identity(`anonymous_id:${id('shared-kiosk')}`)).json()).toMatchObject({ profileId: removed.newProfileId });
    expect((await identity(`anonymous_id:${id('nobody')}`, { method: 'DELETE' })).status).toBe(404);
    expect((await identity('no-colon', { method: 'DELETE' })).status).toBe(400);
    // The user id stays; the kiosk's next visitor gets a profile of their own.
    const kept = (await (await identity(`user_id:${id('d')}`)).json()) as { profileId: string; profile: { identifierCounts: object } };
    expect(kept.profileId).toBe(first.profileId);
    expect(kept.profile.identifierCounts).toEqual({ user_id: 1 });
    const next = await resolve({ anonymousId: id('shared-kiosk'), traits: JSON.stringify({ email: `${id('kiosk')}@x.io` }) });
    expect(next.profileId).toBe(removed.newProfileId);

    // The identifier a profile was created from (its id derives from it): the next event carrying
    // it must not derive that profile again.
    const visitor = await resolve({ anonymousId: id('first-visit') });
    const known = await resolve({ anonymousId: id('first-visit'), userId: id('v') });
    expect(known.profileId).toBe(visitor.profileId);
    expect((await identity(`anonymous_id:${id('first-visit')}`, { method: 'DELETE' })).status).toBe(200);
    const again = await resolve({ anonymousId: id('first-visit') });
    expect(again.profileId).not.toBe(visitor.profileId);
    expect(again.identifiers).toEqual([{ type: 'anonymous_id', value: id('first-visit') }]);
    // Audited: action, outcome and route, never the identifier itself.
    const audit = stack.service
      .output()
      .split('\n')
      .filter((line) => line.includes('identities.delete'));
    expect(audit.length).toBeGreaterThanOrEqual(2);
    expect(audit.join('\n')).not.toContain(id('shared-kiosk'));
  }));

it('drops an erased person’s profiles and identifiers on the profile-store’s tombstones', () =>
  withLogs(async () => {
    const a = await resolve({ anonymousId: id('er-anon'), traits: JSON.stringify({ email: `${id('er')}@x.io` }) });
    const b = await resolve({ userId: id('er-user') });
    const linked = await resolve({ userId: id('er-user'), traits: JSON.stringify({ email: `${id('er')}@x.io` }) });
    expect(linked.profileId).toBe(a.profileId);
    const other = await resolve({ userId: id('keep') });
    // With one email per profile, a second one is kept off the person: a refusal that names the erased profile.
    expect((await putRules({ limits: { email: 1 } })).status).toBe(200);
    const second = `email:${id('er2')}@x.io`;
    await resolve({ userId: id('er-user'), traits: JSON.stringify({ email: `${id('er2')}@x.io` }) });
    expect((await putRules({})).status).toBe(200);
    const refusalsOf = async (typeValue: string) =>
      ((await (await identity(typeValue)).json()) as { refusals: { profileId: string }[] }).refusals;
    expect((await refusalsOf(second)).map((r) => r.profileId)).toEqual([a.profileId]);

    // What the profile-store writes on erasure: per erased profile id, tombstones keyed <workspace>:<profileId>.
    await stack.producer.send({
      topic: stack.topic(Topics.profileChanges),
      acks: -1,
      messages: [a.profileId, b.profileId].map((p) => ({ key: recordKey(WS, p), value: null })),
    });
    for (const gone of [`anonymous_id:${id('er-anon')}`, `email:${id('er')}@x.io`, `user_id:${id('er-user')}`]) {
      await waitFor(async () => ((await identity(gone)).status === 404 ? true : undefined), `${gone.split(':')[0]} to be dropped`, 30_000);
    }
    expect(await (await identity(`user_id:${id('keep')}`)).json()).toMatchObject({ profileId: other.profileId });
    // Nothing names the erased person any more, not even what was kept off it.
    await waitFor(async () => ((await refusalsOf(second)).length === 0 ? true : undefined), 'the refusal naming it to be dropped', 30_000);
    // The identifiers are free: a later event carrying one starts a new profile with no history.
    const again = await resolve({ userId: id('er-user'), anonymousId: id('fresh') });
    expect(again.identifiers).toHaveLength(2);
    expect(await (await identity(`user_id:${id('er-user')}`)).json()).toMatchObject({ profileId: again.profileId, merges: [] });
  }));
