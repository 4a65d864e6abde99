import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { resultsDir } from './stack.ts';

/**
 * One browser context at a time for a test file: `open` starts a fresh one
 * (closing the last), collecting the page's errors, CSP violations and failed
 * loads included, so each test can assert there were none.
 */
export class BrowserPages {
  private context: BrowserContext | null = null;
  errors: string[] = [];

  constructor(private readonly browser: () => Browser) {}

  async open(
    viewport: { width: number; height: number },
    url: string,
    options: { apiKey?: string; acceptDownloads?: boolean } = {},
  ): Promise<Page> {
    await this.close();
    this.context = await this.browser().newContext({ viewport, acceptDownloads: options.acceptDownloads ?? false });
    if (options.apiKey) {
      // As if the key had been entered in this tab before: it lives in sessionStorage.
      await this.context.addInitScript((key) => sessionStorage.setItem('tokenflow.apiKey', key), options.apiKey);
    }
    const page = await this.context.newPage();
    this.errors = [];
    page.on('pageerror', (error) => this.errors.push(error.message));
    page.on('console', (message) => {
      if (message.type() === 'error') this.errors.push(message.text());
    });
    await page.goto(`${url}/`);
    return page;
  }

  async close() {
    await this.context?.close();
    this.context = null;
  }
}

export async function screenshot(page: Page, name: string) {
  const path = join(resultsDir, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  console.log(`screenshot: ${path}`);
}
