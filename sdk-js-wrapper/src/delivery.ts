/**
 * Delivery of events to `POST /v1/events`. The core's batch policy decides when to send, what
 * goes in a batch and what an answer means; this module keeps the payloads, talks HTTP and
 * mirrors the queue in localStorage, so events survive a reload and a backend that is down.
 *
 * Every event carries a client-made id and the backend counts an id once, so sending an event
 * twice is harmless and losing one is not. Hence the one rule here: an event leaves storage
 * only once a `fetch` was answered (or the policy gave it up). A beacon gets no answer, so what
 * it carried stays stored and is sent again, and de-duplicated, on the next page load.
 */

import type { BatchPolicy } from './core';
import type { Log } from './guard';
import { parseJson, readJson, writeJson } from './storage';

/** An event as it travels: the common fields plus its kind's fields (`docs/events.md`). */
export interface WireEvent {
  id: string;
  visitor_id: string;
  ts: number;
  path: string;
  kind: string;
  [field: string]: unknown;
}

export interface OutboxOptions {
  /** The API origin, e.g. `https://api.example.com`. */
  apiUrl: string;
  /** The public project token. */
  token: string;
  log: Log;
  /** localStorage key of the stored queue. */
  storageKey?: string;
}

export interface Outbox {
  enqueue(event: WireEvent): void;
  /** Hands the queue to the core's policy (once the core is ready) and starts sending. */
  attach(policy: BatchPolicy): void;
  /** Sends everything queued now; resolves when the queue is empty or a send failed. */
  flush(): Promise<void>;
  /** Page hide: hands what waits to `sendBeacon`; it stays stored, see above. */
  beacon(): void;
  /** Empties the queue and its stored copy (opt-out). */
  clear(): void;
  /** Stops timers; stored events wait for the next page. */
  stop(): void;
  /** The stored events, oldest first, as JSON (tests and debug mode). */
  pending(): string[];
}

/** Most events stored; the policy's own bound is the same, this one also covers beaconed ones. */
const MAX_STORED = 500;
/** How often a waiting queue is looked at again when nothing else wakes it. */
const POLL_MS = 1_000;

let encoder: TextEncoder | undefined;
const utf8Length = (text: string) => (encoder ??= new TextEncoder()).encode(text).length;

