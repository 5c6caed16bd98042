/// <reference types="vitest/config" />
import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { wasmThreadsBuild, wasmThreadsDevDeps } from './build/vite-plugin-wasm-threads.js';
import { ISOLATION_HEADERS } from './src/isolation/headers.js';

/**
 * The Content-Security-Policy of the built app. Everything comes from our own
 * origin; 'wasm-unsafe-eval' lets the WASM backend compile its binary (it
 * allows WebAssembly compilation only, not `eval`); inline styles are needed
 * by tfjs-vis, which injects them. Sent as a header by `vite preview` (so it
 * also covers the worker) and as a meta tag in the built page for any host.
 * The WASM backend's threads need nothing more: its pthread workers and the
 * script they load are same-origin files of the build, not blobs (see
 * build/vite-plugin-wasm-threads.ts), so `worker-src` and `script-src` stay 'self'.
 */
const CSP = [
  "default-src 'self'",
  "script-src 'self' 'wasm-unsafe-eval'",
  "worker-src 'self'",
  "connect-src 'self'",
  "img-src 'self' blob: data:",
  "style-src 'self' 'unsafe-inline'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
].join('; ');

/** The service worker's file name at the site's root (src/isolation/isolate.ts registers it by this name). */
const SERVICE_WORKER = 'coi-sw';

const local = (path: string) => fileURLToPath(new URL(path, import.meta.url));

/**
 * Rolldown names the plugin callbacks that take most of a build. Here that is always Vite's
 * worker-import-meta-url transform, because it bundles a worker (TensorFlow.js and its backends;
 * the trainer worker's replica workers) inside the transform: the build's real work, not a slow
 * plugin, so the report is noise every build would print.
 */
const NO_TIMINGS_REPORT = { bundlerTimings: false } as const;

export default defineConfig({
  // Relative URLs: the same dist/ works at a site's root and under any path (a GitHub Pages project site is
  // served at /<repository>/), with no rebuild per host. The dev server serves from / regardless.
  base: './',
  plugins: [
    react(),
    {
      // tfjs-core's package.json says its modules are free of side effects except a listed few, which leaves its spec
      // files empty in a bundle: their describe() calls are all they do (tfjs-specs.html, src/tfjs-specs/).
      name: 'tfjs-spec-files-have-side-effects',
      transform: (code, id) => (/\/@tensorflow\/tfjs-core\/dist\/.+_test\.js$/.test(id) ? { code, moduleSideEffects: true } : null),
    },
    {
      // Build only: the dev server's hot reload needs inline scripts.
      name: 'content-security-policy',
      apply: 'build',
      transformIndexHtml: () => [
        { tag: 'meta', attrs: { 'http-equiv': 'Content-Security-Policy', content: CSP }, injectTo: 'head-prepend' },
      ],
    },
  ],
  // Cross-origin isolation (src/isolation/headers.ts): without it no SharedArrayBuffer, and WASM runs on one thread.
  preview: { headers: { 'Content-Security-Policy': CSP, ...ISOLATION_HEADERS } },
  // No CSP in development: the hot reload needs inline scripts.
  server: { headers: ISOLATION_HEADERS },
  resolve: {
    // tfjs-vis draws with vega, which needs `eval` unless told otherwise: see src/ui/vis/.
    alias: [{ find: /^vega-embed$/, replacement: local('./src/ui/vis/vega-embed-csp.ts') }],
  },
  // The dev server finds the worker's imports only once the worker starts; found that late, they are
  // bundled again and the page reloads in the middle of loading the data. Listed here, they are ready up front.
  optimizeDeps: {
    include: ['@tensorflow/tfjs', '@tensorflow/tfjs-backend-wasm', '@tensorflow/tfjs-backend-webgpu'],
    rolldownOptions: { plugins: [wasmThreadsDevDeps()] },
  },
  // The trainer and benchmark workers are bundles of their own, built with these plugins.
  worker: { format: 'es', plugins: () => [wasmThreadsBuild()], rolldownOptions: { checks: NO_TIMINGS_REPORT } },
  build: {
    target: 'es2022',
    chunkSizeWarningLimit: 4096,
    // bench.html: the benchmark page of `npm run bench` (src/bench/), its own entry so it shares no state with the app;
    // tfjs-specs.html: TensorFlow.js's own specs against our kernels (src/tfjs-specs/, e2e/tfjs-specs.spec.ts).
    rollupOptions: {
      // coi-sw.js: the service worker that isolates the page on hosts without the headers (src/isolation/sw.ts). It
      // must keep one name at the site's root: a browser finds a service worker again by its URL, and its scope is its folder.
      input: {
        main: local('./index.html'),
        bench: local('./bench.html'),
        'tfjs-specs': local('./tfjs-specs.html'),
        [SERVICE_WORKER]: local('./src/isolation/sw.ts'),
      },
      output: { entryFileNames: (chunk) => (chunk.name === SERVICE_WORKER ? `${SERVICE_WORKER}.js` : 'assets/[name]-[hash].js') },
      checks: NO_TIMINGS_REPORT,
      // jasmine-core evals only a string handed to its mock clock's setTimeout, which tfjs's specs never do.
      onwarn(warning, warn) {
        if (warning.code === 'EVAL' && warning.id?.includes('/jasmine-core/')) return;
        warn(warning);
      },
    },
  },
  test: {
    include: ['src/**/*.test.ts', 'scripts/**/*.test.ts', 'e2e/**/*.test.ts', 'build/**/*.test.ts'],
    environment: 'node',
    testTimeout: 60_000,
    // Vitest leaves one core idle by default (workers = cores − 1): on a 2-core CI machine that is half of it.
    maxWorkers: availableParallelism(),
    // Node 20's V8 (11.3) compiles WebAssembly's relaxed SIMD only behind this flag (Chromium has it on
    // since 114): src/bench/gemm.test.ts checks the fused multiply-add product too.
    execArgv: ['--experimental-wasm-relaxed-simd'],
  },
});
