// Builds the dashboard into dist/ (dashboard.js and login.js with @encke/client bundled, the CSS,
// the HTML pages, the icon), which the server serves at /admin. `npm run build` at the root runs it
// after `tsc -b`, which type-checks src/.
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildWebApp } from '../../scripts/build-web-app.mjs';

await buildWebApp(dirname(fileURLToPath(import.meta.url)), { dashboard: 'src/main.ts', login: 'src/login.ts' });
