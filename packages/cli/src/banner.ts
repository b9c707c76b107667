/**
 * The start-up banner for people, on stderr (stdout carries only log lines): where the server is,
 * and for the development app its key and a line to paste into an app.
 */
import type { AddressInfo } from 'node:net';
import { SANDBOX_WARNING } from '@encke/server';

export interface BannerInput {
  version: string;
  address: AddressInfo;
  tls: boolean;
  sandbox: boolean;
  devKey?: { key: string; file: string; created: boolean };
  /** Where the chat demo and the admin dashboard are (web.ts), when they are on. */
  web?: readonly string[];
}

/** The server's base URL as people reach it (`http://127.0.0.1:8080`). */
export function baseUrl(address: AddressInfo, tls: boolean): string {
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return `${tls ? 'https' : 'http'}://${host}:${address.port}`;
}

export function banner({ version, address, tls, sandbox, devKey, web }: BannerInput): string {
  const url = baseUrl(address, tls);
  const lines = [`encke ${version} is running on ${url} (health: ${url}/health, readiness: ${url}/ready)`];
  if (sandbox) lines.push('Sandbox mode: POST /apps creates an app.', `WARNING: ${SANDBOX_WARNING}`);
  if (devKey) {
    const endpoint = address.address === '0.0.0.0' || address.address === '::' ? '127.0.0.1' : address.address;
    const port = tls ? `tlsPort: ${address.port}` : `port: ${address.port}, tls: false`;
    lines.push(
      `Development app ${devKey.created ? 'created' : 'reused'}; its key is kept in ${devKey.file} (delete the file for a new key).`,
      `API key: ${devKey.key}`,
      `Connect with: new Ably.Realtime({ key: '${devKey.key}', endpoint: '${endpoint}', ${port} })`,
    );
  }
  if (web) lines.push(...web);
  return `\n${lines.join('\n')}\n\n`;
}
