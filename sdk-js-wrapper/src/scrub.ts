/**
 * Scrubbing of captured text. Clicked elements' text travels to the backend, and a button or
 * link can show personal data ("Send to ada@example.com", a saved card number). Emails and
 * card-like digit runs are replaced before anything leaves the browser.
 */

const EMAIL = /[^\s@<>()"',;:]+@[^\s@<>()"',;:]+\.[a-z]{2,}/gi;
// 13 to 19 digits, optionally grouped by spaces or dashes, as card numbers are printed. Shorter
// runs (prices, years, phone extensions) stay readable.
const CARD = /\b\d(?:[ -]?\d){12,18}\b/g;
const SPACES = /\s+/g;

/** Longest text kept for an element, in characters (the wire contract's limit). */
export const MAX_TEXT = 256;

/** Replaces emails and card-like numbers, collapses whitespace and cuts to `max` characters. */
export function scrubText(text: string, max = MAX_TEXT): string {
  const clean = text.replace(EMAIL, '[email]').replace(CARD, '[card]').replace(SPACES, ' ').trim();
  return clean.length > max ? clean.slice(0, max) : clean;
}

/**
 * Scrubs a URL for an element's `href`: the query and fragment go (they carry tokens and ids
 * more often than meaning), `mailto:` addresses are scrubbed, and the rest is kept.
 */
export function scrubHref(href: string): string {
  const cut = href.split(/[?#]/)[0] ?? '';
  return scrubText(cut, 2048);
}
