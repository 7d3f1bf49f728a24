/** Stands in for the core's glue when `sdk-core/pkg` is missing (see vitest.config.ts). */
export default function init(): Promise<never> {
  return Promise.reject(new Error('sdk-core/pkg is missing: run scripts/build-wasm first'));
}
