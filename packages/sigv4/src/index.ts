// Contract of @chute/sigv4 (implementations are in the files named below).
export type * from './types.ts';
