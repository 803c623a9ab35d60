import { Kafka, logLevel, type Producer } from 'kafkajs';
import { Topics, recordKey, type ProfileChange, type ResolvedEvent, type TopicDef } from '@cdp/contracts';
import { AvroSerde } from '@cdp/kafka';
import { stackEndpoints, startService, testScope, TopicReader, waitFor, type RunningService, withServiceLogs } from '@cdp/testing';

/**
 * The built profile-store on the real stack: consent sent in an event's
 * `context.consent.categoryPreferences` becomes the profile's `consent` trait (which the segmenter's
 * `consent('<category>')` reads), newest event first, and its changes name it in changedTraits.
 */
const scope = testScope('consent');
const PORT = 14_000 + Math.floor(Math.random() * 900) * 10 + 6;
const WS = 'demo';
const auth = { authorization: 'Bearer dev-api-key' };
const topic = (def: TopicDef<unknown>): string => `${scope.namespace}${def.name}`;

let service: RunningService;
let producer: Producer;
let serde: AvroSerde;
let changes: TopicReader<ProfileChange>;

beforeAll(async () => {
  service = await startService('profile-store', PORT, scope.env);
  const { kafkaBrokers, registryUrl } = stackEndpoints();
  producer = new Kafka({ brokers: kafkaBrokers.split(','), clientId: 'profile-store-consent-it', logLevel: logLevel.NOTHING }).producer();
  await producer.connect();
  serde = AvroSerde.connect(registryUrl);
  changes = await new TopicReader<ProfileChange>(topic(Topics.profileChanges)).start();
}, 120_000);

afterAll(async () => {
  await changes?.stop();
  await producer?.disconnect();
  await service?.stop();
});

const withLogs = (run: () => Promise<void>): Promise<void> => withServiceLogs(() => [service], run);

let seq = 0;
const track = (profileId: string, timestamp: number, context: object): ResolvedEvent => ({
  workspaceId: WS,
  profileId,
  identifiers: [],
  sourceId: 'src',
  messageId: `m-${scope.id}-${++seq}`,
  type: 'track',
  event: 'Page Viewed',
  name: null,
  userId: null,
  anonymousId: null,
  groupId: null,
  timestamp,
  receivedAt: timestamp + 1,
  traits: '{}',
  properties: '{}',
  context: JSON.stringify(context),
});
const prefs = (categoryPreferences: Record<string, boolean>) => ({ ip: '10.0.0.1', consent: { categoryPreferences } });

async function send(profileId: string, events: ResolvedEvent[]): Promise<void> {
  const codec = await serde.codec(Topics.resolvedEvents, topic(Topics.resolvedEvents));
  const messages = await Promise.all(events.map(async (v) => ({ key: recordKey(WS, profileId), value: await codec.encode(v) })));
  await producer.send({ topic: codec.topic, acks: -1, messages });
}

const traitsOf = async (profileId: string): Promise<Record<string, unknown>> => {
  const res = await fetch(`${service.url}/v1/profiles/${encodeURIComponent(profileId)}/traits`, { headers: auth });
  expect(res.status).toBe(200);
  const body = (await res.json()) as { traits?: Record<string, unknown> } & Record<string, unknown>;
  return body.traits ?? body;
};

const changeOf = (event: ResolvedEvent) =>
  changes.waitForRecord((c) => c.profileId === event.profileId && c.messageId === event.messageId, `the change of ${event.messageId}`);

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
