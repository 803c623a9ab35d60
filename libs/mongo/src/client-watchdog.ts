/** What the watchdog needs of a MongoDB client (ports, so the decision is testable without a server). */
export interface WatchedClient {
  /** A ping through the service's shared client. */
  ping(): Promise<void>;
  /** A ping through a fresh, short-lived client: is the server itself reachable? */
  pingFresh(): Promise<void>;
  /** Closes and reconnects the shared client in place (its Db and Collection objects stay valid). */
  reconnect(): Promise<void>;
}

export type WatchdogVerdict = 'ok' | 'failing' | 'server-down' | 'reconnected';

/**
 * Repairs a shared client that stopped reaching a server which is reachable again. After a
 * database restart under load, the driver's server monitor was seen stuck in a check on a
 * connection whose socket was gone: the server stayed "Unknown", every operation failed server
 * selection, and the service stalled for good while fresh connections worked (chaos run,
 * restart-database). When the shared ping has failed for `graceMs` and a fresh client's ping
 * succeeds, the shared client is closed and reconnected. A server that is really down is left to
 * the driver's own retries.
 */
export class ClientWatchdog {
  private failingSince: number | undefined;
  private busy = false;

  constructor(
    private readonly client: WatchedClient,
    private readonly log: (message: string) => void,
    private readonly graceMs = 30_000,
  ) {}

  async check(now = Date.now()): Promise<WatchdogVerdict> {
    if (this.busy) return 'failing';
    this.busy = true;
    try {
      return await this.decide(now);
    } finally {
      this.busy = false;
    }
  }

  private async decide(now: number): Promise<WatchdogVerdict> {
    try {
      await this.client.ping();
      this.failingSince = undefined;
      return 'ok';
    } catch {
      this.failingSince ??= now;
    }
    if (now - this.failingSince < this.graceMs) return 'failing';
    try {
      await this.client.pingFresh();
    } catch {
      return 'server-down';
    }
    this.log(
      `MongoDB: the shared client has failed for ${Math.round((now - this.failingSince) / 1000)} s while a fresh connection works; reconnecting it`,
    );
    await this.client.reconnect();
    this.failingSince = undefined;
    return 'reconnected';
  }
}
