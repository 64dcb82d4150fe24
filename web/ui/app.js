/* The vettime dashboard: polls the daemon's JSON API (docs in web/api.h)
 * and keeps the page current without reloading.
 *
 * Every POLL_MS it reads /api/v1/vote, /sources, /alarms and /events and
 * redraws the verdict, the sources, the classes, the alarms and the events.
 * The chart reads /api/v1/history and /api/v1/history/vetted (server-side
 * roll-ups: any range is at most ~2000 points) when the daemon has them; a
 * daemon without them answers 404, and the chart then shows what this page
 * has seen since it was opened (a ring filled from the polls).
 *
 * Plain DOM, no framework: every text goes in through textContent (source
 * names and alarm texts come from the network), and the elements carry
 * data-* attributes that the browser test (tests/system/dashboard.mjs)
 * reads. Times are shown in UTC, offsets with their SI unit. */
'use strict';

(() => {
  const POLL_MS = 2000;
  const RING_MAX = 20000;          // client-side series: ~11 h at POLL_MS
  const FETCH_TIMEOUT_MS = 5000;
  const HISTORY_PARALLEL = 6;      // history reads in flight at once (a browser opens 6 per host)

  const state = {
    range: 600,            // s, the chart's span back from now
    relative: false,       // chart offsets against the vetted time
    fitAll: false,         // y scale: every source, or the vetted band
    zoomed: false,         // the user dragged a zoom: keep the x scale
    history: null,         // null: not asked yet; true/false: the API has it
    vote: null,
    sources: [],
    alarms: [],
    events: [],
    chartEvents: [],
    ring: [],              // client-side points {t, off, err, src: {name: offset}}
    lastHistory: 0,        // ms, when the chart was last read from the history
    plot: null,
    plotKey: '',           // the series the plot was built for
    failures: 0,
    firstRender: false,
  };

  const $ = (id) => document.getElementById(id);

  // The daemon's time, not the browser's: the machine showing the page may
  // itself have the wrong time (on a time monitor's wall screen, of all
  // places). skew is taken from each vote round's time as it arrives (at
  // most a round late, ~1 s: enough for "5 s ago" and a chart's range).
  let skew = 0;
  const nowS = () => Date.now() / 1000 + skew;

  /* ---- formatting -------------------------------------------------------- */

  // Seconds with the unit that keeps 3-4 significant digits.
  function fmtSec(x, signed = true) {
    if (x === null || x === undefined || !isFinite(x)) return '–';
    const a = Math.abs(x);
    const sign = signed ? (x < 0 ? '−' : '+') : (x < 0 ? '−' : '');
    const units = [[1, 's'], [1e-3, 'ms'], [1e-6, 'µs'], [1e-9, 'ns']];
    for (const [scale, unit] of units) {
      if (a >= scale || scale === 1e-9) {
        const v = a / scale;
        const digits = v >= 100 ? 0 : v >= 10 ? 1 : 2;
        return sign + v.toFixed(digits) + ' ' + unit;
      }
    }
    return '–';
  }

  function fmtUtc(t, withDate = false) {
    if (!t) return '–';
    const iso = new Date(t * 1000).toISOString();
    return withDate ? iso.slice(0, 10) + ' ' + iso.slice(11, 19) : iso.slice(11, 19);
  }

  function fmtAgo(t) {
    if (!t) return '–';
    const s = Math.max(0, nowS() - t);
    if (s < 90) return Math.round(s) + ' s ago';
    if (s < 5400) return Math.round(s / 60) + ' min ago';
    if (s < 172800) return Math.round(s / 3600) + ' h ago';
    return Math.round(s / 86400) + ' d ago';
  }

  /* The reach register as `vettime sources` prints it: octal with C's
   * leading zero (255 -> "0377"), so it cannot be read as decimal. */
  function reachText(r) { return r ? '0' + r.toString(8) : '0'; }

  function el(tag, cls, text) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }

  // A vote state's meaning, for its colour.
  function voteTone(s) {
    if (s === 'best' || s === 'combined') return 'good';
    if (['falseticker', 'class-outvoted', 'class-split', 'outlier', 'too-far'].includes(s)) return 'bad';
    if (['unreachable', 'no-sample', 'stale', 'unsync', 'bad-stratum'].includes(s)) return 'warn';
    return 'neutral';
  }

  function probeTone(s) {
    if (s === 'ok') return 'good';
    if (s === 'init') return 'neutral';
    return 'warn';
  }

  // Series colours, told apart on a dark background; a source keeps its
  // colour by its position in the configuration.
  const PALETTE = ['#5aa9ff', '#f2b233', '#c678dd', '#56d4dd', '#ff8c5a', '#a3e05a',
    '#ff6fb5', '#e6e66a', '#8f9bff', '#5ae0a3', '#d19a66', '#b0b8c8'];
  const colourOf = (i) => PALETTE[i % PALETTE.length];

  /* ---- the API ------------------------------------------------------------ */

  async function getJSON(url) {
    const ctl = new AbortController();
    const timer = setTimeout(() => ctl.abort(), FETCH_TIMEOUT_MS);
    try {
      const r = await fetch(url, { cache: 'no-store', signal: ctl.signal });
      const body = await r.json().catch(() => null);
      if (!r.ok) {
        const err = new Error((body && body.error) || ('HTTP ' + r.status));
        err.status = r.status;
        throw err;
      }
      return body;
    } finally {
      clearTimeout(timer);
    }
  }

  /* ---- the verdict banner --------------------------------------------------- */

  function renderVerdict() {
    const v = state.vote;
    const head = $('verdict');
    let cls = 'waiting', word = 'waiting for the first vote', why = '';
    if (v && v.valid) {
      cls = v.vetted ? 'vetted' : 'not-vetted';
      word = v.vetted ? 'VETTED' : 'NOT VETTED';
      why = v.vetted ? '' : (v.why_not || '');
    }
    head.className = 'verdict ' + cls;
    head.dataset.vetted = v && v.valid ? String(v.vetted) : '';
    $('verdict-word').textContent = word;
    $('verdict-why').textContent = why;
    const ok = v && v.valid;
    $('fig-offset').textContent = ok && v.vetted ? fmtSec(v.offset) : '–';
    $('fig-bound').textContent = ok && v.vetted ? '± ' + fmtSec(v.error, false) : '–';
    $('fig-sources').textContent = ok ? v.agreeing + ' of ' + v.candidates : '–';
    $('fig-classes').textContent = ok
      ? v.agreeing_classes + ' of ' + v.classes +
        (v.agreeing_class_names && v.agreeing_class_names.length ? ' (' + v.agreeing_class_names.join(', ') + ')' : '')
      : '–';
    $('fig-best').textContent = ok && v.best ? v.best + (v.best_class ? ' (' + v.best_class + ')' : '') : '–';
    $('fig-updated').textContent = ok ? fmtUtc(v.time) : '–';
    document.title = (ok ? (v.vetted ? '✓ vetted' : '✗ NOT VETTED') : '…') + ' – vettime';
  }

  /* ---- sources --------------------------------------------------------------- */

  // The source minus the vetted time: both offsets are against the same
  // local clock, so their difference needs no clock of ours.
  function vsVetted(s) {
    const v = state.vote;
    if (!v || !v.valid || !v.vetted || s.offset === null) return null;
    return s.offset - v.offset;
  }

  function sourceRow(s) {
    const tr = el('tr');
    const vote = s.vote_state || 'no vote yet';
    tr.dataset.source = s.name;
    tr.dataset.class = s.class;
    tr.dataset.state = s.state;
    tr.dataset.voteState = s.vote_state || '';
    if (voteTone(s.vote_state) === 'bad') tr.className = 'bad-row';

    const name = el('td', 'name');
    const sw = el('span', 'swatch');
    sw.style.background = colourOf(s.index);
    name.append(sw, s.name, el('span', 'kind', s.kind + (s.refid ? ' · ' + s.refid : '') + (s.detail ? ' · ' + s.detail : '')));
    const cls = el('td', null, s.class);
    if (s.class_configured) cls.title = 'class set in the configuration';
    const st = el('td');
    st.append(el('span', 'chip ' + probeTone(s.state), s.state));
    const vt = el('td');
    vt.append(el('span', 'chip ' + voteTone(s.vote_state), vote));
    if (s.vote_why) vt.append(el('span', 'why', s.vote_why));
    tr.append(name, cls, st, vt,
      el('td', 'num', fmtSec(vsVetted(s))),
      el('td', 'num', s.error_bound === null ? '–' : fmtSec(s.error_bound, false)),
      el('td', 'num', reachText(s.reach)),
      el('td', 'num', s.stratum === null ? '–' : s.stratum),
      el('td', 'num', fmtAgo(s.last_rx)));
    return tr;
  }

  function renderSources() {
    const body = document.querySelector('#sources tbody');
    body.replaceChildren(...state.sources.map(sourceRow));
    if (!state.firstRender && state.sources.length) {
      // navigation start to the first table with sources, for the test
      // and the benchmark: performance.now() counts from navigation start.
      state.firstRender = true;
      performance.mark('vt-first-render');
      document.documentElement.dataset.firstRenderMs = String(Math.round(performance.now()));
    }
  }

  /* ---- classes: which agree ----------------------------------------------------- */

  function renderClasses() {
    const v = state.vote;
    const agreeing = new Set(v && v.valid && v.agreeing_class_names ? v.agreeing_class_names : []);
    const byClass = new Map();
    for (const s of state.sources) {
      if (!byClass.has(s.class)) byClass.set(s.class, []);
      byClass.get(s.class).push(s);
    }
    const items = [...byClass.entries()].sort((a, b) => a[0].localeCompare(b[0])).map(([c, list]) => {
      const li = el('li');
      li.dataset.class = c;
      let verdict, tone;
      if (agreeing.has(c)) { verdict = 'agrees'; tone = 'good'; }
      else if (c === 'LOCL') { verdict = 'no vote'; tone = 'neutral'; }
      else if (list.some((s) => s.vote_state && voteTone(s.vote_state) === 'bad')) { verdict = 'disagrees'; tone = 'bad'; }
      else { verdict = 'not voting'; tone = 'warn'; }
      li.dataset.agrees = String(agreeing.has(c));
      const left = el('span');
      left.append(el('span', 'cname', c), el('span', 'members', list.map((s) => s.name + ': ' + (s.vote_state || s.state)).join(', ')));
      li.append(left, el('span', 'chip ' + tone, verdict));
      return li;
    });
    $('classes').replaceChildren(...items);
  }

  /* ---- alarms and events --------------------------------------------------------- */

  /* The subject without a source, as the daemon's log and `vettime alarms`
   * name it: "class DCF" for a class, else "system". */
  function subjectOf(x) { return x.class ? 'class ' + x.class : 'system'; }

  function alarmItem(a) {
    const li = el('li', a.severity + (a.active ? ' active' : ' cleared'));
    li.dataset.id = a.id;
    li.dataset.kind = a.kind;
    li.dataset.severity = a.severity;
    li.dataset.active = String(a.active);
    li.dataset.source = a.source || '';
    const subject = a.source ? a.source + (a.class ? ' (' + a.class + ')' : '') : subjectOf(a);
    li.append(el('span', 'sev', a.severity), el('strong', null, a.kind + ' '), subject);
    if (a.text) li.append(el('span', 'text', a.text));
    const when = a.active
      ? 'raised ' + fmtUtc(a.raised, true) + ' UTC, ' + fmtAgo(a.raised)
      : 'cleared ' + fmtAgo(a.cleared) + ', raised ' + fmtUtc(a.raised, true) + ' UTC';
    li.append(el('span', 'when', when + (a.repeats ? ' · repeated ' + a.repeats + '×' : '')));
    return li;
  }

  function renderAlarms() {
    const list = state.alarms;
    const active = list.filter((a) => a.active).length;
    $('alarm-count').textContent = list.length ? '(' + active + ' active, ' + (list.length - active) + ' cleared)' : '';
    const items = list.length ? list.map(alarmItem) : [el('li', 'none', 'no alarms')];
    $('alarms').replaceChildren(...items);
  }

  function renderEvents() {
    const recent = state.events.slice(-15).reverse();
    const items = recent.map((e) => {
      const li = el('li');
      li.dataset.kind = e.kind;
      li.append(el('span', 'kind', e.kind + (e.ended ? ' ended' : '') + ' '),
        e.source || subjectOf(e),
        el('span', 'when', fmtUtc(e.time, true) + ' UTC' + (e.text ? ' · ' + e.text : '')));
      return li;
    });
    $('events').replaceChildren(...(items.length ? items : [el('li', 'none', 'no events')]));
  }

  /* ---- chart data ------------------------------------------------------------------ */

  // The chart's columns: time, vetted low, vetted high, vetted offset, then
  // one column per source (by state.sources order). The band is the vetted
  // offset plus and minus its bound; in a roll-up point the widest: from
  // the lowest offset minus the worst bound to the highest plus it.
  function columnsFromHistory(vetted, perSource) {
    const rows = new Map();
    const ncol = 4 + perSource.length;
    const row = (t) => {
      if (!rows.has(t)) { const r = new Array(ncol).fill(null); r[0] = t; rows.set(t, r); }
      return rows.get(t);
    };
    const vp = vetted && vetted.points;
    if (vp) {
      vp.time.forEach((t, i) => {
        if (vp.offset_mean[i] === null) return;
        const r = row(t);
        r[1] = vp.offset_min[i] - vp.error_max[i];
        r[2] = vp.offset_max[i] + vp.error_max[i];
        r[3] = vp.offset_mean[i];
      });
    }
    perSource.forEach((doc, k) => {
      const p = doc && doc.points;
      if (!p) return;
      p.time.forEach((t, i) => { row(t)[4 + k] = p.offset_mean[i]; });
    });
    return transpose([...rows.values()].sort((a, b) => a[0] - b[0]), ncol);
  }

  function columnsFromRing(from) {
    const names = state.sources.map((s) => s.name);
    const ncol = 4 + names.length;
    const rows = state.ring.filter((p) => p.t >= from).map((p) => {
      const r = [p.t, null, null, null];
      if (p.off !== null) { r[1] = p.off - p.err; r[2] = p.off + p.err; r[3] = p.off; }
      for (const n of names) r.push(n in p.src ? p.src[n] : null);
      return r;
    });
    return transpose(rows, ncol);
  }

  function transpose(rows, ncol) {
    const cols = [];
    for (let c = 0; c < ncol; c++) cols.push(rows.map((r) => r[c]));
    return cols;
  }

  // Against the vetted time: every figure minus the vetted offset of its
  // point (points without a vetted offset are left out).
  function relativeTo(cols) {
    const v = cols[3];
    return cols.map((col, c) => c === 0 ? col : col.map((x, i) =>
      x === null || v[i] === null ? null : x - v[i]));
  }

  function remember() {
    const v = state.vote;
    const t = v && v.valid ? v.time : nowS();
    const last = state.ring[state.ring.length - 1];
    if (last && last.t === t) return;
    const src = {};
    for (const s of state.sources) if (s.offset !== null) src[s.name] = s.offset;
    const vetted = v && v.valid && v.vetted;
    state.ring.push({ t, off: vetted ? v.offset : null, err: vetted ? v.error : null, src });
    if (state.ring.length > RING_MAX) state.ring.splice(0, state.ring.length - RING_MAX);
  }

  // How often the chart is read again from the history: a range of 10 min
  // every poll, a week once a minute (a point of the latter covers minutes).
  function historyEvery() {
    return Math.min(60000, Math.max(POLL_MS, state.range * 1000 / 600));
  }

  // fn over items, at most n at a time, results in order: each history
  // read runs in the daemon's loop, and the daemon allows 8 connections
  // from one address, so a site with 50 sources does not open 50.
  async function inBatches(items, n, fn) {
    const out = [];
    for (let i = 0; i < items.length; i += n)
      out.push(...await Promise.all(items.slice(i, i + n).map(fn)));
    return out;
  }

  async function loadHistory(from, to) {
    const q = 'from=' + from + '&to=' + to;
    const vetted = await getJSON('/api/v1/history/vetted?' + q);
    const per = await inBatches(state.sources, HISTORY_PARALLEL, (s) =>
      getJSON('/api/v1/history?source=' + encodeURIComponent(s.name) + '&' + q).catch(() => null));
    let events = state.events;
    try {
      events = (await getJSON('/api/v1/events?' + q)).events;
    } catch (e) { /* the recent ones will do */ }
    return { cols: columnsFromHistory(vetted, per), events, step: vetted.step, resolution: vetted.resolution };
  }

  async function chartData(force) {
    const to = Math.ceil(nowS());
    const from = to - state.range;
    if (state.history !== false) {
      if (!force && state.history && Date.now() - state.lastHistory < historyEvery()) return null;
      try {
        const h = await loadHistory(from, to);
        state.history = true;
        state.lastHistory = Date.now();
        state.chartEvents = h.events;
        $('chart-note').textContent = 'From the history: ' + h.resolution + ' points of ' + h.step +
          ' s (mean offset per point; the band spans the vetted offset ± its worst bound). Drag to zoom, double-click to reset.';
        return { cols: h.cols, mode: 'history' };
      } catch (e) {
        if (e.status !== 404) {
          $('chart-note').textContent = 'The history could not be read (' + e.message + '); showing what this page has seen.';
        } else {
          state.history = false;
        }
      }
    }
    state.chartEvents = state.events;
    if (state.history === false) {
      $('chart-note').textContent = 'This daemon has no history API: the chart shows what this page has seen since ' +
        fmtUtc(state.ring.length ? state.ring[0].t : 0) + ' UTC. Drag to zoom, double-click to reset.';
    }
    return { cols: columnsFromRing(from), mode: 'client' };
  }

  /* ---- the chart ---------------------------------------------------------------------- */

  // y range: by default the vetted band (what the time is), so a source
  // half a second off does not flatten everything else to a line; "fit: all"
  // shows every source.
  function yRange(u, dataMin, dataMax) {
    let lo = dataMin, hi = dataMax;
    if (!state.fitAll) {
      // The band's quartiles and the vetted offset's 5th to 95th
      // percentiles in the visible window: the wide band of the first
      // rounds after a start does not set the scale, the vetted line stays in.
      const [t, bl, bh, vo] = [u.data[0], u.data[1], u.data[2], u.data[3]];
      const x0 = u.scales.x.min, x1 = u.scales.x.max;
      const lows = [], highs = [], mids = [];
      for (let i = 0; i < t.length; i++) {
        if (bl[i] === null || (x0 != null && (t[i] < x0 || t[i] > x1))) continue;
        lows.push(bl[i]); highs.push(bh[i]); mids.push(vo[i]);
      }
      if (lows.length) {
        const l = Math.min(quantile(lows, 0.25), quantile(mids, 0.05));
        const h = Math.max(quantile(highs, 0.75), quantile(mids, 0.95));
        const pad = (h - l) * 0.75;
        lo = l - pad; hi = h + pad;
      }
    }
    if (lo === null || hi === null || !isFinite(lo) || !isFinite(hi)) return [-1e-3, 1e-3];
    if (hi - lo < 1e-9) { lo -= 1e-6; hi += 1e-6; }
    return [lo, hi];
  }

  function quantile(xs, q) {
    const v = xs.slice().sort((a, b) => a - b);
    return v[Math.min(v.length - 1, Math.floor(q * v.length))];
  }

  // Time axis labels in UTC, as precise as the visible span needs.
  function timeLabels(u, splits) {
    const span = u.scales.x.max - u.scales.x.min;
    return splits.map((t) => {
      const iso = new Date(t * 1000).toISOString();
      if (span > 2 * 86400) return iso.slice(5, 10) + ' ' + iso.slice(11, 16);
      return span > 1200 ? iso.slice(11, 16) : iso.slice(11, 19);
    });
  }

  // Events as dashed vertical lines on the time axis, labelled by kind.
  function drawEvents(u) {
    const ctx = u.ctx, { left, top, width, height } = u.bbox;
    const x0 = u.scales.x.min, x1 = u.scales.x.max;
    ctx.save();
    ctx.beginPath(); ctx.rect(left, top, width, height); ctx.clip();
    ctx.setLineDash([6, 4]);
    ctx.lineWidth = Math.max(1, devicePixelRatio);
    const px = rootPx() * 0.75 * devicePixelRatio;
    ctx.font = Math.round(px) + 'px system-ui, sans-serif';
    let shown = 0;
    for (const e of state.chartEvents) {
      if (e.time < x0 || e.time > x1) continue;
      const x = Math.round(u.valToPos(e.time, 'x', true));
      const bad = ['falseticker', 'step', 'quorum-lost', 'class-lost', 'local-step', 'date-far'].includes(e.kind);
      ctx.strokeStyle = ctx.fillStyle = bad ? '#ff5a52' : '#f2b233';
      ctx.beginPath(); ctx.moveTo(x, top); ctx.lineTo(x, top + height); ctx.stroke();
      ctx.fillText(e.kind + (e.source ? ' ' + e.source : ''), x + 4, top + px * 1.2 * (1 + shown % 3));
      shown++;
    }
    ctx.restore();
    u.root.dataset.events = String(shown);
  }

  // The page's type size (app.css scales it with the screen), so the
  // chart's canvas text grows with the rest on a wall display.
  const rootPx = () => parseFloat(getComputedStyle(document.documentElement).fontSize) || 16;

  // Tick steps of the time axis: whole seconds and the usual clock steps
  // (never the sub-second ticks a wide screen would otherwise get).
  const TIME_INCRS = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800,
    21600, 43200, 86400, 172800, 604800, 1209600, 2592000];

  // Without a cursor on the chart, the legend shows each series' latest
  // value (what a wall screen wants to read), not dashes. In the next
  // frame: uPlot updates the legend itself after a draw and on leaving.
  let hovering = false;
  function legendLatest(u) {
    requestAnimationFrame(() => {
      if (hovering) return;
      const idxs = u.data.map((col) => {
        for (let i = col.length - 1; i >= 0; i--) if (col[i] !== null) return i;
        return null;
      });
      u.setLegend({ idxs });
    });
  }

  function plotOptions(width) {
    const px = rootPx();
    const font = Math.round(px * 0.8) + 'px system-ui, sans-serif';
    const axis = { stroke: '#c8d0dc', grid: { stroke: '#2a3240' }, ticks: { stroke: '#2a3240' }, font };
    const series = [
      { value: (u, v) => (v === null ? '–' : fmtUtc(v, true) + ' UTC') },
      { label: 'vetted − bound', stroke: 'rgba(47,191,113,0.5)', width: 1, spanGaps: false },
      { label: 'vetted + bound', stroke: 'rgba(47,191,113,0.5)', width: 1, spanGaps: false },
      { label: 'vetted', stroke: '#2fbf71', width: 3, spanGaps: false, value: (u, v) => fmtSec(v) },
    ];
    for (const s of state.sources) {
      series.push({ label: s.name, stroke: colourOf(s.index), width: 1.5, spanGaps: true,
        points: { size: 4 }, value: (u, v) => fmtSec(v) });
    }
    series[1].value = series[2].value = (u, v) => fmtSec(v);
    return {
      width, height: Math.max(220, Math.round(window.innerHeight * 0.38)),
      tzDate: (ts) => uPlot.tzDate(new Date(ts * 1000), 'Etc/UTC'),
      series,
      bands: [{ series: [2, 1], fill: 'rgba(47,191,113,0.18)' }],
      scales: { x: { time: true }, y: { range: yRange } },
      axes: [
        Object.assign({}, axis, { values: timeLabels, space: px * 6, incrs: TIME_INCRS, size: px * 3 }),
        Object.assign({}, axis, { size: px * 6, space: px * 2.5, values: (u, splits) => splits.map((v) => fmtSec(v)) }),
      ],
      cursor: { drag: { x: true, y: false } },
      hooks: {
        draw: [drawEvents, legendLatest],
        setSelect: [(u) => { if (u.select.width > 0) setZoomed(true); }],
      },
    };
  }

  function setZoomed(z) {
    state.zoomed = z;
    $('btn-reset').hidden = !z;
    $('chart').dataset.zoomed = String(z);
  }

  async function renderChart(force) {
    // uPlot is the next deferred script: it has run by DOMContentLoaded.
    if (typeof uPlot === 'undefined' && document.readyState === 'loading')
      await new Promise((ok) => document.addEventListener('DOMContentLoaded', ok, { once: true }));
    if (typeof uPlot === 'undefined') return;
    const data = await chartData(force);
    if (!data) return;
    let cols = data.cols;
    if (state.relative) cols = relativeTo(cols);
    const box = $('chart');
    const key = state.sources.map((s) => s.name).join('\n');
    if (!state.plot || state.plotKey !== key) {
      if (state.plot) state.plot.destroy();
      state.plot = new uPlot(plotOptions(box.clientWidth || 800), cols, box);
      const u = state.plot;
      u.over.addEventListener('dblclick', () => setZoomed(false));
      u.over.addEventListener('mouseenter', () => { hovering = true; });
      u.over.addEventListener('mouseleave', () => { hovering = false; legendLatest(u); });
      state.plotKey = key;
      setZoomed(false);
    } else {
      state.plot.setData(cols, !state.zoomed);
    }
    box.dataset.points = String(cols[0].length);
    box.dataset.mode = data.mode;
    box.dataset.range = String(state.range);
  }

  // The chart loads on its own, never holding up the next poll: a week of
  // fifty sources may take longer than a poll period. One load at a time; a
  // forced one (a button) asked for meanwhile runs when the current ends.
  let chartBusy = false, chartAgain = false;
  function refreshChart(force) {
    if (chartBusy) { chartAgain = chartAgain || force; return; }
    chartBusy = true;
    renderChart(force).catch(() => {}).finally(() => {
      chartBusy = false;
      if (chartAgain) { chartAgain = false; refreshChart(true); }
    });
  }

  /* ---- the loop ------------------------------------------------------------------------ */

  async function poll() {
    try {
      const [vote, sources, alarms, events] = await Promise.all([
        getJSON('/api/v1/vote'), getJSON('/api/v1/sources'),
        getJSON('/api/v1/alarms'), getJSON('/api/v1/events')]);
      state.vote = vote;
      if (vote.valid && vote.time) skew = vote.time - Date.now() / 1000;
      state.sources = sources.sources;
      state.alarms = alarms.alarms;
      state.events = events.events;
      state.failures = 0;
      $('conn').hidden = true;
      renderSources();
      renderVerdict();
      renderClasses();
      renderAlarms();
      renderEvents();
      remember();
      refreshChart(false);
    } catch (e) {
      state.failures++;
      if (state.failures >= 2) $('conn').hidden = false;
    }
    setTimeout(poll, POLL_MS);
  }

  function controls() {
    for (const b of document.querySelectorAll('[data-range]')) {
      b.addEventListener('click', () => {
        for (const o of document.querySelectorAll('[data-range]')) o.classList.toggle('on', o === b);
        state.range = Number(b.dataset.range);
        setZoomed(false);
        refreshChart(true);
      });
    }
    $('btn-rel').addEventListener('click', (ev) => {
      state.relative = !state.relative;
      ev.target.textContent = state.relative ? 'vs vetted time' : 'vs local clock';
      refreshChart(true);
    });
    $('btn-fit').addEventListener('click', (ev) => {
      state.fitAll = !state.fitAll;
      ev.target.textContent = state.fitAll ? 'fit: all' : 'fit: vetted';
      if (state.plot) state.plot.setData(state.plot.data, true);
    });
    $('btn-reset').addEventListener('click', () => {
      setZoomed(false);
      if (state.plot) state.plot.setData(state.plot.data, true);
    });
    // The chart follows the window (a wall screen rotated, a laptop resized).
    new ResizeObserver(() => {
      if (state.plot) state.plot.setSize({ width: $('chart').clientWidth, height: state.plot.height });
    }).observe($('chart'));
  }

  controls();
  poll();
})();
