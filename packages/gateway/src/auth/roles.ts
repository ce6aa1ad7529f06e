/** The roles, lowest first: each can do what the ones before it can. */
export const ROLES = ['uploader', 'reviewer', 'admin'] as const;
export type Role = (typeof ROLES)[number];
