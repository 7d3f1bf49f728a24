/**
 * Persistence in `localStorage` and cookies. Storage can be missing (server rendering), full, or
 * throw on access (Safari's private mode, sandboxed iframes, a blocked third-party context); each
 * accessor treats that as "nothing stored" so the SDK keeps working in memory.
 */

// Each accessor names `localStorage` inside its `try`: where it does not exist (server
// rendering) the name itself throws, and is caught like any other refusal.

export function readString(key: string): string | undefined {
  try {
    return localStorage.getItem(key) ?? undefined;
  } catch {
    return undefined;
  }
}

/** Stores a string; returns false when storage refused it (quota, privacy mode, none). */
export function writeString(key: string, value: string): boolean {
  try {
    localStorage.setItem(key, value);
    return true;
  } catch {
    return false;
  }
}

export function remove(key: string): void {
  try {
    localStorage.removeItem(key);
  } catch {
    /* nothing stored to remove */
  }
}

/** Reads and parses a JSON value, or returns undefined when absent or unreadable. */
export function readJson<T>(key: string): T | undefined {
  return parseJson<T>(readString(key));
}

/** Writes a JSON value; returns false when storage refused it. */
export function writeJson(key: string, value: unknown): boolean {
  return writeString(key, JSON.stringify(value));
}

/** Parses JSON, or returns undefined for nothing or for text that is not JSON. */
export function parseJson<T>(text: string | undefined): T | undefined {
  try {
    return text ? (JSON.parse(text) as T) : undefined;
  } catch {
    return undefined;
  }
}

/** Reads a cookie by name, or undefined without a document (server rendering). */
export function readCookie(name: string): string | undefined {
  try {
    if (typeof document === 'undefined') return undefined;
    for (const part of document.cookie.split(';')) {
      const eq = part.indexOf('=');
      if (eq > 0 && part.slice(0, eq).trim() === name) {
        return decodeURIComponent(part.slice(eq + 1).trim());
      }
    }
  } catch {
    /* a cookie we cannot decode is a cookie we do not have */
  }
  return undefined;
}

/** Sets a first-party cookie for a year, readable by the edge worker on the next request. */
export function writeCookie(name: string, value: string): void {
  try {
    if (typeof document === 'undefined') return;
    const secure = location.protocol === 'https:' ? '; Secure' : '';
    document.cookie =
      name + '=' + encodeURIComponent(value) + '; Path=/; Max-Age=31536000; SameSite=Lax' + secure;
  } catch {
    /* cookies disabled: localStorage still carries the id */
  }
}
