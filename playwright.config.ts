import { defineConfig } from '@playwright/test';
import { CHROMIUM_ARGS, chromiumPath } from './scripts/browser';
import { isCI } from './scripts/ci';

/** E2E_PORT lets two checkouts run their tests side by side without reusing each other's server. */
const PORT = Number(process.env.E2E_PORT ?? 4173);
/** The development server (`npm run dev`), for the one spec that checks it still trains. */
const DEV_PORT = PORT + 1;

/**
 * The specs whose checks time the page on this machine: the longest main-thread task during a run
 * (curves, classify), a hidden tab's speed against a visible one's (background), the preset costs and
 * the preset they make the page offer (costs).
 */
const TIMED = /\/(background|classify|costs|curves)\.spec\.ts$/;

export default defineConfig({
  testDir: 'e2e',
  // e2e/*.test.ts are Vitest's (checks of the specs and the reporter themselves).
  testMatch: /\.spec\.ts$/,
  globalSetup: './e2e/global-setup.ts',
  // Training in software-emulated GPUs is slow; each test trains tiny models on small slices. Five minutes
  // leaves room for a CI machine busy with other work (a test that loads, trains and then scans took 3.1 min
  // beside two busy processes on 2 cores, 1.3 min alone).
  timeout: 300_000,
  expect: { timeout: 30_000 },
  // Two at a time: one test alone keeps two cores about 80 % busy (a software GPU leaves a third of them idle,
  // page loads wait on the disk), so a second beside it fills the gaps. The specs that time the page run
  // afterwards, one at a time (the `alone` project).
  workers: 2,
  fullyParallel: false,
  forbidOnly: isCI(),
  retries: 0,
  reporter: [['list'], ['./e2e/summary-reporter.ts']],
  use: {
    baseURL: `http://localhost:${PORT}`,
    launchOptions: { executablePath: chromiumPath(), args: CHROMIUM_ARGS },
    trace: 'retain-on-failure',
  },
  projects: [
    { name: 'built', testIgnore: [/dev\.spec\.ts$/, TIMED] },
    { name: 'dev', testMatch: /dev\.spec\.ts$/, use: { baseURL: `http://localhost:${DEV_PORT}` } },
    // After the others, one test at a time: a test beside it would stretch the tasks and rates these measure.
    { name: 'alone', testMatch: TIMED, dependencies: ['built', 'dev'], workers: 1 },
  ],
  webServer: [
    {
      command: `npm run build && npx vite preview --port ${PORT} --strictPort`,
      url: `http://localhost:${PORT}`,
      reuseExistingServer: !isCI(),
      timeout: 180_000,
      stdout: 'ignore',
    },
    {
      command: `npx vite --port ${DEV_PORT} --strictPort`,
      url: `http://localhost:${DEV_PORT}`,
      reuseExistingServer: !isCI(),
      timeout: 60_000,
      stdout: 'ignore',
    },
  ],
});
