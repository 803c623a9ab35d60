import type { OutboundRecord, ProducerPort } from './port';

export interface BatchingOptions {
  /** How long the first record of a batch waits for company. */
  lingerMs: number;
  /** A batch this large is sent at once. */
  maxRecords: number;
}

interface Pending {
  records: OutboundRecord[];
  resolve: () => void;
  reject: (e: unknown) => void;
}

/**
 * Lets many concurrent callers share Kafka round trips: records sent within `lingerMs` go out
 * in one produce request, and each caller's promise settles when its own records are acknowledged
 * (acks=all by the port), so "resolved" always means "durably written".
 */
export class BatchingProducer {
  private queue: Pending[] = [];
  private queued = 0;
  private timer: NodeJS.Timeout | undefined;
  private inFlight = new Set<Promise<void>>();
  private closed = false;

  constructor(
    private readonly port: ProducerPort,
    private readonly options: BatchingOptions = { lingerMs: 2, maxRecords: 1_000 },
    private readonly onSent: (records: OutboundRecord[]) => void = () => undefined,
  ) {}

  send(records: OutboundRecord[]): Promise<void> {
    if (this.closed) return Promise.reject(new Error('producer is closed'));
    if (records.length === 0) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ records, resolve, reject });
      this.queued += records.length;
      if (this.queued >= this.options.maxRecords) this.flush();
      else this.timer ??= setTimeout(() => this.flush(), this.options.lingerMs);
    });
  }

  /** Sends what is queued now. */
  flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.queue.length === 0) return;
    const batch = this.queue;
    this.queue = [];
    this.queued = 0;
    const records = batch.flatMap((p) => p.records);
    const sending = this.port.send(records).then(
      () => {
        this.onSent(records);
        for (const p of batch) p.resolve();
      },
      (e: unknown) => {
        for (const p of batch) p.reject(e);
      },
    );
    this.inFlight.add(sending);
    void sending.finally(() => this.inFlight.delete(sending));
  }

  /** Stops taking records, sends what is queued and waits for every acknowledgement. */
  async drain(): Promise<void> {
    this.closed = true;
    this.flush();
    await Promise.allSettled([...this.inFlight]);
  }
}
