export * from './generated';
export * from './topics';
export * from './event-types';
export * from './profile-changes';
export * from './identifier-types';
