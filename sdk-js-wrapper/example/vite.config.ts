import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const page = (name: string) => fileURLToPath(new URL(name, import.meta.url));

// No React plugin: Vite's esbuild compiles TSX with the automatic runtime on its own, and the
// example needs nothing more. `@vibariant/sdk` resolves through the npm workspace to the
// package's built dist/, exactly as an app that installed it from npm would.
export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  esbuild: { jsx: 'automatic' },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    rollupOptions: { input: { main: page('index.html'), plain: page('plain.html') } },
  },
});
