export * from './email';
export * from './time';
export * from './safe-json';
export * from './normalize-event';
