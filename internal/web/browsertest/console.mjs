// Drives the mailroom console in headless Chromium, for internal/web's
// TestConsole_Browser: log in, grant Send As through the permissions form,
// find a refused submission in the trace with its reason, use the domain
// and mailbox pages' forms, and save a full-page screenshot of every
// console page (shot); then, at a phone's 390x844, visit every page of the
// menu and the lists (a folder, a message, a mailbox's activity) and check
// that none scrolls sideways, with a screenshot of each. The browser runs
// in Asia/Kolkata (UTC+05:30) to check that times are shown in its zone.
// Configured by the environment the Go test sets: MAILROOM_URL,
// MAILROOM_USER, MAILROOM_PASSWORD, MAILROOM_SCREENSHOTS (the directory for
// the PNGs), MAILROOM_MESSAGE (a queue id in app@'s Sent Items), CHROMIUM
// (default /usr/bin/chromium). Never downloads a browser.
import { chromium } from 'playwright-core';

const env = (k, d) => process.env[k] ?? d;
const base = env('MAILROOM_URL');
const shots = env('MAILROOM_SCREENSHOTS');
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
  page.setDefaultTimeout(10000);
  const problems = [];
  page.on('console', (m) => { if (m.type() === 'error') problems.push(page.url() + ': ' + m.text()); });
  page.on('pageerror', (e) => problems.push(page.url() + ': ' + String(e)));
  // Confirmations (data-confirm) are accepted: the test means each click.
  page.on('dialog', (d) => d.accept());

  // shot saves a full-page PNG of page p (the test's page unless given)
  // as it is now into MAILROOM_SCREENSHOTS as NAME.png: one per console
  // page, and one per state worth seeing. Every page the test opens gets
  // one; a name used twice is an error, so none overwrites another.
  const taken = new Set();
  const shot = async (name, p = page) => {
    if (taken.has(name)) throw new Error('screenshot ' + name + ' taken twice');
    taken.add(name);
    await p.screenshot({ path: `${shots}/${name}.png`, fullPage: true });
    console.log('shot: ' + name);
  };
  // visit opens path, fails on an error status, and takes its shot.
  const visit = async (path, name) => {
    const resp = await page.goto(base + path);
    if (!resp.ok()) throw new Error(`GET ${path}: ${resp.status()}`);
    await shot(name);
  };

  step('log in');
  await page.goto(base + '/trace');
  await page.waitForURL(/\/login/);
  await shot('login');
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
  await shot('permissions');

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
  await shot('trace-refused');
  await visit('/trace', 'trace');

  step('open a refused attempt and an accepted one from the trace');
  await Promise.all([page.waitForURL(/\/trace\/\d+$/), page.locator('#attempts tr.attempt.st-refused td a').first().click()]);
  const detail = await page.textContent('#attempt');
  if (!detail.includes('send_as_denied') || !detail.includes('support@example.test')) throw new Error('attempt detail: ' + detail);
  if ((await page.locator('#session-events li.kind-auth').count()) < 1) throw new Error('the detail does not show the session\'s AUTH');
  await shot('trace-attempt-refused');
  await page.goto(base + '/trace');
  await Promise.all([page.waitForURL(/\/trace\/\d+$/), page.locator('#attempts tr.attempt.st-accepted td a').first().click()]);
  if ((await page.locator('#deliveries').count()) !== 1) throw new Error('the accepted attempt shows no deliveries');
  await shot('trace-attempt-accepted');
  await Promise.all([page.waitForURL(/\/messages\//), page.click('a.message-link')]);

  step('dashboard');
  await page.click('nav >> text=Dashboard');
  const refused = await page.textContent('.totals .ref');
  if (!refused.includes('refused 1')) throw new Error('dashboard totals: ' + refused);
  await shot('dashboard');

  step('times in the browser\'s zone');
  const tz = await page.textContent('#tz');
  if (!/Asia\/(Kolkata|Calcutta)/.test(tz) || !tz.includes('UTC+05:30')) throw new Error('zone note: ' + tz);
  const hour = page.locator('.chart .hour').last();
  const start = await hour.getAttribute('data-start');
  const local = new Intl.DateTimeFormat('en-GB', { timeZone: zone, hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).format(new Date(start));
  if ((await hour.textContent()) !== local) throw new Error(`hour ${start} labelled ${await hour.textContent()}, want ${local}`);

  step('domains');
  await page.click('nav >> text=Domains');
  await shot('domains');
  await page.fill('#add-domain input[name=name]', 'new.example.test');
  await Promise.all([page.waitForURL(/\/domains\/new\.example\.test\?flash=/), page.click('#add-domain button[type=submit]')]);
  await Promise.all([page.waitForURL(/\/domains\/new\.example\.test\?flash=/), page.click('#add-dkim button[type=submit]')]);
  if ((await page.locator('#dkim code.record').count()) !== 2) throw new Error('no DKIM records after creating keys');
  await Promise.all([page.waitForURL(/\/domains\/new\.example\.test\/doctor/), page.click('#run-doctor button[type=submit]')]);
  if ((await page.locator('#doctor table.checks tr').count()) < 4) throw new Error('no doctor verdicts');
  await shot('domain');
  await Promise.all([page.waitForURL(/\/domains\?flash=/), page.click('#remove-domain button[type=submit]')]);
  await visit('/domains/example.test', 'domain-with-mailboxes');

  step('mailboxes');
  await page.click('nav >> text=Mailboxes');
  await shot('mailboxes');
  await visit('/mailboxes/app@example.test', 'mailbox');
  await page.fill('#add-app-password input[name=label]', 'printer-3f');
  await Promise.all([page.waitForURL(/\/app-passwords$/), page.click('#add-app-password button[type=submit]')]);
  if (!(await page.textContent('#new-app-password')).includes('printer-3f')) throw new Error('no app password shown');
  await shot('mailbox-app-password');
  const apRow = page.locator('#app-passwords tr', { hasText: 'printer-3f' });
  await apRow.locator('input[name=networks]').fill('127.0.0.0/8');
  await Promise.all([page.waitForURL(/\/mailboxes\/app@example\.test\?flash=/), apRow.locator('.app-password-networks button[type=submit]').click()]);
  if (!(await page.textContent('.flash')).includes('may now log in from 127.0.0.0/8')) throw new Error('no confirmation of the networks change');
  if (!(await page.locator('#app-passwords tr', { hasText: 'printer-3f' }).textContent()).includes('127.0.0.0/8')) throw new Error('the app password does not show its new networks');
  await shot('mailbox-app-password-networks');
  await Promise.all([page.waitForURL(/\/trace\?mailbox=app%40example\.test$/), page.click('a[href^="/trace?mailbox="]')]);
  if ((await page.locator('#attempts tr.attempt', { hasText: 'Invoice 42' }).count()) !== 1) throw new Error('the mailbox\'s Trace link does not find what it submitted');
  await shot('trace-mailbox');
  await page.goto(base + '/mailboxes/app@example.test');
  await page.fill('#mailbox-settings input[name=quota]', '50 MiB');
  await page.fill('#mailbox-settings input[name=sent_retention]', '30 days');
  await Promise.all([page.waitForURL(/\/mailboxes\/app@example\.test\?flash=/), page.click('#mailbox-settings button[type=submit]')]);
  if ((await page.inputValue('#mailbox-settings input[name=quota]')) !== '50 MiB') throw new Error('quota not shown in units');
  await visit('/mailboxes/support@example.test', 'mailbox-shared');
  if (!(await page.textContent('#sent-as-by')).includes('app@example.test')) throw new Error('the shared mailbox does not list who may send as it');

  step('messages');
  await visit('/messages/app@example.test', 'folder-sent');
  await visit('/messages/app@example.test?folder=inbox', 'folder-inbox');
  await visit('/messages/app@example.test/' + env('MAILROOM_MESSAGE') + '?folder=Sent+Items', 'message');
  await page.waitForSelector('#download');
  const stamp = await page.textContent('.headers');
  if (!stamp.includes('Invoice 42')) throw new Error('message page: ' + stamp);
  const message = page.url().slice(base.length);
  await visit('/mailboxes/app@example.test/activity', 'activity');

  step('the other pages');
  await page.click('nav >> text=Connectors');
  await page.fill('#add-connector input[name=name]', 'printers-floor2');
  await page.fill('#add-connector input[name=mailbox]', 'app@example.test');
  await page.fill('#add-connector textarea[name=networks]', '192.0.2.0/24');
  await Promise.all([page.waitForURL(/\/connectors\?flash=/), page.click('#add-connector button[type=submit]')]);
  if ((await page.locator('#connectors tr', { hasText: 'printers-floor2' }).count()) !== 1) throw new Error('the connector is not listed');
  await shot('connectors');
  await visit('/connectors/printers-floor2', 'connector');
  await visit('/queue', 'queue');
  await visit('/queue?state=all', 'queue-all');
  await visit('/access', 'access');
  await page.fill('#add-token input[name=label]', 'deploy-bot');
  await Promise.all([page.waitForURL(/\/access\/tokens$/), page.click('#add-token button[type=submit]')]);
  if (!(await page.textContent('#new-token')).includes('mrt_')) throw new Error('no API token shown');
  await shot('access-token');

  step('a 390-pixel phone: no page scrolls sideways');
  const pages = ['/', '/queue', '/messages/app@example.test', '/mailboxes/app@example.test', '/mailboxes/app@example.test/activity', message];
  for (const href of await page.locator('nav a').evaluateAll((as) => as.map((a) => a.getAttribute('href')))) {
    if (!pages.includes(href)) pages.push(href);
  }
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
