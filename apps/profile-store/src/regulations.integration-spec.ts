import { identifierHash, Topics, recordKey, type ResolvedEvent, type Suppression } from '@cdp/contracts';
import { testScope, TopicReader, waitFor } from '@cdp/testing';
import {
  AUTH,
  DEMO_WS,
  randomPortBase,
  resolvedEvent,
  startProfileStoreStack,
  type ProfileStoreStack,
} from './testing/profile-store-stack';

/**
 * Suppression and its lifting in the built profile-store on the real stack: a redelivered event
 * that was applied before the suppression is not counted as suppressed; `unsuppress` lets the
 * identifier's events apply again, but never shortens the window of an erasure; an erasure tells
 * the normalizer (cdp.privacy.suppressions.v1) to drop the person's identifiers for its window.
 */
const scope = testScope('regulations');
const WS = DEMO_WS;
const auth = AUTH;

let stack: ProfileStoreStack;
let suppressions: TopicReader<Suppression>;

beforeAll(async () => {
  stack = await startProfileStoreStack(scope, { port: randomPortBase() + 4, clientId: 'regulations-it' });
  suppressions = await new TopicReader<Suppression>(`${scope.namespace}${Topics.suppressions.name}`).start();
}, 120_000);

afterAll(async () => {
  await suppressions?.stop();
  await stack?.stop();
});

const DAY_MS = 86_400_000;
/** The `until` of the newest suppression record of an email (null: until lifted), once it is `expected`. */
const suppressionOf = (email: string, expected: (until: number | null) => boolean, what: string): Promise<number | null> =>
  waitFor(() => {
    const hash = identifierHash(WS, 'email', email);
    const last = suppressions.records.filter((r) => r.value.identifierHash === hash).at(-1);
    return last && expected(last.value.until) ? { until: last.value.until } : undefined;
  }, what).then((r) => r.until);
/** Whether `until` ends an erasure window (PROFILE_ERASURE_SUPPRESSION_DAYS, 30) that began about now. */
const erasureWindow = (until: number | null): boolean => until !== null && Math.abs(until - (Date.now() + 30 * DAY_MS)) < 60_000;

const withLogs = (run: () => Promise<void>): Promise<void> => stack.withLogs(run);

let seq = 0;
const event = (profileId: string, over: Partial<ResolvedEvent> = {}): ResolvedEvent =>
  resolvedEvent({ workspaceId: WS, profileId, messageId: `m-${scope.id}-${++seq}`, timestamp: 1_000 + seq, receivedAt: 2_000, ...over });

/** Events under one key (one partition, in order): a last marker event shows the others were handled. */
async function sendThenMarker(key: string, events: ResolvedEvent[]): Promise<void> {
  const marker = event(`marker-${scope.id}-${seq}`);
  await stack.produce(Topics.resolvedEvents, recordKey(WS, key), [...events, marker]);
  await profile(marker.profileId, () => true, 'the marker event');
}

interface ProfileBody {
  traits: Record<string, unknown>;
  stats: { eventCount: number };
}

const profile = (id: string, ready: (p: ProfileBody) => boolean, what: string): Promise<ProfileBody> =>
  waitFor(
    async () => {
      const res = await fetch(`${stack.service.url}/v1/profiles/${encodeURIComponent(id)}`, { headers: auth });
      if (res.status !== 200) return undefined;
      const body = (await res.json()) as ProfileBody;
      return ready(body) ? body : undefined;
    },
    what,
    30_000,
  );

async function regulate(type: string, email: string): Promise<{ regulationId: string; type: string; status: string }> {
  const res = await fetch(`${stack.service.url}/v1/regulations`, {
    method: 'POST',
    headers: { ...auth, 'content-type': 'application/json' },
    body: JSON.stringify({ type, identifiers: [{ type: 'email', value: email }] }),
  });
  expect(res.status).toBe(202);
  return (await res.json()) as { regulationId: string; type: string; status: string };
}

const suppressedCount = async (reason: string): Promise<number> => {
  const metrics = await (await fetch(`${stack.service.url}/metrics`)).text();
  const match = new RegExp(`cdp_profile_events_suppressed_total\\{reason="${reason}"[^}]*\\} (\\d+)`).exec(metrics);
  return match ? Number(match[1]) : 0;
};

