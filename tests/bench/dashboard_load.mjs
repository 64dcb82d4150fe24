// The dashboard's first load, measured in Debian's chromium (headless,
// playwright-core): node dashboard_load.mjs URL RUNS SOURCES PW_DIR.
// Each run opens the page in a fresh browser context (empty cache) and
// times, from the start of the navigation: the first render of the source
// table with all SOURCES rows, and the chart drawn with data. The first run
// is in a just-started browser (cold), the others in the warm one. Prints
// one line per run and a markdown table row of the medians and maxima.
import { createRequire } from 'node:module';
import path from 'node:path';

const [url, runsArg, sourcesArg, pw] = process.argv.slice(2);
const runs = Number(runsArg), want = Number(sourcesArg);
const { chromium } = createRequire(path.join(pw, 'node_modules') + '/')('playwright-core');
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'] });
const table = [], chart = [];
try {
  for (let i = 0; i < runs; i++) {
    const ctx = await browser.newContext({ viewport: { width: 1920, height: 1080 } });
    const page = await ctx.newPage();
    const t0 = Date.now();
    await page.goto(url, { waitUntil: 'commit', timeout: 10000 });
    await page.waitForFunction((n) => document.querySelectorAll('#sources tbody tr[data-source]').length >= n,
      want, { timeout: 10000, polling: 'raf' });
    const t1 = Date.now() - t0;
    await page.waitForFunction(() => Number(document.getElementById('chart').dataset.points) > 0,
      null, { timeout: 10000, polling: 'raf' });
    const t2 = Date.now() - t0;
    const mode = await page.$eval('#chart', (c) => c.dataset.mode + ', ' + c.dataset.points + ' points');
    console.log(`run ${i + 1}${i === 0 ? ' (cold browser)' : ''}: table ${t1} ms, chart ${t2} ms (${mode})`);
    table.push(t1); chart.push(t2);
    await ctx.close();
  }
} finally {
  await browser.close();
}
const med = (xs) => xs.slice().sort((a, b) => a - b)[Math.floor(xs.length / 2)];
console.log('');
console.log('| sources | runs | table, median | table, max | chart, median | chart, max |');
console.log('|---|---|---|---|---|---|');
console.log(`| ${want} | ${runs} | ${med(table)} ms | ${Math.max(...table)} ms | ${med(chart)} ms | ${Math.max(...chart)} ms |`);
process.exit(Math.max(...table) < 1000 ? 0 : 1);
