import { Transform } from 'class-transformer';
import { IsInt, IsString, Matches, Max, Min } from 'class-validator';
import { PlatformConfig } from '@cdp/platform';

export class CollectorConfig extends PlatformConfig {
  /**
   * Proxies whose X-Forwarded-For is believed for context.ip (Express "trust proxy" values:
   * e.g. `loopback`, `10.0.0.0/8`, `uniquelocal`). Empty: the socket address is the client.
   */
  @IsString()
  @Matches(/^[\w.:/,\s-]*$/, { message: 'CDP_TRUSTED_PROXIES must be a comma-separated list of addresses, subnets or names' })
  CDP_TRUSTED_PROXIES = '';

  /** How long a request waits for Kafka's acknowledgement before it answers 503 with Retry-After. */
  @Transform(({ value }) => Number(value))
  @IsInt()
  @Min(100)
  @Max(120_000)
  CDP_PRODUCE_TIMEOUT_MS = 8_000;

  /**
   * On SIGTERM, how long readiness fails while requests are still served, so that load balancers
   * stop routing here before the listener closes (Kubernetes: a little over the endpoint update delay).
   */
  @Transform(({ value }) => Number(value))
  @IsInt()
  @Min(0)
  @Max(120_000)
  CDP_SHUTDOWN_GRACE_MS = 0;

  /** Largest CSV body (after decompression) POST /v1/import/csv reads; bigger files go through the CLI. */
  @Transform(({ value }) => Number(value))
  @IsInt()
  @Min(1024)
  CDP_IMPORT_MAX_BYTES = 100 * 1024 * 1024;
}
