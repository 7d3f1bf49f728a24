/**
 * The Vibariant client: one per page and project token. It owns the visitor id, the config
 * (cached, revalidated), sticky assignments, the event queue and auto-tracking, and it drives
 * the core for every decision. Created with `createVibariant`; safe to create during server
 * rendering, where it only answers variants from the bootstrap (or the control).
 */

import { startAutoTrack, currentPath } from './autotrack';
import type { AutoTrackOptions, Tracker } from './autotrack';
import type { Core, ExperimentSpec } from './core';
import { createOutbox } from './delivery';
import type { Outbox, WireEvent } from './delivery';
import type { ElementDescription } from './element';
import { createLog, guard, guarded } from './guard';
import type { Log } from './guard';
import { loadVisitorId, newId } from './ids';
import { readJson, readString, remove, writeJson, writeString } from './storage';
import { loadCore } from './wasm';
import type { WasmSource } from './wasm';

export interface VibariantOptions {
  /** The public project token, `vv_proj_…`. */
  token: string;
  /** The API origin, e.g. `https://vibariant.example.com` (no `/v1`). */
  apiUrl: string;
  /** Automatic events: all on by default; `false` turns all off, an object switches each. */
  autoTrack?: boolean | AutoTrackOptions;
  /** Treat `navigator.doNotTrack` and Global Privacy Control as an opt-out. Default false. */
  respectDoNotTrack?: boolean;
  /** Log decisions and failures to the console. */
  debug?: boolean;
  /**
   * Assignments made by the server or the edge (`{ "hero-cta": "bold" }`); they win on first
   * render. `window.__VIBARIANT__.assignments` is read too when this is absent.
   */
  bootstrap?: Record<string, string>;
  /**
   * The core's WebAssembly: a URL, or its bytes. By default the file shipped beside the
   * bundle, which Vite, webpack 5 and plain ES modules resolve on their own.
   */
  wasm?: WasmSource;
  /** Loads the core; for tests and custom hosting. Defaults to the bundled WebAssembly. */
  loadCore?: () => Promise<Core>;
}

/** Why the client is where it is, for `status()`. */
export type VibariantState = 'loading' | 'ready' | 'fallback' | 'server';

export interface Vibariant {
  /** The visitor id (`vv_vid`), or "" on the server. */
  readonly visitorId: string;
  /** Resolves once the core and the config are settled (ready or fallen back); never rejects. */
  readonly ready: Promise<void>;
  /** `loading`, `ready`, `fallback` (no WebAssembly: control everywhere) or `server`. */
  status(): VibariantState;
  /**
   * The visitor's variant of experiment `key`, one of `variants` (the first is the control),
   * and records the exposure once per visitor and experiment.
   */
  getVariant<V extends string>(key: string, variants: readonly V[]): V;
  /** Like `getVariant` without remembering or recording anything (render-time reads). */
  peekVariant<V extends string>(key: string, variants: readonly V[]): V;
  /**
   * What a server render of this page showed: the bootstrap assignment or the control. React
   * hydrates with it, so the server's markup and the first client render agree.
   */
  serverVariant<V extends string>(key: string, variants: readonly V[]): V;
  /** Records a custom event; `props` is a flat object of strings, numbers and booleans. */
  track(name: string, props?: Record<string, string | number | boolean>): void;
  /** Sends what is queued now. */
  flush(): Promise<void>;
  /** Ties this visitor to a signed-in user of the app. */
  identify(userId: string): void;
  /** Stops all tracking for this visitor and forgets queued events; variants show control. */
  optOut(): void;
  /** Undoes `optOut`. */
  optIn(): void;
  isOptedOut(): boolean;
  /** Calls `listener` when variants may have changed (core ready, config loaded). */
  subscribe(listener: () => void): () => void;
  /** Removes listeners and timers; queued events stay stored for the next page. */
  destroy(): void;
}

/** The config served by `GET /v1/config`, reduced to what the SDK reads. */
interface ProjectConfig {
  experiments: ExperimentSpec[];
}

interface CachedConfig {
  etag?: string;
  config: ProjectConfig;
}

declare global {
  interface Window {
    __VIBARIANT__?: { assignments?: Record<string, string> };
  }
}

