// ably-js speaks JSON on comet whatever useBinaryProtocol says, so msgpack is tried on WebSocket only.
import { browserSdkScenarios } from './scenarios/browser-sdk.js';

browserSdkScenarios('ably', [
  { name: 'web_socket', transports: ['web_socket'], expect: 'web_socket' },
  { name: 'xhr_polling', transports: ['xhr_polling'], expect: 'xhr_polling' },
  {
    name: 'web_socket msgpack',
    transports: ['web_socket'],
    expect: 'web_socket',
    options: { useBinaryProtocol: true },
  },
]);
