/**
 * V8's `%HaveSameMap` (whether two heap objects share a hidden class; strings: the same kind of
 * string, sequential or cons), for tests of what the server keeps. Natives syntax is enabled in
 * the importing test's process only: node --test runs each file in a process of its own.
 */
import { setFlagsFromString } from 'node:v8';

type SameMap = (a: object | string, b: object | string) => boolean;

function isSameMap(f: unknown): f is SameMap {
  return typeof f === 'function' && f.length === 2;
}

setFlagsFromString('--allow-natives-syntax');
const compiled: unknown = new Function('a', 'b', 'return %HaveSameMap(a, b)');
if (!isSameMap(compiled)) throw new Error('%HaveSameMap is not available');

export const haveSameMap: SameMap = compiled;