const OPT_OUT_KEY = 'vv_optout';
const ASSIGNMENTS_KEY = 'vv_asg';
const CONFIG_KEY = 'vv_cfg';
const USER_KEY = 'vv_uid';
/** How long the config request may take before the cached copy is used alone. */
const CONFIG_TIMEOUT_MS = 5_000;

/** Creates the client. Never throws; on the server it returns an inert client. */
export function createVibariant(options: VibariantOptions): Vibariant {
  const log = createLog(Boolean(options.debug));
  return guard(log, 'createVibariant', serverClient(options), () =>
    typeof window === 'undefined' || typeof document === 'undefined'
      ? serverClient(options)
      : browserClient(options, log),
  );
}

function pick<V extends string>(variants: readonly V[], name: string | undefined): V | undefined {
  return variants.find((v) => v === name);
}

/** Rendering on the server: bootstrap assignments or the control, nothing recorded. */
function serverClient(options: VibariantOptions): Vibariant {
  const variantOf = <V extends string>(key: string, variants: readonly V[]) =>
    pick(variants, options.bootstrap?.[key]) ?? (variants[0] as V);
  return {
    visitorId: '',
    ready: Promise.resolve(),
    status: () => 'server',
    getVariant: variantOf,
    peekVariant: variantOf,
    serverVariant: variantOf,
    track() {},
    flush: () => Promise.resolve(),
    identify() {},
    optOut() {},
    optIn() {},
    isOptedOut: () => false,
    subscribe: () => () => {},
    destroy() {},
  };
}

/**
 * Variants forced by a QA link, `?vv_force=hero-cta:bold,pricing:cheap`, in the core's format
 * (`forced_variant` in `sdk-core/src/assignment.rs`): entries split at their first colon,
 * trimmed, the last one for an experiment winning. Read here so it works before the core loads.
 */
function forcedVariants(): Record<string, string> {
  const forced: Record<string, string> = {};
  for (const value of new URLSearchParams(location.search).getAll('vv_force')) {
    for (const entry of value.split(',')) {
      const colon = entry.indexOf(':');
      const key = entry.slice(0, colon).trim();
      const variant = entry.slice(colon + 1).trim();
      if (colon > 0 && key && variant) forced[key] = variant;
    }
  }
  return forced;
}

function doNotTrack(): boolean {
  const nav = navigator as Navigator & { globalPrivacyControl?: boolean };
  return nav.doNotTrack === '1' || nav.globalPrivacyControl === true;
}

