import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

// The core's wasm-bindgen glue, built by scripts/build-wasm. The unit tests run on a fake core;
// only vectors.test.ts loads the real one, and it says so when the build is missing.
const glue = fileURLToPath(new URL('../sdk-core/pkg/vibariant_core.js', import.meta.url));
const missing = fileURLToPath(new URL('./test/core-not-built.ts', import.meta.url));

export default defineConfig({
  resolve: {
    alias: [{ find: /^\.\/vibariant_core\.mjs$/, replacement: existsSync(glue) ? glue : missing }],
  },
  test: {
    environment: 'jsdom',
    include: ['test/**/*.test.ts', 'test/**/*.test.tsx'],
    reporters: ['default', './test/summary-reporter.ts'],
  },
});
