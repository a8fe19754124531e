// Plays the browser cases of the end-to-end suite in headless Chromium with hls.js, dash.js,
// shaka-player and Chromium's own HLS player, through the adapters of the player page
// (tools/player/adapters.js), and the player page that `ams serve` serves at /. run_e2e.py writes
// the plan: which (asset, client, format) cases, which try, and what the corpus says of each asset
// (heights, languages, fragment length, duration). Each case's row is appended to the result file
// as soon as the case ends, so a crash leaves the rows before it. The exit code is 0 when every
// case of the plan ran (whatever their verdicts: run_e2e.py judges them), non-zero otherwise.
//   node browsers.mjs --plan build/tests/e2e/browser-plan-1.json --player tools/player
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { chromium } from 'playwright-core';

const args = Object.fromEntries(
  process.argv.slice(2).reduce((acc, a, i, all) => (a.startsWith('--') ? [...acc, [a.slice(2), all[i + 1]]] : acc), []));
const PLAN = JSON.parse(fs.readFileSync(args.plan, 'utf8'));
const PLAYER_DIR = path.resolve(args.player);
const OUT = PLAN.out;
const ORIGIN = PLAN.origin;
const env = process.env;
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
// The control (format `ffmpeg-hls-ts`): ffmpeg's own HLS muxer output of the asset's MP4s, which
// run_e2e.py writes to assets[name].reference; it shows which player errors are the player's and
// not the origin's. Its rows are marked `reference` and are evidence, not verdict.
const REFERENCE_FORMAT = 'ffmpeg-hls-ts';

// Languages as players report them (ISO 639-1 or -2, with a region or not), compared as one code.
const LANG = { eng: 'en', fre: 'fr', fra: 'fr', ger: 'de', deu: 'de', spa: 'es', ita: 'it', por: 'pt', jpn: 'ja',
               chi: 'zh', zho: 'zh', rus: 'ru', kor: 'ko', ara: 'ar', dut: 'nl', nld: 'nl', swe: 'sv', pol: 'pl',
               tur: 'tr', hin: 'hi' };
const lang = (l) => { const base = String(l || 'und').toLowerCase().split(/[-_]/)[0]; return LANG[base] || base; };

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
  const ref = /^\/reference\/([a-z0-9-]+)\/(.*)$/.exec(pathname);
  if (ref && PLAN.assets[ref[1]] && PLAN.assets[ref[1]].reference) return fileUnder(PLAN.assets[ref[1]].reference, ref[2]);
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

// A check that failed: its message is one item of the row's errors.
class CheckFailed extends Error {}

// The step a case is in (start, plays, quality, seek, audio): every error event of the library
// is an item "TEXT [during STEP]", so that a known failure's signature can say when it happens.
async function phase(page, name) {
  await page.evaluate((n) => { window.phase = n; }, name);
}

// The codecs of the manifest a case plays, and which of them Chromium's MSE refuses: the page
// fetches the manifest and asks MediaSource.isTypeSupported of each. Smooth manifests name FourCCs
// and codec private data, not codecs strings: for Smooth the same asset's DASH manifest is asked.
async function codecCheck(page, url) {
  return page.evaluate(async (url) => {
    const r = await fetch(url);
    if (!r.ok) return { error: `the manifest answered HTTP ${r.status}` };
    const text = await r.text();
    const codecs = new Set();
    for (const m of text.matchAll(/CODECS="([^"]*)"/g)) m[1].split(',').forEach((c) => codecs.add(c.trim()));
    for (const m of text.matchAll(/\scodecs="([^"]*)"/g)) m[1].split(',').forEach((c) => codecs.add(c.trim()));
    const list = [...codecs].filter((c) => c && !/^(stpp|wvtt|tx3g|c608)/.test(c));
    const kind = (c) => (/^(avc|hvc|hev|vp0|vp9|av01|dvh|dva)/.test(c) ? 'video' : 'audio');
    list.sort();
    return { codecs: list, unsupported: list.filter((c) => !MediaSource.isTypeSupported(`${kind(c)}/mp4; codecs="${c}"`)) };
  }, url);
}

