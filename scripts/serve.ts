/**
 * Builds the app (unless told not to) and serves it on a free localhost port,
 * for the headless CLIs (`npm run train`, `npm run bench`).
 */
import { existsSync } from 'node:fs';
import { build, preview, type PreviewServer } from 'vite';
import { DATA_DIR } from './convert';

export interface Served {
  url: string;
  close(): Promise<void>;
}

/**
 * `port` 0 (the default) lets the OS pick, so a CLI never collides with `npm start` or the tests;
 * a fixed port keeps the page's origin, and so its stored checkpoint, the same from one command to the next.
 */
export async function serveBuiltApp(opts: { rebuild: boolean; port?: number }): Promise<Served> {
  if (!existsSync(`${DATA_DIR}/manifest.json`)) {
    throw new Error('CIFAR-10 shards are missing: run "npm run data" first (add --archive PATH without internet).');
  }
  if (opts.rebuild || !existsSync('dist/index.html')) await build({ logLevel: 'warn' });
  const port = opts.port ?? 0;
  const server: PreviewServer = await preview({
    preview: { port, strictPort: port !== 0, host: '127.0.0.1', open: false },
    logLevel: 'warn',
  });
  const address = server.httpServer.address();
  if (!address || typeof address === 'string') throw new Error('The preview server has no TCP address');
  return {
    url: `http://localhost:${address.port}/`,
    close: () => server.close(),
  };
}
