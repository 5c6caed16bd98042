/**
 * How we start Chromium, for Playwright tests and for the headless CLIs
 * (`npm run train`, `npm run bench`). Playwright cannot download its own
 * browser on machines without internet, so we use the system one.
 */
import { existsSync } from 'node:fs';

/** Standard places a Chromium or Chrome lives, tried in order after `CHROMIUM_PATH`. */
const CANDIDATES = ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome', '/usr/bin/google-chrome-stable'];

/** The browser to drive: `CHROMIUM_PATH` if set, else the first standard path that exists, else Playwright's own download. */
export function chromiumPath(): string | undefined {
  const fromEnv = process.env.CHROMIUM_PATH;
  if (fromEnv) {
    if (!existsSync(fromEnv)) throw new Error(`CHROMIUM_PATH=${fromEnv} does not exist`);
    return fromEnv;
  }
  return CANDIDATES.find((p) => existsSync(p));
}

export const CHROMIUM_ARGS = [
  // WebGPU is still behind a flag on Linux.
  '--enable-unsafe-webgpu',
  '--no-sandbox',
  // Keep Chromium off the network: these machines have none, and each refused
  // connection costs start-up time.
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-quic',
  '--no-first-run',
  // Training must not slow down when the page is hidden or the tab is in the background.
  '--disable-background-timer-throttling',
  '--disable-renderer-backgrounding',
  '--disable-backgrounding-occluded-windows',
];
