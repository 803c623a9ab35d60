import { ClientWatchdog, type WatchedClient } from './client-watchdog';

const client = (state: { shared: boolean; server: boolean }) => {
  const reconnect = jest.fn(async () => {
    state.shared = state.server;
  });
  const port: WatchedClient = {
    ping: async () => {
      if (!state.shared) throw new Error('server selection timed out');
    },
    pingFresh: async () => {
      if (!state.server) throw new Error('connection refused');
    },
    reconnect,
  };
  return { port, reconnect };
};

describe('ClientWatchdog', () => {
  it('reconnects a client that stays broken past the grace time while the server answers fresh connections', async () => {
    const state = { shared: false, server: true };
    const { port, reconnect } = client(state);
    const logs: string[] = [];
    const watchdog = new ClientWatchdog(port, (m) => logs.push(m), 30_000);
    expect(await watchdog.check(0)).toBe('failing');
    expect(await watchdog.check(20_000)).toBe('failing');
    expect(reconnect).not.toHaveBeenCalled();
    expect(await watchdog.check(30_000)).toBe('reconnected');
    expect(reconnect).toHaveBeenCalledTimes(1);
    expect(logs[0]).toContain('30 s');
    expect(await watchdog.check(40_000)).toBe('ok');
  });

  it('leaves a client alone while the server itself is down, and repairs it once the server is back', async () => {
    const state = { shared: false, server: false };
    const { port, reconnect } = client(state);
    const watchdog = new ClientWatchdog(port, () => undefined, 30_000);
    await watchdog.check(0);
    expect(await watchdog.check(60_000)).toBe('server-down');
    expect(reconnect).not.toHaveBeenCalled();
    state.server = true;
    expect(await watchdog.check(70_000)).toBe('reconnected');
  });

  it('starts the grace time again after a success', async () => {
    const state = { shared: false, server: true };
    const { port, reconnect } = client(state);
    const watchdog = new ClientWatchdog(port, () => undefined, 30_000);
    await watchdog.check(0);
    state.shared = true;
    expect(await watchdog.check(25_000)).toBe('ok');
    state.shared = false;
    expect(await watchdog.check(35_000)).toBe('failing');
    expect(reconnect).not.toHaveBeenCalled();
  });
});
