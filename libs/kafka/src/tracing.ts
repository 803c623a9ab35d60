import { ROOT_CONTEXT, SpanKind, trace, type Span, type TextMapGetter, type TextMapSetter } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { BasicTracerProvider, type ReadableSpan, type SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { Logger } from '@nestjs/common';

/** Kafka record headers as this lib carries them (strings only). */
export type KafkaHeaders = Record<string, string>;

const getter: TextMapGetter<KafkaHeaders> = { keys: (h) => Object.keys(h), get: (h, key) => h[key] };
const setter: TextMapSetter<KafkaHeaders> = { set: (h, key, value) => (h[key] = value) };
const propagator = new W3CTraceContextPropagator();

/**
 * Finished spans go to the debug log (LOG_LEVEL=debug) with their trace and parent ids, so one
 * event can be followed across services' logs with nothing else installed. An OTLP exporter can
 * be added here without touching the services.
 */
class DebugLogProcessor implements SpanProcessor {
  private readonly logger = new Logger('Trace');
  onStart(): void {
    // Only finished spans are logged.
  }
  onEnd(span: ReadableSpan): void {
    const context = span.spanContext();
    this.logger.debug({
      trace: {
        traceId: context.traceId,
        spanId: context.spanId,
        parentSpanId: span.parentSpanContext?.spanId,
        name: span.name,
        durationMs: span.duration[0] * 1e3 + span.duration[1] / 1e6,
      },
    });
  }
  forceFlush(): Promise<void> {
    return Promise.resolve();
  }
  shutdown(): Promise<void> {
    return Promise.resolve();
  }
}

const tracer = new BasicTracerProvider({ spanProcessors: [new DebugLogProcessor()] }).getTracer('cdp');

/**
 * W3C trace context (`traceparent`, `tracestate`) carried in Kafka headers from the collector to
 * the segment change. Each stage adds one span per record it turns into output: a child of the
 * span the input carried, or the root of a new trace when the input carried none (apps that
 * produce to Kafka themselves).
 */
export class StageTracer {
  /** `kind`: PRODUCER where traces start (the collector), CONSUMER for the stages that read a record to make one. */
  constructor(
    private readonly stage: string,
    private readonly kind: SpanKind = SpanKind.CONSUMER,
  ) {}

  /** Starts this stage's span for one record whose headers may carry a parent. */
  private start(parent: KafkaHeaders | undefined): Span {
    const parentContext = parent ? propagator.extract(ROOT_CONTEXT, parent, getter) : ROOT_CONTEXT;
    return tracer.startSpan(this.stage, { kind: this.kind }, parentContext);
  }

  /** Headers that carry the span's context to the next stage. */
  private headersOf(span: Span): KafkaHeaders {
    const headers: KafkaHeaders = {};
    propagator.inject(trace.setSpan(ROOT_CONTEXT, span), headers, setter);
    return headers;
  }

  /**
   * The headers for an output derived from `parent`: this stage's span marks the hand-off and ends
   * at once (stage timing is in the metrics; the trace is for following one event).
   */
  child(parent: KafkaHeaders | undefined): KafkaHeaders {
    const span = this.start(parent);
    const headers = this.headersOf(span);
    span.end();
    return headers;
  }
}

/** The trace id a record's headers carry, for log lines; undefined when it carries none. */
export function traceIdOf(headers: KafkaHeaders | undefined): string | undefined {
  if (!headers) return undefined;
  const context = trace.getSpanContext(propagator.extract(ROOT_CONTEXT, headers, getter));
  return context?.traceId;
}
