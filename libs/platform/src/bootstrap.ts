import type { INestApplication, Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Logger } from 'nestjs-pino';
import { PlatformConfig } from './config';
import { HealthRegistry } from './health';
import { httpMetrics } from './http-metrics';
import { Metrics } from './metrics';
import { BodyDepthPipe } from './json-depth';
import { useJsonBodies } from './json-bodies';
import { ServiceInfo } from './platform.module';

/**
 * Starts a service: pino as Nest's logger, shutdown hooks so SIGTERM drains consumers and
 * in-flight requests, and the port from PORT or the service's default.
 */
export interface RunOptions {
  /** Off when the service parses bodies itself (the collector reads raw, possibly gzipped, bytes). */
  bodyParser?: boolean;
  configure?: (app: INestApplication) => void;
}

export async function runService(appModule: Type<unknown>, options: RunOptions = {}): Promise<INestApplication> {
  const app = await NestFactory.create(appModule, { bufferLogs: true, bodyParser: false });
  const logger = app.get(Logger);
  app.useLogger(logger);
  // First, so answers given by later middleware (a refused body) are counted too.
  app.use(httpMetrics(app.get(Metrics)));
  if (options.bodyParser ?? true) useJsonBodies(app);
  app.enableShutdownHooks();
  // Global pipes run before a controller's own, so no validation walks a hostile nesting.
  app.useGlobalPipes(new BodyDepthPipe());
  options.configure?.(app);
  const config = app.get(PlatformConfig);
  const info = app.get(ServiceInfo);
  const health = app.get(HealthRegistry);
  for (const signal of ['SIGTERM', 'SIGINT'] as const) process.once(signal, () => health.markShuttingDown());
  const port = config.PORT ?? info.defaultPort;
  await app.listen(port);
  logger.log(`${info.name} listening on http://localhost:${port}`);
  return app;
}
