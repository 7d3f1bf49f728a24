/**
 * The same page without the SDK: the baseline for the timing in the browser test. It marks
 * `vv-first-variant` on its first commit, as `main.tsx` does once the SDK settled.
 */

import { StrictMode, useEffect } from 'react';
import { createRoot } from 'react-dom/client';
import { Page } from './Page';

function Hero() {
  useEffect(() => {
    if (performance.getEntriesByName('vv-first-variant').length === 0) {
      performance.mark('vv-first-variant', { detail: 'control' });
    }
  }, []);
  return <Page variant="control" headline={<h1>Ship experiments</h1>} />;
}

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <Hero />
  </StrictMode>,
);
