import fc from 'fast-check';
import { parseMatchingConfig } from './config';
import { DEFAULT_MATCHING_CONFIG } from './model';

describe('parseMatchingConfig', () => {
  it('merges a partial configuration over the defaults', () => {
    expect(parseMatchingConfig(undefined)).toEqual({ ok: true, config: DEFAULT_MATCHING_CONFIG });
    const r = parseMatchingConfig({ autoMergeThreshold: 25, fields: { phone: { u: { agree: 0.01, partial: 0, disagree: 0.99 } } } });
    expect(r.ok && r.config.autoMergeThreshold).toBe(25);
    expect(r.ok && r.config.fields.phone).toEqual({
      m: DEFAULT_MATCHING_CONFIG.fields.phone.m,
      u: { agree: 0.01, partial: 0, disagree: 0.99 },
    });
    expect(r.ok && r.config.fields.first).toBe(DEFAULT_MATCHING_CONFIG.fields.first);
    const guard = parseMatchingConfig({ requireAgreementOn: ['phone', 'phone'] });
    expect(guard.ok && guard.config.requireAgreementOn).toEqual(['phone']);
  });
  it.each([
    [[1], 'matching: expected an object'],
    [{ autoMergeThreshold: 'high' }, 'matching.autoMergeThreshold: expected a number (bits)'],
    [{ reviewThreshold: 30 }, 'matching.reviewThreshold: must not exceed autoMergeThreshold'],
    [{ fields: { shoeSize: {} } }, 'matching.fields.shoeSize: unknown field'],
    [
      { fields: { first: { m: { agree: 2, partial: 0, disagree: 0 } } } },
      'matching.fields.first.m.agree: expected a probability in [0, 1]',
    ],
    [{ fields: { first: { m: { agree: 0.5, partial: 0.1, disagree: 0.1 } } } }, 'matching.fields.first.m: probabilities must sum to 1'],
    [{ vetoOnDisagree: ['first', 'nope'] }, 'matching.vetoOnDisagree: expected a list of fields'],
    [{ requireAgreementOn: 'phone' }, 'matching.requireAgreementOn: expected a list of fields'],
    [{ threshold: 3 }, 'matching.threshold: unknown setting'],
  ])('rejects %j with a message', (input, message) => {
    const r = parseMatchingConfig(input);
    expect(r.ok).toBe(false);
    expect(!r.ok && r.errors.join('\n')).toContain(message);
  });
  it('never throws, whatever it is given', () => {
    fc.assert(fc.property(fc.jsonValue(), (v) => expect(() => parseMatchingConfig(v)).not.toThrow()));
    fc.assert(fc.property(fc.anything(), (v) => expect(() => parseMatchingConfig(v)).not.toThrow()));
  });
});
