// Plays every format in headless Chromium with hls.js, dash.js, shaka-player and Chromium's own HLS
// player, through the adapters of the player page (tools/player/adapters.js), then plays an asset
// from the player page that `ams serve` serves at /. Run by run_e2e.sh, which sets:
//   AMS_E2E_BASE, AMS_E2E_ORIGIN, AMS_E2E_RESULTS, AMS_E2E_FRAGMENT, AMS_E2E_VIDEO_DURATION,
//   AMS_E2E_HEIGHTS, AMS_E2E_LANGUAGES, AMS_E2E_REFERENCE; AMS_E2E_BROWSER_ONLY="shaka:dash-csf ..."
//   runs a subset.
//   node browsers.mjs --out DIR --player tools/player
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';

const args = Object.fromEntries(
  process.argv.slice(2).reduce((acc, a, i, all) => (a.startsWith('--') ? [...acc, [a.slice(2), all[i + 1]]] : acc), []));
const OUT = args.out;
const PLAYER_DIR = path.resolve(args.player);
const env = process.env;
const BASE = env.AMS_E2E_BASE;
const ORIGIN = env.AMS_E2E_ORIGIN;
const FRAGMENT = Number(env.AMS_E2E_FRAGMENT || 2);
const DURATION = Number(env.AMS_E2E_VIDEO_DURATION || 30);
const HEIGHTS = (env.AMS_E2E_HEIGHTS || '').split(',').map(Number).filter(Boolean);
// The test page lives on another origin than the endpoint, as on a real site, so the streams
// must pass CORS: a loopback HTTP server of this script's own (a page that Playwright fulfils has
// no address, and Chromium's Local Network Access rules then refuse its requests to loopback).
// python3 -m http.server sends no CORS headers: in the static mode the page is same-origin.
let PAGE_ORIGIN = ORIGIN;
const CHROMIUM = env.AMS_E2E_CHROMIUM || '/usr/bin/chromium';

const FORMATS = {
  'hls-v3': 'manifest(format=m3u8-aapl-v3)',
  'hls-v4': 'manifest(format=m3u8-aapl)',
  'hls-cmaf': 'manifest(format=m3u8-cmaf)',
  'dash-csf': 'manifest(format=mpd-time-csf)',
  'dash-cmaf': 'manifest(format=mpd-time-cmaf)',
  smooth: 'manifest',
};
// A client is a library, the version line the harness page loads for it (the current npm release
// unless named), and the adapter of tools/player/adapters.js that drives it.
const CLIENTS = {
  'hls.js': { adapter: 'hls.js', page: 'e2e.html' },
  'hls.js-1.6': { adapter: 'hls.js', page: 'e2e-hls.js-1.6.html' },
  'dash.js': { adapter: 'dash.js', page: 'e2e.html' },
  shaka: { adapter: 'shaka', page: 'e2e.html' },
  'shaka-4': { adapter: 'shaka', page: 'e2e-shaka-4.html' },
  native: { adapter: 'native', page: 'e2e.html' },
};
// ffmpeg's own HLS muxer output of the asset's MP4s (run_e2e.sh writes it to $AMS_E2E_REFERENCE):
// a control that shows which player errors are the player's and not the origin's. Its rows are
// marked `reference` and do not count in the verdict.
const REFERENCE = env.AMS_E2E_REFERENCE;
const CASES = [
  ['hls.js', ['hls-v3', 'hls-v4', 'hls-cmaf', ...(REFERENCE ? ['ffmpeg-hls-ts'] : [])]],
  ['hls.js-1.6', ['hls-v3', 'hls-v4', 'hls-cmaf']],
  ['dash.js', ['dash-csf', 'dash-cmaf', 'smooth']],
  ['shaka', ['hls-v3', 'hls-v4', 'hls-cmaf', 'dash-csf', 'dash-cmaf', 'smooth']],
  ['shaka-4', ['smooth']],
  ['native', ['hls-v3', 'hls-v4', 'hls-cmaf']],
].flatMap(([lib, formats]) => formats.map((f) => [lib, f]))
  .filter(([lib, f]) => !env.AMS_E2E_BROWSER_ONLY || env.AMS_E2E_BROWSER_ONLY.split(/\s+/).includes(`${lib}:${f}`));

