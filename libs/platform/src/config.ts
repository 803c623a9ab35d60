import { plainToInstance, Transform } from 'class-transformer';
import { IsIn, IsInt, IsOptional, IsString, Matches, Max, Min, MinLength, validateSync } from 'class-validator';

/** Marks a config field as secret: it never appears in logs or error messages. */
export const SECRET_FIELDS = new Set(['CDP_DEMO_WRITE_KEY', 'CDP_DEMO_API_KEY', 'CDP_ADMIN_TOKEN', 'MONGO_URL']);

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
  if (errors.length > 0) {
    throw new ConfigError(
      errors.flatMap((e) =>
        Object.values(e.constraints ?? {}).map((m) => (SECRET_FIELDS.has(e.property) ? `${e.property}: invalid value` : m)),
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
