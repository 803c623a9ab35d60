import { ALL_TOPICS, Topics, type RawEvent } from '@cdp/contracts';
import { stackEndpoints, testScope } from '@cdp/testing';
import { AvroSerde, DecodeError } from './avro-serde';

/** Against the real registry: every contract registers, round-trips, and bad bytes fail with a code. */
const scope = testScope('serde');
const serde = AvroSerde.connect(stackEndpoints().registryUrl);

it('registers every topic schema, idempotently', async () => {
  for (const def of ALL_TOPICS) {
    const subject = `${scope.namespace}${def.name}-value`;
    const id = await serde.schemaId(subject, def.schema);
    expect(await AvroSerde.connect(stackEndpoints().registryUrl).schemaId(subject, def.schema)).toBe(id);
  }
});

it('round-trips a value in the Confluent wire format', async () => {
  const codec = await serde.codec(Topics.rawEvents, `${scope.namespace}${Topics.rawEvents.name}`);
  const event: RawEvent = {
    workspaceId: 'ws',
    sourceId: null,
    messageId: 'm',
    type: 'track',
    receivedAt: 1_700_000_000_000,
    payload: '{"a":1}',
  };
  const bytes = await codec.encode(event);
  expect(bytes[0]).toBe(0);
  expect(await codec.decode(bytes)).toEqual(event);
});

it('says why bytes cannot be decoded', async () => {
  const codec = await serde.codec(Topics.rawEvents, `${scope.namespace}${Topics.rawEvents.name}`);
  const good = await codec.encode({ workspaceId: 'ws', sourceId: 'src', messageId: 'm', type: 'track', receivedAt: 1, payload: '{}' });
  const unknownId = Buffer.from(good);
  unknownId.writeInt32BE(2_000_000_000, 1);
  const cases: [Buffer | null, string][] = [
    [null, 'empty_value'],
    [Buffer.from('{"type":"track"}'), 'not_confluent_avro'],
    [unknownId, 'unknown_schema_id'],
    [good.subarray(0, good.length - 3), 'undecodable'],
  ];
  for (const [bytes, code] of cases) {
    const error = await codec.decode(bytes).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(DecodeError);
    expect((error as DecodeError).code).toBe(code);
  }
});

it("refuses valid Avro written with another topic's schema, and reads its own through resolution", async () => {
  const raw = await serde.codec(Topics.rawEvents, `${scope.namespace}${Topics.rawEvents.name}`);
  const dlq = await serde.codec(Topics.deadLetters, `${scope.namespace}${Topics.deadLetters.name}`);
  const rawBytes = await raw.encode({ workspaceId: 'ws', sourceId: null, messageId: 'm', type: 'track', receivedAt: 1, payload: '{}' });
  const error = await dlq.decode(rawBytes).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(DecodeError);
  expect((error as DecodeError).code).toBe('wrong_schema');
  // Without a reader schema (no topic known) the writer schema alone decodes it, as before.
  expect(await serde.decode(rawBytes)).toMatchObject({ messageId: 'm' });
});
