/**
 * The example landing page: a hero whose headline is an experiment, a call to action, a
 * sign-up form and a section the SDK must not see. `main.tsx` renders it with the SDK and
 * `plain.tsx` without, so the browser test can compare the two.
 */

import { useState } from 'react';
import type { FormEvent, ReactNode } from 'react';

export interface PageProps {
  /** The variant of the `hero-cta` experiment to show. */
  variant: string;
  /** The headline element (the SDK example uses `<Variant>`, the plain page a constant). */
  headline: ReactNode;
  onCta?: () => void;
}

export function Page({ variant, headline, onCta }: PageProps) {
  const [signedUp, setSignedUp] = useState(false);
  const submit = (event: FormEvent) => {
    event.preventDefault();
    setSignedUp(true);
  };
  return (
    <main>
      <section id="hero" data-variant={variant} className={variant}>
        {headline}
        <button id="cta" type="button" onClick={onCta}>
          Start free trial
        </button>
      </section>
      <form id="signup" onSubmit={submit}>
        <input type="email" name="email" placeholder="you@example.com" />
        <input type="password" name="password" />
        <input type="password" name="password_confirm" />
        <button type="submit">Create account</button>
      </form>
      {signedUp && <p id="thanks">Thanks for signing up!</p>}
      <section data-vv-ignore>
        <button id="private">Open my billing details</button>
      </section>
    </main>
  );
}
