/**
 * Loads the core's WebAssembly build (wasm-bindgen `--target web` output, copied into `dist/`
 * by the build) and adapts its exports to the `Core` interface. Nothing happens at import
 * time: the glue is a dynamic import and the module is fetched and instantiated on the first
 * call, so importing the SDK during server rendering is safe, and a page whose
 * Content-Security-Policy forbids WebAssembly gets a rejected promise, which the client turns
 * into "control everywhere".
 */

import type { Core } from './core';

/** Where the WebAssembly comes from: a URL, or the bytes or compiled module themselves. */
export type WasmSource = string | URL | BufferSource | WebAssembly.Module;

export async function loadCore(source?: WasmSource): Promise<Core> {
  if (typeof WebAssembly !== 'object') throw new Error('this browser has no WebAssembly');
  const glue = await import('./vibariant_core.mjs');
  await glue.default({ module_or_path: source ?? shippedWasm() });
  return adapt(glue);
}

/**
 * The `.wasm` shipped beside this file. The expression must stay literally
 * `new URL('./…', import.meta.url)`: that is the pattern Vite, webpack 5 and plain ES modules
 * resolve to the file. The CommonJS build has no import.meta and needs the `wasm` option.
 */
function shippedWasm(): URL {
  try {
    return new URL('./vibariant_core_bg.wasm', import.meta.url);
  } catch {
    throw new Error('no import.meta.url here (CommonJS?): pass the `wasm` option');
  }
}

type Glue = typeof import('./vibariant_core.mjs');

function adapt(glue: Glue): Core {
  const threshold = glue.goalThreshold();
  return {
    assign(visitorId, spec, sticky, forced) {
      try {
        const index = glue.resolve(
          visitorId,
          spec.key,
          Float64Array.from(spec.weights),
          spec.coverage,
          forced >= 0 ? forced : undefined,
          sticky >= 0 ? sticky : undefined,
        );
        return index ?? -1;
      } catch {
        // The core refused the spec (weights not summing to 1, empty key): not assignable.
        return -1;
      }
    },
    goal(element) {
      const fields = element.fields?.map((f) => f.type + ' ' + (f.name ?? '')).join('\n');
      const [category, confidence] = glue.scoreElement(
        element.tag,
        element.text,
        element.aria_label,
        element.role,
        element.type,
        element.href,
        element.id,
        element.name,
        fields,
      );
      return category !== undefined && confidence! >= threshold
        ? (glue.goalCategory(category) ?? '')
        : '';
    },
    policy: () => new glue.Outbox(),
  };
}