async function playCase(context, { asset, client: lib, format }) {
  const { adapter, page: harnessPage } = CLIENTS[lib];
  const A = PLAN.assets[asset];
  const reference = format === REFERENCE_FORMAT;
  // The asset's further arguments (",encryption=cbc") go inside the selector.
  const path = A.args ? (FORMATS[format].endsWith(')') ? `${FORMATS[format].slice(0, -1)}${A.args})` : `${FORMATS[format]}(${A.args.slice(1)})`) : FORMATS[format];
  const url = reference ? `${PAGE_ORIGIN}/reference/${asset}/master.m3u8` : `${A.base}/${path}`;
  const log = [];
  const checks = {};
  const errors = [];
  const row = { asset, client: lib, format, try: PLAN.try, url, ok: false, checks, log, ...(reference ? { reference: true } : {}) };
  if (reference && !A.reference) {
    row.errors = [`no reference stream: ${A.reference_error}`];
    row.error = row.errors[0];
    return row;
  }
  const page = await context.newPage();
  watchPage(page, log);
  try {
    // Chromium 156 refuses a cross-origin HLS URL in a <video> (the manifest request is aborted and
    // the element fails with MEDIA_ERR_SRC_NOT_SUPPORTED, CORS headers or not): its own player is
    // tried from the endpoint's origin, as the player page at / uses it.
    await page.goto(`${lib === 'native' ? ORIGIN : PAGE_ORIGIN}/${harnessPage}`);
    let codecs = await codecCheck(page, format === 'smooth' ? `${A.base}/${FORMATS['dash-csf']}` : url);
    // ffmpeg's HLS muxer leaves CODECS out when it cannot name one: the control asks the origin's
    // DASH manifest of the same MP4s.
    if (reference && !codecs.error && !codecs.codecs.length) codecs = await codecCheck(page, `${A.base}/${FORMATS['dash-csf']}`);
    if (codecs.error) throw new CheckFailed(`codecs: ${codecs.error}`);
    if (!codecs.codecs.length) throw new CheckFailed('codecs: the manifest names no codecs');
    row.codecs = codecs.codecs;
    row.unsupported = codecs.unsupported;
    if (codecs.unsupported.length) {
      row.ok = null;
      row.skipped = `Chromium cannot decode ${codecs.unsupported.join(', ')} (MediaSource.isTypeSupported is false)`;
      return row;
    }
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
      // Each error event with the step of the case it came in (see phase() below).
      window.phase = 'start';
      window.tagged = [];
      window.p.onerror = (text) => window.tagged.push(`${text} [during ${window.phase}]`);
      await window.p.load();
      return await Promise.race([window.firstFrame, new Promise((r) => setTimeout(() => r(-1), 20000))]);
    }, [adapter, url]);
    if (ttff < 0) throw new CheckFailed('start: no frame within 20 s');
    row.ttff_ms = Math.round(ttff);
    checks.start = true;
    await phase(page, 'plays');

    // Past the third fragment (or 30 % of a short asset).
    const third = Math.min(3 * A.fragment + 0.1, 0.3 * A.video_duration);
    await until(page, `plays: currentTime past ${third.toFixed(1)} s`, (t) => document.getElementById('v').currentTime > t, third, 30000);
    checks.plays = true;

    // Forced quality switches: to the top and the bottom rung, whichever differs first.
    await phase(page, 'quality');
    const levels = await page.evaluate(() => window.p.levels().map(({ index, height, bitrate }) => ({ index, height, bitrate })));
    row.levels = levels.map((l) => l.height);
    if (lib === 'native') {
      checks.quality = 'n/a: the video element offers no quality control';
    } else {
      if (!levels.length) throw new CheckFailed('quality: the player lists no video quality');
      const top = levels.reduce((a, b) => (b.height > a.height ? b : a));
      const bottom = levels.reduce((a, b) => (b.height < a.height ? b : a));
      if (top.height !== Math.max(...A.heights) || bottom.height !== Math.min(...A.heights)) {
        throw new CheckFailed(`quality: the player lists heights ${row.levels}, the asset has ${A.heights}`);
      }
      if (top.height === bottom.height) {
        checks.quality = `n/a: one rung (${top.height}p)`;
      } else {
        const now = await page.evaluate(() => document.getElementById('v').videoHeight);
        const order = now === top.height ? [bottom, top] : [top, bottom];
        for (const level of order) {
          await page.evaluate((i) => window.p.setLevel(i), level.index);
          await until(page, `quality: forced switch to ${level.height}p`, (h) => document.getElementById('v').videoHeight === h, level.height, 25000);
          const t = await page.evaluate(() => document.getElementById('v').currentTime);
          await until(page, `quality: playback after the switch to ${level.height}p`, (t) => document.getElementById('v').currentTime > t + 0.5, t, 15000);
        }
        checks.quality = `${order.map((l) => l.height).join('p -> ')}p`;
      }
    }

    // Subtitles (assets with side-cars): the player lists each language, and after a seek the cue
    // it shows is the side-car's cue at that time. Before the seek to the middle and the audio
    // switch: after those two, shaka-player 5.2.12 fetched no text behind its position on a later
    // backward seek (docs/subtitles.md, not established whose).
    if (A.text && A.text.length && A.text[0].cues) {
      await phase(page, 'text');
      const listed = await page.evaluate(() => window.p.textTracks());
      row.text = listed.map((t) => t.lang);
      const want = [...new Set(A.text.map((t) => lang(t.lang)))].sort();
      const got = [...new Set(listed.map((t) => lang(t.lang)))].sort();
      if (got.join() !== want.join()) throw new CheckFailed(`text: the player lists languages [${row.text}], the asset has [${A.text.map((t) => t.lang)}]`);
      const side = A.text[0];
      const track = listed.find((t) => lang(t.lang) === lang(side.lang));
      const at = side.check_at;
      const cue = side.cues.find(([start, end]) => start <= at && at < end);
      // The track chosen while playing, and showing cues where it plays (a cue every 2 s, 0.2 s
      // apart), before the seek: shaka-player 5.2.12 showed no cue at times when it was chosen
      // just after a seek. Then paused at the time, so that the cue stays current however long
      // the text takes to load.
      await page.evaluate((i) => window.p.setText(i), track.index);
      await until(page, `text: ${side.lang} selected`, (i) => window.p.textTracks().some((t) => t.index === i && t.active), track.index, 10000);
      await until(page, `text: a ${side.lang} cue shown while playing`, () => window.p.activeCueTexts().length > 0, null, 10000);
      await page.evaluate((t) => { const v = document.getElementById('v'); v.pause(); v.currentTime = t; }, at);
      try {
        await until(page, `text: the ${side.lang} cue "${cue[2]}" at ${at} s`, (text) => window.p.activeCueTexts().includes(text), cue[2], 20000);
      } catch (e) {
        // What the video's text tracks hold then: which one shows, and the cues around the time.
        const tracks = await page.evaluate((t) => Array.from(document.getElementById('v').textTracks).map((k) =>
          `${k.kind}/${k.label}/${k.language}/${k.mode}: ${k.cues ? k.cues.length : 'no'} cues` +
          `${k.cues ? ' ' + JSON.stringify(Array.from(k.cues).filter((c) => Math.abs(c.startTime - t) < 4).map((c) => [c.startTime, c.endTime, c.text])) : ''}`), at).catch(() => []);
        // dash.js renders TTML into its own div (tools/player/adapters.js): what it holds.
        const rendered = await page.evaluate(() => {
          const div = document.querySelector('.ams-ttml');
          return div ? `; TTML rendering div: ${JSON.stringify(div.textContent.slice(0, 200))}` : '';
        }).catch(() => '');
        throw new CheckFailed(`${e.message}; text tracks: ${tracks.join('; ') || 'none'}${rendered}`);
      }
      checks.text = `${side.lang} at ${at} s: "${cue[2]}"`;
      await page.evaluate(() => document.getElementById('v').play());
    }

    // Seek to the middle.
    await phase(page, 'seek');
    const middle = A.video_duration / 2;
    const landed = await page.evaluate((t) => new Promise((resolve) => {
      const v = document.getElementById('v');
      v.addEventListener('seeked', () => resolve(v.currentTime), { once: true });
      v.currentTime = t;
    }), middle);
    if (Math.abs(landed - middle) > A.fragment) throw new CheckFailed(`seek: to ${middle} s landed at ${landed} s`);
    await until(page, 'seek: playback after the seek', (t) => document.getElementById('v').currentTime > t + 1, landed, 20000);
    checks.seek = `${middle} s -> ${landed.toFixed(2)} s`;

    // The audio languages: the asset's, and a switch to another one when it has two or more.
    await phase(page, 'audio');
    const tracks = await page.evaluate(() => window.p.audioTracks());
    row.audio = tracks.map((t) => t.lang);
    const want = [...new Set(A.languages.map(lang))].sort();
    const listed = [...new Set(tracks.map((t) => lang(t.lang)))].sort();
    if (format === 'hls-v3' || (reference && want.length < 2)) {
      checks.audio = `n/a: HLS v3 muxes one audio track into the video segments (listed: ${row.audio.join(',') || 'none'})`;
    } else if (lib === 'native' && tracks.length === 0) {
      checks.audio = 'n/a: HTMLMediaElement.audioTracks is not enabled in Chromium';
    } else if (want.length < 2) {
      // One language: the player may list it, or nothing, when the audio is muxed with the video.
      if (listed.length && listed.join() !== want.join()) throw new CheckFailed(`audio: the player lists languages [${row.audio}], the asset has [${A.languages}]`);
      checks.audio = `n/a: one language (${A.languages.join(',') || 'none'})`;
    } else {
      if (listed.join() !== want.join()) throw new CheckFailed(`audio: the player lists languages [${row.audio}], the asset has [${A.languages}]`);
      const active = tracks.find((t) => t.active);
      const other = tracks.find((t) => !active || lang(t.lang) !== lang(active.lang));
      await page.evaluate((i) => window.p.setAudio(i), other.index);
      await until(page, `audio: switch to ${other.lang}`, (l) => window.p.audioTracks().some((t) => t.active && t.lang === l), other.lang, 15000);
      const t = await page.evaluate(() => document.getElementById('v').currentTime);
      await until(page, 'audio: playback after the audio switch', (t) => document.getElementById('v').currentTime > t + 1, t, 15000);
      checks.audio = `${active ? active.lang : '?'} -> ${other.lang}`;
    }

    row.ok = true;
  } catch (e) {
    errors.push(e instanceof CheckFailed ? e.message : `harness: ${e.message.split('\n')[0]}`);
  } finally {
    // Every error event of the library is one item (the same text in the same step once), pass
    // or fail.
    const reported = await page.evaluate(() => window.tagged || (window.p ? window.p.errors : [])).catch(() => []);
    for (const r of reported) if (!errors.includes(r)) errors.push(r);
    row.switches = await page.evaluate(() => (window.p ? window.p.switches : 0)).catch(() => 0);
    await page.evaluate(() => window.p && window.p.destroy()).catch(() => {});
    await page.close().catch(() => {});
  }
  if (errors.length && row.ok !== null) {
    row.ok = false;
    row.errors = errors;
    row.error = errors.join(' | ');
  }
  return row;
}

