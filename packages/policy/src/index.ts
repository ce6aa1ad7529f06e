export { checkForm } from './check-form.ts';
export { checkLength } from './check-length.ts';
export { describeCondition } from './describe.ts';
export { evaluate } from './evaluate.ts';
export { parsePolicy } from './parse.ts';
export { requireFields } from './required-fields.ts';
export type {
  Condition,
  Decision,
  EvaluateOptions,
  FormDecision,
  FormFields,
  LengthRange,
  MatchCondition,
  ObjectCondition,
  PostPolicy,
  RangeCondition,
} from './types.ts';
