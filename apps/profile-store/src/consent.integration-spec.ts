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
 * The built profile-store on the real stack: consent sent in an event's
 * `context.consent.categoryPreferences` becomes the profile's `consent` trait (which the segmenter's
 * `consent('<category>')` reads), newest event first, and its changes name it in changedTraits.
 */
const scope = testScope('consent');
const WS = DEMO_WS;
const auth = AUTH;

let stack: ProfileStoreStack;

beforeAll(async () => {
  stack = await startProfileStoreStack(scope, { port: randomPortBase() + 6, clientId: 'profile-store-consent-it', readChanges: true });
}, 120_000);

afterAll(() => stack?.stop());

const withLogs = (run: () => Promise<void>): Promise<void> => stack.withLogs(run);

let seq = 0;
const track = (profileId: string, timestamp: number, context: object): ResolvedEvent =>
  resolvedEvent({
    workspaceId: WS,
    profileId,
    messageId: `m-${scope.id}-${++seq}`,
    type: 'track',
    event: 'Page Viewed',
    timestamp,
    receivedAt: timestamp + 1,
    context: JSON.stringify(context),
  });
const prefs = (categoryPreferences: Record<string, boolean>) => ({ ip: '10.0.0.1', consent: { categoryPreferences } });

const send = (profileId: string, events: ResolvedEvent[]): Promise<void> => stack.sendEvents(profileId, events);

const traitsOf = async (profileId: string): Promise<Record<string, unknown>> => {
  const res = await fetch(`${stack.service.url}/v1/profiles/${encodeURIComponent(profileId)}/traits`, { headers: auth });
  expect(res.status).toBe(200);
  const body = (await res.json()) as { traits?: Record<string, unknown> } & Record<string, unknown>;
  return body.traits ?? body;
};

const changeOf = (event: ResolvedEvent) =>
  stack.changes.waitForRecord(
    (c) => c.profileId === event.profileId && c.messageId === event.messageId,
    `the change of ${event.messageId}`,
  );

it('sets the consent trait from a track event and lists it in changedTraits; an older event does not overwrite it', () =>
  withLogs(async () => {
    const p = `consent-${scope.id}`;
    const grant = track(p, 5_000, prefs({ marketing: true }));
    await send(p, [grant]);
    const granted = await changeOf(grant);
    expect(granted.value.changedTraits).toContain('consent');
    expect(JSON.parse(granted.value.traits)).toMatchObject({ consent: { categoryPreferences: { marketing: true } } });
    expect((await traitsOf(p))['consent']).toEqual({ categoryPreferences: { marketing: true } });

    // Older (a late delivery) and without consent: neither changes the trait.
    const late = track(p, 1_000, prefs({ marketing: false }));
    const plain = track(p, 6_000, { ip: '10.0.0.1' });
    await send(p, [late, plain]);
    for (const e of [late, plain]) expect((await changeOf(e)).value.changedTraits).not.toContain('consent');
    expect((await traitsOf(p))['consent']).toEqual({ categoryPreferences: { marketing: true } });

    // A newer withdrawal does.
    const withdraw = track(p, 7_000, prefs({ marketing: false }));
    await send(p, [withdraw]);
    expect((await changeOf(withdraw)).value.changedTraits).toContain('consent');
    await waitFor(
      async () =>
        ((await traitsOf(p))['consent'] as { categoryPreferences?: { marketing?: boolean } } | undefined)?.categoryPreferences
          ?.marketing === false || undefined,
      'the withdrawal on the profile',
    );
  }));
