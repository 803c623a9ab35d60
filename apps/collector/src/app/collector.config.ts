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

  /**
   * Requests per key (write key, API key or admin token; the address when there is none) in each
   * CDP_RATE_LIMIT_WINDOW_MS, per instance; over it: 429 with Retry-After. 0 turns limiting off.
   * The default is far above what one instance serves (batches of 100 events: ~500 requests/s at
   * 50,000 events/s), so it only stops a runaway client sending single events in a loop.
   */
  @Transform(({ value }) => Number(value))
  @IsInt()
  @Min(0)
  CDP_RATE_LIMIT_REQUESTS = 5_000;

  @Transform(({ value }) => Number(value))
  @IsInt()
  @Min(100)
  @Max(3_600_000)
  CDP_RATE_LIMIT_WINDOW_MS = 1_000;

  /**
   * How long a client may take to send the headers and the body of a tracking or admin request
   * (slow senders hold a socket and a buffer each): past it, 408 and the connection is closed.
   */
  @Transform(({ value }) => Number(value))
  @IsInt()
  @Min(500)
  @Max(120_000)
  CDP_REQUEST_TIMEOUT_MS = 10_000;

  /**
   * Processes serving the port (Node cluster; apps/collector/src/workers.ts): a number, or `auto`
   * for one per core. Each has its own Kafka producer, and its own rate-limit counters.
   */
  @Matches(/^(auto|[1-9]\d?)$/, { message: 'CDP_WORKERS must be a number of processes (1 to 99) or auto' })
  CDP_WORKERS = '1';

  /** Longest a streamed import (CSV, NDJSON) may take from first byte to answer. */
  @Transform(({ value }) => Number(value))
  @IsInt()
  @Min(1_000)
  CDP_IMPORT_TIMEOUT_MS = 15 * 60_000;
}