function browserClient(options: VibariantOptions, log: Log): Vibariant {
  const apiUrl = options.apiUrl.replace(/\/+$/, '');
  const token = options.token;
  const visitorId = loadVisitorId();
  const bootstrap = options.bootstrap ?? window.__VIBARIANT__?.assignments ?? {};
  const forced = forcedVariants();
  const assignments = readJson<Record<string, string>>(ASSIGNMENTS_KEY) ?? {};
  const listeners = new Set<() => void>();

  let core: Core | undefined;
  let coreSettled = false;
  let config: ProjectConfig | undefined = readJson<CachedConfig>(CONFIG_KEY)?.config;
  let configSettled = false;
  let tracker: Tracker | undefined;
  let destroyed = false;
  const cleanups: Array<() => void> = [];

  const blocked = () =>
    readString(OPT_OUT_KEY) === '1' || (options.respectDoNotTrack === true && doNotTrack());

  const notify = () => {
    for (const listener of [...listeners]) guard(log, 'a variant listener', undefined, listener);
  };

  const outbox: Outbox = createOutbox({ apiUrl, token, log });

  const record = (kind: string, fields: Record<string, unknown>, path?: string) => {
    if (destroyed || blocked()) return;
    const event: WireEvent = {
      id: newId(),
      visitor_id: visitorId,
      ts: Date.now(),
      path: (path ?? currentPath()).slice(0, 2048),
      kind,
      ...fields,
    };
    log.info('event ' + kind, event);
    outbox.enqueue(event);
  };

  // Clicks and submits carry the goal the core's heuristics see in them, so the debug log and
  // the backend agree on what looked like a conversion (the backend re-scores; it trusts no
  // client).
  const withGoal = (fields: Record<string, unknown>, element: ElementDescription) => {
    const goal = core ? guard(log, 'goal scoring', '', () => core!.goal(element)) : '';
    if (goal) {
      log.info('goal candidate: ' + goal, element);
      fields.goal = goal;
    }
    return fields;
  };

  const specFor = (key: string, variants: readonly string[]): ExperimentSpec | undefined => {
    const spec = config?.experiments.find((e) => e.key === key);
    if (!spec) return undefined;
    // Variants present in the config but missing from the code cannot be rendered; the
    // assignment still uses the config's order and weights so every runtime agrees.
    return spec.variants.some((v) => variants.includes(v)) ? spec : undefined;
  };

  /** The variant and where it came from, without side effects. */
  const resolve = (key: string, variants: readonly string[]): [string, string] => {
    // Undefined for an empty list: there is nothing to show, and '' would pretend otherwise.
    const control = variants[0]!;
    if (blocked()) return [control, 'opted out'];
    const qa = pick(variants, forced[key]);
    if (qa) return [qa, 'forced'];
    const fromServer = pick(variants, bootstrap[key]);
    if (fromServer) return [fromServer, 'bootstrap'];
    const sticky = pick(variants, assignments[key]);
    if (sticky) return [sticky, 'sticky'];
    if (!core) return [control, coreSettled ? 'no WebAssembly' : 'loading'];
    const spec = specFor(key, variants);
    if (!spec) return [control, configSettled || config ? 'not running' : 'loading'];
    const index = core.assign(visitorId, spec, -1, -1);
    const assigned = pick(variants, spec.variants[index]);
    return assigned ? [assigned, 'assigned'] : [control, 'not in experiment'];
  };

  const peekVariant = <V extends string>(key: string, variants: readonly V[]): V =>
    guard(log, 'peekVariant', variants[0] as V, () => resolve(key, variants)[0] as V);

  const getVariant = <V extends string>(key: string, variants: readonly V[]): V =>
    guard(log, 'getVariant', variants[0] as V, () => {
      const [variant, source] = resolve(key, variants);
      const real = source === 'bootstrap' || source === 'sticky' || source === 'assigned';
      if (real && assignments[key] !== variant) {
        // First sight of this assignment: remember it (sticky) and record one exposure.
        assignments[key] = variant;
        writeJson(ASSIGNMENTS_KEY, assignments);
        record('exposure', { experiment: key, variant });
      }
      log.info(key + ' -> ' + variant + ' (' + source + ')');
      return variant as V;
    });

  const startTracking = () => {
    if (tracker || destroyed || blocked() || options.autoTrack === false) return;
    const switches = typeof options.autoTrack === 'object' ? options.autoTrack : {};
    tracker = startAutoTrack(
      switches,
      {
        record,
        click: (element) => record('click', withGoal({ element }, element)),
        submit: (form, element) => record('form_submit', withGoal({ form, element }, element)),
      },
      log,
    );
  };

  // Page hide is the last moment to send: record the page's scroll and engaged time, then hand
  // the queue to sendBeacon. `visibilitychange` covers mobile browsers that never fire
  // `pagehide` when a tab is swiped away.
  const onHide = guarded(log, 'page hide', () => {
    tracker?.leave();
    outbox.beacon();
  });
  const onVisibility = () => {
    if (document.visibilityState === 'hidden') onHide(undefined);
  };
  window.addEventListener('pagehide', onHide);
  document.addEventListener('visibilitychange', onVisibility);
  cleanups.push(() => {
    window.removeEventListener('pagehide', onHide);
    document.removeEventListener('visibilitychange', onVisibility);
  });

  const fetchConfig = async () => {
    const cached = readJson<CachedConfig>(CONFIG_KEY);
    const headers: Record<string, string> = { authorization: 'Bearer ' + token };
    if (cached?.etag) headers['if-none-match'] = cached.etag;
    // A hanging API must not hold the page on the control: give up after CONFIG_TIMEOUT_MS and
    // go on with the cached copy.
    const abort = new AbortController();
    const timer = setTimeout(() => abort.abort(), CONFIG_TIMEOUT_MS);
    try {
      const response = await fetch(apiUrl + '/v1/config', { headers, signal: abort.signal });
      if (response.status === 304) {
        log.info('config unchanged');
      } else if (response.ok) {
        const fresh = parseConfig(await response.json());
        config = fresh;
        const etag = response.headers.get('etag') ?? undefined;
        writeJson(CONFIG_KEY, { etag, config: fresh } satisfies CachedConfig);
        log.info('config loaded', fresh);
      } else {
        log.once('config request failed with status ' + response.status);
      }
    } catch (error) {
      log.once('config request failed; using the cached copy', error);
    } finally {
      clearTimeout(timer);
    }
  };

  // Through a resolved promise, so that even a loader that throws synchronously ends up in
  // the fallback below rather than in createVibariant.
  const loadingCore = Promise.resolve()
    .then(options.loadCore ?? (() => loadCore(options.wasm)))
    .then((loaded) => {
      core = loaded;
      outbox.attach(loaded.policy());
      log.info('core ready');
      // With a cached config the variants are known now; the network may take longer.
      if (config) notify();
    })
    .catch((error) => {
      log.once('WebAssembly could not be instantiated; variants fall back to control', error);
    })
    .finally(() => {
      coreSettled = true;
    });

  const ready = Promise.all([loadingCore, fetchConfig()])
    .then(() => {
      configSettled = true;
      notify();
    })
    .catch((error) => log.once('start-up failed', error));

  if (!blocked()) startTracking();

  return {
    visitorId,
    ready,
    status: () => (!coreSettled || !configSettled ? 'loading' : core ? 'ready' : 'fallback'),
    getVariant,
    peekVariant,
    serverVariant: (key, variants) => pick(variants, bootstrap[key]) ?? variants[0]!,
    track: (name, props) =>
      guard(log, 'track', undefined, () => {
        const fields: Record<string, unknown> = { name: String(name).slice(0, 128) };
        const flat: Record<string, string | number | boolean> = {};
        for (const [k, v] of Object.entries(props ?? {})) {
          if (['string', 'number', 'boolean'].includes(typeof v)) flat[k] = v;
        }
        if (Object.keys(flat).length > 0) fields.props = flat;
        if (name) record('custom', fields);
      }),
    flush: () => guard(log, 'flush', Promise.resolve(), () => outbox.flush()),
    identify: (user) =>
      guard(log, 'identify', undefined, () => {
        const id = String(user).slice(0, 256);
        // One identify per visitor and user, not one per page load.
        if (!id || readString(USER_KEY) === id || blocked()) return;
        writeString(USER_KEY, id);
        record('identify', { user_id: id });
      }),
    optOut: () =>
      guard(log, 'optOut', undefined, () => {
        writeString(OPT_OUT_KEY, '1');
        tracker?.stop();
        tracker = undefined;
        outbox.clear();
        log.info('opted out: nothing is recorded and variants show control');
        notify();
      }),
    optIn: () =>
      guard(log, 'optIn', undefined, () => {
        remove(OPT_OUT_KEY);
        startTracking();
        notify();
      }),
    isOptedOut: () => guard(log, 'isOptedOut', false, blocked),
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    destroy: () =>
      guard(log, 'destroy', undefined, () => {
        destroyed = true;
        tracker?.stop();
        outbox.stop();
        for (const cleanup of cleanups.splice(0)) cleanup();
        listeners.clear();
      }),
  };
}

/** Reads the config defensively: a malformed experiment is skipped, not fatal. */
function parseConfig(raw: unknown): ProjectConfig {
  const experiments: ExperimentSpec[] = [];
  const list = (raw as { experiments?: unknown })?.experiments;
  for (const item of Array.isArray(list) ? list : []) {
    const e = item as Record<string, unknown>;
    const variants = Array.isArray(e.variants)
      ? (e.variants as Array<Record<string, unknown>>)
      : [];
    if (typeof e.key !== 'string' || variants.length === 0) continue;
    experiments.push({
      key: e.key,
      variants: variants.map((v) => String(v.name ?? v.key ?? '')),
      weights: variants.map((v) => Number(v.weight ?? 1 / variants.length)),
      // Absent means everyone; anything else goes to the core, which refuses what is invalid.
      coverage: e.coverage === undefined ? 1 : Number(e.coverage),
    });
  }
  return { experiments };
}
