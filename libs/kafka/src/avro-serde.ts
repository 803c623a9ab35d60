import { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import { type TopicDef, valueSubject } from '@cdp/contracts';

/** Why a record could not be decoded; these become DLQ reason codes. */
export type DecodeFailure = 'empty_value' | 'not_confluent_avro' | 'unknown_schema_id' | 'undecodable';

export class DecodeError extends Error {
  constructor(
    readonly code: DecodeFailure,
    message: string,
  ) {
    super(message);
  }
}

/** Confluent wire format: magic byte 0, 4-byte big-endian schema id, Avro binary. */
const MAGIC_BYTE = 0;
const HEADER_LENGTH = 5;

export const schemaIdOf = (buffer: Buffer): number | undefined =>
  buffer.length >= HEADER_LENGTH && buffer[0] === MAGIC_BYTE ? buffer.readInt32BE(1) : undefined;

/** Encodes and decodes one topic's values. */
export interface TopicCodec<T> {
  readonly topic: string;
  encode(value: T): Promise<Buffer>;
  decode(buffer: Buffer | null): Promise<T>;
}

/**
 * Avro in the Confluent wire format through the schema registry. Schema ids are cached per
 * subject (register once per process) and writer schemas per id (inside the registry client).
 */
export class AvroSerde {
  private readonly ids = new Map<string, Promise<number>>();

  constructor(
    private readonly registry: SchemaRegistry,
    private readonly url: string,
    private readonly auth?: { username: string; password: string },
  ) {}

  static connect(url: string, auth?: { username: string; password: string }): AvroSerde {
    return new AvroSerde(new SchemaRegistry({ host: url, clientId: 'cdp', auth }), url.replace(/\/+$/, ''), auth);
  }

  /** Registers (idempotently) the topic's schema and returns a codec bound to its id. */
  async codec<T>(def: TopicDef<T>, topic: string): Promise<TopicCodec<T>> {
    const id = await this.schemaId(valueSubject(topic), def.schema);
    return {
      topic,
      encode: (value: T) => this.registry.encode(id, value),
      decode: (buffer: Buffer | null) => this.decode<T>(buffer),
    };
  }

  schemaId(subject: string, schema: string): Promise<number> {
    let id = this.ids.get(subject);
    if (!id) {
      id = this.register(subject, schema);
      id.catch(() => this.ids.delete(subject));
      this.ids.set(subject, id);
    }
    return id;
  }

  /**
   * Registers with a plain POST (the same schema always answers the same id). The client
   * library's register also sets and checks the subject's compatibility, which races when
   * several services register a new subject at once; compatibility is the deployment's to
   * set (the Helm hook sets it), not each producer's.
   */
  private async register(subject: string, schema: string): Promise<number> {
    const headers: Record<string, string> = { 'content-type': 'application/vnd.schemaregistry.v1+json' };
    if (this.auth) headers['authorization'] = `Basic ${Buffer.from(`${this.auth.username}:${this.auth.password}`).toString('base64')}`;
    const res = await fetch(`${this.url}/subjects/${encodeURIComponent(subject)}/versions`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ schema, schemaType: 'AVRO' }),
    });
    const body = (await res.json().catch(() => ({}))) as { id?: unknown; message?: unknown };
    if (!res.ok || typeof body.id !== 'number') {
      throw new Error(`registering ${subject} failed: HTTP ${res.status} ${typeof body.message === 'string' ? body.message : ''}`.trim());
    }
    return body.id;
  }

  async decode<T>(buffer: Buffer | null): Promise<T> {
    if (!buffer || buffer.length === 0) throw new DecodeError('empty_value', 'record has no value');
    const id = schemaIdOf(buffer);
    if (id === undefined) throw new DecodeError('not_confluent_avro', 'value does not start with the Confluent magic byte and a schema id');
    let schema;
    try {
      schema = await this.registry.getSchema(id);
    } catch (e) {
      // Only the registry's "not found" condemns the record; an unreachable registry is
      // transient, so the error propagates and the record is redelivered, not dead-lettered.
      if (isNotFound(e)) throw new DecodeError('unknown_schema_id', `schema id ${id} is not in the registry`);
      throw e;
    }
    try {
      return schema.fromBuffer(buffer.subarray(HEADER_LENGTH)) as T;
    } catch (e) {
      throw new DecodeError('undecodable', `value does not match schema ${id}: ${e instanceof Error ? e.message : 'decode failed'}`);
    }
  }
}

const isNotFound = (e: unknown): boolean => typeof e === 'object' && e !== null && (e as { status?: unknown }).status === 404;
