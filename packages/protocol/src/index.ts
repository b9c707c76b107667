export * from './constants.js';
export * from './types.js';
export * from './errors.js';
export * from './encoding.js';
export * from './validate.js';
export * from './codec.js';
export * from './limits.js';
