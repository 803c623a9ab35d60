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

  it('refuses records after drain', async () => {
    const producer = new BatchingProducer(new RecordingPort());
    await producer.drain();
    await expect(producer.send([rec('a')])).rejects.toThrow('closed');
  });
});
