import fc from 'fast-check';
import { Kafka, logLevel, type Producer } from 'kafkajs';
import { Topics, type DeadLetter, type TopicDef } from '@cdp/contracts';
import { stackEndpoints, TopicReader, waitFor } from '@cdp/testing';
import { basic, bearer, DEMO_API_KEY, DEMO_WRITE_KEY, expectAllAlive, jsonHeaders, request, type Stack, withLogs } from '../support/stack';

/** Decode failures every consumer shares (libs/contracts/README.md). */
const DECODE = ['empty_value', 'not_confluent_avro', 'unknown_schema_id', 'undecodable'];

/** Each consumed topic, the stage consuming it and the reason codes that stage documents. */
const CONSUMED: { def: TopicDef<unknown>; stage: string; reasons: string[] }[] = [
  {
    def: Topics.rawEvents,
    stage: 'normalizer',
    reasons: [
      ...DECODE,
      'missing_workspace',
      'invalid_json',
      'invalid_type',
      'missing_identity',
      'missing_event',
      'missing_group_id',
      'missing_previous_id',
      'too_deep',
      'too_many_keys',
      'too_large',
      'tracking_plan_violation',
    ],
  },
  { def: Topics.normalizedEvents, stage: 'identity-resolver', reasons: [...DECODE, 'no_identifiers'] },
  { def: Topics.resolvedEvents, stage: 'profile-store', reasons: [...DECODE, 'missing_ids'] },
  { def: Topics.identityMerges, stage: 'profile-store', reasons: [...DECODE, 'invalid_merge'] },
  { def: Topics.segmentChanges, stage: 'profile-store', reasons: [...DECODE, 'invalid_segment_change'] },
  { def: Topics.profileChanges, stage: 'segmenter', reasons: [...DECODE, 'invalid_traits', 'invalid_event_properties'] },
];

interface Garbage {
  kind: string;
  key: string | null;
  value: Buffer;
  /** The documented reason(s) this record must be dead-lettered with. */
  reasons: string[];
}

interface Produced extends Garbage {
  topic: string;
  partition: number;
  offset: string;
}

const header = (id: number) => {
  const b = Buffer.alloc(5);
  b.writeInt32BE(id, 1);
  return b;
};

/** A first byte the normalizer reads the raw topic's value as text (JSON) by: printable ASCII, blank space, a UTF-8 BOM. */
const isTextStart = (byte: number) => (byte >= 0x20 && byte <= 0x7e) || [0x09, 0x0a, 0x0d, 0xef].includes(byte);

/**
 * Broken records on every consumed topic: each lands on cdp.events.dlq.v1 with its documented
 * reason, and the consumer keeps going (a valid flow produced afterwards is processed).
 */
