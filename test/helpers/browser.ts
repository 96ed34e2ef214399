import { existsSync } from 'node:fs';
import type { Browser } from 'playwright-core';

/** Debian's Chromium, as `.ci/run` installs it (no browser download). */
export const CHROMIUM = process.env.THROTTLESCOPE_CHROMIUM ?? '/usr/bin/chromium';
export const chromiumAvailable = existsSync(CHROMIUM);
/** Browser tests skip without Chromium, except in CI (THROTTLESCOPE_REQUIRE_TOOLS=1), where that is a failure. */
export const requireTools = process.env.THROTTLESCOPE_REQUIRE_TOOLS === '1';

/** Headless, with the background networking off: this machine's network is closed. */
export async function launchChromium(): Promise<Browser> {
  const { chromium } = await import('playwright-core');
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}
