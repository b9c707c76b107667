// Builds the dashboard into dist/: dashboard.js and login.js (src/ and @encke/client bundled by
// esbuild, no CDN), the CSS, the HTML pages and the icon. `npm run build` at the root runs it after
// `tsc -b` (which type-checks src/). The server serves dist/ at /admin.
import { build } from 'esbuild';
import { copyFile, mkdir, readdir, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const out = join(here, 'dist');
await rm(out, { recursive: true, force: true });
await mkdir(out, { recursive: true });
await build({
  entryPoints: { dashboard: join(here, 'src/main.ts'), login: join(here, 'src/login.ts') },
  outdir: out,
  bundle: true,
  format: 'esm',
  platform: 'browser',
  target: ['es2022', 'chrome110', 'firefox110', 'safari16'],
  minify: true,
  sourcemap: true,
  legalComments: 'none',
  logLevel: 'warning',
});
for (const file of await readdir(join(here, 'static'))) await copyFile(join(here, 'static', file), join(out, file));
