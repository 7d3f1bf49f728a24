// The real parts the browser tests drive: the backend on SQLite (started, stopped and restarted
// on one port), the example app built with Vite and served on loopback, and Debian's Chromium
// through playwright-core. Every process started here is stopped by `close()`.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createServer } from 'node:http';
import { createServer as createNetServer } from 'node:net';
import { tmpdir } from 'node:os';
import { extname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';

export const sdkDir = fileURLToPath(new URL('..', import.meta.url));
export const repoDir = join(sdkDir, '..');
const exampleDir = join(sdkDir, 'example');

export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** A free TCP port on loopback. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const server = createNetServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** The backend binary: $VIBARIANT_SERVER_BIN, else the workspace's debug build. */
function serverBinary() {
  if (process.env.VIBARIANT_SERVER_BIN) return process.env.VIBARIANT_SERVER_BIN;
  const target = process.env.CARGO_TARGET_DIR ?? join(repoDir, 'target');
  return join(target, 'debug', 'vibariant-server');
}

/** The backend on a fresh SQLite file; `stop()` and `start()` keep the file and the port. */
export async function backend() {
  const dir = mkdtempSync(join(tmpdir(), 'vv-e2e-'));
  const port = await freePort();
  const env = {
    ...process.env,
    DATABASE_URL: `sqlite://${join(dir, 'e2e.sqlite3')}?mode=rwc`,
    VIBARIANT_ADDR: `127.0.0.1:${port}`,
    RUST_LOG: process.env.RUST_LOG ?? 'warn',
  };
  const url = `http://127.0.0.1:${port}`;
  const bin = serverBinary();

  // `create-project` prints the public token and the API key once.
  const created = await new Promise((resolve, reject) => {
    const child = spawn(bin, ['create-project', 'e2e'], { env });
    let out = '';
    child.stdout.on('data', (chunk) => (out += chunk));
    child.stderr.on('data', (chunk) => (out += chunk));
    child.on('error', reject);
    child.on('exit', (code) =>
      code === 0 ? resolve(out) : reject(new Error(`create-project failed (${code}):\n${out}`)),
    );
  });
  const token = /vv_proj_[A-Za-z0-9_-]+/.exec(created)?.[0];
  const apiKey = /vv_sk_[A-Za-z0-9_-]+/.exec(created)?.[0];
  if (!token || !apiKey) throw new Error('no token or API key in:\n' + created);

  let child;
  const start = async () => {
    child = spawn(bin, ['serve'], { env, stdio: ['ignore', 'inherit', 'inherit'] });
    for (let i = 0; i < 200; i++) {
      try {
        if ((await fetch(url + '/healthz')).ok) return;
      } catch {
        /* not listening yet */
      }
      await sleep(50);
    }
    throw new Error('the backend did not answer /healthz within 10 s');
  };
  const stop = async () => {
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    await Promise.race([exited, sleep(5_000)]);
    if (child.exitCode === null) child.kill('SIGKILL');
    await exited;
  };

  /** Calls the API with the secret key; returns the parsed JSON body. */
  const api = async (method, path, body) => {
    const response = await fetch(url + path, {
      method,
      headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${text}`);
    return text ? JSON.parse(text) : null;
  };

  await start();
  return {
    url,
    token,
    api,
    start,
    stop,
    async close() {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Builds the example with Vite against this backend and token, into a temporary folder. */
export async function buildExample({ apiUrl, token }) {
  const { build } = await import('vite');
  const outDir = mkdtempSync(join(tmpdir(), 'vv-example-'));
  process.env.VITE_VIBARIANT_API_URL = apiUrl;
  process.env.VITE_VIBARIANT_TOKEN = token;
  await build({
    configFile: join(exampleDir, 'vite.config.ts'),
    logLevel: 'warn',
    build: { outDir, emptyOutDir: true },
  });
  return outDir;
}

const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript',
  '.mjs': 'text/javascript',
  '.wasm': 'application/wasm',
  '.css': 'text/css',
};

/** Serves a built site on loopback; `headers` are added to every HTML page. */
export async function serve(root, headers = {}) {
  const server = createServer((request, response) => {
    const path = new URL(request.url, 'http://x').pathname;
    const file = normalize(join(root, path === '/' ? 'index.html' : path));
    if (!file.startsWith(root)) {
      response.writeHead(403).end();
      return;
    }
    try {
      if (!statSync(file).isFile()) throw new Error('not a file');
      const type = TYPES[extname(file)] ?? 'application/octet-stream';
      const extra = type.startsWith('text/html') ? headers : {};
      response.writeHead(200, { 'content-type': type, 'cache-control': 'no-store', ...extra });
      response.end(readFileSync(file));
    } catch {
      response.writeHead(404).end('not found');
    }
  });
  const port = await freePort();
  await new Promise((resolve) => server.listen(port, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise((resolve) => server.close(resolve)),
  };
}

/** Debian's Chromium, headless, on a fresh profile (playwright makes one per launch). */
export async function browser() {
  const { chromium } = await import('playwright-core');
  return chromium.launch({
    executablePath: process.env.CHROMIUM_BIN ?? '/usr/bin/chromium',
    args: CHROMIUM_ARGS,
    headless: true,
  });
}

/** Polls `check` until it returns a truthy value or `ms` pass; returns the last value. */
export async function eventually(check, ms = 20_000, every = 250) {
  const deadline = Date.now() + ms;
  let last;
  for (;;) {
    try {
      last = await check();
      if (last) return last;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) return last;
    await sleep(every);
  }
}

/** The median of a list of numbers. */
export function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}
