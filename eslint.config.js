/**
 * ESLint (flat config), run by `npm test` (`npm run lint`). Its job is to keep the shape of the
 * code: no import cycles, data flowing one way through the server's layers
 * (docs/architecture.md, "Layers"), and no value typed `any` anywhere (docs/architecture.md, "Types:
 * no any"). Formatting is Prettier's (`npm run format:check`), not ESLint's.
 */
import tseslint from 'typescript-eslint';
import noAnyValue from './scripts/eslint/no-any-value.js';
import noUncheckedCast from './scripts/eslint/no-unchecked-cast.js';
import importX from 'eslint-plugin-import-x';
import { createTypeScriptImportResolver } from 'eslint-import-resolver-typescript';

/** Server layers, lowest first. Each may import only from its own layer and the layers before it. */
const SERVER = 'packages/server/src';
/** The node: wires everything together; nothing below imports it. */
const NODE = ['./node.ts', './inspect.ts', './index.ts', './internal.ts'];
/** The node's services (context.ts) are visible to the session layer and above, not below it. */
/** Web apps the node serves beside the protocol: the admin dashboard and the chat demo (HTTP adapters, like rest/). */
const WEB = ['./admin', './demo'];
const UPPER = ['./session', './transports', './rest', ...WEB, './context.ts', ...NODE];
const LOWER = ['./util', './wire', './engine', './stats', './apps', './auth', './channels', './http'];

const layers = [
  {
    target: './util',
    from: '.',
    except: ['./util'],
    message: 'util/ is the bottom layer: it imports nothing else of the server.',
  },
  {
    target: './metrics',
    from: '.',
    except: ['./metrics'],
    message: 'metrics/ is where every layer reports: it imports nothing else of the server.',
  },
  ...['./delta', './filter', './annotations'].map((dir) => ({
    target: dir,
    from: '.',
    except: [dir],
    message: `${dir.slice(2)}/ is a pure module (codecs, expressions, reducers): it imports nothing else of the server.`,
  })),
  {
    target: './engine',
    from: ['./channels', './auth', './http', './wire', ...UPPER],
    message: 'The engine stores and fans out; it never imports channels, auth, sessions, transports or the node.',
  },
  ...LOWER.filter((l) => l !== './engine' && l !== './util').map((target) => ({
    target,
    from: UPPER,
    message:
      'A lower layer (engine, channels, auth, apps, stats, wire, http, util) never imports session, transports, rest or the node.',
  })),
  {
    target: './session',
    from: ['./transports', './rest', ...WEB, ...NODE],
    message:
      'The session declares the transport port (session/port.ts); it never imports a transport, REST or the node.',
  },
  {
    target: './transports',
    from: ['./rest', ...WEB, ...NODE],
    message: 'A transport plugs into the session port; it never imports REST or the node.',
  },
  {
    target: './rest',
    from: ['./transports', ...WEB, ...NODE],
    message: 'REST never imports transports, the web apps or the node.',
  },
  ...WEB.map((target) => ({
    target,
    from: ['./transports', './rest', ...WEB.filter((w) => w !== target), ...NODE],
    message: `${target.slice(2)}/ is a web app the node serves: it uses sessions, channels and auth, never transports, REST, the other web app or the node.`,
  })),
  { target: './transports/websocket.ts', from: './transports/comet', message: 'Transports do not import each other.' },
  { target: './transports/comet', from: './transports/websocket.ts', message: 'Transports do not import each other.' },
];

export default tseslint.config(
  { ignores: ['**/dist/**', '**/node_modules/**', 'bench/results/**', 'test/fixtures/**', 'packages/cli/bin/**'] },
  {
    files: ['**/*.ts'],
    languageOptions: {
      parser: tseslint.parser,
      ecmaVersion: 'latest',
      sourceType: 'module',
      // Type information for the no-any rules: each file is checked in the program of its tsconfig.
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    plugins: {
      '@typescript-eslint': tseslint.plugin,
      'import-x': importX,
      local: { rules: { 'no-any-value': noAnyValue, 'no-unchecked-cast': noUncheckedCast } },
    },
    settings: {
      // The parser import-x reads imported files with (no-cycle follows imports through them).
      'import-x/parsers': { '@typescript-eslint/parser': ['.ts'] },
      'import-x/resolver-next': [
        createTypeScriptImportResolver({ project: 'tsconfig.json', noWarnOnMultipleProjects: true }),
      ],
    },
    rules: {
      // No runtime import cycle anywhere (type-only imports have no runtime effect and are not counted).
      'import-x/no-cycle': ['error', { ignoreExternal: true }],
      'import-x/no-self-import': 'error',
      // `import { type A }` with only types still loads the module at run time (verbatimModuleSyntax): say `import type`.
      '@typescript-eslint/no-import-type-side-effects': 'error',
      // No value typed `any` (docs/architecture.md, "Types: no any"): none written, none used unchecked, and
      // (local/no-any-value) none at all, not even one flowing into `unknown`, which the no-unsafe-* rules allow.
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unsafe-assignment': 'error',
      '@typescript-eslint/no-unsafe-member-access': 'error',
      '@typescript-eslint/no-unsafe-call': 'error',
      '@typescript-eslint/no-unsafe-return': 'error',
      '@typescript-eslint/no-unsafe-argument': 'error',
      'local/no-any-value': 'error',
      // No cast of an unchecked value: `parseJson(t) as T`, `readField(o, k) as T`, a fetch body, or any call
      // typed unknown or any (a decoder's result, what a browser or a fixture file gives a test): check it with
      // a guard instead.
      'local/no-unchecked-cast': ['error', { calls: true }],
    },
  },
  {
    files: [`${SERVER}/**/*.ts`],
    rules: {
      'import-x/no-restricted-paths': ['error', { basePath: SERVER, zones: layers }],
    },
  },
  {
    // Small files and functions (project rules): split a file past 400 lines, a function past 60.
    files: ['packages/*/src/**/*.ts'],
    rules: {
      'max-lines': ['error', { max: 400 }],
      'max-lines-per-function': ['error', { max: 60, skipBlankLines: true, skipComments: true }],
    },
  },
);
