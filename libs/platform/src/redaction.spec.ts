import { nestsDeeperThan } from './json-depth';
import { redactPath } from './logging';

describe('redactPath', () => {
  it('keeps the identifier type and drops its value, raw or percent-encoded', () => {
    expect(redactPath('/v1/profiles/email:jane@example.com/traits?verbose=true')).toBe('/v1/profiles/email:[redacted]/traits');
    expect(redactPath('/v1/identities/phone%3A%2B4915123456789')).toBe('/v1/identities/phone:[redacted]');
    expect(redactPath('/v1/profiles/jane%40example.com')).toBe('/v1/profiles/[redacted]');
    expect(redactPath('/v1/profiles/crm-id:C-77/export')).toBe('/v1/profiles/crm-id:[redacted]/export');
    expect(redactPath('/v1/identities/2fa_id%3A123456')).toBe('/v1/identities/2fa_id:[redacted]');
    expect(redactPath('/v1/profiles/we%20ird:value')).toBe('/v1/profiles/[redacted]');
  });

  it('leaves ids and routes alone', () => {
    expect(redactPath('/v1/profiles/p_0123456789abcdef01234567/events')).toBe('/v1/profiles/p_0123456789abcdef01234567/events');
    expect(redactPath('/v1/segments/seg_abc/members?after=p_1')).toBe('/v1/segments/seg_abc/members');
  });
});

describe('nestsDeeperThan', () => {
  it('measures objects and arrays without recursion', () => {
    const deep = JSON.parse(`${'['.repeat(100_000)}${']'.repeat(100_000)}`) as unknown;
    expect(nestsDeeperThan(deep, 128)).toBe(true);
    expect(nestsDeeperThan({ a: [{ b: 1 }] }, 3)).toBe(false);
    expect(nestsDeeperThan({ a: [{ b: {} }] }, 3)).toBe(true);
    expect(nestsDeeperThan(Buffer.alloc(10), 0)).toBe(false);
  });
});
