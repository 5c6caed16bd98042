import { describe, expect, it } from 'vitest';
import { ISOLATION_HEADERS, isolatedResponse } from './headers';

describe('isolatedResponse', () => {
  it('adds COOP and COEP, keeps the status, the other headers and the body', async () => {
    const original = new Response('shard bytes', {
      status: 200,
      statusText: 'OK',
      headers: { 'Content-Type': 'application/octet-stream' },
    });
    const isolated = isolatedResponse(original);
    expect(isolated.status).toBe(200);
    expect(isolated.statusText).toBe('OK');
    expect(isolated.headers.get('content-type')).toBe('application/octet-stream');
    expect(isolated.headers.get('cross-origin-opener-policy')).toBe(ISOLATION_HEADERS['Cross-Origin-Opener-Policy']);
    expect(isolated.headers.get('cross-origin-embedder-policy')).toBe('require-corp');
    expect(await isolated.text()).toBe('shard bytes');
  });

  it('replaces weaker isolation headers the host sent, and passes errors on as they are', async () => {
    const isolated = isolatedResponse(
      new Response('missing', { status: 404, statusText: 'Not Found', headers: { 'Cross-Origin-Opener-Policy': 'unsafe-none' } }),
    );
    expect(isolated.status).toBe(404);
    expect(isolated.headers.get('cross-origin-opener-policy')).toBe('same-origin');
    expect(await isolated.text()).toBe('missing');
  });

  it('leaves a response without a body (304) without one', () => {
    const isolated = isolatedResponse(new Response(null, { status: 304 }));
    expect(isolated.status).toBe(304);
    expect(isolated.body).toBeNull();
  });
});
