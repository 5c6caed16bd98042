import { defineConfig } from '@playwright/test';
import { CHROMIUM_ARGS, chromiumPath } from './scripts/browser';
import { isCI } from './scripts/ci';

/** E2E_PORT lets two checkouts run their tests side by side without reusing each other's server. */
const PORT = Number(process.env.E2E_PORT ?? 4173);
/** The development server (`npm run dev`), for the one spec that checks it still trains. */
const DEV_PORT = PORT + 1;

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
  // Two cores: tests that train would starve each other.
  workers: 1,
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
    { name: 'built', testIgnore: /dev\.spec\.ts$/ },
    { name: 'dev', testMatch: /dev\.spec\.ts$/, use: { baseURL: `http://localhost:${DEV_PORT}` } },
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
