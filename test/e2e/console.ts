// What each console test in Chromium starts with: `chute dev` in-process on free ports, a fresh
// browser, the page loaded and ready, and every console error or script error collected (a CSP
// violation or a script error would mean the page only works by accident).
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { type DevServer, startDev } from '../../packages/cli/src/dev.ts';
import { launchChromium } from './browser.ts';

// The one env read of these suites: where to leave screenshots (default: the temp dir).
const SCREENSHOTS = process.env['CHUTE_E2E_SCREENSHOTS'] ?? tmpdir();

export interface Console {
  dataDir: string;
  dev: DevServer;
  browser: Awaited<ReturnType<typeof launchChromium>>;
  page: Page;
  /** Console and page errors seen so far (except those `expected` matches). */
  problems: string[];
  shoot(name: string): Promise<void>;
  close(): Promise<void>;
}

export async function openConsole(label: string, expected?: RegExp): Promise<Console> {
  const dataDir = await mkdtemp(join(tmpdir(), `chute-e2e-${label}-`));
  const dev = await startDev({ dataDir, host: '127.0.0.1', port: 0, s3Port: 0 });
  const browser = await launchChromium();
  const page = await browser.context.newPage();
  const problems: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error' && !(expected?.test(m.text()) ?? false)) problems.push(`console: ${m.text()}`);
  });
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
  await page.goto(`${dev.gatewayUrl}/`);
  await page.waitForSelector('body[data-ready="true"]');
  return {
    dataDir,
    dev,
    browser,
    page,
    problems,
    async shoot(name) {
      const path = join(SCREENSHOTS, name);
      await page.screenshot({ path, fullPage: true });
      process.stderr.write(`# screenshot: ${path}\n`);
    },
    async close() {
      await browser.close();
      await dev.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}
