import { Gauge, Registry } from 'prom-client';
import { LagGauge } from './lag-gauge';

const setup = () => {
  const registry = new Registry();
  const gauge = new Gauge({ name: 'lag', help: 'lag', labelNames: ['topic', 'partition'] as const, registers: [registry] });
  let now = 1_000_000;
  const lag = new LagGauge(gauge, () => now);
  const read = async () => Object.fromEntries((await gauge.get()).values.map((v) => [`${v.labels.topic}[${v.labels.partition}]`, v.value]));
  return { lag, read, tick: (ms: number) => (now += ms) };
};

describe('LagGauge', () => {
  it('counts the chunk in hand as lag until it is stored, so failing chunks do not read 0', async () => {
    const { lag, read } = setup();
    lag.pending({ topic: 't', partition: 0, highWatermark: '100' }, '40');
    expect(await read()).toEqual({ 't[0]': 60 });
    // The chunk failed; the next fetch of it sees more records behind it.
    lag.pending({ topic: 't', partition: 0, highWatermark: '130' }, '40');
    expect(await read()).toEqual({ 't[0]': 90 });
    lag.handled({ topic: 't', partition: 0, highWatermark: '130' }, '129');
    expect(await read()).toEqual({ 't[0]': 0 });
    lag.stop();
  });

  it('drops a partition not fetched for a minute (revoked, or idle once caught up) and keeps the others', async () => {
    const { lag, read, tick } = setup();
    lag.handled({ topic: 't', partition: 0, highWatermark: '10' }, '4');
    tick(45_000);
    lag.handled({ topic: 't', partition: 1, highWatermark: '10' }, '9');
    tick(20_000);
    lag.sweep();
    expect(await read()).toEqual({ 't[1]': 0 });
    lag.stop();
  });

  it('ignores a chunk without a high watermark', async () => {
    const { lag, read } = setup();
    lag.pending({ topic: 't', partition: 0 }, '3');
    expect(await read()).toEqual({});
    lag.stop();
  });
});
