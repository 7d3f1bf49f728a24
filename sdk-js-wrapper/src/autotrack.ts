/**
 * Automatic tracking of page views (client-side route changes included), clicks on interactive
 * elements, maximum scroll depth, engaged time and form start and submit. Each is on by default
 * and can be switched off. Only tags, attributes and visible text are read, never what a
 * person typed; `data-vv-ignore` hides an element and everything inside it.
 */

import { describeElement, describeForm, formKey, interactiveTarget, isIgnored } from './element';
import type { ElementDescription } from './element';
import { guarded } from './guard';
import type { Log } from './guard';

/** Which automatic events to record; each defaults to on. */
export interface AutoTrackOptions {
  pageviews?: boolean;
  clicks?: boolean;
  scroll?: boolean;
  engagement?: boolean;
  forms?: boolean;
}

/** Where the tracker sends what it saw; `path` overrides the current one for leave events. */
export interface TrackSink {
  record(kind: string, fields: Record<string, unknown>, path?: string): void;
  click(element: ElementDescription): void;
  submit(form: string, element: ElementDescription): void;
}

export interface Tracker {
  /** Records the page's scroll depth and engaged time so far (page hide, route change). */
  leave(): void;
  stop(): void;
}

/** Engaged time stops counting this long after the last sign of activity. */
export const IDLE_MS = 30_000;

const ACTIVITY = ['pointerdown', 'pointermove', 'keydown', 'scroll', 'wheel', 'touchstart'];

/** The path as the events carry it: no query string or fragment (they may hold tokens). */
export function currentPath(): string {
  return location.pathname || '/';
}

export function startAutoTrack(options: AutoTrackOptions, sink: TrackSink, log: Log): Tracker {
  const on = (name: keyof AutoTrackOptions) => options[name] !== false;
  const cleanups: Array<() => void> = [];
  const listen = (
    target: EventTarget,
    type: string,
    listener: (event: Event) => void,
    capture = true,
  ) => {
    const wrapped = guarded(log, 'auto-tracking ' + type, listener);
    target.addEventListener(type, wrapped, { capture, passive: true });
    cleanups.push(() => target.removeEventListener(type, wrapped, { capture }));
  };

  let path = currentPath();
  let maxDepth = 0;
  let sentDepth = 0;
  let engagedMs = 0;
  let lastActive = Date.now();
  let startedForms = new WeakSet<Element>();

  const visible = () => document.visibilityState !== 'hidden';

  const measureDepth = () => {
    const doc = document.documentElement;
    const height = Math.max(doc.scrollHeight, document.body?.scrollHeight ?? 0);
    const seen = window.scrollY + window.innerHeight;
    const depth = height <= 0 ? 100 : Math.min(100, Math.round((seen / height) * 100));
    if (depth > maxDepth) maxDepth = depth;
  };

  // Engaged time grows by the gap between two signs of activity, capped at IDLE_MS, and only
  // while the page is visible: a tab left open overnight is not engagement.
  const markActive = () => {
    const now = Date.now();
    if (visible()) engagedMs += Math.min(now - lastActive, IDLE_MS);
    lastActive = now;
  };

  const pageview = () => {
    const fields: Record<string, unknown> = {};
    if (document.referrer) fields.referrer = document.referrer.split(/[?#]/)[0];
    if (document.title) fields.title = document.title.slice(0, 256);
    sink.record('pageview', fields);
  };

  const leave = () => {
    if (on('scroll')) {
      measureDepth();
      if (maxDepth > sentDepth) {
        sink.record('scroll', { depth: maxDepth }, path);
        sentDepth = maxDepth;
      }
    }
    if (on('engagement')) {
      markActive();
      const ms = Math.round(engagedMs);
      if (ms > 0) sink.record('engagement', { ms }, path);
      engagedMs = 0;
    }
  };

  const routeChanged = () => {
    const next = currentPath();
    if (next === path) return;
    leave();
    path = next;
    maxDepth = 0;
    sentDepth = 0;
    engagedMs = 0;
    lastActive = Date.now();
    startedForms = new WeakSet();
    if (on('pageviews')) pageview();
  };

  if (on('pageviews')) pageview();

  // Client-side routers (React Router, Next.js) move with pushState/replaceState, which fire no
  // event; wrapping them is the only portable way to see a route change.
  for (const method of ['pushState', 'replaceState'] as const) {
    const original = history[method];
    const wrapper = function (this: History, ...args: Parameters<History['pushState']>) {
      const result = original.apply(this, args);
      guarded(log, 'route change', routeChanged)(undefined);
      return result;
    };
    history[method] = wrapper;
    cleanups.push(() => {
      // Restore only if nobody wrapped it after us; otherwise their wrapper would be lost.
      if (history[method] === wrapper) history[method] = original;
    });
  }
  listen(window, 'popstate', routeChanged);

  if (on('clicks')) {
    listen(document, 'click', (event) => {
      const target = interactiveTarget(event.target);
      if (target) sink.click(describeElement(target));
    });
  }

  if (on('scroll')) {
    measureDepth();
    listen(window, 'scroll', measureDepth, false);
  }

  if (on('engagement')) {
    for (const type of ACTIVITY) listen(window, type, markActive);
    listen(document, 'visibilitychange', () => {
      // Coming back: the hidden stretch is not engaged time.
      if (visible()) lastActive = Date.now();
    });
  }

  if (on('forms')) {
    listen(document, 'focusin', (event) => {
      const target = event.target;
      const form = target instanceof Element ? target.closest('form') : null;
      if (!form || startedForms.has(form) || isIgnored(target as Element)) return;
      startedForms.add(form);
      sink.record('form_start', { form: formKey(form) });
    });
    listen(document, 'submit', (event) => {
      const form = event.target;
      if (!(form instanceof HTMLFormElement) || isIgnored(form)) return;
      sink.submit(formKey(form), describeForm(form));
    });
  }

  return {
    leave,
    stop() {
      for (const cleanup of cleanups.splice(0)) cleanup();
    },
  };
}
