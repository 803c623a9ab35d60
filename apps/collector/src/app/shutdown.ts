import { Injectable, Logger, type BeforeApplicationShutdown } from '@nestjs/common';
import { HealthRegistry } from '@cdp/platform';
import { CollectorConfig } from './collector.config';

/**
 * The first step of a graceful stop. Nest's app.close() runs beforeApplicationShutdown (here:
 * readiness fails, requests are still served for CDP_SHUTDOWN_GRACE_MS while load balancers
 * notice), then closes the HTTP server (new connections refused, in-flight requests finish:
 * each is bounded by CDP_PRODUCE_TIMEOUT_MS), then onApplicationShutdown, where KafkaGateway
 * drains the producer and MongoDB disconnects.
 */
@Injectable()
export class GracefulShutdown implements BeforeApplicationShutdown {
  private readonly logger = new Logger(GracefulShutdown.name);

  constructor(
    private readonly health: HealthRegistry,
    private readonly config: CollectorConfig,
  ) {}

  async beforeApplicationShutdown(signal?: string): Promise<void> {
    this.health.markShuttingDown();
    this.logger.log(`${signal ?? 'close'}: draining for ${this.config.CDP_SHUTDOWN_GRACE_MS} ms before closing the listener`);
    if (this.config.CDP_SHUTDOWN_GRACE_MS > 0) await new Promise((r) => setTimeout(r, this.config.CDP_SHUTDOWN_GRACE_MS));
  }
}
