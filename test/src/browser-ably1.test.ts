import { browserSdkScenarios } from './scenarios/browser-sdk.js';

browserSdkScenarios('ably1', [
  { name: 'web_socket', transports: ['web_socket'], expect: 'web_socket' },
  { name: 'xhr_polling', transports: ['xhr_polling'], expect: 'xhr_polling' },
  { name: 'xhr_streaming', transports: ['xhr_streaming'], expect: 'xhr_streaming' },
  { name: 'jsonp', transports: ['jsonp'], expect: 'jsonp' },
  { name: 'default (comet, then upgrade)', transports: undefined, expect: 'web_socket' },
]);
