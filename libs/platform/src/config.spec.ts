import { ConfigError, databaseName, loadConfig, PlatformConfig } from './config';

describe('loadConfig', () => {
  it('uses the brief defaults when the environment is empty', () => {
    const config = loadConfig(PlatformConfig, {});
    expect(config.KAFKA_BROKERS).toBe('localhost:9092');
    expect(config.SCHEMA_REGISTRY_URL).toBe('http://localhost:8081/apis/ccompat/v7');
    expect(config.MONGO_URL).toBe('mongodb://localhost:27017/cdp');
    expect(config.CDP_ADMIN_TOKEN).toBeUndefined();
  });

  it('reads and converts values from the environment', () => {
    const config = loadConfig(PlatformConfig, { PORT: '4000', KAFKA_BROKERS: 'a:1,b:2' });
    expect(config.PORT).toBe(4000);
    expect(config.KAFKA_BROKERS).toBe('a:1,b:2');
  });

  it('fails on bad values and never echoes a secret', () => {
    const attempt = () => loadConfig(PlatformConfig, { PORT: 'x', MONGO_URL: 'postgres://user:hunter2@h/db' });
    expect(attempt).toThrow(ConfigError);
    try {
      attempt();
    } catch (e) {
      expect(String(e)).toContain('PORT');
      expect(String(e)).toContain('MONGO_URL: invalid value (matches)');
      expect(String(e)).not.toContain('hunter2');
    }
  });
});

describe('Kafka and registry security', () => {
  it('reads TLS, SASL and registry auth', () => {
    const config = loadConfig(PlatformConfig, {
      KAFKA_SSL: 'true',
      KAFKA_SASL_MECHANISM: 'SCRAM-SHA-512',
      KAFKA_SASL_USERNAME: 'svc',
      KAFKA_SASL_PASSWORD: 's3cret',
      SCHEMA_REGISTRY_USERNAME: 'key',
      CDP_DEMO_WORKSPACE: 'false',
    });
    expect(config).toMatchObject({
      KAFKA_SSL: true,
      KAFKA_SASL_MECHANISM: 'scram-sha-512',
      SCHEMA_REGISTRY_USERNAME: 'key',
      CDP_DEMO_WORKSPACE: false,
    });
  });

  it('refuses SASL without credentials and unknown mechanisms', () => {
    expect(() => loadConfig(PlatformConfig, { KAFKA_SASL_MECHANISM: 'plain' })).toThrow('needs KAFKA_SASL_USERNAME');
    expect(() =>
      loadConfig(PlatformConfig, { KAFKA_SASL_MECHANISM: 'gssapi', KAFKA_SASL_USERNAME: 'u', KAFKA_SASL_PASSWORD: 'p' }),
    ).toThrow('KAFKA_SASL_MECHANISM must be');
    expect(() => loadConfig(PlatformConfig, { KAFKA_SSL: 'maybe' })).toThrow('KAFKA_SSL must be true or false');
  });
});

describe('databaseName', () => {
  it.each([
    ['mongodb://localhost:27017/cdp', 'cdp'],
    ['mongodb://h:1/other?retryWrites=false', 'other'],
    ['mongodb://localhost:27017', 'cdp'],
    ['mongodb+srv://u:p@cluster.example.net/prod', 'prod'],
  ])('%s -> %s', (url, name) => expect(databaseName(url)).toBe(name));
});
