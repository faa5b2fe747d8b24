export * from './auth';
export * from './errors';
export type { AnyRecordType, NetSuiteItem, NetSuiteRecordType, NetSuiteReferenceType } from './store';
export { DEFAULT_ITEMS, RECORD_PATH, RECORD_TYPES, REFERENCE_TYPES } from './store';
export * from './twin';
