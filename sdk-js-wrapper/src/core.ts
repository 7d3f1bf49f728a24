/**
 * The decisions the SDK delegates to `vibariant-core`: assignment, the batch policy (when to
 * send, what goes in a batch, what an answer means, backoff), and goal scoring. This is the
 * interface the rest of the wrapper codes against; `wasm.ts` implements it over the
 * WebAssembly build and the unit tests over a small fake.
 */

import type { ElementDescription } from './element';

/** One experiment as the config (or the code) describes it. */
export interface ExperimentSpec {
  key: string;
  /** Variant names in order; the first is the control. */
  variants: string[];
  /** One weight per variant, summing to 1. */
  weights: number[];
  /** Share of visitors in the experiment, 0 to 1. */
  coverage: number;
}

/**
 * The core's stateful batch policy (`vibariant_core::outbox::Outbox`), exactly as its
 * WebAssembly export `Outbox` has it, so no adapter sits between them. Events are known to it
 * by a handle, a number the wrapper gives each event it queues (not the event's string id,
 * which would cost string glue at the WebAssembly boundary).
 */
export interface BatchPolicy {
  /**
   * Queues event `handle` of `bytes` bytes of JSON; returns the handle of an event the policy
   * dropped (the oldest to make room, or this one if too large), or undefined.
   */
  push(handle: number, bytes: number, nowMs: number): number | undefined;
  /** Why a flush is due now, 0 if it is not; `hidden` is the page-hide "last chance". */
  due(nowMs: number, hidden: boolean): number;
  /** The next batch as `[batchId, ...eventHandles]`, or undefined when nothing waits. */
  take(): Uint32Array | undefined;
  /**
   * Records the answer to a batch: an HTTP status, or 0 for a network error. Returns the
   * handles of the events the wrapper can forget: delivered, rejected, or given up.
   */
  settle(batch: number, status: number, nowMs: number, random: number): Uint32Array;
  /** Set while sending pauses for a backoff: until this time (ms since the epoch). */
  readonly retryAt: number | undefined;
}

/** What the core decides; every method but the policy's is a pure function. */
export interface Core {
  /**
   * The variant index for a visitor, honouring a forced (QA link) and a sticky index first
   * (-1 for none); -1 when the visitor is outside the experiment's coverage or the spec is
   * invalid.
   */
  assign(visitorId: string, spec: ExperimentSpec, sticky: number, forced: number): number;
  /** The goal a clicked or submitted element looks like ("signup", "purchase", …), or "". */
  goal(element: ElementDescription): string;
  /** A fresh batch policy with the core's default tunables. */
  policy(): BatchPolicy;
}
