import { Controller, Get, Header, Injectable } from '@nestjs/common';
import { Counter, collectDefaultMetrics, Histogram, Registry } from 'prom-client';

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
