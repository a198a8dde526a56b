// Browser tests of the pages in headless Chromium against the real services, read as a person's
// steps: a buyer goes from the catalog through the queue, seats, hold and payment to tickets while
// a second browser sees the seats taken without a reload; sold out → waiting list → offer; a
// presale's access code and a section's ticket types on the way to an order at the type's price; an
// operator creates and publishes an event and watches the sale move, and creates one with ticket
// types and a presale and loads its codes; a scanner checks a ticket in once; forged and expired
// tokens land on sign-in. Every page is checked with axe-core (no serious or critical finding) and
// photographed into $TV_ARTIFACTS_DIR.
//
// Environment (tests/tests/browser.rs sets it): TV_WEB_BASE, TV_COMMAND_URL, TV_WAITING_ROOM_URL,
// TV_OPERATOR_TOKEN, TV_SCANNER_TOKEN, TV_CUSTOMER_TOKEN, TV_EXPIRED_TOKEN, TV_CHROMIUM,
// TV_ARTIFACTS_DIR. query-svc's demo sign-in must be on (TV_DEMO_SIGNIN=1): a spec signs in with it.
// Exits 0 when every spec passed.

import { chromium } from 'playwright-core';
import { readFileSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { env, apiCall, publishedEvent, seatedEvent, eventName } from './fixtures.mjs';

const require = createRequire(import.meta.url);
const AXE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
const ARTIFACTS = process.env.TV_ARTIFACTS_DIR || join(process.cwd(), 'browser-artifacts');
const STEP_MS = 15000;
const PHONE = { width: 375, height: 812 };
const DESK = { width: 1280, height: 900 };

for (const name of ['base', 'command', 'waitingRoom', 'operator', 'scanner', 'customer', 'expired']) {
  if (!env[name]) {
    console.error(`run.mjs: ${name} is not set (see the header of web/tests/run.mjs)`);
    process.exit(2);
  }
}
mkdirSync(ARTIFACTS, { recursive: true });

const browser = await chromium.launch({
  executablePath: process.env.TV_CHROMIUM || '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});

const app = (path) => `${env.base}/app${path}`;
const shared = {};
const findings = [];

function check(condition, what) {
  if (!condition) throw new Error(what);
}

async function person(viewport = DESK) {
  const context = await browser.newContext({ viewport, locale: 'en-GB', timezoneId: 'UTC' });
  context.setDefaultTimeout(STEP_MS);
  const page = await context.newPage();
  page.on('dialog', (dialog) => dialog.accept());
  page.on('pageerror', (error) => findings.push(`page error on ${page.url()}: ${error.message}`));
  return page;
}

async function signIn(page, token) {
  await page.goto(app('/signin'));
  await page.getByRole('textbox', { name: 'Token' }).fill(token);
  await page.getByRole('button', { name: 'Sign in with token' }).click();
  await page.waitForURL((url) => !url.pathname.startsWith('/app/signin'));
}

/** axe-core on the page as it is; serious and critical findings fail the run. */
async function accessible(page, name) {
  await page.addScriptTag({ content: AXE });
  const violations = await page.evaluate(async () => {
    const result = await window.axe.run(document, { resultTypes: ['violations'] });
    return result.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.slice(0, 3).map((n) => n.target.join(' ')) }));
  });
  const bad = violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  for (const v of violations) console.log(`    axe ${name}: ${v.impact} ${v.id} (${v.help}) at ${v.nodes.join(', ')}`);
  check(bad.length === 0, `${name}: axe found ${bad.map((v) => `${v.impact} ${v.id}`).join(', ')}`);
}

async function photo(page, name) {
  await page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });
}

/** The page fits a phone's width: nothing wider than the viewport. */
async function fitsPhone(page, name) {
  const width = await page.evaluate(() => document.documentElement.scrollWidth);
  check(width <= PHONE.width, `${name}: ${width} px wide on a ${PHONE.width} px screen`);
}

const specs = [];
const spec = (name, fn) => specs.push({ name, fn });

