// Drives the mailroom console in headless Chromium, for internal/web's
// TestConsole_Browser: log in, grant Send As through the permissions form,
// find a refused submission in the trace with its reason, save a
// screenshot of the trace and one of the dashboard; then, at a phone's
// 390x844, visit every page of the menu and the lists (a folder, a
// message, a mailbox's activity) and check that none scrolls sideways,
// saving a screenshot of each (shot). The browser runs in Asia/Kolkata
// (UTC+05:30) to check that times are shown in its zone. Configured by the
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
const zone = 'Asia/Kolkata';
try {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, timezoneId: zone });
  const page = await context.newPage();
  // shot saves a full-page screenshot of the current page beside
  // MAILROOM_SCREENSHOT, as console-NAME.png.
  const shot = async (name, p = page) => {
    const path = env('MAILROOM_SCREENSHOT').replace(/[^/]*$/, '') + 'console-' + name + '.png';
    await p.screenshot({ path, fullPage: true });
    console.log('screenshot: ' + path);
  };
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
  const refusal = page.locator('.timeline li.kind-refused').first();
  const reason = (await refusal.locator('.reason').textContent()).trim();
  const reply = (await refusal.locator('.reply').textContent()).trim();
  console.log(JSON.stringify({ reason, reply }));
  if (reason !== 'send_as_denied' || !reply.startsWith('550 5.7.60')) {
    throw new Error(`refusal shows reason ${reason}, reply ${reply}`);
  }

  step('screenshot');
  await page.screenshot({ path: env('MAILROOM_SCREENSHOT'), fullPage: true });
  await page.click('nav >> text=Dashboard');
  const refused = await page.textContent('.totals .ref');
  if (!refused.includes('refused 1')) throw new Error('dashboard totals: ' + refused);
  await page.screenshot({ path: env('MAILROOM_SCREENSHOT').replace(/\.png$/, '') + '-dashboard.png', fullPage: true });

  step('times in the browser\'s zone');
  const tz = await page.textContent('#tz');
  if (!/Asia\/(Kolkata|Calcutta)/.test(tz) || !tz.includes('UTC+05:30')) throw new Error('zone note: ' + tz);
  const hour = page.locator('.chart .hour').last();
  const start = await hour.getAttribute('data-start');
  const local = new Intl.DateTimeFormat('en-GB', { timeZone: zone, hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).format(new Date(start));
  if ((await hour.textContent()) !== local) throw new Error(`hour ${start} labelled ${await hour.textContent()}, want ${local}`);

  step('lists');
  await page.goto(base + '/messages/app@example.test');
  await shot('folder');
  await page.click('#folder tr:nth-child(2) a');
  await page.waitForSelector('#download');
  const stamp = await page.textContent('.headers');
  if (!stamp.includes('Invoice 42')) throw new Error('message page: ' + stamp);
  await shot('message');
  const message = page.url().slice(base.length);
  const pages = ['/', '/queue', '/messages/app@example.test', '/mailboxes/app@example.test', '/mailboxes/app@example.test/activity', message];
  for (const href of await page.locator('nav a').evaluateAll((as) => as.map((a) => a.getAttribute('href')))) {
    if (!pages.includes(href)) pages.push(href);
  }
  await page.goto(base + '/queue');
  await shot('queue');
  await page.goto(base + '/mailboxes/app@example.test/activity');
  await shot('activity');

  step('a 390-pixel phone: no page scrolls sideways');
  await page.setViewportSize({ width: 390, height: 844 });
  for (const href of pages) {
    await page.goto(base + href);
    const width = await page.evaluate(() => document.documentElement.scrollWidth);
    console.log(`phone ${href}: scrollWidth ${width}`);
    if (width > 390) throw new Error(`${href} is ${width} px wide on a 390 px phone`);
    await shot('phone' + (href === '/' ? '-dashboard' : href === message ? '-message' : href.replace(/[^a-z0-9]+/gi, '-').replace(/-$/, '')));
  }
  const anon = await browser.newPage({ viewport: { width: 390, height: 844 } });
  await anon.goto(base + '/login');
  const loginWidth = await anon.evaluate(() => document.documentElement.scrollWidth);
  console.log(`phone /login: scrollWidth ${loginWidth}`);
  if (loginWidth > 390) throw new Error(`/login is ${loginWidth} px wide on a 390 px phone`);
  await shot('phone-login', anon);
  if (problems.length) throw new Error('browser errors: ' + problems.join('; '));
  step('done');
} finally {
  await browser.close();
}
