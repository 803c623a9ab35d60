import { HealthRegistry } from './health';

describe('HealthRegistry', () => {
  it('is ready only when every check passes, naming what failed', async () => {
    const health = new HealthRegistry();
    health.register('kafka', async () => undefined);
    health.register('mongodb', async () => Promise.reject(new Error('connect ECONNREFUSED')));
    expect(await health.status()).toEqual({ ready: false, checks: { kafka: 'ok', mongodb: 'connect ECONNREFUSED' } });
  });

  it('reports an advisory check but stays ready without it; never while draining', async () => {
    const health = new HealthRegistry();
    health.register('kafka', async () => undefined);
    health.register('mongodb', async () => Promise.reject(new Error('connect ECONNREFUSED')));
    health.advisory('mongodb');
    expect(await health.status()).toEqual({ ready: true, checks: { kafka: 'ok', mongodb: 'connect ECONNREFUSED' } });
    health.register('kafka', async () => Promise.reject(new Error('no broker')));
    expect((await health.status()).ready).toBe(false);
    health.register('kafka', async () => undefined);
    health.markShuttingDown();
    expect(await health.status()).toMatchObject({ ready: false, checks: { shutdown: 'draining' } });
  });
});
