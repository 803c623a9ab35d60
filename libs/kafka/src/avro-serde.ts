import { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import { Type, type Resolver, type Schema } from 'avsc';
import { type TopicDef, valueSubject } from '@cdp/contracts';

/** Why a record could not be decoded; these become DLQ reason codes. */
export type DecodeFailure = 'empty_value' | 'not_confluent_avro' | 'unknown_schema_id' | 'wrong_schema' | 'undecodable';

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
  /** Per reader schema (a topic's own), its type and its resolvers by writer schema id. */
  private readonly readers = new Map<string, { type: Type; resolvers: Map<number, Resolver | DecodeError> }>();

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
      decode: (buffer: Buffer | null) => this.decode<T>(buffer, def.schema),
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

  /**
   * Decodes a value with the writer schema its id names. With the topic's own schema as
   * `readerSchema`, the value is read through Avro schema resolution: a record written with a
   * schema that is not a version of the topic's (another topic's record, say) is refused with
   * `wrong_schema` instead of being handed on in the wrong shape.
   */
  async decode<T>(buffer: Buffer | null, readerSchema?: string): Promise<T> {
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
    const resolved = readerSchema === undefined ? undefined : this.resolve(readerSchema, id, schema as Type);
    if (resolved instanceof DecodeError) throw resolved;
    try {
      const body = buffer.subarray(HEADER_LENGTH);
      return (resolved ? resolved.type.fromBuffer(body, resolved.resolver) : schema.fromBuffer(body)) as T;
    } catch (e) {
      throw new DecodeError('undecodable', `value does not match schema ${id}: ${e instanceof Error ? e.message : 'decode failed'}`);
    }
  }

  /** The reader type and its resolver for a writer schema id, cached; a DecodeError when they do not match. */
  private resolve(readerSchema: string, writerId: number, writer: Type): { type: Type; resolver: Resolver } | DecodeError {
    let reader = this.readers.get(readerSchema);
    if (!reader) {
      reader = { type: Type.forSchema(JSON.parse(readerSchema) as Schema), resolvers: new Map() };
      this.readers.set(readerSchema, reader);
    }
    let resolver = reader.resolvers.get(writerId);
    if (!resolver) {
      try {
        resolver = reader.type.createResolver(writer);
      } catch {
        resolver = new DecodeError(
          'wrong_schema',
          `schema ${writerId} is not a version of this topic's schema (${reader.type.name ?? 'unnamed'})`,
        );
      }
      reader.resolvers.set(writerId, resolver);
    }
    return resolver instanceof DecodeError ? resolver : { type: reader.type, resolver };
  }
}

const isNotFound = (e: unknown): boolean => typeof e === 'object' && e !== null && (e as { status?: unknown }).status === 404;
