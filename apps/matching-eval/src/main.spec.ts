import { parseLabeledNdjson, toNdjson } from './labeled-file';
import { parseOptions } from './options';

describe('options', () => {
  it('defaults to a generated set of 20,000 records with EM', () => {
    expect(parseOptions([])).toEqual({ records: 20000, seed: 1, estimate: true, maxBlockSize: 100, json: false });
    expect(parseOptions(['--file', 'x.ndjson', '--no-estimate', '--json'])).toMatchObject({
      file: 'x.ndjson',
      estimate: false,
      json: true,
    });
    expect(parseOptions(['-h'])).toBe('help');
  });
  it('refuses bad input with a message', () => {
    expect(() => parseOptions(['--records=-3'])).toThrow('--records must be a positive integer');
    expect(() => parseOptions(['--records', '10', '--file', 'x'])).toThrow('exclusive');
    expect(() => parseOptions(['--bogus'])).toThrow();
  });
});

describe('labeled NDJSON', () => {
  it('round-trips and names the bad line', () => {
    const rows = [{ id: 'r1', entityId: 'p1', record: { name: { first: 'Ann' } } }];
    expect(parseLabeledNdjson(toNdjson(rows))).toEqual(rows);
    expect(() => parseLabeledNdjson('{"entityId":"p1","record":{}}\n{oops')).toThrow('line 2: not JSON');
    expect(() => parseLabeledNdjson('{"id":"r1","record":{}}')).toThrow('line 1: expected');
  });
});
