/// <reference types="vitest/config" />
import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';
import { fileURLToPath } from 'node:url';

/**
 * The Content-Security-Policy of the built app. Everything comes from our own
 * origin; 'wasm-unsafe-eval' lets the WASM backend compile its binary (it
 * allows WebAssembly compilation only, not `eval`); inline styles are needed
 * by tfjs-vis, which injects them. Sent as a header by `vite preview` (so it
 * also covers the worker) and as a meta tag in the built page for any host.
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

const local = (path: string) => fileURLToPath(new URL(path, import.meta.url));

export default defineConfig({
  plugins: [
    react(),
    {
      // Build only: the dev server's hot reload needs inline scripts.
      name: 'content-security-policy',
      apply: 'build',
      transformIndexHtml: () => [
        { tag: 'meta', attrs: { 'http-equiv': 'Content-Security-Policy', content: CSP }, injectTo: 'head-prepend' },
      ],
    },
  ],
  preview: { headers: { 'Content-Security-Policy': CSP } },
  resolve: {
    // tfjs-vis draws with vega, which needs `eval` unless told otherwise: see src/ui/vis/.
    alias: [{ find: /^vega-embed$/, replacement: local('./src/ui/vis/vega-embed-csp.ts') }],
  },
  // The dev server finds the worker's imports only once the worker starts; found that late, they are
  // bundled again and the page reloads in the middle of loading the data. Listed here, they are ready up front.
  optimizeDeps: { include: ['@tensorflow/tfjs', '@tensorflow/tfjs-backend-wasm', '@tensorflow/tfjs-backend-webgpu'] },
  worker: { format: 'es' },
  build: {
    target: 'es2022',
    chunkSizeWarningLimit: 4096,
    // bench.html: the benchmark page of `npm run bench` (src/bench/), its own entry so it shares no state with the app.
    rollupOptions: { input: { main: local('./index.html'), bench: local('./bench.html') } },
  },
  test: {
    include: ['src/**/*.test.ts', 'scripts/**/*.test.ts'],
    environment: 'node',
    testTimeout: 60_000,
  },
});
