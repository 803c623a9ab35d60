import { type ResolvedEvent } from '@cdp/contracts';
import { testScope, waitFor } from '@cdp/testing';
import {
  AUTH,
  DEMO_WS,
  randomPortBase,
  resolvedEvent,
  startProfileStoreStack,
  type ProfileStoreStack,
} from './testing/profile-store-stack';

/**
 * The timeline retention sweep on the real stack, in its own scope (database and topics): the
 * sweep deletes across the whole database, which the other profile-store spec must not share.
 */
const scope = testScope('retention');
const WS = DEMO_WS;
const auth = AUTH;
const DAY = 24 * 60 * 60 * 1000;

let stack: ProfileStoreStack;

beforeAll(async () => {
  stack = await startProfileStoreStack(scope, {
    port: randomPortBase(15_000) + 4,
    clientId: 'retention-it',
    env: { PROFILE_TIMELINE_RETENTION_DAYS: '10', PROFILE_TIMELINE_SWEEP_INTERVAL_SECONDS: '1' },
  });
}, 120_000);

afterAll(() => stack?.stop());

let seq = 0;
const event = (profileId: string, timestamp: number): ResolvedEvent =>
  resolvedEvent({
    workspaceId: WS,
    profileId,
    messageId: `m-${scope.id}-${++seq}`,
    type: 'track',
    event: 'Viewed',
    timestamp,
    receivedAt: Date.now(),
    properties: JSON.stringify({ ageDays: Math.round((Date.now() - timestamp) / DAY) }),
  });

const send = (profileId: string, events: ResolvedEvent[]): Promise<void> => stack.sendEvents(profileId, events);

const ages = async (profileId: string): Promise<number[] | undefined> => {
  const res = await fetch(`${stack.service.url}/v1/profiles/${profileId}/events`, { headers: auth });
  if (res.status !== 200) return undefined;
  const body = (await res.json()) as { events: { properties: { ageDays: number } }[] };
  return body.events.map((e) => e.properties.ageDays);
};

const settings = (body?: unknown) =>
  fetch(`${stack.service.url}/v1/profile-settings`, {
    method: body === undefined ? 'GET' : 'PUT',
    headers: { ...auth, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });

it('sweeps timeline entries older than the default retention, and then the workspace setting', () =>
  stack.withLogs(async () => {
    expect(await (await settings()).json()).toEqual({ timelineRetentionDays: 10, isDefault: true });
    const p = `retained-${scope.id}`;
    const now = Date.now();
    await send(p, [event(p, now - 20 * DAY), event(p, now - 5 * DAY), event(p, now)]);
    // The default (10 days) removes the 20-day-old entry; the profile keeps having counted it.
    await waitFor(async () => ((await ages(p))?.join(',') === '0,5' ? true : undefined), 'the 20-day-old entry swept', 30_000);
    const profile = (await (await fetch(`${stack.service.url}/v1/profiles/${p}`, { headers: auth })).json()) as {
      stats: { eventCount: number };
    };
    expect(profile.stats.eventCount).toBe(3);

    // The workspace's own retention (3 days) wins over the default.
    const put = await settings({ timelineRetentionDays: 3 });
    expect(put.status).toBe(200);
    expect(await (await settings()).json()).toEqual({ timelineRetentionDays: 3, isDefault: false });
    await waitFor(async () => ((await ages(p))?.join(',') === '0' ? true : undefined), 'the 5-day-old entry swept', 30_000);
    const metrics = await (await fetch(`${stack.service.url}/metrics`)).text();
    expect(metrics).toMatch(/cdp_profile_timeline_swept_total\{[^}]*\} 2\n/);

    expect((await settings({ timelineRetentionDays: -1 })).status).toBe(400);
  }));
