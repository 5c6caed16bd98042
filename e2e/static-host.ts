/**
 * A plain static file server over `dist/`, as GitHub Pages, S3 or a school
 * server would be: the files with their content types and nothing else — no
 * isolation headers, no Content-Security-Policy header (the page's own
 * `<meta>` still applies). For the specs of a page hosted without them.
 */
import { createReadStream, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript',
  '.css': 'text/css',
  '.json': 'application/json',
  '.wasm': 'application/wasm',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.bin': 'application/octet-stream',
};

export interface StaticHost {
  /** With a trailing slash. */
  url: string;
  close(): Promise<void>;
}

/**
 * Serves `root` on a free localhost port under `prefix` (`/` for a site's
 * root; `/name/` as GitHub Pages serves a project's site).
 */
export async function serveStatic(root = 'dist', prefix = '/'): Promise<StaticHost> {
  const base = path.resolve(root);
  const server: Server = createServer((request, response) => {
    const pathname = decodeURIComponent(new URL(request.url ?? '/', 'http://localhost').pathname);
    const inside = pathname.startsWith(prefix) ? `/${pathname.slice(prefix.length)}` : null;
    let file = inside === null ? '' : path.join(base, inside.endsWith('/') ? `${inside}index.html` : inside);
    if (!file.startsWith(base)) file = '';
    let size = -1;
    try {
      const stat = statSync(file);
      if (stat.isFile()) size = stat.size;
    } catch {
      size = -1;
    }
    if (size < 0) {
      response.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found');
      return;
    }
    response.writeHead(200, { 'Content-Type': TYPES[path.extname(file)] ?? 'application/octet-stream', 'Content-Length': size });
    createReadStream(file).pipe(response);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://localhost:${port}${prefix}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
