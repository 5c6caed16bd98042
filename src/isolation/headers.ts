/**
 * The two response headers that make a page cross-origin isolated, which the
 * app's service worker (sw.ts) adds where the host does not send them. No
 * DOM or worker globals here beyond Fetch's, so Vitest can check it.
 */

/** COOP `same-origin` + COEP `require-corp`: the pair docs/hosting.md asks hosts for (everything the app loads is same-origin). */
export const ISOLATION_HEADERS = Object.freeze({
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
});

/**
 * `response` with the isolation headers added, its body streamed through
 * untouched. Opaque responses (status 0) cannot be rebuilt and are passed on
 * as they are; the app makes none, since it fetches only from its own origin.
 */
export function isolatedResponse(response: Response): Response {
  if (response.status === 0) return response;
  const headers = new Headers(response.headers);
  for (const [name, value] of Object.entries(ISOLATION_HEADERS)) headers.set(name, value);
  return new Response(response.body, { status: response.status, statusText: response.statusText, headers });
}
