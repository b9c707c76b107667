// Builds the chat into dist/ (chat.js with @encke/client bundled, chat.css, index.html, the icon).
// `npm run build` at the root runs it after `tsc -b`, which type-checks src/.
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildWebApp } from '../../scripts/build-web-app.mjs';

await buildWebApp(dirname(fileURLToPath(import.meta.url)), { chat: 'src/main.ts' });
