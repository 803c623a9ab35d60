import { ConsumerRunner } from './consumer-runner';
import type { BatchControl, ConsumerPort, InboundBatch, KafkaClientPort } from './port';

/** A consumer that hands one batch to the runner when asked, and can die like kafkajs does. */
class FakeConsumer implements ConsumerPort {
  fatal: (error: unknown) => void = () => undefined;
  onBatch?: (batch: InboundBatch, control: BatchControl) => Promise<void>;
  disconnected = false;
  connect = () => Promise.resolve();
  subscribe = () => Promise.resolve();
  disconnect = () => {
    this.disconnected = true;
    return Promise.resolve();
  };
  run(onBatch: (batch: InboundBatch, control: BatchControl) => Promise<void>) {
    this.onBatch = onBatch;
    return Promise.resolve();
  }
  onFatal(listener: (error: unknown) => void) {
    this.fatal = listener;
  }
}

/** A client whose every consumer is a FakeConsumer, kept in creation order. */
const fakeClient = () => {
  const consumers: FakeConsumer[] = [];
  const client = {
    consumer: () => {
      const c = new FakeConsumer();
      consumers.push(c);
      return c;
    },
  } as unknown as KafkaClientPort;
  return { consumers, client };
};

const record = (offset: string) => ({ topic: 't', partition: 0, offset, key: null, value: null, timestamp: 0, headers: {} });

describe('ConsumerRunner', () => {
  let consumers: FakeConsumer[];
  let client: KafkaClientPort;

  beforeEach(() => {
    ({ consumers, client } = fakeClient());
    jest.useFakeTimers();
  });
  afterEach(() => jest.useRealTimers());

  it('keeps heartbeating while a slow chunk is handled, then commits it', async () => {
    let finish = () => undefined as void;
    const runner = new ConsumerRunner({ client, groupId: 'g', topics: ['t'], handle: () => new Promise<void>((r) => (finish = r)) });
    await runner.start();
    const control = { heartbeat: jest.fn(() => Promise.resolve()), commit: jest.fn(() => Promise.resolve()), isRunning: () => true };
    const done = consumers[0]?.onBatch?.({ topic: 't', partition: 0, records: [record('7')] }, control);
    await jest.advanceTimersByTimeAsync(9_000);
    expect(control.heartbeat.mock.calls.length).toBeGreaterThanOrEqual(4);
    expect(control.commit).not.toHaveBeenCalled();
    finish();
    await done;
    expect(control.commit).toHaveBeenCalledWith('7');
  });

  it('stops within stopDrainMs when a chunk hangs, leaving it uncommitted for the next member', async () => {
    const runner = new ConsumerRunner({
      client,
      groupId: 'g',
      topics: ['t'],
      stopDrainMs: 3_000,
      handle: () => new Promise<void>(() => undefined),
    });
    await runner.start();
    const control = { heartbeat: jest.fn(() => Promise.resolve()), commit: jest.fn(() => Promise.resolve()), isRunning: () => true };
    void consumers[0]?.onBatch?.({ topic: 't', partition: 0, records: [record('3')] }, control);
    let stopped = false;
    void runner.stop().then(() => (stopped = true));
    await jest.advanceTimersByTimeAsync(2_000);
    expect(stopped).toBe(false);
    await jest.advanceTimersByTimeAsync(1_500);
    expect(stopped).toBe(true);
    expect(consumers[0]?.disconnected).toBe(true);
    expect(control.commit).not.toHaveBeenCalled();
  });

  it('stops as soon as the chunks in hand are done and committed', async () => {
    let finish = () => undefined as void;
    const runner = new ConsumerRunner({ client, groupId: 'g', topics: ['t'], handle: () => new Promise<void>((r) => (finish = r)) });
    await runner.start();
    const control = { heartbeat: jest.fn(() => Promise.resolve()), commit: jest.fn(() => Promise.resolve()), isRunning: () => true };
    void consumers[0]?.onBatch?.({ topic: 't', partition: 0, records: [record('4')] }, control);
    let stopped = false;
    void runner.stop().then(() => (stopped = true));
    await jest.advanceTimersByTimeAsync(500);
    finish();
    await jest.advanceTimersByTimeAsync(0);
    expect(stopped).toBe(true);
    expect(control.commit).toHaveBeenCalledWith('4');
  });

  it('rejoins with a new member when the client dies for good, and reports not running meanwhile', async () => {
    const runner = new ConsumerRunner({ client, groupId: 'g', topics: ['t'], handle: () => Promise.resolve() });
    await runner.start();
    expect(runner.isRunning).toBe(true);
    consumers[0]?.fatal(new Error('The coordinator is not aware of this member'));
    await jest.advanceTimersByTimeAsync(0);
    expect(runner.isRunning).toBe(false);
    expect(consumers[0]?.disconnected).toBe(true);
    await jest.advanceTimersByTimeAsync(1_500);
    expect(consumers).toHaveLength(2);
    expect(runner.isRunning).toBe(true);
  });

  it('retries a subscription refused as retriable (a topic just created), and not one refused for good', async () => {
    const refusing = (errors: Error[]) => {
      const c = new FakeConsumer();
      c.subscribe = jest.fn(() => (errors.length ? Promise.reject(errors.shift()) : Promise.resolve()));
      return c;
    };
    const unknownTopic = () => Object.assign(new Error('This server does not host this topic-partition'), { retriable: true });
    const flaky = refusing([unknownTopic(), unknownTopic()]);
    const started = new ConsumerRunner({
      client: { consumer: () => flaky } as unknown as KafkaClientPort,
      groupId: 'g',
      topics: ['t'],
      handle: () => Promise.resolve(),
    }).start();
    await jest.advanceTimersByTimeAsync(1_000);
    await started;
    expect(flaky.subscribe).toHaveBeenCalledTimes(3);

    const denied = refusing([new Error('Not authorized to access topics')]);
    const refused = new ConsumerRunner({
      client: { consumer: () => denied } as unknown as KafkaClientPort,
      groupId: 'g',
      topics: ['t'],
      handle: () => Promise.resolve(),
    }).start();
    await expect(refused).rejects.toThrow('Not authorized');
    expect(denied.subscribe).toHaveBeenCalledTimes(1);
  });

  it('does not rejoin after stop', async () => {
    const runner = new ConsumerRunner({ client, groupId: 'g', topics: ['t'], handle: () => Promise.resolve() });
    await runner.start();
    await runner.stop();
    consumers[0]?.fatal(new Error('late crash'));
    await jest.advanceTimersByTimeAsync(2_000);
    expect(consumers).toHaveLength(1);
  });
});

describe('ConsumerRunner, one partition delivered twice', () => {
  it('never handles two batches of one partition at the same time', async () => {
    const { consumers, client } = fakeClient();
    let running = 0;
    let peak = 0;
    const runner = new ConsumerRunner({
      client,
      groupId: 'g',
      topics: ['t'],
      handle: async () => {
        peak = Math.max(peak, ++running);
        await new Promise((r) => setTimeout(r, 20));
        running--;
      },
    });
    await runner.start();
    const control = { heartbeat: () => Promise.resolve(), commit: () => Promise.resolve(), isRunning: () => true };
    const batch = { topic: 't', partition: 0, records: [record('1')] };
    const other = { topic: 't', partition: 1, records: [record('1')] };
    await Promise.all([
      consumers[0]?.onBatch?.(batch, control),
      consumers[0]?.onBatch?.(batch, control),
      consumers[0]?.onBatch?.(other, control),
    ]);
    expect(peak).toBe(2); // partitions 0 and 1 together, never partition 0 twice
  });
});
