export * from './backup-state';
export * from './dynamodb-backup-service';
export * from './size-trigger';
export * from './change-trigger';
export * from './stacks';
export * from './app-config';
export * from './app';
