import { beforeEach, describe, expect, it } from 'vitest';
import { base64url, loadVisitorId, newId } from '../src/ids';

function clearCookies() {
  for (const part of document.cookie.split(';')) {
    const name = part.split('=')[0]?.trim();
    if (name) document.cookie = name + '=; Max-Age=0; Path=/';
  }
}

beforeEach(() => {
  localStorage.clear();
  clearCookies();
});

describe('event ids', () => {
  it('are 22 characters of base64url made from 16 bytes', () => {
    const ids = new Set(Array.from({ length: 200 }, newId));
    expect(ids.size).toBe(200);
    for (const id of ids) {
      expect(id).toMatch(/^[A-Za-z0-9_-]{21}[AQgw]$/);
    }
  });

  it('encode like the core does', () => {
    const bytes = Uint8Array.from({ length: 16 }, (_, i) => i * 17);
    // The same bytes through the RFC 4648 base64url alphabet, without padding.
    expect(base64url(bytes)).toBe(Buffer.from(bytes).toString('base64url'));
    expect(base64url(new Uint8Array(16).fill(255))).toBe('_____________________w');
  });
});

describe('loadVisitorId', () => {
  it("reuses the edge worker's vv_vid cookie over localStorage", () => {
    localStorage.setItem('vv_vid', 'stored-id');
    document.cookie = 'vv_vid=edge-id; Path=/';
    expect(loadVisitorId()).toBe('edge-id');
    expect(localStorage.getItem('vv_vid')).toBe('edge-id');
  });

  it('falls back to localStorage, then to a new id that it remembers in both places', () => {
    localStorage.setItem('vv_vid', 'stored-id');
    expect(loadVisitorId()).toBe('stored-id');
    expect(document.cookie).toContain('vv_vid=stored-id');

    localStorage.clear();
    clearCookies();
    const fresh = loadVisitorId();
    expect(fresh).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(localStorage.getItem('vv_vid')).toBe(fresh);
    expect(loadVisitorId()).toBe(fresh);
  });

  it('accepts any id the wire contract accepts and replaces one it refuses', () => {
    document.cookie = 'vv_vid=' + encodeURIComponent('visiteur été 🙂') + '; Path=/';
    expect(loadVisitorId()).toBe('visiteur été 🙂');
    for (const bad of ['tab\there', 'x'.repeat(129), 'é'.repeat(65)]) {
      clearCookies();
      localStorage.setItem('vv_vid', bad);
      expect(loadVisitorId()).toMatch(/^[A-Za-z0-9_-]{22}$/);
    }
  });
});
