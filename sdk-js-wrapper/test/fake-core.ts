/**
 * A small stand-in for the WebAssembly core, so the wrapper's logic is tested without a build
 * of `vibariant-core`. Assignment returns a fixed index per experiment; the batch policy is a
 * minimal version of the core's (flush at a count or on page hide, back off on 0/408/429/5xx,
 * drop on other statuses). The real core is checked separately in `vectors.test.ts`.
 */

import type { BatchPolicy, Core, ExperimentSpec } from '../src/core';
import type { ElementDescription } from '../src/element';

export interface FakeCoreOptions {
  /** Index to assign per experiment key; -1 = outside the experiment. Default 1. */
  assignments?: Record<string, number>;
  /** Flush once this many events wait. Default 1 (at once). */
  flushCount?: number;
  /** Backoff after a retryable failure, ms. */
  retryMs?: number;
}

export interface FakeCore extends Core {
  assignCalls: Array<{ visitorId: string; spec: ExperimentSpec }>;
}

export function fakeCore(options: FakeCoreOptions = {}): FakeCore {
  const assignCalls: FakeCore['assignCalls'] = [];
  return {
    assignCalls,
    assign(visitorId, spec) {
      assignCalls.push({ visitorId, spec });
      return options.assignments?.[spec.key] ?? 1;
    },
    goal(element: ElementDescription) {
      return /sign up|start free trial/i.test(element.text ?? '') ? 'sign_up' : '';
    },
    policy: () => fakePolicy(options.flushCount ?? 1, options.retryMs ?? 1_000),
  };
}

function fakePolicy(flushCount: number, retryMs: number): BatchPolicy {
  let queue: number[] = [];
  const inFlight = new Map<number, number[]>();
  let next = 1;
  let retryAt: number | undefined;
  return {
    get retryAt() {
      return retryAt;
    },
    push(handle) {
      queue.push(handle);
      return undefined;
    },
    due(now, hidden) {
      if (queue.length === 0) return 0;
      if (hidden) return 4;
      if (retryAt !== undefined) return now >= retryAt ? 3 : 0;
      return queue.length >= flushCount ? 1 : 0;
    },
    take() {
      if (queue.length === 0) return undefined;
      const id = next++;
      inFlight.set(id, queue);
      const batch = Uint32Array.of(id, ...queue);
      queue = [];
      return batch;
    },
    settle(batch, status, now) {
      const handles = inFlight.get(batch) ?? [];
      inFlight.delete(batch);
      if (status === 0 || status === 408 || status === 429 || status >= 500) {
        queue = [...handles, ...queue];
        retryAt = now + retryMs;
        return new Uint32Array();
      }
      // Delivered (2xx) or refused for good: either way the events are finished.
      retryAt = undefined;
      return Uint32Array.from(handles);
    },
  };
}
