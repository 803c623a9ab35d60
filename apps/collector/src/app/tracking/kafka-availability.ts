/** A produce that Kafka did not acknowledge within the configured time. */
export class ProduceTimeoutError extends Error {}

/**
 * Settles like `work`, or rejects with ProduceTimeoutError after `ms`. The work itself goes on
 * (the producer cannot unsend); if it lands later, the client's retry carries the same
 * messageId, which the pipeline dedupes.
 */
export function withDeadline<T>(work: Promise<T>, ms: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new ProduceTimeoutError(`Kafka did not acknowledge within ${ms} ms`)), ms);
    work.then(
      (v) => (clearTimeout(timer), resolve(v)),
      (e: unknown) => (clearTimeout(timer), reject(e)),
    );
  });
}

/**
 * Whether Kafka acknowledges our writes, from the outcomes of real produces: failing from the
 * first failure until the next success (or a successful probe, for when no traffic arrives).
 */
export class AckState {
  private failingSince: number | null = null;

  succeeded(): void {
    this.failingSince = null;
  }

  failed(now = Date.now()): void {
    this.failingSince ??= now;
  }

  /** Null while healthy, else how long writes have been failing. */
  failingFor(now = Date.now()): number | null {
    return this.failingSince === null ? null : now - this.failingSince;
  }
}
