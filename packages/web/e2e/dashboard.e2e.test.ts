import { readFileSync } from 'node:fs';
import { createTokenFlowClient, type RouterOutputs, streamGenerate, streamSelectModel } from '@tokenflow/client';
import { hashApiKey, type RunningGateway, startGateway } from '@tokenflow/server/test-utils';
import type { Locator } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { formatCount, formatUsd } from '../src/format.ts';
import { modelLabel } from '../src/usage/labels.ts';
import { BrowserPages, screenshot } from './browser-pages.ts';
import { MISSING_MODEL, type Stack, startStack } from './stack.ts';

const PHONE = { width: 360, height: 780 };
const DESKTOP = { width: 1280, height: 900 };
const KEY = 'tf_dashboard-e2e-key-0123456789abcdef0123456789';
/** A recording with provider usage, served at once: the requests here are about the log, not the stream. */
const QUICK_ANSWER = { fixture: 'groq-thinking-part-iter-1', eventDelayMs: 0 };

type UsageReport = RouterOutputs['usage'];

let stack: Stack;
const pages = new BrowserPages(() => stack.browser);

beforeAll(async () => {
  stack = await startStack();
  stack.upstream.use(({ body }) =>
    body.model === MISSING_MODEL
      ? { fault: { kind: 'status', status: 404, message: `The model ${MISSING_MODEL} does not exist` } }
      : QUICK_ANSWER,
  );
});

afterAll(async () => {
  await stack?.close();
});

afterEach(async () => {
  await pages.close();
});

/** Five requests through the client over real sockets: routed (one compressed), generated, failed, compressed. */
async function makeRequests(url: string, apiKey: string) {
  const client = createTokenFlowClient({ url, apiKey, WebSocket });
  const drain = async (events: AsyncIterable<unknown>) => {
    for await (const _ of events);
  };
  try {
    await drain(streamSelectModel(client, { prompt: 'Write a Python function that reverses a string.' }));
    await drain(
      streamSelectModel(client, {
        prompt:
          'Our team met on Monday to review the budget for the third quarter. Explain, step by step, whether the launch should move to November.',
        compress: { ratio: 0.5 },
      }),
    );
    await drain(streamGenerate(client, { provider: 'groq', model: 'llama-3.1-8b-instant', prompt: 'Say hello.' }));
    await expect(
      drain(streamGenerate(client, { provider: 'groq', model: MISSING_MODEL, prompt: 'Hi' })),
    ).rejects.toThrow();
    await client.trpc.compress.mutate({
      text: 'The project team met on Monday morning to review the third quarter budget and the launch plan.',
      ratio: 0.5,
    });
  } finally {
    await client.close();
  }
}

/** GET /api/usage once the log holds `requests` rows (it is written a moment after each request ends). */
async function usageOf(gateway: RunningGateway, apiKey: string, requests: number): Promise<UsageReport> {
  let report: UsageReport | null = null;
  await expect
    .poll(
      async () => {
        const response = await fetch(`${gateway.url}/api/usage`, { headers: { authorization: `Bearer ${apiKey}` } });
        report = (await response.json()) as UsageReport;
        return report.totals?.requests;
      },
      { timeout: 10_000 },
    )
    .toBe(requests);
  return report as unknown as UsageReport;
}

/** The titles of the cards whose content is wider than the card (a table that does not fit, say). */
const overflowingCards = (panel: Locator) =>
  panel
    .locator('.card')
    .evaluateAll((cards) =>
      cards.filter((card) => card.scrollWidth > card.clientWidth).map((card) => card.querySelector('h3')?.textContent),
    );

const stat = (panel: Locator, name: string) => panel.locator(`.stat[data-stat="${name}"] .stat-value`).textContent();

/** How many pixels of a canvas are not transparent: uPlot draws axes, grid and lines on it. */
const paintedPixels = (canvas: Locator) =>
  canvas.evaluate((element: HTMLCanvasElement) => {
    const context = element.getContext('2d');
    if (!context || element.width === 0) return 0;
    const { data } = context.getImageData(0, 0, element.width, element.height);
    let painted = 0;
    for (let alpha = 3; alpha < data.length; alpha += 4) if ((data[alpha] ?? 0) > 0) painted += 1;
    return painted;
  });

