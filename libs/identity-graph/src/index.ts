export * from './identifier';
export * from './rules';
export * from './extract';
export * from './decide';
