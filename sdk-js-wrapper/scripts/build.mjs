// Builds the package into dist/: ESM and CommonJS bundles of the SDK and its React entry, the
// core's WebAssembly and glue copied from sdk-core/pkg (built by scripts/build-wasm when
// missing), and type declarations. Run with `npm run build`.
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, transform } from 'esbuild';

const here = dirname(dirname(fileURLToPath(import.meta.url)));
const repo = dirname(here);
const pkg = join(repo, 'sdk-core', 'pkg');
const dist = join(here, 'dist');

if (!existsSync(join(pkg, 'vibariant_core_bg.wasm'))) {
  console.log('build: sdk-core/pkg is missing, running scripts/build-wasm');
  execFileSync(join(repo, 'scripts', 'build-wasm'), { stdio: 'inherit', cwd: repo });
}

rmSync(dist, { recursive: true, force: true });
mkdirSync(dist, { recursive: true });
// `.mjs` so that Node and every bundler read the glue as an ES module whatever the package type;
// minified, since wasm-bindgen writes it for reading and every byte reaches the browser.
const glue = await transform(readFileSync(join(pkg, 'vibariant_core.js'), 'utf8'), {
  format: 'esm',
  minify: true,
  target: 'es2020',
  legalComments: 'none',
});
writeFileSync(join(dist, 'vibariant_core.mjs'), glue.code);
copyFileSync(join(pkg, 'vibariant_core_bg.wasm'), join(dist, 'vibariant_core_bg.wasm'));

// The React entry imports the client from the main entry's file instead of bundling a second
// copy, so an app that uses both downloads the client once and shares one registry of clients.
const sharedClient = (ext) => ({
  name: 'shared-client',
  setup(b) {
    b.onResolve({ filter: /^\.\/client$/ }, (args) =>
      args.importer.endsWith('react.tsx') ? { path: './index' + ext, external: true } : undefined,
    );
  },
});

const common = {
  entryPoints: { index: 'src/index.ts', react: 'src/react.tsx' },
  absWorkingDir: here,
  bundle: true,
  minify: true,
  sourcemap: false,
  target: 'es2020',
  platform: 'neutral',
  jsx: 'automatic',
  external: ['react', 'react/jsx-runtime', './vibariant_core.mjs'],
  outdir: dist,
  legalComments: 'none',
  logLevel: 'warning',
};

await build({
  ...common,
  format: 'esm',
  outExtension: { '.js': '.mjs' },
  plugins: [sharedClient('.mjs')],
});
await build({
  ...common,
  format: 'cjs',
  outExtension: { '.js': '.cjs' },
  plugins: [sharedClient('.cjs')],
  // CommonJS has no import.meta; the loader then asks for the `wasm` option instead.
  define: { 'import.meta.url': 'undefined' },
  // Keep `import()` of the ES-module glue: `require` cannot load it.
  supported: { 'dynamic-import': true },
});

execFileSync('npx', ['tsc', '-p', 'tsconfig.json'], { stdio: 'inherit', cwd: here });
console.log('build: dist/ ready');
