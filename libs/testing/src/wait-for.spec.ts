import { waitFor } from './wait-for';

describe('waitFor', () => {
  it('returns the first value the probe yields', async () => {
    let calls = 0;
    await expect(waitFor(() => (++calls >= 3 ? calls : undefined), 'three calls', 1_000, 1)).resolves.toBe(3);
  });

  it('names what it waited for and the last error when time is up', async () => {
    await expect(
      waitFor(
        () => {
          throw new Error('not yet');
        },
        'the thing',
        20,
        5,
      ),
    ).rejects.toThrow(/waiting for the thing \(last error: not yet\)/);
  });
});
