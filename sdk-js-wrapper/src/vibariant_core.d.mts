/**
 * The subset of the core's wasm-bindgen glue that `wasm.ts` uses (exports listed in
 * `sdk-core/src/wasm.rs`). The build copies `sdk-core/pkg/vibariant_core.js` beside the bundle
 * as `vibariant_core.mjs`; this declaration lets the wrapper type-check without that build.
 */

export default function init(options?: {
  module_or_path: string | URL | BufferSource | WebAssembly.Module | Response;
}): Promise<unknown>;

export function resolve(
  visitor: string,
  experiment: string,
  weights: Float64Array,
  coverage: number,
  forced?: number,
  sticky?: number,
): number | undefined;

export function scoreElement(
  tag: string,
  text?: string,
  ariaLabel?: string,
  role?: string,
  type?: string,
  href?: string,
  id?: string,
  name?: string,
  fields?: string,
): Float64Array;

export function goalCategory(index: number): string | undefined;
export function goalThreshold(): number;

export class Outbox {
  constructor();
  free(): void;
  push(handle: number, bytes: number, nowMs: number): number | undefined;
  due(nowMs: number, pageHidden: boolean): number;
  /** `[batchId, ...eventHandles]`, or undefined when nothing waits. */
  take(): Uint32Array | undefined;
  settle(batch: number, status: number, nowMs: number, random: number): Uint32Array;
  readonly retryAt: number | undefined;
}
