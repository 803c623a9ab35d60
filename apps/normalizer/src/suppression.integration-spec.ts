import { Kafka, logLevel, type Consumer } from 'kafkajs';
import { identifierHash, recordKey, Topics } from '@cdp/contracts';
import { AvroSerde } from '@cdp/kafka';
import { startService, stackEndpoints, testScope, waitFor, type RunningService } from '@cdp/testing';
import { hashValue } from './app/privacy/pii';
import { AUTH, DEMO_WS, json, metricsOf, startNormalizerStack, type NormalizerStack } from './testing/normalizer-stack';

/**
 * Suppression end to end on the real stack: a suppress regulation at the profile-store goes out on
 * cdp.privacy.suppressions.v1, and the normalizer drops the person's events (counted, not
 * dead-lettered); an unsuppress writes a tombstone and the next event goes through.
 */
const scope = testScope('suppress');
const WS = DEMO_WS;
const EMAIL = `forget.me.${scope.id}@example.com`;
const HASH = identifierHash(WS, 'email', EMAIL);

let stack: NormalizerStack;
let profileStore: RunningService;
let topicWatcher: Consumer;
/** What the suppression topic said about our key, in order: a regulation id, or null for a tombstone. */
const onTopic: (string | null)[] = [];

beforeAll(async () => {
  stack = await startNormalizerStack(scope);
  profileStore = await startService('profile-store', stack.portBase + 4, scope.env);
  stack.services.push(profileStore);
  const kafka = new Kafka({ brokers: stackEndpoints().kafkaBrokers.split(','), clientId: 'suppression-it', logLevel: logLevel.NOTHING });
  topicWatcher = kafka.consumer({ groupId: `${scope.namespace}watcher`, maxWaitTimeInMs: 50 });
  await topicWatcher.connect();
  await topicWatcher.subscribe({ topic: stack.topic(Topics.suppressions), fromBeginning: true });
  await topicWatcher.run({
    eachMessage: async ({ message }) => {
      if (message.key?.toString('utf8') !== recordKey(WS, HASH)) return;
      // The value is Avro; its regulation id is readable text inside it, enough to tell records apart.
      onTopic.push(message.value === null ? null : (/reg_[A-Za-z0-9_-]{16}/.exec(message.value.toString('latin1'))?.[0] ?? 'unreadable'));
    },
  });
}, 180_000);

afterAll(async () => {
  await topicWatcher?.disconnect();
  await profileStore?.stop();
  await stack?.stop();
});

const regulate = async (type: string, identifiers: { type: string; value: string }[]) =>
  json<{ regulationId: string; type: string; status: string; identifierCount: number }>(
    await fetch(`${profileStore.url}/v1/regulations`, {
      method: 'POST',
      headers: { ...AUTH, 'content-type': 'application/json' },
      body: JSON.stringify({ type, identifiers }),
    }),
    202,
  );

const regulation = async (id: string) =>
  json<{ regulationId: string; type: string; status: string }>(await fetch(`${profileStore.url}/v1/regulations/${id}`, { headers: AUTH }));

/** Whether the normalizer's store holds the suppression (what its consumer made of the topic). */
const stored = async (): Promise<boolean> =>
  (await stack.mongo.db().collection('normalizer_suppressions').countDocuments({ workspaceId: WS, identifierHash: HASH })) > 0;

let seq = 0;
const messageId = (tag: string) => `m-${tag}-${scope.id}-${++seq}`;
const copies = (id: string) => stack.normalized.records.filter((r) => r.value.messageId === id);
const inDlq = (id: string) => stack.dlq.records.some((r) => r.value.originalValue?.toString('utf8').includes(id));

