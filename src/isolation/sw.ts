/// <reference lib="webworker" />
/**
 * The app's service worker, for hosts that cannot send the cross-origin
 * isolation headers (GitHub Pages, S3, most school servers): it adds them to
 * every same-origin response, so the browser offers SharedArrayBuffer and
 * WASM trains on every core. It takes over at once; isolate.ts reloads the
 * page once to come under it.
 *
 * The pattern of the `coi-serviceworker` package. Ours because that one is a
 * script copied into public/ that registers itself from `document.currentScript`
 * and reloads on its own: the page could not tell which way it became
 * isolated, or why it did not, and the build would not type-check it.
 * Built to `dist/coi-sw.js` (vite.config.ts) with no imports left, so it
 * registers as a classic script in every browser with service workers.
 */
import { isolatedResponse } from './headers';

declare const self: ServiceWorkerGlobalScope;

self.addEventListener('install', () => void self.skipWaiting());
self.addEventListener('activate', (event) => event.waitUntil(self.clients.claim()));

self.addEventListener('fetch', (event) => {
  const request = event.request;
  // Chromium rejects re-fetching an `only-if-cached` request outside same-origin mode (DevTools makes them).
  if (request.cache === 'only-if-cached' && request.mode !== 'same-origin') return;
  // The app loads nothing from elsewhere; anything that does is left to the browser.
  if (new URL(request.url).origin !== self.location.origin) return;
  event.respondWith(fetch(request).then(isolatedResponse));
});
