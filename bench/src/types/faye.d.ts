/** The little of Faye's server API the bench uses (Faye ships no type declarations). */
declare module 'faye' {
  import type { Server } from 'node:http';

  export class NodeAdapter {
    constructor(options: { mount: string; timeout?: number; ping?: number });
    attach(server: Server): void;
    close(): void;
  }
  const faye: { NodeAdapter: typeof NodeAdapter };
  export default faye;
}
