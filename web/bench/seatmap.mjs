// The pages' benchmark in headless Chromium: a 20,000-seat section's first render, a batch of
// 1,000 seat changes applied to it, and the bytes (gzip) a reader's browser loads before the
// catalog shows its first event. With TV_WEB_BASE, TV_COMMAND_URL, TV_OPERATOR_TOKEN and
// TV_CUSTOMER_TOKEN set (running services), it also measures how long after a hold is confirmed
// in one browser the seat shows taken in another.
//
//   node web/bench/seatmap.mjs [--out FILE]        (scripts/bench-web wraps it)
//
// Prints the figures and writes them as JSON (default .data/bench-web.json at the repository root).

import { chromium } from 'playwright-core';
import { gzipSync } from 'node:zlib';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { serve } from '../tests/serve.mjs';
import { seatedEvent, apiCall } from '../tests/fixtures.mjs';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const args = process.argv.slice(2);
const outAt = args.indexOf('--out');
const OUT = outAt >= 0 ? args[outAt + 1] : join(ROOT, '.data', 'bench-web.json');
const RENDER_RUNS = 30;
const BATCH_RUNS = 200;
const TAKEN_RUNS = Number(process.env.TV_BENCH_TAKEN_RUNS || 100);

function stats(samples) {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q) => sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)];
  const round = (n) => Math.round(n * 100) / 100;
  return { runs: sorted.length, median_ms: round(at(0.5)), p99_ms: round(at(0.99)), max_ms: round(sorted[sorted.length - 1]) };
}