// The page `ams serve` serves at /: it lists the locators, plays the chosen URL and shows the
// quality. Played on one asset's HLS v4 URL.
async function playerPage(context, { asset, client, format }) {
  const A = PLAN.assets[asset];
  const row = { asset, client, format, try: PLAN.try, url: `${ORIGIN}/`, ok: false, checks: {}, log: [] };
  const page = await context.newPage();
  watchPage(page, row.log);
  try {
    await page.setViewportSize({ width: 1280, height: 900 });
    const response = await page.goto(`${ORIGIN}/#token=${encodeURIComponent(PLAN.operatorToken || '')}`);
    if (!response || response.status() !== 200) throw new Error(`GET / answered ${response && response.status()}`);
    await until(page, 'the locator list', () => document.querySelectorAll('[data-url]').length > 0, null, 10000);
    const wanted = `${A.base}/${FORMATS[format]}`;
    const t0 = Date.now();
    await page.locator(`[data-url="${wanted}"] .play`).first().click({ timeout: 10000 });
    await until(page, 'playback in the player page', () => document.querySelector('video').currentTime > 1, null, 20000);
    row.ttff_ms = Date.now() - t0;
    const video = page.locator('video');
    const box = await video.boundingBox();
    if (!box || box.width < 100 || box.height < 50) throw new Error(`the video element is not visible (${JSON.stringify(box)})`);
    const t1 = await page.evaluate(() => document.querySelector('video').currentTime);
    const shots = asset === 'ams-encode' ? 'player-page' : `player-page-${asset}`;
    const shot1 = await video.screenshot({ path: path.join(OUT, `${shots}-1.png`) });
    await sleep(2000);
    const t2 = await page.evaluate(() => document.querySelector('video').currentTime);
    const shot2 = await video.screenshot({ path: path.join(OUT, `${shots}-2.png`) });
    await page.screenshot({ path: path.join(OUT, `${shots}.png`) });
    if (!(t2 > t1 + 1)) throw new Error(`currentTime did not advance: ${t1} then ${t2}`);
    if (shot1.equals(shot2)) throw new Error('two screenshots of the video 2 s apart are identical');
    row.checks.screenshot = `video ${Math.round(box.width)}x${Math.round(box.height)} visible, frames differ, currentTime ${t1.toFixed(1)} -> ${t2.toFixed(1)} s`;
    const status = await page.locator('#status').innerText();
    if (!/\d+p/.test(status)) throw new Error(`the page shows no current quality: "${status}"`);
    row.checks.status = status.replace(/\s+/g, ' ');
    // An asset with side-cars: its Subtitles menu lists them, and choosing the English one shows
    // the side-car's cue of the moment.
    if (A.text && A.text.length && A.text[0].cues) {
      const side = A.text[0];
      await until(page, 'the Subtitles menu', () => document.getElementById('text').options.length > 1, null, 10000);
      const options = await page.evaluate(() => Array.from(document.getElementById('text').options).map((o) => [o.value, o.textContent]));
      const pick = options.find(([v, label]) => v !== '-1' && lang(label.split(' ')[0]) === lang(side.lang));
      if (!pick) throw new Error(`the Subtitles menu has no ${side.lang} entry: ${JSON.stringify(options)}`);
      await page.selectOption('#text', pick[0]);
      const shown = await until(page, `the ${side.lang} cue of the moment in the player page`, (cues) => {
        const v = document.querySelector('video');
        const cue = cues.find(([a, b]) => a <= v.currentTime && v.currentTime < b);
        const active = Array.from(v.textTracks).filter((k) => k.mode === 'showing')
          .flatMap((k) => Array.from(k.activeCues || []).map((c) => c.text));
        return cue && active.includes(cue[2]) ? cue[2] : false;
      }, side.cues, 20000);
      row.checks.text = `${pick[1]}: "${shown}"`;
    }
    row.ok = true;
  } catch (e) {
    row.errors = [e.message.split('\n')[0]];
    row.error = row.errors[0];
  } finally {
    await page.close().catch(() => {});
  }
  return row;
}

