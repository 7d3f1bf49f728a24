/**
 * `@vibariant/sdk`: A/B test variants, auto-tracking and reliable event delivery for the
 * browser, on the WebAssembly build of `vibariant-core`. React bindings live in
 * `@vibariant/sdk/react`.
 */

export { createVibariant } from './client';
export type { Vibariant, VibariantOptions, VibariantState } from './client';
export type { AutoTrackOptions } from './autotrack';
export type { WasmSource } from './wasm';
