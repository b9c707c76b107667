/**
 * A private field of a server object, read by a test as a value to be checked (`Reflect.get` is
 * typed `any`).
 */
export const field: (target: object, key: string) => unknown = Reflect.get;