// One Chromium for the run and a fresh context (its own cache, storage and cookies) per case: a
// context costs about 1 s where a browser launch costs 3. A case during which the browser
// disconnected or a page crashed is marked as a crash, and the next case gets a new browser.
let browser = null;
let launching = null;  // the launch in flight, which concurrent cases wait for
async function launch() {
  if (browser && browser.isConnected()) return browser;
  if (!launching) {
    launching = chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
             '--disable-background-networking', '--disable-component-update', '--disable-sync',
             '--autoplay-policy=no-user-gesture-required'],
    }).then((b) => { browser = b; return b; }).finally(() => { launching = null; });
  }
  return launching;
}
async function withBrowser(fn) {
  const b = await launch();
  let crashed = false;
  const onDisconnect = () => { crashed = true; };
  b.on('disconnected', onDisconnect);
  const context = await b.newContext();
  context.on('page', (page) => page.on('crash', () => { crashed = true; }));
  try {
    await serveHarness(context);  // the same-origin copy of the test page
    return await fn(context, () => crashed);
  } finally {
    b.off('disconnected', onDisconnect);
    await context.close().catch(() => {});
  }
}

function describe(row) {
  if (row.ok === null) return `n/a (${row.skipped})`;
  if (row.ok) return `ok: ttff ${row.ttff_ms} ms, ${row.switches} quality switches, ${Object.entries(row.checks).map(([k, v]) => `${k} ${v}`).join(', ')}`;
  return `FAILED: ${(row.error || '').split('\n')[0].slice(0, 1500)}\n    url: ${row.url}${row.log.length ? '\n    ' + row.log.slice(0, 12).join('\n    ') : ''}`;
}

