// The dashboard in a real browser: Debian's chromium, headless, driven by
// playwright-core. Run by tests/system/test_dashboard.sh, which starts the
// simulator and the daemon and passes what to expect:
//   node dashboard.mjs URL OUTDIR EXPECT_JSON
// EXPECT_JSON: {"pw": dir holding node_modules/playwright-core,
//   "sources": {"name": "CLASS", ...}, "faulty": "name", "fault_at": unix s}
// Prints one "ok   - what" or "FAIL - what" line per check (the shell test
// counts them) and a "first load: N ms" line. Every wait is bounded.
import { createRequire } from 'node:module';
import path from 'node:path';

const [url, outdir, expectJson] = process.argv.slice(2);
const expect = JSON.parse(expectJson);
const require = createRequire(path.join(expect.pw, 'node_modules') + '/');
const { chromium } = require('playwright-core');

let failed = 0;
function check(what, ok, detail) {
  if (!ok) failed++;
  console.log((ok ? 'ok   - ' : 'FAIL - ') + what + (!ok && detail ? ' (' + detail + ')' : ''));
}

// Waits for fn (evaluated in the page) to be true; false after ms.
async function waitIn(page, fn, arg, ms) {
  try {
    await page.waitForFunction(fn, arg, { timeout: ms, polling: 200 });
    return true;
  } catch (e) {
    return false;
  }
}

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
});
try {
  const page = await browser.newPage({ viewport: { width: 1600, height: 1000 } });
  const errors = [];
  const foreign = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  // The page asks for /api/v1/history first; a daemon without it answers
  // 404 and the page falls back to its own series: that 404 (which chromium
  // logs as a console error) is expected, any other failed response is not.
  page.on('response', (r) => {
    if (r.status() >= 400 && !new URL(r.url()).pathname.startsWith('/api/v1/history'))
      errors.push(r.status() + ' ' + r.url());
  });
  page.on('request', (r) => { if (!r.url().startsWith(url)) foreign.push(r.url()); });

  // ---- first load: navigation to the first render of the source table ----
  const t0 = Date.now();
  const resp = await page.goto(url, { waitUntil: 'commit', timeout: 10000 });
  const table = await page.waitForSelector('#sources tbody tr[data-source]', { timeout: 10000 })
    .then(() => true, () => false);
  const firstLoad = Date.now() - t0;
  const inPage = await page.evaluate(() => document.documentElement.dataset.firstRenderMs);
  console.log('first load, just-started browser: ' + firstLoad + ' ms (navigation to the source ' +
    'table; the page\'s own performance.now() at that render: ' + inPage + ' ms)');
  check('GET / answers 200 text/html', resp && resp.status() === 200 &&
    (resp.headers()['content-type'] || '').startsWith('text/html'));
  check('the source table renders', table);
  // A marker that a reload would wipe: the fault below must show up with it.
  await page.evaluate(() => { window.__vtNoReload = true; });

  // ---- sources by name, with their classes ----
  const names = Object.keys(expect.sources);
  const rowsOk = await waitIn(page, (n) => n.every((x) =>
    document.querySelector(`#sources tr[data-source="${CSS.escape(x)}"]`)), names, 10000);
  check('every source is listed by name', rowsOk);
  const classes = await page.$$eval('#sources tbody tr', (rows) =>
    Object.fromEntries(rows.map((r) => [r.dataset.source, r.dataset.class])));
  check('every source shows its class', names.every((n) => classes[n] === expect.sources[n]),
    JSON.stringify(classes));
  const faultyBefore = await page.$eval(`#sources tr[data-source="${expect.faulty}"]`,
    (r) => r.dataset.voteState).catch(() => '?');
  const beforeFault = Date.now() / 1000 < expect.fault_at;
  check('the faulty source is not yet a falseticker when the page has loaded',
    beforeFault && faultyBefore !== 'falseticker', `state ${faultyBefore}, before the fault: ${beforeFault}`);

  // ---- the verdict and the classes ----
  check('the verdict says VETTED', await waitIn(page, () =>
    document.getElementById('verdict').dataset.vetted === 'true', null, 15000));
  const want = [...new Set(Object.values(expect.sources))].sort();
  const shown = await page.$$eval('#classes li', (li) => li.map((x) => x.dataset.class).sort());
  check('the classes panel lists every class', JSON.stringify(shown) === JSON.stringify(want),
    JSON.stringify(shown));
  check('the classes agree before the fault', await waitIn(page, (n) =>
    document.querySelectorAll('#classes li[data-agrees="true"]').length >= n, want.length, 10000));

  // ---- the chart ----
  check('the chart is drawn (uPlot canvas)', await waitIn(page, () =>
    !!document.querySelector('#chart .uplot canvas'), null, 10000));
  check('the chart has more than 5 points', await waitIn(page, () =>
    Number(document.getElementById('chart').dataset.points) > 5, null, 20000),
  await page.$eval('#chart', (c) => c.dataset.points + ' points, mode ' + c.dataset.mode));

  // ---- the fault, seen without a reload ----
  // Rejected by the vote: as a falseticker within its class, or with its
  // whole class outvoted (DCF is the only source of its class here).
  const seen = await waitIn(page, (n) => {
    const r = document.querySelector(`#sources tr[data-source="${CSS.escape(n)}"]`);
    return r && ['falseticker', 'class-outvoted'].includes(r.dataset.voteState);
  }, expect.faulty, Math.max(5000, (expect.fault_at + 40) * 1000 - Date.now()));
  check('the faulty source is shown rejected by the vote (falseticker, class-outvoted)', seen,
    await page.$eval(`#sources tr[data-source="${expect.faulty}"]`, (r) => r.dataset.voteState).catch(() => '?'));
  check('... without a reload', await page.evaluate(() => window.__vtNoReload === true));
  check('its class no longer agrees', await waitIn(page, (c) => {
    const li = document.querySelector(`#classes li[data-class="${c}"]`);
    return li && li.dataset.agrees === 'false';
  }, expect.sources[expect.faulty], 10000));
  check('an active critical falseticker alarm on it is listed', await waitIn(page, (n) =>
    [...document.querySelectorAll('#alarms li')].some((li) => li.dataset.active === 'true' &&
      li.dataset.severity === 'critical' && li.dataset.kind === 'falseticker' && li.dataset.source === n),
  expect.faulty, 30000));
  check('the time stays vetted', await page.evaluate(() =>
    document.getElementById('verdict').dataset.vetted === 'true'));
  check('the step is marked on the chart\'s time axis', await waitIn(page, () => {
    const u = document.querySelector('#chart .uplot');
    return u && Number(u.dataset.events) > 0;
  }, null, 15000));

  // ---- zoom by dragging, kept across live updates; double-click resets ----
  const over = await page.$('#chart .u-over');
  const box = over && await over.boundingBox();
  if (box) {
    await page.mouse.move(box.x + box.width * 0.3, box.y + box.height / 2);
    await page.mouse.down();
    await page.mouse.move(box.x + box.width * 0.7, box.y + box.height / 2, { steps: 5 });
    await page.mouse.up();
  }
  check('dragging across the chart zooms in', await waitIn(page, () =>
    document.getElementById('chart').dataset.zoomed === 'true' &&
    !document.getElementById('btn-reset').hidden, null, 3000));
  await page.waitForTimeout(4500); // two polls
  check('the zoom survives live updates', await page.evaluate(() =>
    document.getElementById('chart').dataset.zoomed === 'true'));
  if (box) await page.mouse.dblclick(box.x + box.width / 2, box.y + box.height / 2);
  check('a double-click resets the zoom', await waitIn(page, () =>
    document.getElementById('chart').dataset.zoomed === 'false', null, 3000));

  await page.mouse.move(1, 1); // off the chart: the legend shows the latest values
  await page.waitForTimeout(2500);
  check('the legend shows the latest values', await page.evaluate(() =>
    [...document.querySelectorAll('#chart .u-legend .u-value')].some((v) => /[0-9]/.test(v.textContent))));
  await page.screenshot({ path: path.join(outdir, 'dashboard.png'), fullPage: true });

  // ---- against the vetted time: the vetted line is then 0 ----
  await page.click('#btn-rel');
  check('"vs vetted time" redraws the chart with data', await waitIn(page, () =>
    document.getElementById('btn-rel').textContent === 'vs vetted time' &&
    Number(document.getElementById('chart').dataset.points) > 0, null, 5000));
  await page.click('#btn-rel');

  // ---- the range buttons: each range is drawn, with data ----
  for (const r of ['3600', '86400', '604800', '600']) {
    await page.click(`button[data-range="${r}"]`);
    check(`range ${r} s is drawn with data`, await waitIn(page, (x) => {
      const c = document.getElementById('chart');
      return c.dataset.range === x && Number(c.dataset.points) > 0;
    }, r, 8000), await page.$eval('#chart', (c) => c.dataset.range + ': ' + c.dataset.points + ' points'));
  }
  await page.setViewportSize({ width: 700, height: 1200 });
  await page.waitForTimeout(500);
  await page.screenshot({ path: path.join(outdir, 'dashboard-narrow.png'), fullPage: true });
  // The first load as a second wall screen or a laptop sees it: a fresh
  // context (empty cache) of the running browser, three times; the median
  // must be under 1 s (issue 11). The load in the just-started browser
  // above also pays for chromium's first renderer and is only printed.
  const loads = [];
  for (let i = 0; i < 3; i++) {
    const ctx2 = await browser.newContext({ viewport: { width: 1600, height: 1000 } });
    const page2 = await ctx2.newPage();
    const t2 = Date.now();
    await page2.goto(url, { waitUntil: 'commit', timeout: 10000 });
    const ok = await page2.waitForSelector('#sources tbody tr[data-source]', { timeout: 10000 })
      .then(() => true, () => false);
    loads.push(ok ? Date.now() - t2 : Infinity);
    console.log('first load, empty cache: ' + loads[i] + ' ms (in page: ' +
      await page2.evaluate(() => document.documentElement.dataset.firstRenderMs) + ' ms)');
    await ctx2.close();
  }
  const median = loads.sort((x, y) => x - y)[1];
  console.log('first load: ' + median + ' ms (median of 3, navigation to the source table)');
  check('first load under 1 s', median < 1000, median + ' ms');
  check('the page needs nothing from elsewhere', foreign.length === 0, foreign.join(' '));
  check('no script errors', errors.length === 0, errors.join(' | '));
  console.log('screenshots: ' + path.join(outdir, 'dashboard.png') + ', dashboard-narrow.png');
} finally {
  await browser.close();
}
process.exit(failed ? 1 : 0);
