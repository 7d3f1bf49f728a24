import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createOutbox } from '../src/delivery';
import type { WireEvent } from '../src/delivery';
import { createLog } from '../src/guard';
import { fakeCore } from './fake-core';

const log = createLog(false);
let counter = 0;

function event(kind = 'click'): WireEvent {
  counter += 1;
  return { id: 'event-' + counter, visitor_id: 'v1', ts: Date.now(), path: '/', kind };
}

function outbox() {
  return createOutbox({ apiUrl: 'https://api.test/', token: 'vv_proj_abc', log });
}

type FetchArgs = [string, RequestInit];

beforeEach(() => {
  localStorage.clear();
  vi.useFakeTimers();
});

afterEach(() => {
  vi.useRealTimers();
  vi.unstubAllGlobals();
});

function stubFetch(...statuses: Array<number | Error>) {
  const calls: FetchArgs[] = [];
  const fetch = vi.fn(async (url: string, init: RequestInit) => {
    calls.push([url, init]);
    const next = statuses.length > 1 ? statuses.shift()! : statuses[0]!;
    if (next instanceof Error) throw next;
    return new Response(null, { status: next });
  });
  vi.stubGlobal('fetch', fetch);
  return calls;
}

const sentIds = (init: RequestInit) =>
  (JSON.parse(init.body as string) as { events: WireEvent[] }).events.map((e) => e.id);

describe('outbox', () => {
  it('holds events until the core is ready, then posts with keepalive and token', async () => {
    const calls = stubFetch(202);
    const box = outbox();
    const first = event();
    box.enqueue(first);
    expect(calls).toHaveLength(0);

    box.attach(fakeCore().policy());
    await vi.runAllTimersAsync();
    expect(calls).toHaveLength(1);
    const [url, init] = calls[0]!;
    expect(url).toBe('https://api.test/v1/events');
    expect(init.keepalive).toBe(true);
    expect((init.headers as Record<string, string>).authorization).toBe('Bearer vv_proj_abc');
    expect(sentIds(init)).toEqual([first.id]);
    expect(box.pending()).toEqual([]);
    expect(localStorage.getItem('vv_q')).toBe('[]');
  });

  it('follows the policy: nothing is sent until a flush is due', async () => {
    const calls = stubFetch(202);
    const box = outbox();
    box.attach(fakeCore({ flushCount: 3 }).policy());
    box.enqueue(event());
    box.enqueue(event());
    await vi.advanceTimersByTimeAsync(5_000);
    expect(calls).toHaveLength(0);
    box.enqueue(event());
    await vi.runAllTimersAsync();
    expect(calls).toHaveLength(1);
    expect(sentIds(calls[0]![1])).toHaveLength(3);
  });

  it('retries network errors and 5xx after the backoff and delivers each event once', async () => {
    const calls = stubFetch(new TypeError('offline'), 503, 202);
    const box = outbox();
    box.attach(fakeCore({ retryMs: 2_000 }).policy());
    const only = event();
    box.enqueue(only);
    await vi.advanceTimersByTimeAsync(10);
    expect(calls).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(calls).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(2_000);
    expect(calls).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(3_000);
    expect(calls).toHaveLength(3);
    await vi.runAllTimersAsync();
    expect(calls).toHaveLength(3);
    expect(calls.map(([, init]) => sentIds(init))).toEqual([[only.id], [only.id], [only.id]]);
    expect(box.pending()).toEqual([]);
  });

  it('drops a batch the backend refuses with a 4xx', async () => {
    const calls = stubFetch(400);
    const box = outbox();
    box.attach(fakeCore().policy());
    box.enqueue(event());
    await vi.runAllTimersAsync();
    expect(calls).toHaveLength(1);
    expect(box.pending()).toEqual([]);
  });

  it('keeps undelivered events in localStorage for the next page load', async () => {
    stubFetch(new TypeError('backend down'));
    const before = outbox();
    before.attach(fakeCore().policy());
    const kept = event('pageview');
    before.enqueue(kept);
    await vi.advanceTimersByTimeAsync(10);
    before.stop();

    const calls = stubFetch(202);
    const after = outbox();
    expect(after.pending().map((json) => JSON.parse(json).id)).toEqual([kept.id]);
    after.attach(fakeCore().policy());
    await vi.runAllTimersAsync();
    expect(sentIds(calls[0]![1])).toEqual([kept.id]);
    expect(after.pending()).toEqual([]);
  });

  it('beacons the rest on page hide as text/plain with the token in the query string', () => {
    stubFetch(202);
    const beacons: Array<[string, BodyInit]> = [];
    vi.stubGlobal('navigator', {
      ...navigator,
      sendBeacon: (url: string, body: BodyInit) => beacons.push([url, body]) > 0,
    });
    const box = outbox();
    box.attach(fakeCore({ flushCount: 10 }).policy());
    const a = event();
    const b = event();
    box.enqueue(a);
    box.enqueue(b);
    box.beacon();
    expect(beacons).toHaveLength(1);
    const [url, body] = beacons[0]!;
    expect(url).toBe('https://api.test/v1/events?token=vv_proj_abc');
    // A string body is what makes the browser send text/plain without a preflight.
    expect(typeof body).toBe('string');
    expect(JSON.parse(body as string).events.map((e: WireEvent) => e.id)).toEqual([a.id, b.id]);
    // A beacon has no answer: the events stay stored, to be sent again (and de-duplicated).
    expect(box.pending()).toHaveLength(2);
    box.beacon();
    expect(beacons).toHaveLength(1);
  });

  it('clears the queue and its stored copy on opt-out', () => {
    const box = outbox();
    box.enqueue(event());
    box.clear();
    expect(box.pending()).toEqual([]);
    expect(JSON.parse(localStorage.getItem('vv_q')!)).toEqual([]);
  });
});
