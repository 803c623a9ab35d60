export * from './config';
export * from './logging';
export * from './health';
export * from './metrics';
export * from './platform.module';
export * from './bootstrap';
export * from './json-depth';
export * from './json-bodies';
