import type { AddressInfo } from 'node:net';
import type { INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { KAFKA_CLIENT, type AdminPort, type KafkaClientPort, type OutboundRecord, type ProducerPort } from '@cdp/kafka';
import { testScope, waitFor } from '@cdp/testing';

/**
 * Kafka going away under a running collector. The shared Kafka cannot be stopped for one test
 * file, so the collector runs in-process on the real registry and MongoDB with a Kafka port that
 * behaves like kafkajs against an unreachable broker: produces and admin connects hang (kafkajs
 * retries) until the broker is back, then they complete.
 */
class FlakyKafka implements KafkaClientPort {
  readonly acknowledged: OutboundRecord[] = [];
  private up = true;
  private waiting: (() => void)[] = [];

  down(): void {
    this.up = false;
  }

  back(): void {
    this.up = true;
    for (const release of this.waiting.splice(0)) release();
  }

  private whenUp(): Promise<void> {
    return this.up ? Promise.resolve() : new Promise((resolve) => this.waiting.push(resolve));
  }

  producer(): ProducerPort {
    return {
      connect: async () => undefined,
      send: async (records) => {
        await this.whenUp();
        this.acknowledged.push(...records);
      },
      disconnect: async () => undefined,
    };
  }

  consumer(): never {
    throw new Error('the collector consumes nothing');
  }

  async admin(): Promise<AdminPort> {
    await this.whenUp();
    return { ensureTopics: async () => undefined, lag: async () => 0, close: async () => undefined };
  }
}

const scope = testScope('colloutage');
const PRODUCE_TIMEOUT_MS = 1_500;
const kafka = new FlakyKafka();
let app: INestApplication;
let url: string;

beforeAll(async () => {
  Object.assign(process.env, scope.env, { CDP_PRODUCE_TIMEOUT_MS: String(PRODUCE_TIMEOUT_MS) });
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
}, 60_000);

afterAll(async () => {
  kafka.back();
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

it('answers 503 with Retry-After within the produce timeout while Kafka is away, and 200 again once it is back', async () => {
  expect((await track('m-before')).status).toBe(200);
  expect((await readiness()).status).toBe(200);

  kafka.down();
  const started = Date.now();
  const during = await track('m-during');
  const elapsed = Date.now() - started;
  expect(during.status).toBe(503);
  expect(during.headers.get('retry-after')).toMatch(/^\d+$/);
  expect(await during.json()).toMatchObject({ message: 'events could not be stored; retry later' });
  expect(elapsed).toBeGreaterThanOrEqual(PRODUCE_TIMEOUT_MS - 50);
  expect(elapsed).toBeLessThan(PRODUCE_TIMEOUT_MS + 2_000);

  const unready = await readiness();
  expect(unready.status).toBe(503);
  expect(unready.body.checks?.['kafka-acks']).toMatch(/Kafka has not acknowledged writes/);
  expect(kafka.acknowledged.map((r) => r.key)).toEqual(['demo:u-1']);

  kafka.back();
  // The retry of the same event succeeds; the first attempt, late, lands too: same messageId, deduped downstream.
  expect((await track('m-during')).status).toBe(200);
  await waitFor(async () => (await readiness()).status === 200, 'readiness to recover');
  expect(kafka.acknowledged).toHaveLength(3);
});

it('recovers readiness without traffic once the broker answers again', async () => {
  kafka.down();
  expect((await track('m-quiet')).status).toBe(503);
  expect((await readiness()).status).toBe(503);
  kafka.back();
  const ready = await waitFor(async () => {
    const r = await readiness();
    return r.status === 200 ? r : undefined;
  }, 'readiness to recover through the broker probe');
  expect(ready.body.checks?.['kafka-acks']).toBe('ok');
});
