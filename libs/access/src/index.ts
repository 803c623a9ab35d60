export * from './keys';
export * from './access.service';
export * from './api-key.guard';
export * from './access.module';
export * from './key-admin.service';
export * from './audit';
