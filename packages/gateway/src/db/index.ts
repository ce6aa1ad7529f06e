export {
  type Actor,
  AUDIT_ACTIONS,
  type AuditAction,
  type AuditEntry,
  AuditTrail,
  SYSTEM,
} from './audit.ts';
export { Deliveries, type DeliveryOutcome, type OutboxStats, type Subscription } from './deliveries.ts';
export type { Dialect, Driver, Executor, SqlValue } from './driver.ts';
export { Grants } from './grants.ts';
export { type LockName, Locks } from './locks.ts';
export { migrate } from './migrate.ts';
export { MIGRATIONS, type Migration } from './migrations.ts';
export { type OpenOptions, openDriver } from './open.ts';
export { Outbox } from './outbox.ts';
export { DAY, enforceQuota, MINUTE, type Usage } from './quota.ts';
export { Repo, type RepoOptions } from './repo.ts';
export { FrozenRules } from './rules.ts';
export * from './types.ts';
export { type Change, Uploads } from './uploads.ts';
