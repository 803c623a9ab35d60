export * from './ast';
export * from './validate';
export * from './text';
export * from './evaluate';
export * from './definition';
export * from './compile';
export * from './json-schema';
