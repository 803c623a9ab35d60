import { awaitAll } from './await-all';

describe('awaitAll', () => {
  it('resolves with every value, in order', async () => {
    await expect(awaitAll([Promise.resolve(1), Promise.resolve(2)])).resolves.toEqual([1, 2]);
  });

  it('fails with the first failure only once the slower promises have settled', async () => {
    let slowDone = false;
    const slow = new Promise<number>((resolve) =>
      setTimeout(() => {
        slowDone = true;
        resolve(3);
      }, 20),
    );
    await expect(awaitAll([Promise.reject(new Error('first')), slow, Promise.reject(new Error('second'))])).rejects.toThrow('first');
    expect(slowDone).toBe(true);
  });
});