const harness = PLAN.static ? null : await serveHarness(null);
try {
  const support = await withBrowser(async (context) => {
    const probe = await context.newPage();
    await probe.goto(`${PAGE_ORIGIN}/e2e.html`);
    return probe.evaluate(() => ({
      userAgent: navigator.userAgent,
      h264: MediaSource.isTypeSupported('video/mp4; codecs="avc1.64001f"'),
      hevc: MediaSource.isTypeSupported('video/mp4; codecs="hvc1.1.6.L93.90"'),
      aac: MediaSource.isTypeSupported('audio/mp4; codecs="mp4a.40.2"'),
      ac3: MediaSource.isTypeSupported('audio/mp4; codecs="ac-3"'),
      ec3: MediaSource.isTypeSupported('audio/mp4; codecs="ec-3"'),
      ts: MediaSource.isTypeSupported('video/mp2t; codecs="avc1.64001f,mp4a.40.2"'),
      nativeHls: document.getElementById('v').canPlayType('application/vnd.apple.mpegurl'),
    }));
  });
  console.log(`[ e2e      ] chromium: ${support.userAgent}; MSE H.264 ${support.h264}, HEVC ${support.hevc}, AAC ${support.aac}, ` +
              `AC-3 ${support.ac3}, E-AC-3 ${support.ec3}, MPEG-TS ${support.ts}; native HLS canPlayType "${support.nativeHls}"`);
  fs.writeFileSync(path.join(OUT, 'chromium.json'), JSON.stringify(support, null, 2));

  // The cases run JOBS at a time (AMS_E2E_BROWSER_JOBS, default 2), each in its own context of the
  // one Chromium: a player spends most of a case waiting on real-time playback, and two at once
  // keep both cores of a CI machine busy where one left the second idle (docs/players.md). A
  // browser that disconnects marks every case it was running as a crash.
  const jobs = Math.max(1, Number(process.env.AMS_E2E_BROWSER_JOBS || 2));
  const queue = [...PLAN.cases];
  const runCase = async (c) => {
    const started = Date.now();
    let row;
    try {
      row = await withBrowser(async (context, crashed) => {
        const r = c.client === 'player-page' ? await playerPage(context, c) : await playCase(context, c);
        if (crashed()) {
          r.ok = false;
          r.crashed = true;
          r.errors = ['crash: the browser closed during the case', ...(r.errors || [])];
          r.error = r.errors.join(' | ');
        }
        return r;
      });
    } catch (e) {
      // Chromium did not start, or died where playCase could not see it.
      const error = `crash: ${e.message.split('\n')[0]}`;
      row = { ...c, try: PLAN.try, ok: false, crashed: true, errors: [error], error, log: [] };
    }
    row.wall_ms = Date.now() - started;
    // The row goes to the file now: a crash later leaves it.
    fs.appendFileSync(PLAN.results, JSON.stringify({ ...row, log: row.log.slice(0, 40) }) + '\n');
    console.log(`[ e2e      ] ${c.client.padEnd(11)} ${c.asset} ${c.format.padEnd(13)} ${PLAN.try > 1 ? `(try ${PLAN.try}) ` : ''}` +
                `${row.reference ? '(reference) ' : ''}${describe(row)}`);
  };
  const worker = async () => {
    while (queue.length) await runCase(queue.shift());
  };
  await Promise.all(Array.from({ length: Math.min(jobs, queue.length) }, worker));
} finally {
  if (harness) harness.close();
  if (browser) await browser.close().catch(() => {});
}
process.exit(0);
