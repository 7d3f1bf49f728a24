/**
 * React bindings: `<VibariantProvider>`, `useVariant`, `useTrack` and `<Variant>`.
 *
 * `useVariant` reads through `useSyncExternalStore`, whose server snapshot (bootstrap or
 * control) is what a server-rendered page hydrates with, so hydration never mismatches; a
 * client-only render starts from the live snapshot, which already holds an edge, server or
 * sticky assignment, so a returning visitor sees no flicker. The exposure is recorded in an
 * effect, once per visitor and experiment (the client remembers it across renders and loads).
 */

import {
  createContext,
  createElement,
  Fragment,
  useCallback,
  useContext,
  useEffect,
  useState,
  useSyncExternalStore,
} from 'react';
import type { ReactNode } from 'react';
import { createVibariant } from './client';
import type { Vibariant, VibariantOptions } from './client';

const Context = createContext<Vibariant | null>(null);

// One client per token and API, shared by every provider: React may call a state initializer
// twice (StrictMode) and a second client would double every listener and event.
const clients = new Map<string, Vibariant>();

function clientFor(options: VibariantOptions): Vibariant {
  if (typeof window === 'undefined') return createVibariant(options);
  const key = options.token + '|' + options.apiUrl;
  let client = clients.get(key);
  if (!client) {
    client = createVibariant(options);
    clients.set(key, client);
  }
  return client;
}

export type VibariantProviderProps =
  | (VibariantOptions & { client?: undefined; children?: ReactNode })
  | { client: Vibariant; children?: ReactNode };

/** Makes a client available to `useVariant` and `useTrack` below it. */
export function VibariantProvider(props: VibariantProviderProps) {
  const [client] = useState(() => props.client ?? clientFor(props as VibariantOptions));
  return createElement(Context.Provider, { value: client }, props.children);
}

/** The client of the nearest provider (or null outside one). */
export function useVibariant(): Vibariant | null {
  return useContext(Context);
}

const noop = () => () => {};

/**
 * The visitor's variant of experiment `key`: one of `variants`, the first being the control.
 * Outside a provider, or while nothing is known yet, it is the control.
 */
export function useVariant<V extends string>(key: string, variants: readonly V[]): V {
  const client = useContext(Context);
  const control = variants[0] as V;
  // The snapshot is a string, so React compares it by value; `variants` may be a new array on
  // every render without causing extra renders.
  const list = variants.join('\u0000');
  const read = useCallback(
    () => (client ? client.peekVariant(key, variants) : control),
    // eslint-disable-next-line react-hooks/exhaustive-deps
    [client, key, list],
  );
  const readServer = useCallback(
    () => (client ? client.serverVariant(key, variants) : control),
    // eslint-disable-next-line react-hooks/exhaustive-deps
    [client, key, list],
  );
  const variant = useSyncExternalStore(client ? client.subscribe : noop, read, readServer);

  useEffect(() => {
    if (!client) return;
    // getVariant remembers the assignment and records the exposure the first time only. It
    // runs again whenever the client changes state: a visitor assigned to the control renders
    // the same string before and after the core is ready, so no re-render would tell us.
    const expose = () => void client.getVariant(key, variants);
    expose();
    return client.subscribe(expose);
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [client, key, list]);

  return variant;
}

/** A stable `track(name, props)` bound to the provider's client (a no-op outside one). */
export function useTrack(): Vibariant['track'] {
  const client = useContext(Context);
  return useCallback<Vibariant['track']>((name, props) => client?.track(name, props), [client]);
}

export interface VariantProps<V extends string> {
  /** The experiment key. */
  experiment: string;
  /** What to render for each variant, in order; the first key is the control. */
  variants: Record<V, ReactNode>;
}

/** The component form of `useVariant`: renders the element of the visitor's variant. */
export function Variant<V extends string>({ experiment, variants }: VariantProps<V>) {
  const names = Object.keys(variants) as V[];
  const variant = useVariant(experiment, names);
  return createElement(Fragment, null, variants[variant]);
}
