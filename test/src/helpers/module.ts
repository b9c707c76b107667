/**
 * A module imported by a path computed at run time (a script outside the TypeScript project, a
 * bundle written by a test): TypeScript types such an import `any`; this says what it is, unknown
 * until checked.
 */
export const importModule = (specifier: string): Promise<unknown> => import(specifier);
