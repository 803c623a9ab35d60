import fc from 'fast-check';
import { AckState, ProduceTimeoutError, withDeadline } from './kafka-availability';

describe('withDeadline', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('rejects with ProduceTimeoutError when the work does not settle in time', async () => {
    const never = new Promise<void>(() => undefined);
    const result = withDeadline(never, 5_000);
    jest.advanceTimersByTime(4_999);
    const settled = jest.fn();
    result.then(settled, settled);
    await Promise.resolve();
    expect(settled).not.toHaveBeenCalled();
    jest.advanceTimersByTime(1);
    await expect(result).rejects.toBeInstanceOf(ProduceTimeoutError);
    await expect(result).rejects.toThrow('within 5000 ms');
  });

  it('passes on the value or the error of work that settles in time', async () => {
    await expect(withDeadline(Promise.resolve(7), 10)).resolves.toBe(7);
    await expect(withDeadline(Promise.reject(new Error('broker down')), 10)).rejects.toThrow('broker down');
    expect(jest.getTimerCount()).toBe(0);
  });
});

describe('AckState', () => {
  it('is failing from the first failure until the next success, whatever the sequence', () => {
    fc.assert(
      fc.property(fc.array(fc.boolean(), { maxLength: 30 }), (outcomes) => {
        const state = new AckState();
        let t = 0;
        let firstFailureOfRun: number | null = null;
        for (const ok of outcomes) {
          t += 10;
          if (ok) {
            state.succeeded();
            firstFailureOfRun = null;
          } else {
            state.failed(t);
            firstFailureOfRun ??= t;
          }
        }
        const now = t + 5;
        expect(state.failingFor(now)).toBe(firstFailureOfRun === null ? null : now - firstFailureOfRun);
      }),
    );
  });
});
