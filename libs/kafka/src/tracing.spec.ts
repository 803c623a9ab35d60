import { Logger } from '@nestjs/common';
import fc from 'fast-check';
import { StageTracer, traceIdOf } from './tracing';

const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-0[01]$/;
const hex = (n: number) => fc.string({ unit: fc.constantFrom(...'0123456789abcdef'), minLength: n, maxLength: n });

describe('StageTracer', () => {
  const tracer = new StageTracer('test-stage');
  beforeAll(() => Logger.overrideLogger(false));

  it('starts a new trace when the input carries none', () => {
    const a = tracer.child(undefined);
    const b = tracer.child({});
    expect(a['traceparent']).toMatch(TRACEPARENT);
    expect(traceIdOf(a)).not.toEqual(traceIdOf(b));
  });

  it('continues the trace of the input with a new span, through any number of stages', () => {
    fc.assert(
      fc.property(hex(32), hex(16), fc.integer({ min: 1, max: 6 }), (traceId, spanId, stages) => {
        fc.pre(!/^0+$/.test(traceId) && !/^0+$/.test(spanId));
        let headers: Record<string, string> = { traceparent: `00-${traceId}-${spanId}-01` };
        const spans = new Set([spanId]);
        for (let i = 0; i < stages; i++) {
          headers = tracer.child(headers);
          const [, t, s] = TRACEPARENT.exec(headers['traceparent'] ?? '') ?? [];
          expect(t).toBe(traceId);
          expect(spans.has(s ?? '')).toBe(false);
          spans.add(s ?? '');
        }
      }),
    );
  });

  it('keeps the caller’s tracestate and does not sample what the caller did not', () => {
    const headers = tracer.child({ traceparent: `00-${'a'.repeat(32)}-${'b'.repeat(16)}-00`, tracestate: 'vendor=x' });
    expect(headers['traceparent']).toMatch(/-00$/);
    expect(headers['tracestate']).toBe('vendor=x');
    expect(traceIdOf(headers)).toBe('a'.repeat(32));
  });

  it('treats malformed trace headers as absent', () => {
    fc.assert(
      fc.property(fc.string(), (garbage) => {
        const headers = tracer.child({ traceparent: garbage });
        expect(headers['traceparent']).toMatch(TRACEPARENT);
      }),
    );
  });
});
