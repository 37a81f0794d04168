export * from './backup-state';
export * from './dynamodb-backup-service';
export * from './stacks';
export * from './app-config';
export * from './app';