const browser = await chromium.launch({
  executablePath: process.env.TV_CHROMIUM || '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
const local = await serve({});
const results = { chromium: browser.version(), measured_at: new Date().toISOString() };

try {
  // 1. A 20,000-seat section (100 rows of 200), drawn from its first seat map; then batches of
  //    1,000 changes applied in place.
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  await page.goto(`${local.url}/app/signin`);
  const seatFigures = await page.evaluate(async ({ renderRuns, batchRuns }) => {
    const { SeatMap } = await import('/app/js/seatmap.js');
    const rows = Array.from({ length: 100 }, (_, r) => ({ row: `R${r + 1}`, seats: 200 }));
    const seats = [];
    for (const { row, seats: n } of rows) for (let s = 1; s <= n; s += 1) seats.push({ seat: `${row}-${s}`, status: Math.random() < 0.3 ? 'sold' : 'available' });
    const frame = () => new Promise((resolve) => requestAnimationFrame(() => resolve()));
    const render = [];
    const renderToFrame = [];
    let map = null;
    const main = document.getElementById('main');
    for (let run = 0; run < renderRuns; run += 1) {
      main.replaceChildren();
      await frame();
      const start = performance.now();
      map = new SeatMap({ rows, label: 'Bench', maxPick: 8 });
      main.append(map.element);
      map.setAll(seats);
      render.push(performance.now() - start);
      await frame();
      renderToFrame.push(performance.now() - start);
    }
    const statuses = ['available', 'held', 'sold'];
    const batch = [];
    const batchToFrame = [];
    for (let run = 0; run < batchRuns; run += 1) {
      const changes = [];
      for (let c = 0; c < 1000; c += 1) {
        const i = Math.floor(Math.random() * seats.length);
        changes.push({ seat: seats[i].seat, status: statuses[(run + c) % 3] });
      }
      await frame();
      const start = performance.now();
      map.apply(changes);
      batch.push(performance.now() - start);
      await frame();
      batchToFrame.push(performance.now() - start);
    }
    return { seats: map.count, canvas: `${map.canvas.width}x${map.canvas.height}`, render, renderToFrame, batch, batchToFrame };
  }, { renderRuns: RENDER_RUNS, batchRuns: BATCH_RUNS });
  results.seat_map = {
    seats: seatFigures.seats,
    canvas: seatFigures.canvas,
    render_20k: stats(seatFigures.render),
    render_20k_to_next_frame: stats(seatFigures.renderToFrame),
    apply_1000_changes: stats(seatFigures.batch),
    apply_1000_changes_to_next_frame: stats(seatFigures.batchToFrame),
  };
  await page.close();

  // 2. What the catalog loads before its first event shows, each file gzip-compressed as served.
  const weightPage = await browser.newPage();
  const loaded = [];
  weightPage.on('response', async (response) => {
    try {
      const body = await response.body();
      loaded.push({ url: new URL(response.url()).pathname, bytes: body.length, gzip: gzipSync(body).length });
    } catch {
      // a redirect has no body
    }
  });
  await weightPage.route('**/events?*', (route) => route.fulfill({
    contentType: 'application/json',
    body: JSON.stringify([{ event_id: '00000000-0000-4000-8000-000000000001', name: 'Bench night', venue: 'Hall', starts_at: '2030-01-01T20:00:00Z', status: 'on_sale' }]),
  }));
  await weightPage.goto(`${local.url}/app/`);
  await weightPage.getByRole('link', { name: 'Bench night' }).waitFor();
  await weightPage.waitForTimeout(200);
  results.page_weight_before_first_event = {
    files: loaded.length,
    bytes: loaded.reduce((n, f) => n + f.bytes, 0),
    gzip_bytes: loaded.reduce((n, f) => n + f.gzip, 0),
    by_file: loaded,
  };
  await weightPage.close();

  // 3. Hold confirmed in one browser → seat shown taken in another (needs running services).
  if (process.env.TV_WEB_BASE && process.env.TV_OPERATOR_TOKEN && process.env.TV_CUSTOMER_TOKEN) {
    results.hold_to_seen_taken = await holdToSeenTaken(browser);
  }
} finally {
  await browser.close();
  local.close();
}

async function holdToSeenTaken(chromiumBrowser) {
  const base = process.env.TV_WEB_BASE;
  const perRow = Math.ceil(TAKEN_RUNS / 4);
  const event = await seatedEvent({ rows: 4, seatsPerRow: perRow, limit: 100 });
  const viewer = await chromiumBrowser.newPage();
  await viewer.goto(`${base}/app/events/${event.event_id}`);
  await viewer.getByText(/ available · 0 held/).first().waitFor();
  // Each time the viewer's seat map counts one more held seat, note the wall-clock time.
  await viewer.evaluate(() => {
    window.benchSeen = [];
    const summary = document.querySelector('.seat-summary');
    new MutationObserver(() => {
      const held = Number((/· (\d+) held/.exec(summary.textContent) || [])[1]);
      window.benchSeen.push({ held, at: Date.now() });
    }).observe(summary, { childList: true, characterData: true, subtree: true });
  });
  const samples = [];
  for (let i = 0; i < TAKEN_RUNS; i += 1) {
    const seat = `${String.fromCharCode(65 + (i % 4))}-${Math.floor(i / 4) + 1}`;
    await apiCall(process.env.TV_COMMAND_URL, 'POST', `/events/${event.event_id}/holds`, process.env.TV_CUSTOMER_TOKEN, { section_id: 's1', seats: [seat] });
    const confirmed = Date.now();
    const seenAt = await viewer.waitForFunction((held) => {
      const entry = window.benchSeen.find((e) => e.held >= held);
      return entry ? entry.at : null;
    }, i + 1, { polling: 5, timeout: 10000 });
    samples.push(Math.max(0, (await seenAt.jsonValue()) - confirmed));
  }
  await viewer.close();
  return { ...stats(samples), note: 'from the 201 answer of POST /holds (a seat named) to the viewer seat map counting it held' };
}

mkdirSync(dirname(OUT), { recursive: true });
writeFileSync(OUT, `${JSON.stringify(results, null, 2)}\n`);
const show = (name, s) => console.log(`${name.padEnd(40)} median ${s.median_ms} ms  p99 ${s.p99_ms} ms  max ${s.max_ms} ms  (${s.runs} runs)`);
console.log(`Chromium ${results.chromium}, ${results.seat_map.seats} seats on a ${results.seat_map.canvas} canvas`);
show('render 20,000 seats', results.seat_map.render_20k);
show('render 20,000 seats, to the next frame', results.seat_map.render_20k_to_next_frame);
show('apply 1,000 seat changes', results.seat_map.apply_1000_changes);
show('apply 1,000 changes, to the next frame', results.seat_map.apply_1000_changes_to_next_frame);
const w = results.page_weight_before_first_event;
console.log(`catalog before its first event: ${w.files} files, ${w.bytes} bytes, ${w.gzip_bytes} bytes gzip`);
if (results.hold_to_seen_taken) show('hold confirmed → seen taken elsewhere', results.hold_to_seen_taken);
console.log(`written to ${OUT}`);
