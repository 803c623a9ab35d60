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
 *
 * One send is in flight at a time: the idempotent producer sends one request per broker at a
 * time anyway, so records that arrive meanwhile wait here and go out together (up to
 * `maxRecords`) as soon as it is acknowledged, instead of queueing as many small requests, each
 * waiting for the one before (the tail latency under load).
 */
export class BatchingProducer {
  private queue: Pending[] = [];
  private queued = 0;
  private timer: NodeJS.Timeout | undefined;
  private sending: Promise<void> | undefined;
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
      // While a send is in flight, its acknowledgement sends what gathered.
      if (this.sending) return;
      if (this.queued >= this.options.maxRecords) this.flush();
      else this.timer ??= setTimeout(() => this.flush(), this.options.lingerMs);
    });
  }

  /** Sends what is queued now (up to `maxRecords`, whole callers), unless a send is in flight. */
  flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.sending || this.queue.length === 0) return;
    let take = 0;
    let count = 0;
    // Whole callers in order; one caller larger than maxRecords goes alone.
    while (take < this.queue.length && (take === 0 || count + (this.queue[take]?.records.length ?? 0) <= this.options.maxRecords)) {
      count += this.queue[take]?.records.length ?? 0;
      take++;
    }
    const batch = this.queue.splice(0, take);
    this.queued -= count;
    const records = batch.flatMap((p) => p.records);
    this.sending = this.port.send(records).then(
      () => {
        this.onSent(records);
        for (const p of batch) p.resolve();
      },
      (e: unknown) => {
        for (const p of batch) p.reject(e);
      },
    );
    void this.sending.finally(() => {
      this.sending = undefined;
      this.flush();
    });
  }

  /** Stops taking records, sends what is queued and waits for every acknowledgement. */
  async drain(): Promise<void> {
    this.closed = true;
    this.flush();
    while (this.sending) await this.sending;
  }
}
