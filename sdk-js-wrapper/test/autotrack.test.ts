import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { startAutoTrack } from '../src/autotrack';
import type { AutoTrackOptions, Tracker } from '../src/autotrack';
import type { ElementDescription } from '../src/element';
import { createLog } from '../src/guard';

interface Recorded {
  kind: string;
  fields: Record<string, unknown>;
  path: string;
}

let tracker: Tracker | undefined;
let recorded: Recorded[];

function start(options: AutoTrackOptions = {}) {
  recorded = [];
  tracker = startAutoTrack(
    options,
    {
      record: (kind, fields, path) =>
        recorded.push({ kind, fields, path: path ?? location.pathname }),
      click: (element: ElementDescription) =>
        recorded.push({ kind: 'click', fields: { element }, path: location.pathname }),
      submit: (form: string, element: ElementDescription) =>
        recorded.push({ kind: 'form_submit', fields: { form, element }, path: location.pathname }),
    },
    createLog(false),
  );
}

const kinds = () => recorded.map((r) => r.kind);

beforeEach(() => {
  history.replaceState(null, '', '/');
  document.body.innerHTML = '';
  document.title = 'Home';
});

afterEach(() => {
  tracker?.stop();
  tracker = undefined;
  vi.useRealTimers();
});

describe('page views', () => {
  it('records the first page and every client-side route change, once per path', () => {
    start();
    expect(recorded[0]).toEqual({ kind: 'pageview', fields: { title: 'Home' }, path: '/' });
    history.pushState(null, '', '/pricing?plan=pro');
    history.replaceState(null, '', '/pricing?plan=team');
    history.pushState(null, '', '/signup');
    history.back();
    const views = recorded.filter((r) => r.kind === 'pageview').map((r) => r.path);
    expect(views).toEqual(['/', '/pricing', '/signup']);
  });

  it('is switchable off, and stop() restores history', () => {
    const push = history.pushState;
    start({ pageviews: false });
    expect(history.pushState).not.toBe(push);
    history.pushState(null, '', '/other');
    expect(kinds()).not.toContain('pageview');
    tracker!.stop();
    expect(history.pushState).toBe(push);
  });
});

describe('clicks', () => {
  it('records clicks on interactive elements with their description', () => {
    document.body.innerHTML =
      '<p id="plain">Just text</p>' +
      '<button id="cta"><span id="label">Start free trial</span></button>';
    start({ pageviews: false });
    document.getElementById('plain')!.click();
    document.getElementById('label')!.click();
    expect(recorded).toEqual([
      {
        kind: 'click',
        fields: { element: { tag: 'button', text: 'Start free trial', id: 'cta' } },
        path: '/',
      },
    ]);
  });

  it('skips anything inside data-vv-ignore, and can be switched off', () => {
    document.body.innerHTML = '<div data-vv-ignore><button id="b">Pay now</button></div>';
    start({ pageviews: false });
    document.getElementById('b')!.click();
    expect(recorded).toEqual([]);
    tracker!.stop();
    document.body.innerHTML = '<button id="c">Go</button>';
    start({ pageviews: false, clicks: false });
    document.getElementById('c')!.click();
    expect(recorded).toEqual([]);
  });
});

describe('forms', () => {
  it('records form start once per form and the submit with its fields, never values', () => {
    document.body.innerHTML = `<form id="signup"><input type="email" name="email">
      <input type="password" name="pw"><button type="submit">Sign up</button></form>`;
    start({ pageviews: false, clicks: false });
    const email = document.querySelector<HTMLInputElement>('input[name=email]')!;
    email.value = 'ada@example.com';
    email.dispatchEvent(new FocusEvent('focusin', { bubbles: true }));
    document
      .querySelector('input[name=pw]')!
      .dispatchEvent(new FocusEvent('focusin', { bubbles: true }));
    const form = document.getElementById('signup') as HTMLFormElement;
    form.addEventListener('submit', (e) => e.preventDefault());
    form.dispatchEvent(new Event('submit', { bubbles: true, cancelable: true }));
    expect(recorded).toEqual([
      { kind: 'form_start', fields: { form: 'signup' }, path: '/' },
      {
        kind: 'form_submit',
        fields: {
          form: 'signup',
          element: {
            tag: 'form',
            id: 'signup',
            fields: [
              { type: 'email', name: 'email' },
              { type: 'password', name: 'pw' },
            ],
          },
        },
        path: '/',
      },
    ]);
    expect(JSON.stringify(recorded)).not.toContain('ada@');
  });

  it('ignores forms marked data-vv-ignore', () => {
    document.body.innerHTML = '<form data-vv-ignore id="f"><input name="x"></form>';
    start({ pageviews: false });
    document.querySelector('input')!.dispatchEvent(new FocusEvent('focusin', { bubbles: true }));
    document.getElementById('f')!.dispatchEvent(new Event('submit', { bubbles: true }));
    expect(recorded).toEqual([]);
  });
});

describe('scroll depth and engaged time', () => {
  it('records the maximum depth and the engaged time of the page it leaves', () => {
    vi.useFakeTimers();
    vi.setSystemTime(1_000_000);
    Object.defineProperty(document.documentElement, 'scrollHeight', {
      value: 4000,
      configurable: true,
    });
    Object.defineProperty(window, 'innerHeight', { value: 1000, configurable: true });
    start({ pageviews: false });

    vi.setSystemTime(1_005_000);
    Object.defineProperty(window, 'scrollY', { value: 2000, configurable: true });
    window.dispatchEvent(new Event('scroll'));
    vi.setSystemTime(1_006_000);
    Object.defineProperty(window, 'scrollY', { value: 500, configurable: true });
    window.dispatchEvent(new Event('scroll'));
    // A long idle stretch counts only up to the idle cap (30 s).
    vi.setSystemTime(1_106_000);
    history.pushState(null, '', '/next');

    expect(recorded).toEqual([
      { kind: 'scroll', fields: { depth: 75 }, path: '/' },
      { kind: 'engagement', fields: { ms: 36_000 }, path: '/' },
    ]);
    // The new page starts from zero: its own depth, and no engaged time yet.
    tracker!.leave();
    expect(recorded.slice(2).map((r) => r.kind)).toEqual(['scroll']);
    expect(recorded[2]!.path).toBe('/next');
  });
});
