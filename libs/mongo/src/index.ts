export * from './mongo.module';
export * from './workspace-repository';
export * from './index-bootstrap';
export * from './unavailable.filter';
export * from './pages';
export * from './coalescer';
export * from './coalesced-reads';
export * from './coalesced-writes';