describe('the usage dashboard, in Chromium against a real gateway, its request log and a replayed provider', () => {
  it('says no requests were made yet and that no budget is set, for a key that has asked nothing', async () => {
    const page = await pages.open(PHONE, stack.gateway.url, { acceptDownloads: true });
    await page.getByRole('tab', { name: 'Usage' }).click();
    const panel = page.locator('#panel-usage');

    await expect
      .poll(() => panel.locator('.usage-empty').textContent(), { timeout: 15_000 })
      .toMatch(/No requests yet/);
    expect(await panel.locator('.usage-empty').textContent()).toContain(
      'anonymous made no requests in the last 7 days',
    );
    expect(await panel.locator('.no-budget').textContent()).toMatch(/^No budget is set for the key anonymous/);
    expect(await panel.locator('canvas').count()).toBe(0);
    await screenshot(page, 'dashboard-empty-phone');
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(PHONE.width);
    expect(pages.errors).toEqual([]);
  });

  it("shows the key's requests, cost, spend chart, breakdowns and budgets as GET /api/usage reports them, and exports them as CSV", async () => {
    const gateway = await startGateway({
      ...stack.gatewayEnv,
      TOKENFLOW_API_KEYS: `web:${hashApiKey(KEY)}`,
      BUDGET_USD_PER_DAY: '0.05',
      BUDGET_TOKENS_PER_DAY: '200000',
    });
    try {
      await makeRequests(gateway.url, KEY);
      const expected = await usageOf(gateway, KEY, 5);
      expect(expected.totals).toMatchObject({ requests: 5, failed: 1 });

      // Without the key the gateway refuses, and both the report and the export say so.
      const page = await pages.open(DESKTOP, gateway.url, { acceptDownloads: true });
      await page.getByRole('tab', { name: 'Usage' }).click();
      const panel = page.locator('#panel-usage');
      await expect
        .poll(() => panel.getByRole('alert').first().textContent(), { timeout: 15_000 })
        .toMatch(/^UNAUTHORIZED/);
      expect(await panel.textContent()).toContain('set one under “API key”');
      await panel.getByRole('button', { name: 'Download CSV' }).click();
      await expect.poll(() => panel.locator('.csv-error').textContent()).toMatch(/^UNAUTHORIZED/);

      await page.locator('.api-key summary').click();
      await page.getByLabel('API key', { exact: true }).fill(KEY);
      await page.getByRole('button', { name: 'Use key' }).click();
      await page.locator('.api-key summary').click();

      await expect.poll(() => stat(panel, 'requests'), { timeout: 15_000 }).toBe(formatCount(expected.totals.requests));
      expect(await panel.getByRole('alert').count()).toBe(0);
      expect(await stat(panel, 'failed')).toBe(formatCount(expected.totals.failed));
      expect(await stat(panel, 'cost')).toBe(formatUsd(expected.totals.costUsd));
      expect(await stat(panel, 'tokens')).toBe(formatCount(expected.totals.totalTokens));
      expect(expected.totals.costUsd).toBeGreaterThan(0);

      const byModel = await panel.locator('section', { hasText: 'By model' }).textContent();
      for (const model of expected.byModel) expect(byModel).toContain(modelLabel(model));
      expect(await panel.locator('.routing-mix .bar').count()).toBeGreaterThan(0);
      expect(await panel.locator('.latency tbody tr').count()).toBe(2);
      expect(await panel.locator('.budget').count()).toBe(2);
      expect(await panel.locator('.budgets').textContent()).toMatch(/Spend today.*of \$0\.05.*Tokens today/);

      const canvas = panel.locator('.spend-chart canvas');
      expect(await canvas.count()).toBe(1);
      expect(await paintedPixels(canvas)).toBeGreaterThan(1000);
      expect(await panel.locator('.spend-chart .u-legend').textContent()).toContain(
        modelLabel(expected.byModel[0] ?? {}),
      );
      await screenshot(page, 'dashboard-desktop');
      expect(await overflowingCards(panel)).toEqual([]);

      const [download] = await Promise.all([
        page.waitForEvent('download'),
        panel.getByRole('button', { name: 'Download CSV' }).click(),
      ]);
      expect(download.suggestedFilename()).toMatch(/^tokenflow-usage-\d{4}-\d\d-\d\d-to-\d{4}-\d\d-\d\d\.csv$/);
      const lines = readFileSync(await download.path(), 'utf8')
        .trimEnd()
        .split('\r\n');
      expect(lines[0]).toMatch(/^id,time,day,key,procedure,/);
      expect(lines).toHaveLength(1 + expected.totals.requests);
      for (const line of lines.slice(1)) expect(line.split(',')[3]).toBe('web');
      expect(await panel.locator('.csv-error').count()).toBe(0);
      // The refusals before the key was set are the expected console errors (401 responses).
      expect(pages.errors.filter((error) => !error.includes('401'))).toEqual([]);
      await pages.close();

      const phone = await pages.open(PHONE, gateway.url, { apiKey: KEY, acceptDownloads: true });
      await phone.getByRole('tab', { name: 'Usage' }).click();
      const phonePanel = phone.locator('#panel-usage');
      await expect.poll(() => stat(phonePanel, 'requests'), { timeout: 15_000 }).toBe(formatCount(5));
      await phonePanel.locator('.range-picker label', { hasText: '24 hours' }).click();
      await expect.poll(() => phonePanel.locator('.stream-status').textContent()).toMatch(/last 24 hours/);
      expect(await stat(phonePanel, 'requests')).toBe(formatCount(5));
      expect(await paintedPixels(phonePanel.locator('.spend-chart canvas'))).toBeGreaterThan(1000);
      await screenshot(phone, 'dashboard-phone');
      // Charts and tables fit the phone: the page never scrolls sideways, and no card's content spills out.
      expect(await overflowingCards(phonePanel)).toEqual([]);
      expect(await phone.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(PHONE.width);
      expect(pages.errors).toEqual([]);
    } finally {
      await pages.close();
      await gateway.close();
    }
  }, 120_000);
});