it('counts a suppressed event once: a redelivered copy of an event applied before the suppression is done, not suppressed', () =>
  withLogs(async () => {
    const p = `once-${scope.id}`;
    const email = `once.${scope.id}@example.com`;
    const first = event(p, { identifiers: [{ type: 'email', value: email }], traits: '{"plan":"pro"}' });
    await sendThenMarker(p, [first]);
    await profile(p, (b) => b.stats.eventCount === 1, 'the first event');

    await regulate('suppress', email);
    const later = event(p, { identifiers: [{ type: 'email', value: email }], traits: '{"plan":"free"}' });
    // The first event again (a redelivery), a new one of the suppressed email twice in one chunk.
    await sendThenMarker(p, [first, later, later]);
    expect(await suppressedCount('regulation')).toBe(1);
    expect((await profile(p, () => true, 'the profile')).traits).toEqual({ plan: 'pro' });
  }));

it('unsuppress: the events of the identifier apply again', () =>
  withLogs(async () => {
    const p = `lift-${scope.id}`;
    const email = `lift.${scope.id}@example.com`;
    await sendThenMarker(p, [event(p, { identifiers: [{ type: 'email', value: email }], traits: '{"plan":"pro"}' })]);
    await regulate('suppress', email);
    const before = await suppressedCount('regulation');
    await sendThenMarker(p, [event(p, { identifiers: [{ type: 'email', value: email }], traits: '{"plan":"free"}' })]);
    expect(await suppressedCount('regulation')).toBe(before + 1);

    const lift = await regulate('unsuppress', email);
    expect(lift).toMatchObject({ type: 'unsuppress', status: 'finished' });
    const read = await fetch(`${stack.service.url}/v1/regulations/${lift.regulationId}`, { headers: auth });
    expect(await read.json()).toMatchObject({ regulationId: lift.regulationId, type: 'unsuppress', status: 'finished', profilesFound: 0 });
    await sendThenMarker(p, [event(p, { identifiers: [{ type: 'email', value: email }], traits: '{"plan":"team"}' })]);
    const after = await profile(p, (b) => b.stats.eventCount === 2, 'the event after the unsuppress');
    expect(after.traits).toEqual({ plan: 'team' });
    expect(await suppressedCount('regulation')).toBe(before + 1);
  }));

it('unsuppress after an erasure leaves the erasure window in force', () =>
  withLogs(async () => {
    const p = `erased-${scope.id}`;
    const email = `erased.${scope.id}@example.com`;
    await sendThenMarker(p, [event(p, { identifiers: [{ type: 'email', value: email }] })]);
    await regulate('suppress', email);
    const erase = await fetch(`${stack.service.url}/v1/profiles/${encodeURIComponent(p)}`, { method: 'DELETE', headers: auth });
    expect(erase.status).toBe(202);
    // The normalizer is told what holds: the regulation's "until lifted", then the erasure's window.
    expect(await suppressionOf(email, (until) => until === null, 'the suppression record')).toBeNull();
    await regulate('unsuppress', email);
    await suppressionOf(email, erasureWindow, "the erasure's window on the topic");

    const erasures = await suppressedCount('erasure');
    const q = `other-${scope.id}`;
    await sendThenMarker(q, [event(q, { identifiers: [{ type: 'email', value: email }], traits: '{"back":true}' })]);
    expect(await suppressedCount('erasure')).toBe(erasures + 1);
    expect((await fetch(`${stack.service.url}/v1/profiles/${encodeURIComponent(q)}`, { headers: auth })).status).toBe(404);
  }));

it("an erasure suppresses the person's identifiers at the normalizer too, for its window", () =>
  withLogs(async () => {
    const p = `erased-only-${scope.id}`;
    const email = `erased.only.${scope.id}@example.com`;
    await sendThenMarker(p, [event(p, { identifiers: [{ type: 'email', value: email }] })]);
    const erase = await fetch(`${stack.service.url}/v1/profiles/${encodeURIComponent(p)}`, { method: 'DELETE', headers: auth });
    expect(erase.status).toBe(202);
    await suppressionOf(email, erasureWindow, "the erasure's suppression record");
  }));
