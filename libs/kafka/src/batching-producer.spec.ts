import fc from 'fast-check';
import { BatchingProducer } from './batching-producer';
import type { OutboundRecord, ProducerPort } from './port';

class RecordingPort implements ProducerPort {
  calls: OutboundRecord[][] = [];
  failNext = false;
  connect = async () => undefined;
  disconnect = async () => undefined;
  async send(records: OutboundRecord[]): Promise<void> {
    this.calls.push(records);
    if (this.failNext) {
      this.failNext = false;
      throw new Error('broker down');
    }
  }
}

/** Each send waits until the test releases it. */
class GatedPort extends RecordingPort {
  private gates: (() => void)[] = [];
  override async send(records: OutboundRecord[]): Promise<void> {
    this.calls.push(records);
    await new Promise<void>((r) => this.gates.push(r));
  }
  release(): void {
    this.gates.shift()?.();
  }
}

/** Each send takes a moment, so that callers arrive while one is in flight. */
class SlowPort extends RecordingPort {
  override async send(records: OutboundRecord[]): Promise<void> {
    this.calls.push(records);
    await new Promise((r) => setTimeout(r, 1));
  }
}

const waitUntil = async (ok: () => boolean): Promise<void> => {
  for (let i = 0; i < 200 && !ok(); i++) await new Promise((r) => setTimeout(r, 5));
  expect(ok()).toBe(true);
};

const rec = (key: string): OutboundRecord => ({ topic: 't', key, value: Buffer.from(key) });

describe('BatchingProducer', () => {
  it('shares one send between concurrent callers', async () => {
    const port = new RecordingPort();
    const producer = new BatchingProducer(port, { lingerMs: 5, maxRecords: 100 });
    await Promise.all([producer.send([rec('a')]), producer.send([rec('b'), rec('c')])]);
    expect(port.calls).toHaveLength(1);
    expect(port.calls[0]?.map((r) => r.key)).toEqual(['a', 'b', 'c']);
  });

  it('sends at once when the batch is full', async () => {
    const port = new RecordingPort();
    const producer = new BatchingProducer(port, { lingerMs: 10_000, maxRecords: 2 });
    await producer.send([rec('a'), rec('b')]);
    expect(port.calls).toHaveLength(1);
  });

  it('rejects every caller of a failed send, and only those', async () => {
    const port = new RecordingPort();
    const producer = new BatchingProducer(port, { lingerMs: 1, maxRecords: 100 });
    port.failNext = true;
    const failed = Promise.all([producer.send([rec('a')]), producer.send([rec('b')])]);
    await expect(failed).rejects.toThrow('broker down');
    await expect(producer.send([rec('c')])).resolves.toBeUndefined();
  });

  it('never loses or reorders records, whatever the batching', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.array(fc.string(), { maxLength: 5 }), { maxLength: 30 }),
        fc.integer({ min: 1, max: 10 }),
        async (groups, max) => {
          const port = new RecordingPort();
          const producer = new BatchingProducer(port, { lingerMs: 1, maxRecords: max });
          await Promise.all(groups.map((g) => producer.send(g.map(rec))));
          await producer.drain();
          expect(port.calls.flat().map((r) => r.key)).toEqual(groups.flat());
        },
      ),
      { numRuns: 50 },
    );
  });

  it('while a send is in flight, gathers what arrives and sends it together once acknowledged', async () => {
    const port = new GatedPort();
    const producer = new BatchingProducer(port, { lingerMs: 1, maxRecords: 100 });
    const first = producer.send([rec('a')]);
    await waitUntil(() => port.calls.length === 1);
    const rest = [producer.send([rec('b')]), producer.send([rec('c'), rec('d')])];
    await new Promise((r) => setTimeout(r, 20));
    expect(port.calls).toHaveLength(1); // b, c and d wait for a's acknowledgement
    port.release();
    await first;
    await waitUntil(() => port.calls.length === 2);
    expect(port.calls[1]?.map((r) => r.key)).toEqual(['b', 'c', 'd']);
    port.release();
    await Promise.all(rest);
  });

  it('sends at most maxRecords at once, unless one caller alone has more', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.integer({ min: 1, max: 8 }), { maxLength: 20 }), fc.integer({ min: 1, max: 6 }), async (sizes, max) => {
        const port = new SlowPort();
        const producer = new BatchingProducer(port, { lingerMs: 1, maxRecords: max });
        let n = 0;
        await Promise.all(sizes.map((size) => producer.send(Array.from({ length: size }, () => rec(String(n++))))));
        await producer.drain();
        for (const call of port.calls) expect(call.length <= max || sizes.includes(call.length)).toBe(true);
        expect(port.calls.flat().map((r) => r.key)).toEqual(Array.from({ length: n }, (_, i) => String(i)));
      }),
      { numRuns: 50 },
    );
  });

  it('refuses records after drain', async () => {
    const producer = new BatchingProducer(new RecordingPort());
    await producer.drain();
    await expect(producer.send([rec('a')])).rejects.toThrow('closed');
  });
});
