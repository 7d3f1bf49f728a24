import { describe, expect, it } from 'vitest';
import { scrubHref, scrubText } from '../src/scrub';

describe('scrubText', () => {
  it('replaces emails and card-like numbers', () => {
    expect(scrubText('Send to ada.lovelace+x@example.co.uk now')).toBe('Send to [email] now');
    expect(scrubText('Pay with 4242 4242 4242 4242')).toBe('Pay with [card]');
    expect(scrubText('card 4111-1111-1111-1111!')).toBe('card [card]!');
    expect(scrubText('5555555555554444')).toBe('[card]');
  });

  it('keeps prices, years and short numbers readable', () => {
    expect(scrubText('Buy for $1,299 in 2025, call 555-1234')).toBe(
      'Buy for $1,299 in 2025, call 555-1234',
    );
  });

  it('collapses whitespace and cuts to 256 characters', () => {
    expect(scrubText('  Start \n\t free   trial ')).toBe('Start free trial');
    expect(scrubText('x'.repeat(400))).toHaveLength(256);
  });
});

describe('scrubHref', () => {
  it('drops the query and fragment and scrubs mailto addresses', () => {
    expect(scrubHref('/signup?ref=abc&token=secret#top')).toBe('/signup');
    expect(scrubHref('mailto:sales@example.com')).toBe('mailto:[email]');
  });
});