export function createOutbox(options: OutboxOptions): Outbox {
  const { token, log } = options;
  const storageKey = options.storageKey ?? 'vv_q';
  const endpoint = options.apiUrl.replace(/\/+$/, '') + '/v1/events';

  // Payloads by handle, the number the policy knows an event by, in the order they were queued
  // (a Map keeps insertion order). Handles are this page's own; storage keeps only payloads.
  const stored = new Map<number, string>();
  let nextHandle = 0;
  for (const json of readJson<unknown[]>(storageKey) ?? []) {
    if (typeof json === 'string' && typeof parsed(json)?.id === 'string') {
      stored.set(nextHandle++, json);
    }
  }

  // Handles of events given to sendBeacon: stored, but no longer in this page's policy.
  const beaconed = new Set<number>();
  let policy: BatchPolicy | undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let sending: Promise<void> | undefined;
  let stopped = false;

  const persist = () => {
    while (stored.size > MAX_STORED) stored.delete(stored.keys().next().value as number);
    if (!writeJson(storageKey, [...stored.values()])) {
      log.once('localStorage refused the event queue; it lives in memory for this page');
    }
  };

  const forget = (handles: ArrayLike<number>) => {
    if (handles.length === 0) return;
    for (let i = 0; i < handles.length; i++) {
      stored.delete(handles[i]!);
      beaconed.delete(handles[i]!);
    }
    persist();
  };

  const push = (handle: number, json: string, queuedAt: number) => {
    const dropped = policy!.push(handle, utf8Length(json), queuedAt);
    if (dropped !== undefined) {
      log.once('the event queue is full or an event too large; dropping');
      forget([dropped]);
    }
  };

  /** The batch body, or "" when none of its payloads is left (cleared by an opt-out). */
  const body = (handles: Uint32Array) => {
    const payloads = Array.from(handles, (handle) => stored.get(handle)).filter(Boolean);
    return payloads.length > 0 ? '{"events":[' + payloads.join(',') + ']}' : '';
  };

  /** Sends batch after batch until nothing is due, a send fails, or the queue is empty. */
  const send = async (all: boolean) => {
    while (policy && !stopped && (all || policy.due(Date.now(), false))) {
      const batch = policy.take();
      if (!batch) return;
      const [id] = batch;
      const payload = body(batch.subarray(1));
      if (!payload) {
        policy.settle(id!, 204, Date.now(), 0);
        continue;
      }
      let status = 0;
      try {
        const response = await fetch(endpoint, {
          method: 'POST',
          keepalive: true,
          headers: { 'content-type': 'application/json', authorization: 'Bearer ' + token },
          body: payload,
        });
        status = response.status;
        // The backend keeps the good events of a batch and lists the others; say which.
        if (log.on && response.ok) {
          response
            .json()
            .then((report: { rejected?: unknown[] }) => {
              if (report.rejected?.length) log.info('the backend rejected events', report.rejected);
            })
            .catch(() => {});
        }
      } catch (error) {
        log.info('event delivery failed (network)', error);
      }
      forget(policy.settle(id!, status, Date.now(), Math.random()));
      if (status >= 200 && status < 300) {
        log.info('delivered ' + (batch.length - 1) + ' events');
      } else if (policy.retryAt !== undefined) {
        log.info('delivery failed with status ' + status + '; retrying at', policy.retryAt);
        return;
      } else {
        log.once('the backend refused events with status ' + status + '; they are dropped');
      }
    }
  };

  const run = (all: boolean): Promise<void> => {
    if (sending || stopped || !policy) return sending ?? Promise.resolve();
    if (timer !== undefined) clearTimeout(timer);
    timer = undefined;
    sending = send(all)
      .catch((error) => log.once('event delivery failed', error))
      .finally(() => {
        sending = undefined;
        wake();
      });
    return sending;
  };

  // The policy answers "is a flush due?" but not "when will it be?", so a non-empty queue is
  // looked at again every POLL_MS; an empty one sleeps until the next event.
  function wake() {
    if (!policy || stopped || sending || timer !== undefined) return;
    if (stored.size <= beaconed.size) return;
    if (policy.due(Date.now(), false)) {
      void run(false);
      return;
    }
    timer = setTimeout(() => {
      timer = undefined;
      wake();
    }, POLL_MS);
  }

  return {
    enqueue(event) {
      if (stopped) return;
      const json = JSON.stringify(event);
      const handle = nextHandle++;
      stored.set(handle, json);
      persist();
      if (policy) {
        push(handle, json, Date.now());
        wake();
      }
    },
    attach(next) {
      policy = next;
      // Stored events keep their age: an old queue from the last page load is due at once.
      for (const [handle, json] of stored) {
        const ts = parsed(json)?.ts;
        push(handle, json, typeof ts === 'number' ? ts : Date.now());
      }
      wake();
    },
    flush: () => run(true),
    beacon() {
      if (!policy || typeof navigator === 'undefined' || !navigator.sendBeacon) return;
      if (!policy.due(Date.now(), true)) return;
      // The token rides in the query string because a beacon cannot set headers; a string body
      // goes as text/plain, which needs no CORS preflight that the unload would cut short.
      const url = endpoint + '?token=' + encodeURIComponent(token);
      for (let batch = policy.take(); batch; batch = policy.take()) {
        const handles = batch.subarray(1);
        const payload = body(handles);
        const accepted = !payload || navigator.sendBeacon(url, payload);
        // Accepted: out of this page's policy (it is on its way), but still stored. Refused
        // (the browser's beacon quota is used up): back to the policy for a later attempt.
        policy.settle(batch[0]!, accepted ? 202 : 0, Date.now(), Math.random());
        if (!accepted) break;
        for (const handle of handles) beaconed.add(handle);
      }
    },
    clear() {
      stored.clear();
      beaconed.clear();
      persist();
    },
    stop() {
      stopped = true;
      if (timer !== undefined) clearTimeout(timer);
      timer = undefined;
    },
    pending: () => [...stored.values()],
  };
}

/** A stored event's fields, read back defensively: storage may hold anything. */
const parsed = (json: string) => parseJson<Partial<Record<'id' | 'ts', unknown>>>(json);
