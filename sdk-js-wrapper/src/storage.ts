/**
 * Persistence in `localStorage` and cookies. Storage can be missing (server rendering), full, or
 * throw on access (Safari's private mode, sandboxed iframes, a blocked third-party context); each
 * accessor treats that as "nothing stored" so the SDK keeps working in memory.
 */

function local(): Storage | undefined {
  try {
    return typeof localStorage === 'undefined' ? undefined : localStorage;
  } catch {
    return undefined;
  }
}

/** Reads and parses a JSON value, or returns undefined when absent or unreadable. */
export function readJson<T>(key: string): T | undefined {
  try {
    const raw = local()?.getItem(key);
    return raw ? (JSON.parse(raw) as T) : undefined;
  } catch {
    return undefined;
  }
}

/** Writes a JSON value; returns false when storage refused it (quota, privacy mode). */
export function writeJson(key: string, value: unknown): boolean {
  try {
    const store = local();
    if (!store) return false;
    store.setItem(key, JSON.stringify(value));
    return true;
  } catch {
    return false;
  }
}

export function readString(key: string): string | undefined {
  try {
    return local()?.getItem(key) ?? undefined;
  } catch {
    return undefined;
  }
}

export function writeString(key: string, value: string): void {
  try {
    local()?.setItem(key, value);
  } catch {
    /* storage refused: the value lives in memory for this page only */
  }
}

export function remove(key: string): void {
  try {
    local()?.removeItem(key);
  } catch {
    /* nothing stored to remove */
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
