import { plainToInstance, Transform } from 'class-transformer';
import { IsBoolean, IsIn, IsInt, IsOptional, IsString, Matches, Max, Min, MinLength, validateSync } from 'class-validator';

/** Marks a config field as secret: it never appears in logs or error messages. */
export const SECRET_FIELDS = new Set([
  'CDP_DEMO_WRITE_KEY',
  'CDP_DEMO_API_KEY',
  'CDP_ADMIN_TOKEN',
  'MONGO_URL',
  'KAFKA_SASL_PASSWORD',
  'SCHEMA_REGISTRY_PASSWORD',
  'CDP_PII_ENCRYPTION_KEY',
  'CDP_PII_PREVIOUS_KEYS',
]);

const toBoolean = ({ value }: { value: unknown }): unknown =>
  typeof value === 'string'
    ? ['true', '1', 'yes'].includes(value.toLowerCase())
      ? true
      : ['false', '0', 'no'].includes(value.toLowerCase())
        ? false
        : value
    : value;

/** Configuration every service shares (brief section 3). Services extend it with their own fields. */
export class PlatformConfig {
  @IsString()
  @Matches(/^[^,\s]+(,[^,\s]+)*$/, { message: 'KAFKA_BROKERS must be a comma-separated list of host:port' })
  KAFKA_BROKERS = 'localhost:9092';

  @IsString()
  @Matches(/^https?:\/\//, { message: 'SCHEMA_REGISTRY_URL must be an http(s) URL' })
  SCHEMA_REGISTRY_URL = 'http://localhost:8081/apis/ccompat/v7';

  @IsString()
  @Matches(/^mongodb(\+srv)?:\/\//, { message: 'MONGO_URL must be a mongodb:// URL' })
  MONGO_URL = 'mongodb://localhost:27017/cdp';

  /** Prefix for every topic name; lets tests and side-by-side environments share a cluster. */
  @IsString()
  @Matches(/^[a-zA-Z0-9._-]*$/, { message: 'CDP_TOPIC_NAMESPACE may only contain letters, digits, ".", "_" and "-"' })
  CDP_TOPIC_NAMESPACE = '';

  /** Partitions and replication of topics the platform creates when they are missing. */
  @Transform(({ value }) => Number(value))
  @IsInt()
  @Min(1)
  CDP_TOPIC_PARTITIONS = 3;

  @Transform(({ value }) => Number(value))
  @IsInt()
  @Min(1)
  CDP_TOPIC_REPLICATION = 1;

  /** Partitions of a consumed topic one instance handles at the same time (each in offset order). */
  @Transform(({ value }) => Number(value))
  @IsInt()
  @Min(1)
  @Max(64)
  CDP_CONSUMER_CONCURRENCY = 3;

  @Transform(({ value }) => (value === undefined || value === '' ? undefined : Number(value)))
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(65535)
  PORT?: number;

  @IsIn(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
  LOG_LEVEL = 'info';

  @IsString()
  @MinLength(8)
  CDP_DEMO_WRITE_KEY = 'dev-write-key';

  @IsString()
  @MinLength(8)
  CDP_DEMO_API_KEY = 'dev-api-key';

  /** TLS to the brokers (managed Kafka: Confluent Cloud, MSK, Strimzi with TLS listeners). */
  @Transform(toBoolean)
  @IsBoolean({ message: 'KAFKA_SSL must be true or false' })
  KAFKA_SSL = false;

  /** PEM file of the CA that signed the brokers' certificates; the system CAs when unset. */
  @IsOptional()
  @IsString()
  KAFKA_SSL_CA_FILE?: string = undefined;

  /** SASL authentication to the brokers; unset means none. */
  @Transform(({ value }) => (typeof value === 'string' ? value.toLowerCase() : value))
  @IsOptional()
  @IsIn(['plain', 'scram-sha-256', 'scram-sha-512'], { message: 'KAFKA_SASL_MECHANISM must be PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512' })
  KAFKA_SASL_MECHANISM?: 'plain' | 'scram-sha-256' | 'scram-sha-512' = undefined;

  @IsOptional()
  @IsString()
  KAFKA_SASL_USERNAME?: string = undefined;

  @IsOptional()
  @IsString()
  KAFKA_SASL_PASSWORD?: string = undefined;

  /** Basic auth for the schema registry (Confluent Cloud API key and secret). */
  @IsOptional()
  @IsString()
  SCHEMA_REGISTRY_USERNAME?: string = undefined;

  @IsOptional()
  @IsString()
  SCHEMA_REGISTRY_PASSWORD?: string = undefined;

  /** Create the `demo` workspace and its keys at start-up; turn off in production. */
  @Transform(toBoolean)
  @IsBoolean({ message: 'CDP_DEMO_WORKSPACE must be true or false' })
  CDP_DEMO_WORKSPACE = true;

  /** How long a verified key is trusted before it is read again (revocations made elsewhere wait this long). */
  @Transform(({ value }) => Number(value))
  @IsInt()
  @Min(0)
  @Max(600_000)
  CDP_KEY_CACHE_MS = 30_000;

  /** Unset means the admin API is off. */
  @IsOptional()
  @IsString()
  @MinLength(16, { message: 'CDP_ADMIN_TOKEN must be at least 16 characters' })
  CDP_ADMIN_TOKEN?: string;
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n  - ${problems.join('\n  - ')}`);
  }
}

/**
 * Reads and validates a config class from the environment; start-up fails on bad config.
 * Only declared fields are read, and messages never echo a secret's value.
 */
export function loadConfig<T extends PlatformConfig>(cls: new () => T, env: NodeJS.ProcessEnv = process.env): T {
  const defaults = new cls();
  const raw: Record<string, unknown> = { ...(defaults as object) };
  for (const key of Object.keys(defaults).concat(['PORT', 'CDP_ADMIN_TOKEN'])) {
    const value = env[key];
    if (value !== undefined && value !== '') raw[key] = value;
  }
  const config = plainToInstance(cls, raw);
  const errors = validateSync(config, { forbidUnknownValues: true });
  if (config.KAFKA_SASL_MECHANISM && (!config.KAFKA_SASL_USERNAME || !config.KAFKA_SASL_PASSWORD)) {
    throw new ConfigError(['KAFKA_SASL_MECHANISM needs KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD']);
  }
  if (errors.length > 0) {
    throw new ConfigError(
      errors.flatMap((e) =>
        // A secret's message may quote its value; the rule's name says what is wrong without it.
        Object.entries(e.constraints ?? {}).map(([rule, m]) =>
          SECRET_FIELDS.has(e.property) ? `${e.property}: invalid value (${rule})` : m,
        ),
      ),
    );
  }
  return config;
}

/** The MongoDB database named in a connection URL (path part), `cdp` when absent. */
export function databaseName(mongoUrl: string): string {
  const match = /^mongodb(?:\+srv)?:\/\/[^/]+\/([^?]*)/.exec(mongoUrl);
  return match?.[1] ? decodeURIComponent(match[1]) : 'cdp';
}