// The test page, with the current release of every library, or one older line in place of the
// current one (both lines of a library define the same global).
function testPage(replace = {}) {
  const libs = {
    'hls.js': 'hls.js/dist/hls.min.js',
    'dash.js': 'dashjs/dist/modern/umd/dash.all.min.js',
    'dash.js-mss': 'dashjs/dist/modern/umd/dash.mss.min.js',
    shaka: 'shaka-player/dist/shaka-player.compiled.js',
    ...replace,
  };
  return `<!doctype html>
<html><head><meta charset="utf-8"><title>gst-ams e2e</title></head>
<body style="margin:0;background:#000">
<video id="v" width="640" height="360" playsinline></video>
${Object.values(libs).map((f) => `<script src="/player/node_modules/${f}"></script>`).join('\n')}
<script src="/player/adapters.js"></script>
</body></html>`;
}
const PAGES = {
  '/e2e.html': testPage(),
  '/e2e-hls.js-1.6.html': testPage({ 'hls.js': 'hls.js-1.6/dist/hls.min.js' }),
  // shaka-player 4 parses Smooth and repackages its fragments with codem-isoboxer, which it
  // expects as the global ISOBoxer.
  '/e2e-shaka-4.html': testPage({
    isoboxer: 'codem-isoboxer/dist/iso_boxer.min.js',
    shaka: 'shaka-player-4/dist/shaka-player.compiled.js',
  }),
};

const CONTENT_TYPES = {
  '.js': 'text/javascript', '.css': 'text/css', '.html': 'text/html', '.map': 'application/json',
  '.m3u8': 'application/vnd.apple.mpegurl', '.ts': 'video/mp2t',
};

// A file under `dir` named by a URL path below it, or null (never a file outside `dir`).
function fileUnder(dir, relative) {
  const file = path.join(dir, decodeURIComponent(relative));
  if (!file.startsWith(dir + path.sep) || !fs.existsSync(file) || !fs.statSync(file).isFile()) return null;
  return { body: fs.readFileSync(file), type: CONTENT_TYPES[path.extname(file)] || 'application/octet-stream' };
}

// The harness page and the player libraries, from disk.
function harnessResponse(pathname) {
  if (PAGES[pathname]) return { body: PAGES[pathname], type: 'text/html' };
  if (pathname === '/favicon.ico') return { body: '', type: 'image/x-icon' };
  if (pathname.startsWith('/player/')) return fileUnder(PLAYER_DIR, pathname.slice('/player/'.length));
  if (REFERENCE && pathname.startsWith('/reference/')) return fileUnder(REFERENCE, pathname.slice('/reference/'.length));
  return null;
}