it('drops the events of a suppressed email at the normalizer, counted and never dead-lettered; unsuppress lets the next one through', () =>
  stack.withLogs(async () => {
    const key = `${WS}:person-${scope.id}`;
    const before = messageId('before');
    await stack.sendJson(key, { type: 'identify', userId: `u-${scope.id}`, messageId: before, traits: { email: EMAIL } });
    await stack.normalized.waitForRecord((e) => e.messageId === before, 'the event before the regulation');

    // Written as a person would type it: the regulation API trims and lower-cases emails.
    const suppress = await regulate('suppress', [{ type: 'email', value: `  ${EMAIL.toUpperCase()} ` }]);
    expect(suppress).toMatchObject({ type: 'suppress', status: 'finished', identifierCount: 1 });
    // Durable before the answer: the record is on the topic, and the normalizer stores it.
    await waitFor(() => onTopic.includes(suppress.regulationId) || undefined, 'the suppression on the topic');
    await waitFor(async () => (await stored()) || undefined, 'the suppression in the normalizer store');

    const dropped = {
      identify: messageId('identify'),
      // As the SDK may send it: in other letters, in context.traits of a track.
      track: messageId('track'),
      // A call the normalizer would dead-letter (no event name): its bytes must not reach the DLQ either.
      invalid: messageId('invalid'),
    };
    const other = messageId('other');
    await stack.sendJson(key, { type: 'identify', userId: `other-${scope.id}`, messageId: dropped.identify, traits: { email: EMAIL } });
    await stack.sendJson(key, {
      type: 'track',
      event: 'Viewed',
      anonymousId: `anon-${scope.id}`,
      messageId: dropped.track,
      context: { traits: { email: ` ${EMAIL.toUpperCase()}` } },
    });
    await stack.sendJson(key, { type: 'track', userId: 'x', messageId: dropped.invalid, context: { traits: { email: EMAIL } } });
    await stack.sendJson(key, { type: 'identify', userId: `other-${scope.id}`, messageId: other, traits: { email: `other.${EMAIL}` } });
    // Same key, one partition in order: once this one is out, the others were handled.
    await stack.normalized.waitForRecord((e) => e.messageId === other, 'the event of another person');
    for (const id of Object.values(dropped)) {
      expect(copies(id)).toHaveLength(0);
      expect(inDlq(id)).toBe(false);
    }
    // Their dedupe claims (made alongside the suppression lookup) are given back: no trace of them is kept.
    const dedupe = stack.mongo.db().collection('normalizer_dedupe');
    await waitFor(
      async () => (await dedupe.countDocuments({ workspaceId: WS, messageId: { $in: Object.values(dropped) } })) === 0 || undefined,
      'the claims of the dropped events given back',
    );
    expect(await metricsOf(stack.normalizer)).toMatch(/cdp_normalizer_events_total\{[^}]*outcome="suppressed"[^}]*\} 3\b/);
    // Logged without the identifier.
    expect(stack.normalizer.output()).not.toContain(EMAIL);
    expect(await regulation(suppress.regulationId)).toMatchObject({ type: 'suppress', status: 'finished' });

    const lift = await regulate('unsuppress', [{ type: 'email', value: EMAIL }]);
    expect(lift).toMatchObject({ type: 'unsuppress', status: 'finished', identifierCount: 1 });
    expect(await regulation(lift.regulationId)).toMatchObject({ regulationId: lift.regulationId, type: 'unsuppress', status: 'finished' });
    await waitFor(() => onTopic.at(-1) === null || undefined, 'the tombstone on the topic');
    await waitFor(async () => !(await stored()) || undefined, 'the suppression gone from the normalizer store');
    // The profile-store lifted its own copy too.
    expect(await stack.mongo.db().collection('profile_erasures').countDocuments({ workspaceId: WS, hash: HASH })).toBe(0);

    // A retry of an event dropped while suppressed is not a duplicate: it goes through now.
    await stack.sendJson(key, { type: 'identify', userId: `other-${scope.id}`, messageId: dropped.identify, traits: { email: EMAIL } });
    await stack.normalized.waitForRecord((e) => e.messageId === dropped.identify, 'the retried event');

    const after = messageId('after');
    await stack.sendJson(key, { type: 'identify', userId: `u-${scope.id}`, messageId: after, traits: { email: EMAIL } });
    const passed = await stack.normalized.waitForRecord((e) => e.messageId === after, 'the event after the unsuppress');
    expect(JSON.parse(passed.value.traits)).toEqual({ email: EMAIL });
    expect(await metricsOf(stack.normalizer)).toMatch(/cdp_normalizer_events_total\{[^}]*outcome="suppressed"[^}]*\} 3\b/);
  }));

