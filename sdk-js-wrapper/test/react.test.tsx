import { act } from 'react';
import { createRoot, hydrateRoot } from 'react-dom/client';
import type { Root } from 'react-dom/client';
import { renderToString } from 'react-dom/server';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createVibariant } from '../src/index';
import type { Vibariant } from '../src/index';
import { Variant, VibariantProvider, useTrack, useVariant, useVibariant } from '../src/react';
import type { WireEvent } from '../src/delivery';
import { fakeCore } from './fake-core';

(globalThis as { IS_REACT_ACT_ENVIRONMENT?: boolean }).IS_REACT_ACT_ENVIRONMENT = true;

const CONFIG = {
  experiments: [
    {
      key: 'hero-cta',
      coverage: 1,
      variants: [
        { name: 'control', weight: 0.5 },
        { name: 'bold', weight: 0.5 },
      ],
    },
  ],
};

let root: Root | undefined;
let container: HTMLElement;
let client: Vibariant;
let posted: WireEvent[];
let renders: string[];

function Hero() {
  const variant = useVariant('hero-cta', ['control', 'bold']);
  renders.push(variant);
  return <h1>{variant}</h1>;
}

function makeClient(bootstrap?: Record<string, string>) {
  client = createVibariant({
    token: 'vv_proj_react',
    apiUrl: 'https://api.test',
    autoTrack: false,
    loadCore: async () => fakeCore(),
    ...(bootstrap ? { bootstrap } : {}),
  });
  return client;
}

beforeEach(() => {
  localStorage.clear();
  document.cookie = 'vv_vid=; Max-Age=0; Path=/';
  posted = [];
  renders = [];
  container = document.createElement('div');
  document.body.replaceChildren(container);
  vi.stubGlobal(
    'fetch',
    vi.fn(async (url: string, init?: RequestInit) => {
      if (url.endsWith('/v1/config')) return Response.json(CONFIG);
      posted.push(...(JSON.parse(init!.body as string) as { events: WireEvent[] }).events);
      return new Response(null, { status: 202 });
    }),
  );
});

afterEach(() => {
  act(() => root?.unmount());
  root = undefined;
  client.destroy();
  vi.unstubAllGlobals();
});

async function settle() {
  await act(async () => {
    await client.ready;
  });
}

describe('useVariant', () => {
  it('renders control until the core is ready, then the assignment, one exposure', async () => {
    makeClient();
    root = createRoot(container);
    act(() =>
      root!.render(
        <VibariantProvider client={client}>
          <Hero />
          <Hero />
        </VibariantProvider>,
      ),
    );
    expect(container.textContent).toBe('controlcontrol');
    await settle();
    expect(container.textContent).toBe('boldbold');
    await client.flush();
    expect(posted.filter((e) => e.kind === 'exposure')).toEqual([
      expect.objectContaining({ experiment: 'hero-cta', variant: 'bold' }),
    ]);
  });

  it('records the exposure of a control visitor, who never re-renders', async () => {
    client = createVibariant({
      token: 'vv_proj_react',
      apiUrl: 'https://api.test',
      autoTrack: false,
      loadCore: async () => fakeCore({ assignments: { 'hero-cta': 0 } }),
    });
    root = createRoot(container);
    act(() =>
      root!.render(
        <VibariantProvider client={client}>
          <Hero />
        </VibariantProvider>,
      ),
    );
    await settle();
    expect(renders).toEqual(['control']);
    await client.flush();
    expect(posted.filter((e) => e.kind === 'exposure')).toEqual([
      expect.objectContaining({ experiment: 'hero-cta', variant: 'control' }),
    ]);
  });

  it('renders an edge or server assignment on the very first render, without flicker', () => {
    makeClient({ 'hero-cta': 'bold' });
    root = createRoot(container);
    act(() =>
      root!.render(
        <VibariantProvider client={client}>
          <Hero />
        </VibariantProvider>,
      ),
    );
    expect(renders[0]).toBe('bold');
    expect(new Set(renders)).toEqual(new Set(['bold']));
  });

  it('hydrates server markup without a mismatch', async () => {
    const html = renderToString(
      <VibariantProvider
        client={createVibariant({ token: 't', apiUrl: 'x', bootstrap: { 'hero-cta': 'bold' } })}
      >
        <Hero />
      </VibariantProvider>,
    );
    container.innerHTML = html;
    makeClient({ 'hero-cta': 'bold' });
    const errors = vi.spyOn(console, 'error').mockImplementation(() => {});
    await act(async () => {
      root = hydrateRoot(
        container,
        <VibariantProvider client={client}>
          <Hero />
        </VibariantProvider>,
      );
    });
    expect(container.textContent).toBe('bold');
    expect(errors).not.toHaveBeenCalled();
  });

  it('is the control outside a provider', () => {
    root = createRoot(container);
    makeClient();
    act(() => root!.render(<Hero />));
    expect(container.textContent).toBe('control');
  });
});

describe('<Variant> and useTrack', () => {
  it('renders the element of the visitor variant and tracks through the provider', async () => {
    makeClient();
    let track: ReturnType<typeof useTrack> | undefined;
    function Tracker() {
      track = useTrack();
      return null;
    }
    root = createRoot(container);
    act(() =>
      root!.render(
        <VibariantProvider client={client}>
          <Variant experiment="hero-cta" variants={{ control: <b>Plain</b>, bold: <i>Bold!</i> }} />
          <Tracker />
        </VibariantProvider>,
      ),
    );
    expect(container.innerHTML).toBe('<b>Plain</b>');
    await settle();
    expect(container.innerHTML).toBe('<i>Bold!</i>');
    track!('cta_seen', { where: 'hero' });
    await client.flush();
    expect(posted.filter((e) => e.kind === 'custom')).toEqual([
      expect.objectContaining({ name: 'cta_seen', props: { where: 'hero' } }),
    ]);
  });

  it('shares one client between providers created from the same options', () => {
    makeClient();
    const seen: Array<Vibariant | null> = [];
    function Grab() {
      seen.push(useVibariant());
      return null;
    }
    root = createRoot(container);
    const options = {
      token: 'vv_proj_shared',
      apiUrl: 'https://api.test',
      autoTrack: false as const,
    };
    act(() =>
      root!.render(
        <>
          <VibariantProvider {...options} loadCore={async () => fakeCore()}>
            <Grab />
          </VibariantProvider>
          <VibariantProvider {...options} loadCore={async () => fakeCore()}>
            <Grab />
          </VibariantProvider>
        </>,
      ),
    );
    expect(seen[0]).toBeTruthy();
    expect(seen[0]).toBe(seen[1]);
    seen[0]!.destroy();
  });
});
