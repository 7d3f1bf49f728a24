import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createVibariant } from '../src/index';
import type { Vibariant, VibariantOptions } from '../src/index';
import type { WireEvent } from '../src/delivery';
import { fakeCore } from './fake-core';
import type { FakeCoreOptions } from './fake-core';

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

let clients: Vibariant[] = [];
let posted: WireEvent[] = [];
let configResponse: () => Response;

function client(options: Partial<VibariantOptions> = {}, core: FakeCoreOptions = {}) {
  const created = createVibariant({
    token: 'vv_proj_test',
    apiUrl: 'https://api.test',
    autoTrack: false,
    loadCore: async () => fakeCore(core),
    ...options,
  });
  clients.push(created);
  return created;
}

const posts = (kind: string) => posted.filter((e) => e.kind === kind);

beforeEach(() => {
  localStorage.clear();
  document.cookie = 'vv_vid=; Max-Age=0; Path=/';
  history.replaceState(null, '', '/');
  delete window.__VIBARIANT__;
  posted = [];
  configResponse = () => Response.json(CONFIG);
  vi.stubGlobal(
    'fetch',
    vi.fn(async (url: string, init?: RequestInit) => {
      if (url.endsWith('/v1/config')) return configResponse();
      posted.push(...(JSON.parse(init!.body as string) as { events: WireEvent[] }).events);
      return new Response(null, { status: 202 });
    }),
  );
});

afterEach(() => {
  for (const c of clients) c.destroy();
  clients = [];
  vi.unstubAllGlobals();
  vi.restoreAllMocks();
});

describe('variants', () => {
  it('is control while loading, then the assignment, sticky across page loads', async () => {
    const first = client();
    expect(first.status()).toBe('loading');
    expect(first.getVariant('hero-cta', ['control', 'bold'])).toBe('control');
    await first.ready;
    expect(first.status()).toBe('ready');
    expect(first.getVariant('hero-cta', ['control', 'bold'])).toBe('bold');
    first.destroy();

    // The next page load answers from the sticky copy before the core has even loaded.
    const second = client({}, { assignments: { 'hero-cta': 0 } });
    expect(second.visitorId).toBe(first.visitorId);
    expect(second.peekVariant('hero-cta', ['control', 'bold'])).toBe('bold');
    await second.ready;
    expect(second.getVariant('hero-cta', ['control', 'bold'])).toBe('bold');
  });

  it('records one exposure per visitor and experiment, whatever the number of reads', async () => {
    const c = client();
    await c.ready;
    for (let i = 0; i < 5; i++) c.getVariant('hero-cta', ['control', 'bold']);
    await c.flush();
    expect(posts('exposure')).toEqual([
      expect.objectContaining({ experiment: 'hero-cta', variant: 'bold', visitor_id: c.visitorId }),
    ]);
    c.destroy();
    const again = client();
    await again.ready;
    again.getVariant('hero-cta', ['control', 'bold']);
    await again.flush();
    expect(posts('exposure')).toHaveLength(1);
  });

  it('lets edge or server assignments win on first render', () => {
    window.__VIBARIANT__ = { assignments: { 'hero-cta': 'bold' } };
    const c = client();
    expect(c.status()).toBe('loading');
    expect(c.serverVariant('hero-cta', ['control', 'bold'])).toBe('bold');
    expect(c.getVariant('hero-cta', ['control', 'bold'])).toBe('bold');
    const fromOption = client({ bootstrap: { 'hero-cta': 'control' }, token: 'vv_proj_other' });
    expect(fromOption.getVariant('hero-cta', ['control', 'bold'])).toBe('control');
  });

  it('honours a QA link forcing a variant, without recording an exposure', async () => {
    history.replaceState(null, '', '/?vv_force=other:x,hero-cta:%20control');
    const c = client();
    await c.ready;
    expect(c.getVariant('hero-cta', ['control', 'bold'])).toBe('control');
    await c.flush();
    expect(posts('exposure')).toEqual([]);
  });

  it('shows control when the experiment is not running or the visitor is outside', async () => {
    const c = client({}, { assignments: { 'hero-cta': -1 } });
    await c.ready;
    expect(c.getVariant('hero-cta', ['control', 'bold'])).toBe('control');
    expect(c.getVariant('not-in-config', ['a', 'b'])).toBe('a');
    await c.flush();
    expect(posts('exposure')).toEqual([]);
  });

  it('uses the cached config when the API is down', async () => {
    await client().ready;
    localStorage.removeItem('vv_asg');
    configResponse = () => {
      throw new TypeError('API down');
    };
    const offline = client();
    await offline.ready;
    expect(offline.getVariant('hero-cta', ['control', 'bold'])).toBe('bold');
  });

  it('shows the assignment from the cached config before a slow API answers', async () => {
    await client().ready;
    localStorage.removeItem('vv_asg');
    let answer: (response: Response) => void = () => {};
    configResponse = () => new Promise<Response>((resolve) => (answer = resolve)) as never;
    const c = client();
    const notified = new Promise<void>((resolve) => c.subscribe(resolve));
    await notified;
    expect(c.status()).toBe('loading');
    expect(c.peekVariant('hero-cta', ['control', 'bold'])).toBe('bold');
    answer(Response.json(CONFIG));
    await c.ready;
    expect(c.status()).toBe('ready');
  });

  it('revalidates the config with its ETag', async () => {
    configResponse = () => Response.json(CONFIG, { headers: { etag: '"v1"' } });
    await client().ready;
    const fetch = vi.mocked(globalThis.fetch);
    configResponse = () => new Response(null, { status: 304 });
    fetch.mockClear();
    const c = client();
    await c.ready;
    const [, init] = fetch.mock.calls.find(([url]) => String(url).endsWith('/v1/config'))!;
    expect((init!.headers as Record<string, string>)['if-none-match']).toBe('"v1"');
    expect(c.getVariant('hero-cta', ['control', 'bold'])).toBe('bold');
  });
});

