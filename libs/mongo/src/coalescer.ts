/**
 * Asks made while a batch is in flight go out together as the next batch: concurrent work (the
 * independent groups and partitions of a chunk) shares its database round trips, which matters
 * with a single-writer store. Each batch is sent after its asks were made (so it sees their
 * askers' earlier writes); `run` answers every ask of a batch, in order, or fails them all.
 */
export class Coalescer<Ask, Answer> {
  private pending: { ask: Ask; resolve: (answer: Answer) => void; reject: (e: unknown) => void }[] = [];
  private flushing = false;

  constructor(private readonly run: (asks: Ask[]) => Promise<Answer[]>) {}

  ask(ask: Ask): Promise<Answer> {
    return new Promise<Answer>((resolve, reject) => {
      this.pending.push({ ask, resolve, reject });
      if (!this.flushing) void this.flush();
    });
  }

  private async flush(): Promise<void> {
    this.flushing = true;
    try {
      while (this.pending.length > 0) {
        // Let the askers of this turn of the event loop join the first batch too.
        await new Promise<void>((r) => setImmediate(r));
        const batch = this.pending.splice(0);
        try {
          const answers = await this.run(batch.map((p) => p.ask));
          batch.forEach((p, i) => p.resolve(answers[i] as Answer));
        } catch (e) {
          for (const p of batch) p.reject(e);
        }
      }
    } finally {
      this.flushing = false;
    }
  }
}
