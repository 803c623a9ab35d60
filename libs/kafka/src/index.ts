export * from './port';
export * from './kafkajs-client';
export * from './batching-producer';
export * from './avro-serde';
export * from './consumer-runner';
export * from './kafka.module';
export * from './pipeline-consumer';
export * from './tracing';
