export type { Dialect, Driver, Executor, SqlValue } from './driver.ts';
export { migrate } from './migrate.ts';
export { MIGRATIONS, type Migration } from './migrations.ts';
export { type OpenOptions, openDriver } from './open.ts';
export { DAY, enforceQuota, MINUTE, type Usage } from './quota.ts';
export { Repo, type RepoOptions } from './repo.ts';
export * from './types.ts';
