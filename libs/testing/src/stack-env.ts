import { randomBytes } from 'node:crypto';
import { appendFileSync } from 'node:fs';

/** Where the stack is: the environment's own, else the local stack's defaults (brief section 3). */
export const stackEndpoints = () => ({
  kafkaBrokers: process.env['KAFKA_BROKERS'] || 'localhost:9092',
  registryUrl: process.env['SCHEMA_REGISTRY_URL'] || 'http://localhost:8081/apis/ccompat/v7',
  mongoUrl: process.env['MONGO_URL'] || 'mongodb://localhost:27017/cdp',
});

/**
 * A private corner of the shared stack for one test file: its own topic namespace (and so its
 * own consumer groups) and its own database.
 */
export interface TestScope {
  id: string;
  namespace: string;
  database: string;
  mongoUrl: string;
  env: Record<string, string>;
}

export function testScope(label: string): TestScope {
  const id = `${label.replace(/[^a-z0-9]/gi, '').slice(0, 12)}${randomBytes(4).toString('hex')}`;
  const { kafkaBrokers, registryUrl, mongoUrl } = stackEndpoints();
  const database = `cdp_t_${id}`;
  const url = new URL(mongoUrl);
  url.pathname = `/${database}`;
  const namespace = `t.${id}.`;
  // The integration run's global teardown drops the scopes listed here: their databases, topics and
  // consumer groups (scripts/integration-teardown.cjs).
  const registry = process.env['CDP_TEST_SCOPES_FILE'];
  if (registry) appendFileSync(registry, `${id}\n`);
  return {
    id,
    namespace,
    database,
    mongoUrl: url.toString(),
    env: {
      KAFKA_BROKERS: kafkaBrokers,
      SCHEMA_REGISTRY_URL: registryUrl,
      MONGO_URL: url.toString(),
      CDP_TOPIC_NAMESPACE: namespace,
      CDP_TOPIC_PARTITIONS: '2',
      LOG_LEVEL: 'warn',
    },
  };
}