describe('never breaking the host', () => {
  it('falls back to control without WebAssembly and says why once in debug', async () => {
    const info = vi.spyOn(console, 'info').mockImplementation(() => {});
    const c = client({
      debug: true,
      loadCore: () => Promise.reject(new WebAssembly.CompileError('CSP: wasm-unsafe-eval')),
    });
    await c.ready;
    expect(c.status()).toBe('fallback');
    expect(c.getVariant('hero-cta', ['control', 'bold'])).toBe('control');
    expect(c.getVariant('hero-cta', ['control', 'bold'])).toBe('control');
    const reasons = info.mock.calls.filter(([m]) => String(m).includes('WebAssembly could not'));
    expect(reasons).toHaveLength(1);
  });

  it('keeps every entry point silent when its inputs or the platform misbehave', async () => {
    const c = client({
      loadCore: () => {
        throw new Error('synchronous failure');
      },
    });
    await c.ready;
    expect(c.status(), 'a browser client that fell back, not the inert server one').toBe(
      'fallback',
    );
    expect(() => c.getVariant('x', [] as string[])).not.toThrow();
    expect(() => c.track(undefined as unknown as string, { a: {} as never })).not.toThrow();
    expect(() => c.identify(null as unknown as string)).not.toThrow();
    vi.stubGlobal('localStorage', undefined);
    expect(c.getVariant('hero-cta', ['control', 'bold'])).toBe('control');
    await expect(c.flush()).resolves.toBeUndefined();
  });

  it('answers on the server without touching the DOM', async () => {
    vi.stubGlobal('window', undefined);
    const c = createVibariant({ token: 't', apiUrl: 'https://api.test', bootstrap: { x: 'b' } });
    expect(c.status()).toBe('server');
    expect(c.getVariant('x', ['a', 'b'])).toBe('b');
    expect(c.getVariant('y', ['a', 'b'])).toBe('a');
    c.track('ignored');
    await c.ready;
  });
});

describe('events', () => {
  it('sends custom events with flat props only, and identify once per user', async () => {
    const c = client();
    await c.ready;
    c.track('signup_clicked', { plan: 'pro', seats: 3, annual: true, nested: { a: 1 } as never });
    c.identify('user-42');
    c.identify('user-42');
    await c.flush();
    expect(posts('custom')).toEqual([
      expect.objectContaining({
        name: 'signup_clicked',
        props: { plan: 'pro', seats: 3, annual: true },
      }),
    ]);
    expect(posts('identify')).toEqual([expect.objectContaining({ user_id: 'user-42' })]);
    for (const event of posted) {
      expect(event.id).toMatch(/^[A-Za-z0-9_-]{21}[AQgw]$/);
      expect(event.path).toBe('/');
      expect(typeof event.ts).toBe('number');
    }
  });

  it('labels clicks with the goal the core sees in them', async () => {
    document.body.innerHTML =
      '<button id="cta">Start free trial</button><a href="/about">About</a>';
    const c = client({ autoTrack: { pageviews: false } });
    await c.ready;
    // jsdom cannot navigate; the click is what matters here.
    document.querySelector('a')!.addEventListener('click', (e) => e.preventDefault());
    document.getElementById('cta')!.click();
    document.querySelector('a')!.click();
    await c.flush();
    expect(posts('click').map((e) => [e.element, e.goal])).toEqual([
      [{ tag: 'button', text: 'Start free trial', id: 'cta' }, 'sign_up'],
      [{ tag: 'a', text: 'About', href: '/about' }, undefined],
    ]);
  });

  it('records nothing after opt-out or under respected Do Not Track', async () => {
    const c = client({ autoTrack: true });
    await c.ready;
    c.optOut();
    expect(c.isOptedOut()).toBe(true);
    c.track('after');
    expect(c.getVariant('hero-cta', ['control', 'bold'])).toBe('control');
    await c.flush();
    expect(posted.filter((e) => e.kind !== 'pageview')).toEqual([]);
    c.optIn();
    expect(c.isOptedOut()).toBe(false);

    vi.stubGlobal('navigator', { ...navigator, doNotTrack: '1', sendBeacon: navigator.sendBeacon });
    const dnt = client({ respectDoNotTrack: true, token: 'vv_proj_dnt' });
    await dnt.ready;
    dnt.track('x');
    expect(dnt.getVariant('hero-cta', ['control', 'bold'])).toBe('control');
    const ignored = client({ token: 'vv_proj_no_dnt' });
    await ignored.ready;
    expect(ignored.isOptedOut()).toBe(false);
  });
});
