import { Controller, Get, Header, Injectable } from '@nestjs/common';
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

/** One Prometheus registry per service, with the pipeline metrics every stage reports. */
@Injectable()
export class Metrics {
  readonly registry = new Registry();

  readonly recordsProcessed = new Counter({
    name: 'cdp_records_processed_total',
    help: 'Records consumed and handled, by topic and outcome (ok, dead_lettered).',
    labelNames: ['topic', 'outcome'] as const,
    registers: [this.registry],
  });

  readonly recordsProduced = new Counter({
    name: 'cdp_records_produced_total',
    help: 'Records written to Kafka (acknowledged by all in-sync replicas), by topic.',
    labelNames: ['topic'] as const,
    registers: [this.registry],
  });

  readonly batchSeconds = new Histogram({
    name: 'cdp_batch_duration_seconds',
    help: 'Time to handle one consumed batch, effects stored and offsets committed.',
    labelNames: ['topic'] as const,
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [this.registry],
  });

  readonly batchRecords = new Histogram({
    name: 'cdp_batch_records',
    help: 'Records per handled chunk, by topic.',
    labelNames: ['topic'] as const,
    buckets: [1, 5, 10, 50, 100, 250, 500],
    registers: [this.registry],
  });

  readonly recordWaitSeconds = new Histogram({
    name: 'cdp_record_wait_seconds',
    help: 'Time from a record being written to its topic until this stage handles it, by topic (queueing delay per stage).',
    labelNames: ['topic'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
    registers: [this.registry],
  });

  readonly consumerLag = new Gauge({
    name: 'cdp_consumer_lag_records',
    help: 'Records of the partition not handled yet by this consumer group (from the chunk in hand while it fails); partitions not fetched for a minute drop out.',
    labelNames: ['topic', 'partition'] as const,
    registers: [this.registry],
  });

  readonly chunkFailures = new Counter({
    name: 'cdp_chunk_failures_total',
    help: 'Chunks whose handling failed (database or Kafka error) and will be redelivered, by topic.',
    labelNames: ['topic'] as const,
    registers: [this.registry],
  });

  readonly httpRequests = new Counter({
    name: 'cdp_http_requests_total',
    help: 'HTTP requests answered, by method, route (the matched route pattern; "unmatched" for none) and status code.',
    labelNames: ['method', 'route', 'status'] as const,
    registers: [this.registry],
  });

  readonly httpSeconds = new Histogram({
    name: 'cdp_http_request_duration_seconds',
    help: 'Time from a request arriving to its answer being sent, by method and route.',
    labelNames: ['method', 'route'] as const,
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry });
  }

  setService(service: string): void {
    this.registry.setDefaultLabels({ service });
  }
}

@Controller()
export class MetricsController {
  constructor(private readonly metrics: Metrics) {}

  @Get('metrics')
  @Header('Content-Type', 'text/plain; version=0.0.4; charset=utf-8')
  scrape(): Promise<string> {
    return this.metrics.registry.metrics();
  }
}