async function serveHarness(context) {
  if (context) {
    // Same origin as the files: intercept the harness paths only.
    await context.route(`${ORIGIN}/**`, (route) => {
      const found = harnessResponse(new URL(route.request().url()).pathname);
      return found ? route.fulfill({ body: found.body, contentType: found.type }) : route.continue();
    });
    return null;
  }
  const server = http.createServer((req, res) => {
    const found = harnessResponse(new URL(req.url, 'http://x').pathname);
    res.writeHead(found ? 200 : 404, { 'Content-Type': found ? found.type : 'text/plain' });
    res.end(found ? found.body : 'not found');
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  PAGE_ORIGIN = `http://127.0.0.1:${server.address().port}`;
  return server;
}

function watchPage(page, log) {
  page.on('console', (m) => { if (m.type() === 'error' || m.type() === 'warning') log.push(`console.${m.type()}: ${m.text()}`); });
  page.on('pageerror', (e) => log.push(`page error: ${e.message}`));
  page.on('requestfailed', (r) => log.push(`request failed: ${r.url()} ${r.failure() && r.failure().errorText}`));
  page.on('response', (r) => { if (r.status() >= 400) log.push(`HTTP ${r.status()}: ${r.url()}`); });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// Polls `fn` in the page until it returns a truthy value; throws `what` on timeout.
async function until(page, what, fn, arg, timeoutMs = 20000) {
  try {
    return await (await page.waitForFunction(fn, arg, { timeout: timeoutMs, polling: 100 })).jsonValue();
  } catch (e) {
    const state = await page.evaluate(() => {
      const v = document.querySelector('video');
      return v ? `currentTime ${v.currentTime.toFixed(2)}, readyState ${v.readyState}, videoHeight ${v.videoHeight}, paused ${v.paused}` : '';
    }).catch(() => '');
    throw new Error(`${what}: not within ${timeoutMs / 1000} s (${state})`);
  }
}

async function playCase(context, lib, format) {
  const { adapter, page: harnessPage } = CLIENTS[lib];
  const reference = format === 'ffmpeg-hls-ts';
  const url = reference ? `${PAGE_ORIGIN}/reference/master.m3u8` : `${BASE}/${FORMATS[format]}`;
  const log = [];
  const checks = {};
  const row = { client: lib, format, url, ok: false, checks, log, ...(reference ? { reference: true } : {}) };
  const page = await context.newPage();
  watchPage(page, log);
  try {
    // Chromium 156 refuses a cross-origin HLS URL in a <video> (the manifest request is aborted and
    // the element fails with MEDIA_ERR_SRC_NOT_SUPPORTED, CORS headers or not): its own player is
    // tried from the endpoint's origin, as the player page at / uses it.
    await page.goto(`${lib === 'native' ? ORIGIN : PAGE_ORIGIN}/${harnessPage}`);
    if (adapter === 'shaka' && format === 'smooth' && !(await page.evaluate(() => !!(window.shaka && shaka.mss)))) {
      row.ok = null;
      row.skipped = 'the shaka-player 5 builds on npm have no Smooth Streaming parser (shaka.mss is absent; load fails with 4000 UNABLE_TO_GUESS_MANIFEST_TYPE); shaka-player 4 plays it';
      return row;
    }
    if (lib === 'native') {
      const can = await page.evaluate(() => document.getElementById('v').canPlayType('application/vnd.apple.mpegurl'));
      if (!can) {
        row.ok = null;
        row.skipped = 'this Chromium does not play HLS itself (canPlayType is empty)';
        return row;
      }
    }
    // Start: time to the first presented frame.
    const ttff = await page.evaluate(async ([lib, url]) => {
      const v = document.getElementById('v');
      const t0 = performance.now();
      window.firstFrame = new Promise((resolve) => {
        if (v.requestVideoFrameCallback) v.requestVideoFrameCallback(() => resolve(performance.now() - t0));
        else v.addEventListener('playing', () => resolve(performance.now() - t0), { once: true });
      });
      window.p = AmsAdapters.create(lib, v, url);
      await window.p.load();
      return await Promise.race([window.firstFrame, new Promise((r) => setTimeout(() => r(-1), 20000))]);
    }, [adapter, url]);
    if (ttff < 0) throw new Error('no frame within 20 s');
    row.ttff_ms = Math.round(ttff);
    checks.start = true;

    const third = 3 * FRAGMENT + 0.1;
    await until(page, `currentTime past the third fragment (${third} s)`, (t) => document.getElementById('v').currentTime > t, third, 30000);
    checks.plays = true;

    // Forced quality switches: to the top and the bottom rung, whichever differs first.
    const levels = await page.evaluate(() => window.p.levels().map(({ index, height, bitrate }) => ({ index, height, bitrate })));
    row.levels = levels.map((l) => l.height);
    if (lib === 'native') {
      checks.quality = 'n/a: the video element offers no quality control';
    } else {
      const top = levels.reduce((a, b) => (b.height > a.height ? b : a));
      const bottom = levels.reduce((a, b) => (b.height < a.height ? b : a));
      if (HEIGHTS.length && (top.height !== Math.max(...HEIGHTS) || bottom.height !== Math.min(...HEIGHTS))) {
        throw new Error(`the player lists heights ${row.levels}, the asset has ${HEIGHTS}`);
      }
      const now = await page.evaluate(() => document.getElementById('v').videoHeight);
      const order = now === top.height ? [bottom, top] : [top, bottom];
      for (const level of order) {
        await page.evaluate((i) => window.p.setLevel(i), level.index);
        await until(page, `forced switch to ${level.height}p`, (h) => document.getElementById('v').videoHeight === h, level.height, 25000);
        const t = await page.evaluate(() => document.getElementById('v').currentTime);
        await until(page, `playback after the switch to ${level.height}p`, (t) => document.getElementById('v').currentTime > t + 0.5, t, 15000);
      }
      checks.quality = `${order.map((l) => l.height).join('p -> ')}p`;
    }

    // Seek to the middle.
    const middle = DURATION / 2;
    const landed = await page.evaluate((t) => new Promise((resolve) => {
      const v = document.getElementById('v');
      v.addEventListener('seeked', () => resolve(v.currentTime), { once: true });
      v.currentTime = t;
    }), middle);
    if (Math.abs(landed - middle) > FRAGMENT) throw new Error(`seek to ${middle} s landed at ${landed} s`);
    await until(page, 'playback after the seek', (t) => document.getElementById('v').currentTime > t + 1, landed, 20000);
    checks.seek = `${middle} s -> ${landed.toFixed(2)} s`;

    // The second audio language.
    const tracks = await page.evaluate(() => window.p.audioTracks());
    row.audio = tracks.map((t) => t.lang);
    if (format === 'hls-v3') {
      checks.audio = `n/a: HLS v3 muxes one audio track into the video segments (listed: ${row.audio.join(',') || 'none'})`;
    } else if (lib === 'native' && tracks.length === 0) {
      checks.audio = 'n/a: HTMLMediaElement.audioTracks is not enabled in Chromium';
    } else {
      const langs = new Set(tracks.map((t) => t.lang));
      if (langs.size < 2) throw new Error(`the player lists audio languages [${row.audio}], expected two`);
      const active = tracks.find((t) => t.active);
      const other = tracks.find((t) => !active || t.lang !== active.lang);
      await page.evaluate((i) => window.p.setAudio(i), other.index);
      await until(page, `audio switch to ${other.lang}`, (lang) => window.p.audioTracks().some((t) => t.active && t.lang === lang), other.lang, 15000);
      const t = await page.evaluate(() => document.getElementById('v').currentTime);
      await until(page, 'playback after the audio switch', (t) => document.getElementById('v').currentTime > t + 1, t, 15000);
      checks.audio = `${active ? active.lang : '?'} -> ${other.lang}`;
    }

    const final = await page.evaluate(() => ({ errors: window.p.errors, switches: window.p.switches }));
    row.switches = final.switches;
    if (final.errors.length) throw new Error(`the player reported errors: ${final.errors.join(' | ')}`);
    row.ok = true;
  } catch (e) {
    row.error = e.message;
    const errors = await page.evaluate(() => (window.p ? window.p.errors : [])).catch(() => []);
    if (errors.length && !row.error.includes('reported errors')) row.error += ` | player errors: ${errors.join(' | ')}`;
    row.switches = await page.evaluate(() => (window.p ? window.p.switches : 0)).catch(() => 0);
  } finally {
    await page.evaluate(() => window.p && window.p.destroy()).catch(() => {});
    await page.close();
  }
  return row;
}

// The page `ams serve` serves at /: it lists the locator, plays the chosen URL and shows the quality.
async function playerPage(context) {
  const row = { client: 'player-page', format: 'hls-v4', url: `${ORIGIN}/`, ok: false, checks: {}, log: [] };
  const page = await context.newPage();
  watchPage(page, row.log);
  try {
    await page.setViewportSize({ width: 1280, height: 900 });
    const response = await page.goto(`${ORIGIN}/`);
    if (!response || response.status() !== 200) throw new Error(`GET / answered ${response && response.status()}`);
    await until(page, 'the locator list', () => document.querySelectorAll('[data-url]').length > 0, null, 10000);
    const wanted = `${BASE}/${FORMATS['hls-v4']}`;
    const t0 = Date.now();
    await page.locator(`[data-url="${wanted}"] .play`).first().click();
    await until(page, 'playback in the player page', () => document.querySelector('video').currentTime > 1, null, 20000);
    row.ttff_ms = Date.now() - t0;
    const video = page.locator('video');
    const box = await video.boundingBox();
    if (!box || box.width < 100 || box.height < 50) throw new Error(`the video element is not visible (${JSON.stringify(box)})`);
    const t1 = await page.evaluate(() => document.querySelector('video').currentTime);
    const shot1 = await video.screenshot({ path: path.join(OUT, 'player-page-1.png') });
    await sleep(2000);
    const t2 = await page.evaluate(() => document.querySelector('video').currentTime);
    const shot2 = await video.screenshot({ path: path.join(OUT, 'player-page-2.png') });
    await page.screenshot({ path: path.join(OUT, 'player-page.png') });
    if (!(t2 > t1 + 1)) throw new Error(`currentTime did not advance: ${t1} then ${t2}`);
    if (shot1.equals(shot2)) throw new Error('two screenshots of the video 2 s apart are identical');
    row.checks.screenshot = `video ${Math.round(box.width)}x${Math.round(box.height)} visible, frames differ, currentTime ${t1.toFixed(1)} -> ${t2.toFixed(1)} s`;
    const status = await page.locator('#status').innerText();
    if (!/\d+p/.test(status)) throw new Error(`the page shows no current quality: "${status}"`);
    row.checks.status = status.replace(/\s+/g, ' ');
    row.ok = true;
  } catch (e) {
    row.error = e.message;
  } finally {
    await page.close();
  }
  return row;
}

// A fresh browser (and profile) per case, so that one crash cannot take the next cases with it.
async function withBrowser(fn) {
  const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ams-e2e-chromium-'));
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
           '--disable-background-networking', '--disable-component-update', '--disable-sync',
           '--autoplay-policy=no-user-gesture-required'],
  });
  let crashed = false;
  context.on('close', () => { crashed = true; });
  try {
    await serveHarness(context);  // the same-origin copy of the test page
    return await fn(context, () => crashed);
  } finally {
    await context.close().catch(() => {});
    fs.rmSync(userDataDir, { recursive: true, force: true });
  }
}

