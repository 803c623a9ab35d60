import { connect as netConnect, isIP, Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import type { INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { Topics, type RawEvent } from '@cdp/contracts';
import { KAFKA_CLIENT, KafkaJsClient, type KafkaJsOptions } from '@cdp/kafka';
import { testScope, TopicReader, waitFor } from '@cdp/testing';

type SocketFactory = NonNullable<KafkaJsOptions['socketFactory']>;

/** A socket error as Node raises it (kafkajs reports `code`). */
const socketError = (code: string, message: string) => Object.assign(new Error(`${message} ${code}`), { code });

/**
 * The collector's real Kafka connections, through a switch: `close()` resets every open
 * connection and refuses new ones, as a broker that went away does; `open()` lets them through
 * again. The shared Kafka cannot be stopped for one test file, and a TCP relay would not do:
 * the broker's metadata sends clients to its advertised address, around any relay.
 */
class KafkaGate {
  private readonly sockets = new Set<Socket>();
  private isOpen = true;

  /** kafkajs' own factory (net, or tls when asked), as long as the gate is open. */
  readonly socketFactory: SocketFactory = ({ host, port, ssl, onConnect }) => {
    if (!this.isOpen) {
      const refused = new Socket();
      // After kafkajs has attached its listeners to the socket it gets back.
      process.nextTick(() => refused.destroy(socketError('ECONNREFUSED', `connect ${host}:${port}`)));
      return refused;
    }
    // kafkajs passes no ssl options for a plaintext broker, whatever its type says.
    const tlsOptions: typeof ssl | undefined = ssl;
    const socket = tlsOptions
      ? tlsConnect({ host, port, ...(isIP(host) ? {} : { servername: host }), ...tlsOptions }, onConnect)
      : netConnect({ host, port }, onConnect);
    socket.setKeepAlive(true, 60_000); // as kafkajs' default factory
    this.sockets.add(socket);
    socket.once('close', () => this.sockets.delete(socket));
    return socket;
  };

  close(): void {
    this.isOpen = false;
    for (const socket of this.sockets) socket.destroy(socketError('ECONNRESET', 'read'));
  }

  open(): void {
    this.isOpen = true;
  }
}

/**
 * Kafka going away under a running collector: the collector runs in-process on the real stack
 * (Kafka, registry, MongoDB), its Kafka connections through a gate the test closes and opens.
 */
const scope = testScope('colloutage');
const PRODUCE_TIMEOUT_MS = 1_500;
const gate = new KafkaGate();
let raw: TopicReader<RawEvent>;
let app: INestApplication;
let url: string;

beforeAll(async () => {
  Object.assign(process.env, scope.env, { CDP_PRODUCE_TIMEOUT_MS: String(PRODUCE_TIMEOUT_MS) });
  const kafka = new KafkaJsClient({
    brokers: scope.env['KAFKA_BROKERS']?.split(',') ?? [],
    clientId: 'cdp-collector',
    socketFactory: gate.socketFactory,
  });
  // Config is read when the module is declared, so the module is loaded after the environment is set.
  const { AppModule } = await import('../app/app.module');
  const { configureHttp } = await import('../app/http-setup');
  const moduleRef = await Test.createTestingModule({ imports: [AppModule] })
    .overrideProvider(KAFKA_CLIENT)
    .useValue(kafka)
    .compile();
  app = moduleRef.createNestApplication({ bodyParser: false, logger: ['error'] });
  configureHttp(app);
  await app.listen(0, '127.0.0.1');
  url = `http://127.0.0.1:${(app.getHttpServer().address() as AddressInfo).port}`;
  // Its own client, outside the gate: it reads what really landed while the collector's Kafka is away.
  raw = await new TopicReader<RawEvent>(`${scope.namespace}${Topics.rawEvents.name}`).start();
}, 60_000);

afterAll(async () => {
  gate.open();
  await raw?.stop();
  await app?.close();
});

const track = (messageId: string) =>
  fetch(`${url}/v1/track`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Basic ${Buffer.from('dev-write-key:').toString('base64')}` },
    body: JSON.stringify({ userId: 'u-1', event: 'Outage Tested', messageId }),
  });

const readiness = async () => {
  const res = await fetch(`${url}/health/ready`);
  return { status: res.status, body: (await res.json()) as { checks?: Record<string, string> } };
};

const landed = (messageId: string) => raw.records.filter((r) => r.value.messageId === messageId);

it('answers 503 with Retry-After within the produce timeout while Kafka is away, and 200 again once it is back', async () => {
  const before = `before-${scope.id}`;
  const during = `during-${scope.id}`;
  expect((await track(before)).status).toBe(200);
  expect((await readiness()).status).toBe(200);
  expect((await raw.waitForRecord((v) => v.messageId === before, 'the event accepted before the outage')).key).toBe('demo:u-1');

  gate.close();
  const started = Date.now();
  const refused = await track(during);
  const elapsed = Date.now() - started;
  expect(refused.status).toBe(503);
  expect(refused.headers.get('retry-after')).toMatch(/^\d+$/);
  expect(await refused.json()).toMatchObject({ message: 'events could not be stored; retry later' });
  expect(elapsed).toBeGreaterThanOrEqual(PRODUCE_TIMEOUT_MS - 50);
  expect(elapsed).toBeLessThan(PRODUCE_TIMEOUT_MS + 2_000);

  const unready = await readiness();
  expect(unready.status).toBe(503);
  expect(unready.body.checks?.['kafka-acks']).toMatch(/Kafka has not acknowledged writes/);
  // The reader has read past the event before (its own connections are not gated): nothing got through.
  expect(landed(during)).toHaveLength(0);

  const reopened = Date.now();
  gate.open();
  expect((await track(during)).status).toBe(200);
  await waitFor(async () => (await readiness()).status === 200, 'readiness to recover');
  // The retry (received after the broker came back) is on the topic. The first attempt, still in
  // kafkajs' retries then, may land too: same messageId, deduped downstream, so the event is there
  // at least once, not exactly once. Each attempt has its own receivedAt: none landed twice.
  await raw.waitForRecord((v) => v.messageId === during && v.receivedAt >= reopened, 'the retried event');
  const attempts = landed(during).map((r) => r.value.receivedAt);
  expect(attempts.length).toBeGreaterThanOrEqual(1);
  expect(new Set(attempts).size).toBe(attempts.length);
  expect(landed(during).every((r) => r.key === 'demo:u-1')).toBe(true);
  expect(landed(before)).toHaveLength(1);
});

it('recovers readiness without traffic once the broker answers again', async () => {
  gate.close();
  expect((await track(`quiet-${scope.id}`)).status).toBe(503);
  expect((await readiness()).status).toBe(503);
  gate.open();
  const ready = await waitFor(async () => {
    const r = await readiness();
    return r.status === 200 ? r : undefined;
  }, 'readiness to recover through the broker probe');
  expect(ready.body.checks?.['kafka-acks']).toBe('ok');
});
