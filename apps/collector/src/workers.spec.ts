import { availableParallelism } from 'node:os';
import { workerCount } from './workers';

describe('workerCount (CDP_WORKERS)', () => {
  it('is one process when unset', () => {
    expect(workerCount(undefined)).toBe(1);
    expect(workerCount('')).toBe(1);
  });

  it('takes a number, or one per core for auto', () => {
    expect(workerCount('3')).toBe(3);
    expect(workerCount('auto')).toBe(availableParallelism());
  });

  it('refuses anything else (the config validation then says why)', () => {
    for (const bad of ['0', '-1', '1.5', 'two', '100', ' 2']) expect(workerCount(bad)).toBeUndefined();
  });
});