spec('a buyer goes from the catalog through the queue, seats, hold and payment to tickets; another browser sees the seats taken', async () => {
  const saleOpens = new Date(Date.now() + 4000);
  const event = await seatedEvent({
    rows: 2,
    seatsPerRow: 5,
    extra: {
      name: eventName('Queue night'),
      sale_opens_at: saleOpens.toISOString(),
      waiting_room: { opens_at: new Date(Date.now() - 1000).toISOString(), admit_per_minute: 600 },
    },
  });
  shared.buyerEvent = event;
  const viewer = await person(DESK);
  await viewer.goto(app(`/events/${event.event_id}`));
  await viewer.getByText('10 available · 0 held · 0 sold').waitFor();

  const buyer = await person(PHONE);
  await signIn(buyer, env.customer);
  await buyer.goto(app('/'));
  await buyer.getByRole('link', { name: event.name }).waitFor();
  await accessible(buyer, 'catalog');
  await fitsPhone(buyer, 'catalog');
  await photo(buyer, 'catalog');
  await buyer.getByRole('link', { name: event.name }).click();
  await buyer.getByRole('heading', { name: 'Waiting room' }).waitFor();
  await buyer.getByRole('button', { name: 'Join the queue' }).click();
  await buyer.getByText(/You are in the queue|Your place in line|It is your turn/).first().waitFor();
  await accessible(buyer, 'queue');
  await photo(buyer, 'queue');
  await buyer.getByText('It is your turn: pick your seats now.').waitFor({ timeout: 30000 });

  const map = buyer.getByRole('application', { name: /Seat map of Stalls/ });
  await map.focus();
  await buyer.keyboard.press('Enter');
  await buyer.keyboard.press('ArrowRight');
  await buyer.keyboard.press('Space');
  await buyer.getByText('Picked: A-1, A-2').waitFor();
  await buyer.getByText('Row A, seat 2: available, picked').waitFor();
  await accessible(buyer, 'event');
  await fitsPhone(buyer, 'event');
  await photo(buyer, 'event');
  await buyer.getByRole('button', { name: 'Hold picked seats' }).click();
  await buyer.waitForURL(/\/app\/holds\//);
  await buyer.getByText(/Held for you for \d+:\d\d more/).waitFor();
  await buyer.getByText('A-1, A-2').waitFor();

  // The other browser sees both seats held, in place, and can hear it on its seat map.
  await viewer.getByText('8 available · 2 held · 0 sold').waitFor();
  await viewer.getByText(/Available: 8 of 10 · held 2 · sold 0/).waitFor();
  await viewer.getByRole('application', { name: /Seat map of Stalls/ }).focus();
  await viewer.getByText('Row A, seat 1: held by someone').waitFor();

  await accessible(buyer, 'hold');
  await fitsPhone(buyer, 'hold');
  await photo(buyer, 'hold');
  await buyer.getByLabel('Card').selectOption('tok_ok');
  await buyer.getByRole('button', { name: 'Pay' }).click();
  await buyer.waitForURL(/\/app\/orders\//);
  await buyer.getByText('Paid. Here are your tickets.').waitFor();
  await buyer.getByRole('list', { name: 'Tickets' }).getByRole('listitem').nth(1).waitFor();
  const codes = await buyer.locator('code.code').allTextContents();
  check(codes.length === 2, `two tickets expected, saw ${codes.length}`);
  check(codes.every((code) => /^(TV-)?[A-Za-z0-9_-]{22,}$/.test(code)), `ticket codes look wrong: ${codes}`);
  await buyer.getByRole('img', { name: 'QR code of the ticket for Seat A-1' }).waitFor();
  await accessible(buyer, 'order');
  await fitsPhone(buyer, 'order');
  await photo(buyer, 'order');
  shared.codes = codes;
  await viewer.getByText('8 available · 0 held · 2 sold').waitFor();

  await buyer.getByRole('link', { name: 'My orders' }).click();
  await buyer.getByRole('listitem').filter({ has: buyer.getByRole('link', { name: event.name }) }).getByText(/paid · 2 ticket\(s\)/).waitFor();
  await accessible(buyer, 'me');
  await fitsPhone(buyer, 'me');
  await photo(buyer, 'me');
  await viewer.context().close();
  await buyer.context().close();
});

spec('a sold-out section offers a waiting list, and the seats that come free are offered', async () => {
  const event = await publishedEvent([{ section_id: 'ga', name: 'Standing', price_minor: 2000, capacity: 2 }], { name: eventName('Sold out night') });
  const hold = await apiCall(env.command, 'POST', `/events/${event.event_id}/holds`, env.customer, { section_id: 'ga', quantity: 2 });
  const second = await person(PHONE);
  await second.goto(app('/signin'));
  await second.getByLabel('Your name').fill('Wanda Waitlist');
  // This address's demo sign-ins are kept used up (callers in a loop, until one of them is
  // refused), so the page's own is answered 429 by the real limiter: it says it is busy, waits
  // and tries again, and gets in once the loop stops.
  await second.evaluate(async () => {
    const { query_url: query } = await (await fetch('/app/config.json')).json();
    window.burstOn = true;
    let refused;
    const firstRefusal = new Promise((resolve) => {
      refused = resolve;
    });
    const loop = async () => {
      while (window.burstOn) {
        const answer = await fetch(`${query}/signin/demo`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{"name":"burst"}' });
        if (answer.status === 429) refused();
      }
    };
    for (let i = 0; i < 5; i += 1) loop();
    await Promise.race([firstRefusal, new Promise((resolve) => setTimeout(resolve, 10000))]);
  });
  await second.getByRole('button', { name: 'Sign in as a buyer' }).click();
  await second.getByText(/^Busy, retrying in \d+ s$/).waitFor();
  await second.evaluate(() => {
    window.burstOn = false;
  });
  await second.waitForURL((url) => !url.pathname.startsWith('/app/signin'));
  await second.goto(app(`/events/${event.event_id}`));
  await second.getByText(/Sold out\. Join the waiting list/).waitFor();
  await second.getByLabel('Tickets').selectOption('1');
  await second.getByRole('button', { name: 'Join the waiting list' }).click();
  await second.getByText(/You are on the waiting list/).waitFor();
  await accessible(second, 'waitlist');
  await photo(second, 'waitlist');
  await apiCall(env.command, 'POST', `/holds/${hold.hold_id}/release`, env.customer, {});
  await second.getByText('Seats came free and are offered to you.').waitFor({ timeout: 20000 });
  await second.getByRole('link', { name: 'See the offered seats and pay' }).click();
  await second.getByText(/Held for you for/).waitFor();
  await photo(second, 'waitlist-offer');
  await second.context().close();
});

spec('a declined card, a released hold, a cancelled order and an expired hold, each said in words', async () => {
  const event = await publishedEvent([{ section_id: 'ga', name: 'Standing', price_minor: 1250, capacity: 20 }], { name: eventName('Short holds'), hold_ttl_seconds: 5, currency: 'GBP' });
  const buyer = await person(PHONE);
  await signIn(buyer, env.customer);
  const holdTickets = async (count) => {
    await buyer.goto(app(`/events/${event.event_id}`));
    await buyer.getByText('£12.50 per ticket').waitFor();
    await buyer.getByLabel('Tickets').selectOption(String(count));
    await buyer.getByRole('button', { name: 'Hold tickets' }).click();
    await buyer.waitForURL(/\/app\/holds\//);
  };

  await holdTickets(2);
  await buyer.getByText('£25.00').waitFor();
  await buyer.getByLabel('Card').selectOption('tok_decline');
  await buyer.getByRole('button', { name: 'Pay' }).click();
  await buyer.getByText('The payment did not go through; the seats went back on sale.').waitFor();

  await holdTickets(1);
  await buyer.getByRole('button', { name: 'Release seats' }).click();
  await buyer.getByText('The seats are released.').waitFor();

  await holdTickets(1);
  await buyer.getByRole('button', { name: 'Pay' }).click();
  await buyer.getByText('Paid. Here are your tickets.').waitFor();
  await buyer.getByRole('link', { name: 'My orders' }).click();
  const order = buyer.getByRole('listitem').filter({ has: buyer.getByRole('link', { name: event.name }) });
  await order.getByRole('button', { name: 'Cancel order' }).click();
  await order.getByText(/£12\.50 · (refunded|cancelled)/).waitFor();

  await holdTickets(1);
  await buyer.getByText('Your hold expired and the seats went back on sale. Pick again.').waitFor({ timeout: 10000 });
  await buyer.getByRole('link', { name: 'Back to the seats' }).click();
  await buyer.getByText(/Available: 20 of 20/).waitFor();
  await buyer.context().close();
});

spec('during a presale a buyer needs an access code, picks a ticket type and pays its price', async () => {
  const now = Date.now();
  const presaleCloses = new Date(now + 10 * 60000).toISOString();
  const event = await publishedEvent(
    [{
      section_id: 'ga',
      name: 'Floor',
      price_minor: 3000,
      capacity: 50,
      ticket_types: [
        { type_id: 'standard', name: 'Standard', price_minor: 3000 },
        { type_id: 'vip', name: 'VIP with lounge', price_minor: 7450 },
      ],
    }],
    {
      name: eventName('Presale night'),
      sale_opens_at: presaleCloses,
      presales: [{ presale_id: 'fans', opens_at: new Date(now - 60000).toISOString(), closes_at: presaleCloses, max_tickets_per_code: 4 }],
    },
  );
  const loaded = await apiCall(env.command, 'POST', `/events/${event.event_id}/presales/fans/codes`, env.operator, { codes: ['FANS-2026-A1', 'FANS-2026-B2'] });
  check(loaded.codes === 2, `two codes loaded expected, the answer says ${loaded.codes}`);

  const buyer = await person(PHONE);
  await signIn(buyer, env.customer);
  await buyer.goto(app(`/events/${event.event_id}`));
  await buyer.getByText(/^Presale until .+: an access code is needed\./).waitFor();
  await buyer.getByText(/^The general sale opens /).waitFor();
  await buyer.getByText('Standard: €30.00 per ticket').waitFor();
  await buyer.getByLabel('Ticket type').selectOption({ label: 'VIP with lounge · €74.50' });
  await buyer.getByText('VIP with lounge: €74.50 per ticket').waitFor();
  await buyer.getByLabel('Tickets').selectOption('2');
  const holdButton = buyer.getByRole('button', { name: 'Hold tickets' });

  await holdButton.click();
  await buyer.getByText('Type your access code first: the presale needs one.').waitFor();
  await buyer.getByLabel('Access code').fill('NOT-A-FAN-CODE');
  await holdButton.click();
  await buyer.getByText('Floor: That access code is not valid for this presale. Check it and try again.').waitFor();
  await accessible(buyer, 'presale');
  await fitsPhone(buyer, 'presale');
  await photo(buyer, 'presale');

  await buyer.getByLabel('Access code').fill('fans-2026-b2');
  await holdButton.click();
  await buyer.waitForURL(/\/app\/holds\//);
  await buyer.getByText(/Held for you for \d+:\d\d more/).waitFor();
  await buyer.locator('dd', { hasText: /^VIP with lounge$/ }).waitFor();
  await buyer.locator('dd', { hasText: /^€149\.00$/ }).waitFor();
  await accessible(buyer, 'presale-hold');
  await photo(buyer, 'presale-hold');
  await buyer.getByLabel('Card').selectOption('tok_ok');
  await buyer.getByRole('button', { name: 'Pay' }).click();
  await buyer.waitForURL(/\/app\/orders\//);
  await buyer.getByText('Paid. Here are your tickets.').waitFor();
  await buyer.getByText('Total: €149.00').waitFor();
  await buyer.getByText('Ticket type: VIP with lounge').first().waitFor();
  const orderId = decodeURIComponent(new URL(buyer.url()).pathname.split('/').pop());
  const order = await apiCall(env.base, 'GET', `/orders/${orderId}`, env.customer);
  check(order.total_minor === 2 * 7450, `the order's total is ${order.total_minor}, not 2 × 7450`);
  check(order.tickets.length === 2 && order.tickets.every((t) => t.type_id === 'vip'), `the order's tickets are not two VIP ones: ${JSON.stringify(order.tickets.map((t) => t.type_id))}`);
  await accessible(buyer, 'presale-order');
  await photo(buyer, 'presale-order');
  await buyer.context().close();
});

spec('an operator creates and publishes an event, and watches the sale move', async () => {
  const operator = await person(DESK);
  await signIn(operator, env.operator);
  await operator.goto(app('/operator/'));
  await operator.getByRole('heading', { name: 'Create an event' }).waitFor();
  await accessible(operator, 'operator');
  await photo(operator, 'operator');
  await operator.setViewportSize(PHONE);
  await fitsPhone(operator, 'operator');
  await operator.setViewportSize(DESK);
  const name = eventName('Console night');
  await operator.getByLabel('Event name').fill(name);
  await operator.getByLabel('Venue').fill('Console hall');
  await operator.getByRole('button', { name: 'Add a section' }).click();
  await operator.locator('#s1-kind').selectOption('seated');
  await operator.locator('#s1-rows').fill('4');
  await operator.locator('#s1-per-row').fill('10');
  await operator.locator('#s1-price').fill('60');
  await operator.getByRole('button', { name: 'Create event' }).click();
  await operator.waitForURL(/\/app\/operator\/events\//);
  const eventId = decodeURIComponent(new URL(operator.url()).pathname.split('/').pop());
  await operator.getByText('Draft: not on sale yet').waitFor();
  await operator.getByRole('button', { name: 'Publish' }).click();
  await operator.getByText('On sale', { exact: true }).waitFor();
  await operator.getByRole('row', { name: /Floor 0 0 100 100/ }).waitFor();

  const hold = await apiCall(env.command, 'POST', `/events/${eventId}/holds`, env.customer, { section_id: 's1', quantity: 3 });
  await operator.getByRole('row', { name: /Floor 0 3 97 100/ }).waitFor();
  await apiCall(env.command, 'POST', '/orders', env.customer, { hold_id: hold.hold_id, payment: { token: 'tok_ok' } });
  await operator.getByRole('row', { name: /Floor 3 0 97 100/ }).waitFor();
  await operator.getByText(/Sold over the last \d+ s: from 0 to 3/).waitFor();
  await operator.locator('dd', { hasText: /^3$/ }).first().waitFor();
  await apiCall(env.command, 'POST', `/events/${eventId}/holds`, env.customer, { section_id: 's2', seats: ['A-1'] });
  await operator.getByRole('row', { name: /Section 2 0 1 39 40/ }).waitFor();
  await accessible(operator, 'operator-event');
  await photo(operator, 'operator-event');
  await operator.setViewportSize(PHONE);
  await fitsPhone(operator, 'operator-event');
  await operator.setViewportSize(DESK);
  await operator.getByRole('button', { name: 'Close the sale' }).click();
  await operator.getByText('Sale closed', { exact: true }).waitFor();
  await operator.getByRole('button', { name: 'Cancel the event' }).click();
  await operator.getByText('Cancelled', { exact: true }).waitFor();

  // The buyer's event sells through a waiting room: its admissions show in the live view.
  check(shared.buyerEvent, 'no event from the buyer spec');
  await operator.goto(app(`/operator/events/${shared.buyerEvent.event_id}`));
  await operator.getByText(/^600 a minute/).waitFor();
  await operator.getByRole('definition').filter({ hasText: /^1$/ }).first().waitFor();
  await operator.getByRole('row', { name: /Stalls 2 0 8 10/ }).waitFor();
  await operator.context().close();
});

spec('an operator creates an event with ticket types and a presale, and loads its access codes', async () => {
  const operator = await person(DESK);
  await signIn(operator, env.operator);
  await operator.goto(app('/operator/'));
  const name = eventName('Presale console');
  await operator.getByLabel('Event name').fill(name);
  await operator.getByLabel('Venue').fill('Console hall');
  // The browser runs in UTC: datetime-local values are UTC times.
  await operator.getByLabel('Sale opens at', { exact: true }).fill(new Date(Date.now() + 3600000).toISOString().slice(0, 16));
  await operator.getByLabel('More ticket types (optional)').fill('Student: 20\nVIP: 95.50');
  await operator.getByLabel(/^Presale with access codes/).check();
  await operator.getByLabel('Tickets per access code').fill('2');
  await operator.getByRole('button', { name: 'Create event' }).click();
  await operator.waitForURL(/\/app\/operator\/events\//);
  const eventId = decodeURIComponent(new URL(operator.url()).pathname.split('/').pop());
  await operator.getByText('Access codes can be loaded once the event is published.').waitFor();
  await operator.getByRole('button', { name: 'Publish' }).click();
  await operator.getByRole('heading', { name: 'Presale presale' }).waitFor();
  await operator.getByText(/at most 2 ticket\(s\) per code/).waitFor();
  const created = await apiCall(env.base, 'GET', `/events/${eventId}`, env.operator);
  const types = created.sections[0].ticket_types.map((t) => `${t.name}=${t.price_minor}`).join(',');
  check(types === 'Standard=4500,Student=2000,VIP=9550', `the section's ticket types are ${types}`);
  check(created.presales.length === 1 && created.presales[0].closes_at === created.sale_opens_at, `the presale is ${JSON.stringify(created.presales)}`);
  await operator.getByLabel('Access codes').fill('CLUB-0001\n club-0002 \n\nCLUB-0001');
  await operator.getByRole('button', { name: 'Load codes' }).click();
  await operator.getByText('2 code(s) loaded into presale presale.').waitFor();
  check((await operator.getByLabel('Access codes').inputValue()) === '', 'the codes stay on the page after loading');
  await operator.getByLabel('Access codes').fill('abc');
  await operator.getByRole('button', { name: 'Load codes' }).click();
  await operator.getByText(/codes\[0\]: an access code has 4 to 64/).waitFor();
  await accessible(operator, 'operator-presale');
  await photo(operator, 'operator-presale');
  await operator.context().close();
});

spec('the scanner checks a ticket in once, then hears it was already checked in', async () => {
  check(shared.codes && shared.codes.length, 'no ticket from the buyer spec');
  const scanner = await person(PHONE);
  await signIn(scanner, env.scanner);
  await scanner.goto(app('/scanner/'));
  const code = scanner.getByLabel('Ticket code');
  await code.fill(shared.codes[0]);
  await scanner.getByRole('button', { name: 'Check in' }).click();
  await scanner.getByText(/^valid — checked in/).waitFor();
  await code.fill(shared.codes[0]);
  await scanner.getByRole('button', { name: 'Check in' }).click();
  await scanner.getByText(/^already checked in at \d\d:\d\d$/).waitFor();
  await accessible(scanner, 'scanner');
  await fitsPhone(scanner, 'scanner');
  await photo(scanner, 'scanner');
  await code.fill(`TV-${'Q'.repeat(30)}`);
  await scanner.getByRole('button', { name: 'Check in' }).click();
  await scanner.getByText(/^unknown — no ticket has this code/).waitFor();
  await scanner.context().close();
});

spec('a forged and an expired token land on sign-in with a message', async () => {
  const page = await person(PHONE);
  const [head, body, signature] = env.customer.split('.');
  const forged = `${head}.${body}.${signature.slice(0, -4)}${signature.slice(-4) === 'AAAA' ? 'BBBB' : 'AAAA'}`;
  await signIn(page, forged);
  await page.goto(app('/me'));
  await page.waitForURL(/\/app\/signin\?reason=invalid/);
  await page.getByText('Your sign-in was not accepted: the token is not valid. Please sign in again.').waitFor();
  await accessible(page, 'signin');
  await fitsPhone(page, 'signin');
  await photo(page, 'signin');

  await page.goto(app('/signin'));
  await page.evaluate((token) => sessionStorage.setItem('tv.token', token), env.expired);
  await page.goto(app('/me'));
  await page.waitForURL(/\/app\/signin\?reason=expired/);
  await page.getByText('Your sign-in has expired. Please sign in again.').waitFor();
  await page.context().close();
});

let failed = 0;
const started = Date.now();
for (const { name, fn } of specs) {
  const at = Date.now();
  try {
    await fn();
    console.log(`ok   ${name} (${((Date.now() - at) / 1000).toFixed(1)} s)`);
  } catch (error) {
    failed += 1;
    console.log(`FAIL ${name} (${((Date.now() - at) / 1000).toFixed(1)} s)\n     ${String(error.message).split('\n').join('\n     ')}`);
  }
}
for (const finding of findings) {
  failed += 1;
  console.log(`FAIL ${finding}`);
}
await browser.close();
console.log(`${specs.length - Math.min(failed, specs.length)}/${specs.length} specs passed in ${((Date.now() - started) / 1000).toFixed(1)} s; screenshots in ${ARTIFACTS}`);
process.exit(failed ? 1 : 0);