it('reads the suppressions from the beginning: a restarted normalizer still drops them', () =>
  stack.withLogs(async () => {
    const phone = '+14155550123';
    const suppress = await regulate('suppress_with_delete', [{ type: 'phone', value: phone }]);
    expect(suppress).toMatchObject({ type: 'suppress_with_delete', identifierCount: 1 });
    const phoneHash = identifierHash(WS, 'phone', phone);
    const suppressions = stack.mongo.db().collection('normalizer_suppressions');
    await waitFor(
      async () => (await suppressions.countDocuments({ workspaceId: WS, identifierHash: phoneHash })) > 0 || undefined,
      'stored',
    );
    // A store lost with everything in it (a new database, say) is rebuilt from the compacted topic.
    await stack.normalizer.stop();
    await suppressions.deleteMany({});
    const admin = new Kafka({ brokers: stackEndpoints().kafkaBrokers.split(','), logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
    await admin.deleteGroups([`${scope.namespace}cdp.normalizer.suppressions`]).catch(() => undefined);
    await admin.disconnect();
    await stack.restart();
    await waitFor(
      async () => (await suppressions.countDocuments({ workspaceId: WS, identifierHash: phoneHash })) > 0 || undefined,
      'rebuilt',
      60_000,
    );

    const key = `${WS}:caller-${scope.id}`;
    const dropped = messageId('phone');
    const sentinel = messageId('sentinel');
    // Cleaned to E.164 first (US default region), then matched.
    await stack.sendJson(key, { type: 'identify', userId: `caller-${scope.id}`, messageId: dropped, traits: { phone: '(415) 555-0123' } });
    await stack.sendJson(key, { type: 'identify', userId: `caller-${scope.id}`, messageId: sentinel, traits: {} });
    await stack.normalized.waitForRecord((e) => e.messageId === sentinel, 'the sentinel');
    expect(copies(dropped)).toHaveLength(0);
    expect(inDlq(dropped)).toBe(false);
  }));

/** Erasure suppressions as the profile-store's eraser writes them: the end of the window in `until`. */
async function sendErasures(entries: { workspaceId: string; identifierHash: string; until: number }[]): Promise<void> {
  const codec = await AvroSerde.connect(stackEndpoints().registryUrl).codec(Topics.suppressions, stack.topic(Topics.suppressions));
  const producer = new Kafka({ brokers: stackEndpoints().kafkaBrokers.split(','), logLevel: logLevel.NOTHING }).producer();
  await producer.connect();
  try {
    const messages = await Promise.all(
      entries.map(async (e) => ({
        key: recordKey(e.workspaceId, e.identifierHash),
        value: await codec.encode({ ...e, regulationId: 'erasure', suppressedAt: Date.now() }),
      })),
    );
    await producer.send({ topic: codec.topic, acks: -1, messages });
  } finally {
    await producer.disconnect();
  }
  const stored = stack.mongo.db().collection('normalizer_suppressions');
  await waitFor(
    async () =>
      (
        await Promise.all(entries.map((e) => stored.countDocuments({ workspaceId: e.workspaceId, identifierHash: e.identifierHash })))
      ).every((n) => n === 1) || undefined,
    'the erasures stored',
  );
}

it("drops an erased person's events while the erasure's window lasts, and not after it", () =>
  stack.withLogs(async () => {
    const [current, over] = [`erased.${scope.id}@example.com`, `erased.long.ago.${scope.id}@example.com`];
    await sendErasures([
      { workspaceId: WS, identifierHash: identifierHash(WS, 'email', current), until: Date.now() + 86_400_000 },
      { workspaceId: WS, identifierHash: identifierHash(WS, 'email', over), until: Date.now() - 1 },
    ]);
    const key = `${WS}:erased-${scope.id}`;
    const [dropped, passed] = [messageId('erased'), messageId('window-over')];
    await stack.sendJson(key, { type: 'identify', userId: `e1-${scope.id}`, messageId: dropped, traits: { email: current } });
    await stack.sendJson(key, { type: 'identify', userId: `e2-${scope.id}`, messageId: passed, traits: { email: over } });
    await stack.normalized.waitForRecord((e) => e.messageId === passed, 'the event after its window');
    expect(copies(dropped)).toHaveLength(0);
  }));

it("drops an erased person's events in a workspace that hashes emails: the erasure names the email as stored", () =>
  stack.withLogs(async () => {
    // The profile-store only ever saw the hash, so its erasure suppresses ('email', hash).
    const ws = `wspii${scope.id}`;
    const salt = `salt-${scope.id}`;
    await stack.mongo
      .db()
      .collection('normalizer_settings')
      .insertOne({ workspaceId: ws, pii: [{ path: 'traits.email', action: 'hash' }], piiSalt: salt });
    const [erased, other] = [`Hashed.${scope.id}@Example.com`, `other.${scope.id}@example.com`];
    await sendErasures([
      {
        workspaceId: ws,
        identifierHash: identifierHash(ws, 'email', hashValue(salt, erased.toLowerCase())),
        until: Date.now() + 86_400_000,
      },
    ]);
    const key = `${ws}:hashed-${scope.id}`;
    const [dropped, passed] = [messageId('hashed-erased'), messageId('hashed-other')];
    await stack.sendJson(key, { type: 'identify', userId: `h1-${scope.id}`, messageId: dropped, traits: { email: erased } });
    await stack.sendJson(key, { type: 'identify', userId: `h2-${scope.id}`, messageId: passed, traits: { email: other } });
    const kept = await stack.normalized.waitForRecord((e) => e.messageId === passed, 'the other person');
    expect(JSON.parse(kept.value.traits)).toMatchObject({ email: hashValue(salt, other) });
    expect(copies(dropped)).toHaveLength(0);
  }));

it('purges the dead letters of a person once suppressed, and keeps everyone else’s', () =>
  stack.withLogs(async () => {
    const email = `dead.letters.${scope.id}@example.com`;
    const letters = stack.mongo.db().collection('normalizer_dlq');
    const lettersAbout = (hash: string) => letters.countDocuments({ workspaceId: WS, identifierHashes: hash });
    const hash = identifierHash(WS, 'email', email);
    const otherHash = identifierHash(WS, 'user_id', `bystander-${scope.id}`);
    // Dead-lettered for want of an event name, before any regulation: one of the person's, one of someone else's.
    await stack.sendJson(`${WS}:dl-${scope.id}`, {
      type: 'track',
      anonymousId: `a-${scope.id}`,
      messageId: messageId('dl'),
      traits: { email },
    });
    await stack.sendJson(`${WS}:dl-${scope.id}`, { type: 'track', userId: `bystander-${scope.id}`, messageId: messageId('dl-other') });
    await waitFor(
      async () => ((await lettersAbout(hash)) === 1 && (await lettersAbout(otherHash)) === 1) || undefined,
      'both letters indexed',
    );

    await regulate('suppress_with_delete', [{ type: 'email', value: email }]);
    await waitFor(async () => (await lettersAbout(hash)) === 0 || undefined, 'the letter purged');
    expect(await lettersAbout(otherHash)).toBe(1);
    expect(stack.normalizer.output()).not.toContain(email);
  }));
