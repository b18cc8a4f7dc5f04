// Drives the mailroom console in headless Chromium, for internal/web's
// TestConsole_Browser: log in, grant Send As through the permissions form,
// find a refused submission in the trace with its reason, save a
// screenshot of the trace and one of the dashboard. Configured by the
// environment the Go test sets: MAILROOM_URL, MAILROOM_USER,
// MAILROOM_PASSWORD, MAILROOM_SCREENSHOT, CHROMIUM (default
// /usr/bin/chromium). Never downloads a browser.
import { chromium } from 'playwright-core';

const env = (k, d) => process.env[k] ?? d;
const base = env('MAILROOM_URL');
const step = (s) => console.log('step: ' + s);

const browser = await chromium.launch({
  executablePath: env('CHROMIUM', '/usr/bin/chromium'),
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
    '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage'],
});
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  page.setDefaultTimeout(5000);
  const problems = [];
  page.on('console', (m) => { if (m.type() === 'error') problems.push(m.text()); });
  page.on('pageerror', (e) => problems.push(String(e)));

  step('log in');
  await page.goto(base + '/trace');
  await page.waitForURL(/\/login/);
  await page.fill('input[name=user]', env('MAILROOM_USER'));
  await page.fill('input[name=password]', env('MAILROOM_PASSWORD'));
  await Promise.all([page.waitForURL(base + '/trace'), page.click('#login button[type=submit]')]);

  step('grant send-as');
  await page.click('nav >> text=Permissions');
  await page.selectOption('#grant select[name=kind]', 'send-as');
  await page.fill('#grant input[name=on]', 'support@example.test');
  await page.fill('#grant input[name=to]', 'app@example.test');
  await Promise.all([page.waitForURL(/\/permissions\?flash=/), page.click('#grant button[type=submit]')]);
  const flash = await page.textContent('.flash');
  if (!flash.includes('Granted send-as on support@example.test to app@example.test')) {
    throw new Error('no confirmation of the grant: ' + flash);
  }
  const row = page.locator('#grants tr', { hasText: 'support@example.test' });
  if ((await row.count()) !== 1) throw new Error('the grant is not listed');

  step('find the refusal in the trace');
  await page.click('nav >> text=Trace');
  await page.fill('#trace-search input[name=sender]', 'support@example.test');
  await page.selectOption('#trace-search select[name=status]', 'refused');
  await Promise.all([page.waitForURL(/status=refused/), page.click('#trace-search button[type=submit]')]);
  const refusal = page.locator('#attempts tr.attempt').first();
  const reason = (await refusal.locator('.reason').textContent()).trim();
  const reply = (await refusal.locator('.reply').textContent()).trim();
  console.log(JSON.stringify({ reason, reply }));
  if (reason !== 'send_as_denied' || !reply.startsWith('550 5.7.60')) {
    throw new Error(`refusal shows reason ${reason}, reply ${reply}`);
  }

  step('screenshot');
  await page.screenshot({ path: env('MAILROOM_SCREENSHOT'), fullPage: true });
  const shotName = (suffix) => env('MAILROOM_SCREENSHOT').replace(/\.png$/, '') + suffix + '.png';

  step('open the refused attempt');
  await Promise.all([page.waitForURL(/\/trace\/\d+$/), refusal.locator('td a').first().click()]);
  const detail = await page.textContent('#attempt');
  if (!detail.includes('send_as_denied') || !detail.includes('support@example.test')) throw new Error('attempt detail: ' + detail);
  if ((await page.locator('#session-events li.kind-auth').count()) < 1) throw new Error('the detail does not show the session\'s AUTH');
  await page.screenshot({ path: shotName('-detail-refused'), fullPage: true });

  step('the whole trace, and an accepted attempt');
  await page.goto(base + '/trace');
  if ((await page.locator('#attempts tr.attempt.st-accepted').count()) < 1) throw new Error('no accepted attempt in the trace');
  await page.screenshot({ path: shotName('-all'), fullPage: true });
  await Promise.all([page.waitForURL(/\/trace\/\d+$/), page.locator('#attempts tr.attempt.st-accepted td a').first().click()]);
  if ((await page.locator('#deliveries').count()) !== 1) throw new Error('the accepted attempt shows no deliveries');
  await page.screenshot({ path: shotName('-detail-accepted'), fullPage: true });
  await Promise.all([page.waitForURL(/\/messages\//), page.click('a.message-link')]);
  await page.click('nav >> text=Dashboard');
  const refused = await page.textContent('.totals .ref');
  if (!refused.includes('refused 1')) throw new Error('dashboard totals: ' + refused);
  await page.screenshot({ path: env('MAILROOM_SCREENSHOT').replace(/\.png$/, '') + '-dashboard.png', fullPage: true });
  if (problems.length) throw new Error('browser errors: ' + problems.join('; '));
  step('done');
} finally {
  await browser.close();
}
