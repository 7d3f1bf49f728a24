/**
 * Identifiers made in the browser: event ids (the backend's idempotency key) and visitor ids.
 * Both are 16 random bytes in base64url without padding, 22 characters (`docs/events.md`).
 */

import { readCookie, readString, writeCookie, writeString } from './storage';

/** The cookie the edge worker sets, and the localStorage key that mirrors it. */
export const VISITOR_KEY = 'vv_vid';

// The wire contract's rule for a visitor id: 1 to 128 bytes of UTF-8, no control characters.
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;
const validVisitor = (id: string | undefined): id is string =>
  !!id && !CONTROL.test(id) && new TextEncoder().encode(id).length <= 128;

/** 16 random bytes from the platform's CSPRNG, or Math.random where there is none. */
export function randomBytes(length = 16): Uint8Array {
  const bytes = new Uint8Array(length);
  const crypto = globalThis.crypto;
  if (crypto && typeof crypto.getRandomValues === 'function') {
    crypto.getRandomValues(bytes);
  } else {
    // Ids need uniqueness, not secrecy; an old browser without Web Crypto still gets them.
    for (let i = 0; i < length; i++) bytes[i] = Math.floor(Math.random() * 256);
  }
  return bytes;
}

/** base64url without padding. */
export function base64url(bytes: Uint8Array): string {
  return btoa(String.fromCharCode(...bytes))
    .replace(/=+$/, '')
    .replace(/\+/g, '-')
    .replace(/\//g, '_');
}

/** A new event id. */
export function newId(): string {
  return base64url(randomBytes());
}

/**
 * The visitor id: the edge worker's `vv_vid` cookie when present (so the browser and the edge
 * agree on assignments), else the one remembered in localStorage, else a new one. The id is
 * written back to both, so a later edge request sees the same visitor.
 */
export function loadVisitorId(): string {
  const fromCookie = readCookie(VISITOR_KEY);
  const stored = readString(VISITOR_KEY);
  const id = [fromCookie, stored].find(validVisitor) ?? newId();
  if (stored !== id) writeString(VISITOR_KEY, id);
  if (fromCookie !== id) writeCookie(VISITOR_KEY, id);
  return id;
}