export function topicAttacks(stack: () => Stack): void {
  const test = (name: string, run: () => Promise<void>) => it(name, () => withLogs(stack, run));
  describe('hostile records on the consumed topics', () => {
    let kafka: Kafka;
    let producer: Producer;
    let dlq: TopicReader<DeadLetter>;
    let segmentId: string;
    const ns = () => stack().scope.namespace;
    const s = () => stack().services;

    beforeAll(async () => {
      kafka = new Kafka({ brokers: stackEndpoints().kafkaBrokers.split(','), clientId: 'security-e2e', logLevel: logLevel.NOTHING });
      producer = kafka.producer();
      await producer.connect();
      dlq = await new TopicReader<DeadLetter>(`${ns()}${Topics.deadLetters.name}`).start();
      const seg = await request(`${s().segmenter.url}/v1/segments`, {
        method: 'POST',
        headers: jsonHeaders(bearer(DEMO_API_KEY)),
        body: JSON.stringify({ name: `topics-${Date.now()}`, definition: "trait('country') = 'FR'" }),
      });
      expect(seg.status).toBe(201);
      segmentId = (seg.json as { id: string }).id;
    });

    afterAll(async () => {
      await dlq?.stop();
      await producer?.disconnect();
    });

    /** Identify calls that make a profile change, a segment entry and a merge; resolves when the effects are visible. */
    async function flow(tag: string): Promise<void> {
      const email = `flow.${tag}@example.com`;
      // Two people first, each stored before the next call (their keys may sit on different
      // partitions), then the call that links them: a merge every time.
      const calls: [Record<string, unknown>, string][] = [
        [{ anonymousId: `a1-${tag}`, traits: { email, country: 'FR' } }, `email:${encodeURIComponent(email)}`],
        [{ anonymousId: `a2-${tag}`, userId: `u2-${tag}` }, `user_id:u2-${tag}`],
        [{ userId: `u2-${tag}`, traits: { email } }, ''],
      ];
      for (const [body, stored] of calls) {
        const a = await request(`${s().collector.url}/v1/identify`, {
          method: 'POST',
          headers: jsonHeaders(basic(DEMO_WRITE_KEY)),
          body: JSON.stringify(body),
        });
        expect(a.status).toBe(200);
        if (stored)
          await waitFor(
            async () =>
              (await request(`${s()['profile-store'].url}/v1/profiles/${stored}`, { headers: bearer(DEMO_API_KEY) })).status === 200,
            `flow ${tag}: profile ${stored}`,
            60_000,
          );
      }
      const ps = `${s()['profile-store'].url}/v1/profiles/email:${encodeURIComponent(email)}`;
      let seen = '';
      await waitFor(
        async () => {
          const ids = await request(`${ps}/identities`, { headers: bearer(DEMO_API_KEY) });
          const segs = await request(`${ps}/segments`, { headers: bearer(DEMO_API_KEY) });
          seen = `identities: ${ids.status} ${ids.text}; segments: ${segs.status} ${segs.text}`;
          const absorbed = (ids.json as { absorbedProfileIds?: string[] } | undefined)?.absorbedProfileIds ?? [];
          const segments = (segs.json as { segments?: { segmentId: string }[] } | undefined)?.segments ?? [];
          return absorbed.length > 0 && segments.some((x) => x.segmentId === segmentId);
        },
        `flow ${tag}: a merged profile (merges, resolved events) in the segment (profile changes, segment changes)`,
        60_000,
        250,
      ).catch((e: unknown) => {
        throw new Error(`${e instanceof Error ? e.message : String(e)}; last seen ${seen}`);
      });
    }

    /** One valid value per consumed topic, as its producer wrote it (Confluent wire format). */
    async function samples(): Promise<Map<string, Buffer>> {
      const topics = CONSUMED.map((c) => `${ns()}${c.def.name}`);
      const found = new Map<string, Buffer>();
      const consumer = kafka.consumer({ groupId: `security-e2e-samples-${Date.now()}`, maxWaitTimeInMs: 100 });
      await consumer.connect();
      try {
        await consumer.subscribe({ topics, fromBeginning: true });
        await consumer.run({
          eachMessage: async ({ topic, message }) => {
            if (message.value && message.value.length > 5 && message.value[0] === 0 && !found.has(topic)) found.set(topic, message.value);
          },
        });
        await waitFor(() => found.size === topics.length, `a sample record on each of ${topics.join(', ')}`, 60_000);
      } finally {
        await consumer.disconnect();
      }
      return found;
    }

    test('dead-letters wrong and unknown schema ids, truncated Avro, non-Avro bytes and garbage JSON with their reason, and keeps consuming', async () => {
      await flow('warmup');
      const sample = await samples();
      const produced: Produced[] = [];
      for (const [i, consumed] of CONSUMED.entries()) {
        const topic = `${ns()}${consumed.def.name}`;
        const own = sample.get(topic) as Buffer;
        // Valid Avro of another topic's schema: decodable, but not a version of this topic's schema.
        const foreign = sample.get(`${ns()}${CONSUMED[(i + 1) % CONSUMED.length]?.def.name}`) as Buffer;
        const raw = consumed.def === Topics.rawEvents;
        const garbage = fc.record({
          nonAvro: fc
            .uint8Array({ minLength: 1, maxLength: 64 })
            .filter((b) => b[0] !== 0)
            .map(
              (b): Garbage => ({
                kind: 'non-Avro bytes',
                key: 'demo:x',
                value: Buffer.from(b),
                // The raw topic reads a value starting with text (printable ASCII, blank space, a BOM) as JSON.
                reasons: [raw && isTextStart(b[0] as number) ? 'invalid_json' : 'not_confluent_avro'],
              }),
            ),
          short: fc.uint8Array({ minLength: 0, maxLength: 3 }).map(
            (b): Garbage => ({
              kind: 'magic byte, no schema id',
              key: 'demo:x',
              value: Buffer.from([0, ...b]),
              reasons: ['not_confluent_avro'],
            }),
          ),
          unknownId: fc
            .tuple(
              fc.oneof(fc.integer({ min: 100_000_000, max: 2 ** 31 - 1 }), fc.integer({ min: -(2 ** 31), max: -1 })),
              fc.uint8Array({ maxLength: 40 }),
            )
            .map(
              ([id, rest]): Garbage => ({
                kind: `unknown schema id ${id}`,
                key: 'demo:x',
                value: Buffer.concat([header(id), rest]),
                reasons: ['unknown_schema_id'],
              }),
            ),
          truncated: fc.integer({ min: 5, max: own.length - 1 }).map(
            (n): Garbage => ({
              kind: `truncated to ${n} of ${own.length} bytes`,
              key: 'demo:x',
              value: own.subarray(0, n),
              reasons: ['undecodable'],
            }),
          ),
          json: fc
            .string({ maxLength: 40 })
            .filter((t) => {
              try {
                JSON.parse(`{${t}`);
                return false;
              } catch {
                return true;
              }
            })
            .map(
              (t): Garbage => ({
                kind: 'garbage JSON',
                key: 'demo:x',
                value: Buffer.from(`{${t}`),
                reasons: [raw ? 'invalid_json' : 'not_confluent_avro'],
              }),
            ),
          empty: fc.constant<Garbage>({ kind: 'empty value', key: 'demo:x', value: Buffer.alloc(0), reasons: ['empty_value'] }),
          wrongSchema: fc.constant<Garbage>({ kind: 'another topic’s schema', key: 'demo:x', value: foreign, reasons: ['wrong_schema'] }),
        });
        const extra: Garbage[] = raw
          ? [
              {
                kind: 'JSON without a workspace key',
                key: null,
                value: Buffer.from('{"type":"track","event":"E","userId":"u"}'),
                reasons: ['missing_workspace'],
              },
              { kind: 'JSON array', key: 'demo:x', value: Buffer.from('[1,2]'), reasons: ['invalid_json'] },
              {
                kind: 'JSON keyed by user id alone',
                key: 'user-42',
                value: Buffer.from('{"type":"track","event":"E","userId":"user-42"}'),
                reasons: ['missing_workspace'],
              },
            ]
          : [];
        // Both partitions, before the flow below: any record of the flow comes after garbage.
        for (const [partition, set] of fc.sample(garbage, 2).entries()) {
          for (const g of [...Object.values(set), ...extra]) {
            const [meta] = await producer.send({ topic, acks: -1, messages: [{ key: g.key, value: g.value, partition }] });
            produced.push({ ...g, topic, partition, offset: meta?.baseOffset ?? '-1' });
          }
        }
      }

      await flow('after');

      const missing: string[] = [];
      await waitFor(
        () => {
          missing.length = 0;
          for (const p of produced) {
            const letter = dlq.records.find(
              (r) => r.value.sourceTopic === p.topic && r.value.sourcePartition === p.partition && r.value.sourceOffset === p.offset,
            );
            if (!letter || !p.reasons.includes(letter.value.reason))
              missing.push(
                `${p.topic}[${p.partition}]@${p.offset} ${p.kind}: ${letter ? `reason ${letter.value.reason} (${letter.value.message})` : 'no DLQ record'}, expected ${p.reasons.join('|')}`,
              );
          }
          return missing.length === 0;
        },
        'a DLQ record with the documented reason for every broken record',
        30_000,
      ).catch(() => {
        throw new Error(`broken records not dead-lettered as documented:\n${missing.join('\n')}`);
      });
      for (const p of produced) {
        const letter = dlq.records.find(
          (r) => r.value.sourceTopic === p.topic && r.value.sourceOffset === p.offset && r.value.sourcePartition === p.partition,
        );
        // The original bytes travel with the letter, so it can be fixed and replayed.
        expect(Buffer.from(letter?.value.originalValue ?? Buffer.alloc(0)).equals(p.value)).toBe(true);
      }
      await expectAllAlive(stack());
    });
  });
}
