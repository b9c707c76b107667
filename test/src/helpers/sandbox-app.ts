/**
 * The answer to a sandbox `POST /apps` (test-app-setup.json's app with its keys as strings), checked
 * for the fields the tests read.
 */
import { isArrayValue, isPlainObject } from '@encke/protocol';
import { responseAs } from './json.js';

export interface SandboxKey {
  keyName: string;
  keyStr: string;
  keySecret: string;
  capability: string;
  revocableTokens: boolean;
}

export interface SandboxNamespace {
  id: string;
  persisted: boolean;
  mutableMessages: boolean;
  pushEnabled?: boolean;
}

export interface SandboxApp {
  appId: string;
  accountId: string;
  keys: SandboxKey[];
  namespaces: SandboxNamespace[];
  endpoint: string;
  port: number;
  tls: boolean;
}

function isSandboxKey(v: unknown): v is SandboxKey {
  return (
    isPlainObject(v) &&
    typeof v.keyName === 'string' &&
    typeof v.keyStr === 'string' &&
    typeof v.keySecret === 'string' &&
    typeof v.capability === 'string' &&
    typeof v.revocableTokens === 'boolean'
  );
}

function isSandboxNamespace(v: unknown): v is SandboxNamespace {
  return (
    isPlainObject(v) &&
    typeof v.id === 'string' &&
    typeof v.persisted === 'boolean' &&
    typeof v.mutableMessages === 'boolean' &&
    (v.pushEnabled === undefined || typeof v.pushEnabled === 'boolean')
  );
}

export function isSandboxApp(v: unknown): v is SandboxApp {
  return (
    isPlainObject(v) &&
    typeof v.appId === 'string' &&
    typeof v.accountId === 'string' &&
    isArrayValue(v.keys) &&
    v.keys.every(isSandboxKey) &&
    isArrayValue(v.namespaces) &&
    v.namespaces.every(isSandboxNamespace) &&
    typeof v.endpoint === 'string' &&
    typeof v.port === 'number' &&
    typeof v.tls === 'boolean'
  );
}

/** The app a sandbox `POST /apps` created, from its answer, or an Error showing the body. */
export function sandboxAppOf(res: Response): Promise<SandboxApp> {
  return responseAs(res, isSandboxApp, 'a sandbox app');
}
