import { existsSync, mkdirSync } from 'node:fs';
import * as path from 'node:path';
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { type Browser, chromium, type Page } from 'playwright-core';
import { quoteToCash } from '../../local/demo';
import type { LocalRuntime } from '../../local/runtime/runtime';
import { eventually, invoiceFinalized, postStripeWebhook, startRuntime } from '../support/local-runtime';

/**
 * The local console in a real browser (Debian's Chromium through playwright-core; `.ci/run` installs
 * it when missing): after the demo's saga, it shows the execution as succeeded with its state graph,
 * a poisoned message in its DLQ, and replays an exception from the page.
 */

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
let runtime: LocalRuntime;
let browser: Browser;
let page: Page;
const sagaChecks: { what: string; ok: boolean }[] = [];

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `no Chromium at ${CHROMIUM}: run 'apt-get install chromium' (.ci/run does) or set CHROMIUM_PATH`,
    );
  }
  runtime = await startRuntime({ waitTimeScale: 0.05 });
  await quoteToCash(runtime, (what, ok) => sagaChecks.push({ what, ok }));
  // An exception (a currency the ERP has no id for) and a message no consumer can read.
  expect((await postStripeWebhook(runtime, invoiceFinalized({ currency: 'jpy' }))).status).toBe(200);
  const queue = runtime.status().queues.find((q) => q.name.includes('PostInvoiceConsumerQueue'));
  const sqs = new SQSClient({
    region: 'us-east-1',
    endpoint: runtime.awsUrl,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  await sqs.send(new SendMessageCommand({ QueueUrl: queue?.url, MessageBody: '{"not":"an event"}' }));
  sqs.destroy();
  await eventually(
    () => runtime.status().queues.some((q) => q.name.includes('PostInvoiceConsumerDlq') && q.visible > 0),
    'the poison message in the DLQ',
  );
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    // As root in a sandbox with no network: no Chromium sandbox, nothing that phones home.
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  page = await browser.newPage({ viewport: { width: 1280, height: 1400 } });
  await page.goto(`${runtime.apiUrl}/_local/console`);
  await page.waitForSelector('body[data-loaded="true"]');
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await runtime?.stop();
});

describe('the local console in a browser', () => {
  it('draws every flow of the template, from webhook to vendor, with live counts', async () => {
    expect(sagaChecks.filter((c) => !c.ok)).toEqual([]);
    const lanes = await page.locator('#flows .lane').allTextContents();
    expect(lanes.some((lane) => lane.includes('POST /webhooks/stripe') && lane.includes('inv'))).toBe(true);
    const posting = lanes.find((lane) => lane.includes('billing.invoice.finalized'));
    expect(posting).toMatch(/queue .*PostInvoice/);
    expect(posting).toContain('NetSuite');
    expect(lanes.some((lane) => lane.includes('crm.deal.won'))).toBe(true);
  });

  it("shows the demo's saga as succeeded, with every state it ran green in its graph", async () => {
    const row = page.locator('tr.execution', { hasText: 'SUCCEEDED' }).first();
    await row.locator('a').click();
    await page.waitForSelector('#graph svg');
    expect(await page.locator('#graph h2').textContent()).toContain('SUCCEEDED');
    expect(await page.locator('#graph .state.succeeded').count()).toBeGreaterThan(3);
    expect(await page.locator('#graph .state.failed').count()).toBe(0);
  });

  it('shows the poisoned message in its DLQ, with why it is there, and redrives it', async () => {
    const dlq = page.locator('tr.dlq', { hasText: 'PostInvoiceConsumerDlq' });
    await dlq
      .locator('text=unreadable')
      .first()
      .waitFor({ timeout: 10_000 })
      .catch(() => undefined);
    const text = await dlq.textContent();
    expect(text).toMatch(/received 5×/);
    expect(text).not.toContain('an event');
    await dlq.locator('button[data-redrive]').click();
    await page.locator('#notice', { hasText: '1 moved' }).waitFor();
  });

  it('lists the exception with its reason and replays it from the page', async () => {
    const row = page.locator('tr.exception', { hasText: 'CurrencyNotMapped' }).first();
    await row.waitFor();
    expect(await row.textContent()).toContain('currency JPY has no NetSuite currency configured');
    await row.locator('button[data-replay]').click();
    await page.locator('#notice', { hasText: /^replayed/ }).waitFor();
    await page.locator('tr.exception', { hasText: 'REPLAYED' }).first().waitFor();
    const screenshot = process.env.CONSOLE_SCREENSHOT;
    if (screenshot) {
      mkdirSync(path.dirname(screenshot), { recursive: true });
      await page.screenshot({ path: screenshot, fullPage: true });
    }
  });

  it('shows the trail of an invoice id typed into the search box', async () => {
    const invoiceId = await page.locator('tr.exception td').nth(4).textContent();
    const id = invoiceId?.split(' ').pop() ?? '';
    await page.fill('#search-id', id);
    await page.click('#search button');
    await page.locator('tr.trail-step', { hasText: 'CurrencyNotMapped' }).first().waitFor();
  });

  it('serves nothing but the console and answers an unknown action with 404', async () => {
    const response = await fetch(`${runtime.apiUrl}/_local/console/nothing`);
    expect(response.status).toBe(404);
  });
});
