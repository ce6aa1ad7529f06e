export { FAIL_SKEW_MS, WARN_SKEW_MS } from './clock.ts';
export { doctorFailed, formatResults, runDoctor } from './run.ts';
export type { CheckResult, CheckStatus, DoctorInput, DoctorOptions, WebhookTarget } from './types.ts';