let failed = 0;
const harness = env.AMS_E2E_SERVER === 'static' ? null : await serveHarness(null);
try {
  const support = await withBrowser(async (context) => {
    const probe = await context.newPage();
    await probe.goto(`${PAGE_ORIGIN}/e2e.html`);
    return probe.evaluate(() => ({
      userAgent: navigator.userAgent,
      h264: MediaSource.isTypeSupported('video/mp4; codecs="avc1.64001f"'),
      aac: MediaSource.isTypeSupported('audio/mp4; codecs="mp4a.40.2"'),
      ts: MediaSource.isTypeSupported('video/mp2t; codecs="avc1.64001f,mp4a.40.2"'),
      nativeHls: document.getElementById('v').canPlayType('application/vnd.apple.mpegurl'),
    }));
  });
  console.log(`[ e2e      ] chromium: ${support.userAgent}; MSE H.264 ${support.h264}, AAC ${support.aac}, ` +
              `MPEG-TS ${support.ts}; native HLS canPlayType "${support.nativeHls}"`);
  fs.writeFileSync(path.join(OUT, 'chromium.json'), JSON.stringify(support, null, 2));

  const rows = [];
  for (const [lib, format] of CASES) {
    const started = Date.now();
    const row = await withBrowser(async (context, crashed) => {
      const r = await playCase(context, lib, format);
      if (crashed()) r.error = `the browser crashed (${r.error})`;
      return r;
    });
    row.wall_ms = Date.now() - started;
    rows.push(row);
    const what = row.ok === null ? `SKIPPED (${row.skipped})`
      : row.ok ? `ok: ttff ${row.ttff_ms} ms, ${row.switches} quality switches, ${Object.entries(row.checks).map(([k, v]) => `${k} ${v}`).join(', ')}`
      : `FAILED: ${row.error.split('\n')[0]}\n    url: ${row.url}${row.log.length ? '\n    ' + row.log.slice(0, 12).join('\n    ') : ''}`;
    console.log(`[ e2e      ] ${lib.padEnd(10)} ${format.padEnd(13)} ${row.reference ? '(reference) ' : ''}${what}`);
    if (row.ok === false && !row.reference) failed++;
  }
  if (!env.AMS_E2E_BROWSER_ONLY || env.AMS_E2E_BROWSER_ONLY.includes('player-page')) {
    const row = await withBrowser((context) => playerPage(context));
    rows.push(row);
    console.log(`[ e2e      ] player page (${row.url}) ${row.ok ? `ok: ${Object.values(row.checks).join('; ')}; screenshots in ${OUT}` : `FAILED: ${row.error}${row.log.length ? '\n    ' + row.log.slice(0, 12).join('\n    ') : ''}`}`);
    if (!row.ok) failed++;
  }
  fs.appendFileSync(env.AMS_E2E_RESULTS, rows.map((r) => JSON.stringify({ ...r, log: r.log.slice(0, 40) }) + '\n').join(''));
} finally {
  if (harness) harness.close();
}
process.exit(failed ? 1 : 0);
