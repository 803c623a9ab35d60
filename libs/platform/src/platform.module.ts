import { DynamicModule, Global, Module } from '@nestjs/common';
import { LoggerModule } from 'nestjs-pino';
import { loadConfig, PlatformConfig } from './config';
import { HealthController, HealthRegistry } from './health';
import { loggerParams } from './logging';
import { Metrics, MetricsController } from './metrics';

/** The service's name and default port, injectable anywhere. */
export class ServiceInfo {
  constructor(
    readonly name: string,
    readonly defaultPort: number,
  ) {}
}

export interface PlatformOptions<T extends PlatformConfig> {
  service: string;
  defaultPort: number;
  config: new () => T;
  env?: NodeJS.ProcessEnv;
}

/**
 * What every service has: validated config (injectable as PlatformConfig and as its own class),
 * pino logging with redaction, /health/live, /health/ready and /metrics.
 */
@Global()
@Module({})
export class PlatformModule {
  static forRoot<T extends PlatformConfig>(options: PlatformOptions<T>): DynamicModule {
    const config = loadConfig(options.config, options.env);
    const metrics = new Metrics();
    metrics.setService(options.service);
    return {
      module: PlatformModule,
      imports: [LoggerModule.forRoot(loggerParams(options.service, config.LOG_LEVEL))],
      controllers: [HealthController, MetricsController],
      providers: [
        { provide: PlatformConfig, useValue: config },
        { provide: options.config, useValue: config },
        { provide: ServiceInfo, useValue: new ServiceInfo(options.service, options.defaultPort) },
        { provide: Metrics, useValue: metrics },
        HealthRegistry,
      ],
      exports: [PlatformConfig, options.config, ServiceInfo, Metrics, HealthRegistry],
    };
  }
}
