import type { Request } from 'express';
import { trackerOf } from './rate-limit';

const req = (r: { headers?: Record<string, string>; body?: unknown; query?: Record<string, unknown>; method?: string; ip?: string }) =>
  ({ method: 'POST', headers: {}, query: {}, ip: '10.0.0.1', ...r }) as unknown as Request;
const basic = (key: string) => `Basic ${Buffer.from(`${key}:`).toString('base64')}`;

describe('trackerOf', () => {
  it('counts a key against the same budget however it is presented', () => {
    const viaBasic = trackerOf(req({ headers: { authorization: basic('wk_a') } }));
    expect(viaBasic).toMatch(/^key:[0-9a-f]{12}$/);
    expect(trackerOf(req({ body: Buffer.from(JSON.stringify({ writeKey: 'wk_a', userId: 'u' })), ip: '10.9.9.9' }))).toBe(viaBasic);
    expect(trackerOf(req({ query: { writeKey: 'wk_a' } }))).toBe(viaBasic);
    const data = Buffer.from(JSON.stringify({ writeKey: 'wk_a' })).toString('base64url');
    expect(trackerOf(req({ method: 'GET', query: { data } }))).toBe(viaBasic);
    expect(trackerOf(req({ headers: { authorization: 'Bearer wk_a' } }))).toBe(viaBasic);
    expect(trackerOf(req({ headers: { authorization: basic('wk_b') } }))).not.toBe(viaBasic);
  });

  it('falls back to the address when no key can be read (the controller answers the 4xx)', () => {
    expect(trackerOf(req({ body: Buffer.from('{not json') }))).toBe('ip:10.0.0.1');
    expect(trackerOf(req({ body: Buffer.from('{"writeKey": 3}') }))).toBe('ip:10.0.0.1');
    expect(trackerOf(req({ method: 'GET', query: { data: '!!!' } }))).toBe('ip:10.0.0.1');
  });
});
