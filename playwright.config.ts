import { defineConfig } from '@playwright/test';
import { chromiumArgs, chromiumPath } from './scripts/chromium.mjs';

/**
 * The shared test server's port: not 4173, so a running `npm start` is never tested by mistake.
 * NIGHTCORE_E2E_PORT moves it, so two checkouts can run their browser tests side by side.
 */
export const E2E_PORT = Number(process.env.NIGHTCORE_E2E_PORT ?? 4199);

export default defineConfig({
  testDir: 'tests/e2e',
  fullyParallel: false,
  workers: 1, // two cores: one worker is as fast as two, and service-worker tests stay apart
  retries: 0,
  forbidOnly: true,
  timeout: 30_000,
  expect: { timeout: 5_000 },
  reporter: process.env.PLAYWRIGHT_JSON_OUTPUT_NAME ? [['list'], ['json']] : [['list']],
  use: {
    baseURL: `http://localhost:${E2E_PORT}`,
    browserName: 'chromium',
    launchOptions: { executablePath: chromiumPath, args: chromiumArgs },
    trace: 'off',
    screenshot: 'off'
  },
  webServer: {
    command: `node scripts/serve.mjs`,
    env: { PORT: String(E2E_PORT) },
    url: `http://localhost:${E2E_PORT}/`,
    reuseExistingServer: false,
    timeout: 30_000
  }
});
