import { createHash, randomBytes } from 'node:crypto';
import { startGateway } from '@tokenflow/server/test-utils';
import type { Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { BrowserPages, screenshot } from './browser-pages.ts';
import { MISSING_MODEL, REASONING_MODEL, type Stack, startStack } from './stack.ts';

const PHONE = { width: 360, height: 780 };
const DESKTOP = { width: 1280, height: 900 };

let stack: Stack;
const pages = new BrowserPages(() => stack.browser);

beforeAll(async () => {
  stack = await startStack();
});

afterAll(async () => {
  await stack?.close();
});

afterEach(async () => {
  await pages.close();
});

const answerLength = (page: Page, panel: string) =>
  page
    .locator(`${panel} .answer-text`)
    .textContent()
    .then((text) => text?.length ?? 0);

/** Samples the answer's length until it has grown `times` times in a row. */
async function expectGrowing(page: Page, panel: string, times: number) {
  await expect.poll(() => answerLength(page, panel), { timeout: 15_000 }).toBeGreaterThan(0);
  const samples = [await answerLength(page, panel)];
  while (samples.length <= times) {
    await page.waitForTimeout(300);
    samples.push(await answerLength(page, panel));
  }
  for (let i = 1; i < samples.length; i += 1) expect(samples[i]).toBeGreaterThan(samples[i - 1] as number);
  return samples;
}

describe('the playground, in Chromium against the real gateway, ML service and a replayed provider', () => {
  it('streams a routed answer token by token on a phone-width screen, and Stop aborts the upstream request', async () => {
    const page = await pages.open(PHONE, stack.gateway.url);
    const panel = '#panel-select';
    const badge = page.locator('.connection-badge');
    await expect.poll(() => badge.textContent()).toContain('Idle');

    const prompt = page.locator(panel).getByLabel('Prompt text');
    await prompt.fill('Write a Python function that merges two sorted lists into one sorted list.');
    await prompt.press('Control+Enter');

    // Classification and routing arrive in the metadata event, before the first token.
    await expect.poll(() => page.locator(`${panel} .bars .bar`).count(), { timeout: 15_000 }).toBeGreaterThan(1);
    // The chosen category is the best-scored bar (MiniLM's call, so no fixed label is asserted).
    const topLabel = await page.locator(`${panel} .bars .bar-label`).first().textContent();
    expect(await page.locator(`${panel} .classification .category`).textContent()).toBe(topLabel);
    expect(await page.locator(`${panel} .chosen-model`).textContent()).toMatch(/^groq\//);
    expect(await page.locator(`${panel} .candidates tbody tr`).count()).toBeGreaterThan(0);
    expect(await badge.textContent()).toContain('Connected');

    const samples = await expectGrowing(page, panel, 3);
    console.log(`answer length while streaming: ${samples.join(' < ')}`);
    expect(await page.locator(`${panel} .stream-status`).textContent()).toMatch(/^Streaming from groq\//);
    // The phone layout never scrolls sideways.
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(PHONE.width);
    await screenshot(page, 'playground-phone-streaming');

    const aborted = stack.upstream.nextAbort();
    const abortsBefore = stack.upstream.abortedStreams;
    await page.locator(panel).getByRole('button', { name: 'Stop' }).click();
    await aborted;
    expect(stack.upstream.abortedStreams).toBe(abortsBefore + 1);

    await expect.poll(() => page.locator(`${panel} .stream-status`).textContent()).toMatch(/^Stopped/);
    expect(await page.locator(panel).getByRole('button', { name: 'Run' }).isEnabled()).toBe(true);
    expect(await page.locator(panel).getByRole('button', { name: 'Stop' }).isDisabled()).toBe(true);
    // Nothing arrives after Stop.
    const stoppedAt = await answerLength(page, panel);
    await page.waitForTimeout(500);
    expect(await answerLength(page, panel)).toBe(stoppedAt);
    await screenshot(page, 'playground-phone-stopped');
    expect(pages.errors).toEqual([]);
  });

  it('compresses the prompt, routes it and streams to the end on a desktop screen, with usage and savings', async () => {
    const page = await pages.open(DESKTOP, stack.gateway.url);
    const panel = '#panel-select';
    await page
      .locator(panel)
      .getByLabel('Prompt text')
      .fill(
        'Our team met on Monday to review the budget for the third quarter. Explain, step by step, how to reason about whether the launch should move to November, given that marketing needs six weeks.',
      );
    await page.locator(panel).getByRole('radio', { name: 'Keep a ratio' }).check();
    await page.locator(panel).getByLabel('Max tokens').fill('256');
    // Run from the keyboard: focus the button and press Enter.
    await page.locator(panel).getByRole('button', { name: 'Run' }).focus();
    await page.keyboard.press('Enter');

    await expect.poll(() => page.locator(`${panel} .compression-summary`).count(), { timeout: 15_000 }).toBe(1);
    expect(await page.locator(`${panel} .compression-summary`).textContent()).toMatch(/Before\d[\d,]* tokens/);
    await expectGrowing(page, panel, 3);
    await expect
      .poll(() => page.locator(`${panel} .stream-status`).textContent(), { timeout: 45_000 })
      .toMatch(/^Done from groq\/.*: finish reason stop/);
    const usage = await page.locator(`${panel} .usage`).textContent();
    expect(usage).toMatch(/Tokens\d[\d,]* tokens in, \d[\d,]* tokens out/);
    expect(usage).toMatch(/Cost\$\d/);
    expect(await page.locator(`${panel} .compression-summary`).textContent()).toMatch(/Saved-?\d[\d,]* tokens?, /);
    // The recorded answer is Markdown: its headings and bold text render as such, not as syntax.
    const answer = page.locator(`${panel} .answer-text`);
    expect(await answer.locator('h3').first().textContent()).toBe('Ingredients:');
    expect(await answer.locator('li strong').count()).toBeGreaterThan(0);
    expect(await answer.textContent()).not.toMatch(/\*\*|###/);
    await screenshot(page, 'playground-desktop-done');
    expect(pages.errors).toEqual([]);
  }, 90_000);

  it('moves between tabs with the arrow keys and shows the dropped words of a compression struck through', async () => {
    const page = await pages.open(PHONE, stack.gateway.url);
    await page.getByRole('tab', { name: 'Route & answer' }).focus();
    await page.keyboard.press('ArrowLeft'); // wraps around to the last tab
    expect(await page.getByRole('tab', { name: 'Usage' }).getAttribute('aria-selected')).toBe('true');
    await page.keyboard.press('ArrowLeft');
    expect(await page.getByRole('tab', { name: 'Compress' }).getAttribute('aria-selected')).toBe('true');
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe('Compress');

    await page.locator('#panel-compress').getByRole('button', { name: 'Compress' }).click();
    await expect.poll(() => page.locator('#panel-compress .diff del').count(), { timeout: 15_000 }).toBeGreaterThan(0);
    const struck = await page
      .locator('#panel-compress .diff del')
      .first()
      .evaluate((el) => getComputedStyle(el).textDecorationLine);
    expect(struck).toBe('line-through');
    expect(await page.locator('#panel-compress').textContent()).toMatch(/\d+ tokens → \d+ tokens/);
    await screenshot(page, 'playground-phone-compress');
    expect(pages.errors).toEqual([]);
  });

  it("lists the catalog's models for generate, shows a 404 as NOT_FOUND, and shows reasoning in its own panel", async () => {
    const page = await pages.open(DESKTOP, stack.gateway.url);
    const panel = page.locator('#panel-generate');
    await page.getByRole('tab', { name: 'Generate' }).click();

    const picker = panel.getByLabel('Model', { exact: true });
    await expect
      .poll(() => picker.locator('option').allTextContents())
      .toContainEqual(expect.stringMatching(/^groq\/llama-3\.1-8b-instant/));
    expect(await picker.inputValue()).toMatch(/^groq\//); // the best-ranked configured model

    await picker.selectOption('custom');
    await panel.getByLabel('Model id').fill(`groq/${MISSING_MODEL}`);
    await panel.getByRole('button', { name: 'Run' }).click();
    const alert = panel.getByRole('alert');
    await expect.poll(() => alert.textContent(), { timeout: 15_000 }).toMatch(/^NOT_FOUND/);
    expect(await alert.textContent()).toMatch(/groq answered HTTP 404/);
    expect(await panel.locator('.stream-status').textContent()).toMatch(/^Failed/);
    await screenshot(page, 'playground-desktop-error');

    await panel.getByLabel('Model id').fill(`groq/${REASONING_MODEL}`);
    await panel.getByRole('button', { name: 'Run' }).click();
    await expect.poll(() => panel.locator('.stream-status').textContent(), { timeout: 15_000 }).toMatch(/^Done/);
    expect(await panel.getByRole('alert').count()).toBe(0);
    const reasoning = panel.locator('details.reasoning');
    expect(await reasoning.getAttribute('open')).toBeNull(); // collapsed until asked
    await reasoning.locator('summary').press('Enter');
    expect(await reasoning.getAttribute('open')).toBe('');
    expect((await reasoning.locator('.reasoning-text').textContent())?.length).toBeGreaterThan(0);
    await screenshot(page, 'playground-desktop-reasoning');
    // The 404 was logged by the browser as a failed subscription, not a page error.
    expect(pages.errors.filter((e) => !e.includes('NOT_FOUND'))).toEqual([]);
  });

  it('asks for an API key when the gateway requires one, and uses it over HTTP and the WebSocket once given', async () => {
    const key = `tf_${randomBytes(32).toString('base64url')}`;
    const hash = createHash('sha256').update(key).digest('hex');
    const gateway = await startGateway({ ...stack.gatewayEnv, TOKENFLOW_API_KEYS: `web:sha256:${hash}` });
    try {
      const page = await pages.open(DESKTOP, gateway.url);
      await page.getByRole('tab', { name: 'Compress' }).click();
      const panel = page.locator('#panel-compress');
      await panel.getByRole('button', { name: 'Compress' }).click();
      await expect.poll(() => panel.getByRole('alert').textContent(), { timeout: 15_000 }).toMatch(/^UNAUTHORIZED/);

      await page.locator('.api-key summary').click();
      await page.getByLabel('API key', { exact: true }).fill(key);
      await page.getByRole('button', { name: 'Use key' }).click();
      expect(await page.locator('.api-key summary').textContent()).toBe('API key (set)');
      expect(await page.evaluate(() => sessionStorage.getItem('tokenflow.apiKey'))).toBe(key);
      expect(page.url()).not.toContain(key);

      await panel.getByRole('button', { name: 'Compress' }).click();
      await expect.poll(() => panel.locator('.diff').count(), { timeout: 15_000 }).toBe(1);
      expect(await panel.getByRole('alert').count()).toBe(0);

      // The WebSocket carries the key in its connection params.
      await page.getByRole('tab', { name: 'Generate' }).click();
      const generate = page.locator('#panel-generate');
      await generate.getByLabel('Model', { exact: true }).selectOption('custom');
      await generate.getByLabel('Model id').fill(`groq/${REASONING_MODEL}`);
      await generate.getByRole('button', { name: 'Run' }).click();
      await expect.poll(() => generate.locator('.stream-status').textContent(), { timeout: 15_000 }).toMatch(/^Done/);
      // The refused compress call is the one expected console error (a 401 response).
      expect(pages.errors.filter((e) => !e.includes('401'))).toEqual([]);
    } finally {
      await pages.close();
      await gateway.close();
    }
  });
});
