export * from './wait-for';
export * from './stack-env';
export * from './service-process';
export * from './topic-reader';
export * from './tcp-proxy';
export * from './dto-problems';
