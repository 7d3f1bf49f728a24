/**
 * The SDK's promise not to break the host: every public entry point and every listener runs
 * through `guard`, which swallows what it throws. In debug mode each distinct failure is
 * reported once, so a broken listener on a scroll event does not flood the console.
 */

/** Debug logging shared by every part of one client. */
export interface Log {
  /** Whether debug mode is on. */
  readonly on: boolean;
  /** Logs a decision (debug mode only). */
  info(message: string, detail?: unknown): void;
  /** Logs a failure once per distinct message (debug mode only). */
  once(message: string, detail?: unknown): void;
}

export function createLog(on: boolean): Log {
  const seen = new Set<string>();
  const write = (message: string, detail?: unknown) => {
    // The console itself can be replaced or missing in odd hosts; logging must not throw.
    try {
      if (detail === undefined) console.info('[vibariant] ' + message);
      else console.info('[vibariant] ' + message, detail);
    } catch {
      /* nothing sensible left to do */
    }
  };
  return {
    on,
    info: (message, detail) => {
      if (on) write(message, detail);
    },
    once: (message, detail) => {
      if (!on || seen.has(message)) return;
      seen.add(message);
      write(message, detail);
    },
  };
}

/**
 * Runs `body` and returns its result, or `fallback` when it throws. The failure is logged once
 * under `where`.
 */
export function guard<T>(log: Log, where: string, fallback: T, body: () => T): T {
  try {
    return body();
  } catch (error) {
    log.once(where + ' failed', error);
    return fallback;
  }
}

/** Wraps a DOM listener so that nothing it throws reaches the page's own error handlers. */
export function guarded<E>(log: Log, where: string, listener: (event: E) => void) {
  return (event: E) => guard(log, where, undefined, () => listener(event));
}
