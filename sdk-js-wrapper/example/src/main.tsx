/**
 * The SDK's runnable example: a Vite + React page using `@vibariant/sdk/react`. The token and
 * API URL come from the build environment (`VITE_VIBARIANT_TOKEN`, `VITE_VIBARIANT_API_URL`).
 * `performance.mark('vv-first-variant')` marks the first render after the SDK settled, which
 * the browser test reads to time the SDK.
 */

import { StrictMode, useEffect, useState } from 'react';
import { createRoot } from 'react-dom/client';
import { Variant, VibariantProvider, useVariant, useVibariant } from '@vibariant/sdk/react';
import { Page } from './Page';

const token = import.meta.env.VITE_VIBARIANT_TOKEN ?? 'vv_proj_example';
const apiUrl = import.meta.env.VITE_VIBARIANT_API_URL ?? 'http://127.0.0.1:8000';
const debug = new URLSearchParams(location.search).has('debug');

function Hero() {
  const variant = useVariant('hero-cta', ['control', 'bold']);
  const client = useVibariant();
  const [settled, setSettled] = useState(false);
  useEffect(() => {
    void client?.ready.then(() => setSettled(true));
  }, [client]);
  useEffect(() => {
    if (settled && performance.getEntriesByName('vv-first-variant').length === 0) {
      performance.mark('vv-first-variant', { detail: variant });
    }
  }, [settled, variant]);
  return (
    <Page
      variant={variant}
      headline={
        <Variant
          experiment="hero-cta"
          variants={{ control: <h1>Ship experiments</h1>, bold: <h1>SHIP FASTER. TODAY.</h1> }}
        />
      }
      onCta={() => client?.track('cta_clicked', { variant })}
    />
  );
}

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <VibariantProvider token={token} apiUrl={apiUrl} debug={debug}>
      <Hero />
    </VibariantProvider>
  </StrictMode>,
);
