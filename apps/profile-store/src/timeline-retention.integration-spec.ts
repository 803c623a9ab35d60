import { Kafka, logLevel, type Producer } from 'kafkajs';
import { Topics, recordKey, type ResolvedEvent } from '@cdp/contracts';
import { AvroSerde } from '@cdp/kafka';
import { stackEndpoints, startService, testScope, waitFor, withServiceLogs, type RunningService } from '@cdp/testing';

/**
 * The timeline retention sweep on the real stack, in its own scope (database and topics): the
 * sweep deletes across the whole database, which the other profile-store spec must not share.
 */
const scope = testScope('retention');
const PORT = 15_000 + Math.floor(Math.random() * 900) * 10 + 4;
const WS = 'demo';
const auth = { authorization: 'Bearer dev-api-key' };
const DAY = 24 * 60 * 60 * 1000;

let service: RunningService;
let producer: Producer;
let serde: AvroSerde;

beforeAll(async () => {
  service = await startService('profile-store', PORT, {
    ...scope.env,
    PROFILE_TIMELINE_RETENTION_DAYS: '10',
    PROFILE_TIMELINE_SWEEP_INTERVAL_SECONDS: '1',
  });
  const { kafkaBrokers, registryUrl } = stackEndpoints();
  producer = new Kafka({ brokers: kafkaBrokers.split(','), clientId: 'retention-it', logLevel: logLevel.NOTHING }).producer();
  await producer.connect();
  serde = AvroSerde.connect(registryUrl);
}, 120_000);

afterAll(async () => {
  await producer?.disconnect();
  await service?.stop();
});

let seq = 0;
const event = (profileId: string, timestamp: number): ResolvedEvent => ({
  workspaceId: WS,
  profileId,
  identifiers: [],
  sourceId: 'src',
  messageId: `m-${scope.id}-${++seq}`,
  type: 'track',
  event: 'Viewed',
  name: null,
  userId: null,
  anonymousId: null,
  groupId: null,
  timestamp,
  receivedAt: Date.now(),
  traits: '{}',
  properties: JSON.stringify({ ageDays: Math.round((Date.now() - timestamp) / DAY) }),
  context: '{}',
});

async function send(profileId: string, events: ResolvedEvent[]): Promise<void> {
  const codec = await serde.codec(Topics.resolvedEvents, `${scope.namespace}${Topics.resolvedEvents.name}`);
  const messages = await Promise.all(events.map(async (v) => ({ key: recordKey(WS, profileId), value: await codec.encode(v) })));
  await producer.send({ topic: codec.topic, acks: -1, messages });
}

const ages = async (profileId: string): Promise<number[] | undefined> => {
  const res = await fetch(`${service.url}/v1/profiles/${profileId}/events`, { headers: auth });
  if (res.status !== 200) return undefined;
  const body = (await res.json()) as { events: { properties: { ageDays: number } }[] };
  return body.events.map((e) => e.properties.ageDays);
};

const settings = (body?: unknown) =>
  fetch(`${service.url}/v1/profile-settings`, {
    method: body === undefined ? 'GET' : 'PUT',
    headers: { ...auth, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });

it('sweeps timeline entries older than the default retention, and then the workspace setting', () =>
  withServiceLogs(
    () => [service],
    async () => {
      expect(await (await settings()).json()).toEqual({ timelineRetentionDays: 10, isDefault: true });
      const p = `retained-${scope.id}`;
      const now = Date.now();
      await send(p, [event(p, now - 20 * DAY), event(p, now - 5 * DAY), event(p, now)]);
      // The default (10 days) removes the 20-day-old entry; the profile keeps having counted it.
      await waitFor(async () => ((await ages(p))?.join(',') === '0,5' ? true : undefined), 'the 20-day-old entry swept', 30_000);
      const profile = (await (await fetch(`${service.url}/v1/profiles/${p}`, { headers: auth })).json()) as {
        stats: { eventCount: number };
      };
      expect(profile.stats.eventCount).toBe(3);

      // The workspace's own retention (3 days) wins over the default.
      const put = await settings({ timelineRetentionDays: 3 });
      expect(put.status).toBe(200);
      expect(await (await settings()).json()).toEqual({ timelineRetentionDays: 3, isDefault: false });
      await waitFor(async () => ((await ages(p))?.join(',') === '0' ? true : undefined), 'the 5-day-old entry swept', 30_000);
      const metrics = await (await fetch(`${service.url}/metrics`)).text();
      expect(metrics).toMatch(/cdp_profile_timeline_swept_total\{[^}]*\} 2\n/);

      expect((await settings({ timelineRetentionDays: -1 })).status).toBe(400);
    },
  ));
