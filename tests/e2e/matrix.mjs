// Turns the result file of the last end-to-end run into the README's "Player support" table:
//   node tests/e2e/matrix.mjs build/tests/e2e/results.jsonl > table.md
//   node tests/e2e/matrix.mjs build/tests/e2e/results.jsonl --readme README.md   (replaces the table)
import fs from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const [resultsPath, ...rest] = process.argv.slice(2);
const readme = rest[0] === '--readme' ? rest[1] : null;
const all = fs.readFileSync(resultsPath, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));
// Rows on the reference stream (ffmpeg's own HLS of the same MP4s) go under the table.
const rows = all.filter((r) => !r.reference);
const references = all.filter((r) => r.reference);

const FORMATS = [['hls-v3', 'HLS v3'], ['hls-v4', 'HLS v4'], ['hls-cmaf', 'HLS CMAF'],
                 ['dash-csf', 'DASH CSF'], ['dash-cmaf', 'DASH CMAF'], ['smooth', 'Smooth']];
const here = path.dirname(fileURLToPath(import.meta.url));
const version = (dir, pkg) => {
  try { return JSON.parse(fs.readFileSync(path.join(here, dir, 'node_modules', pkg, 'package.json'))).version; } catch { return '?'; }
};
const tool = (cmd, args, re) => {
  try { return (re.exec(execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] })) || [])[1] || '?'; } catch { return '?'; }
};
const CLIENTS = [
  ['gstreamer', `GStreamer ${tool('gst-launch-1.0', ['--version'], /GStreamer ([\d.]+)/)} playbin3 (hlsdemux2, dashdemux2, mssdemux2)`],
  ['ffmpeg', `ffmpeg ${tool('ffmpeg', ['-version'], /ffmpeg version (\S+)/)}`],
  ['hls.js', `hls.js ${version('../../tools/player', 'hls.js')}`],
  ['hls.js-1.6', `hls.js ${version('../../tools/player', 'hls.js-1.6')}`],
  ['dash.js', `dash.js ${version('../../tools/player', 'dashjs')}`],
  ['shaka', `shaka-player ${version('../../tools/player', 'shaka-player')}`],
  ['shaka-4', `shaka-player ${version('../../tools/player', 'shaka-player-4')}`],
  ['native', 'Chromium\'s own HLS player'],
];

// Why a listed pair fails (tests/e2e/known_failures.txt), to go with what the player said.
const known = new Map();
try {
  for (const line of fs.readFileSync(path.join(here, 'known_failures.txt'), 'utf8').split('\n')) {
    const m = /^(\S+)\s+(\S+)\s+(.*)$/.exec(line.trim());
    if (m && !line.startsWith('#')) known.set(`${m[1]} ${m[2]}`, m[3].replace(/^intermittent:\s*/, ''));
  }
} catch { /* no list */ }

const notes = [];
function cell(r) {
  if (!r) return '—';
  if (r.ok === true) return `yes (${r.ttff_ms !== undefined ? `first frame ${r.ttff_ms} ms` : `${r.frames} frames`})`;
  const why = r.ok === false && known.get(`${r.client} ${r.format}`);
  notes.push(`${r.client} ${r.format}: ${(r.skipped || r.error || 'failed').split('\n')[0].slice(0, 300)}` +
             (why ? ` — known: ${why.length > 400 ? why.slice(0, 400) + '…' : why}` : ''));
  return r.ok === null ? `skipped [${notes.length}]` : `**no** [${notes.length}]`;
}

let chromium = '';
try {
  const c = JSON.parse(fs.readFileSync(path.join(path.dirname(resultsPath), 'chromium.json')));
  chromium = (/HeadlessChrome\/([\d.]+)/.exec(c.userAgent) || [])[1] || '';
} catch { /* no browser run */ }

const lines = [];
lines.push(`| client | ${FORMATS.map(([, name]) => name).join(' | ')} |`);
lines.push(`| --- | ${FORMATS.map(() => '---').join(' | ')} |`);
for (const [id, name] of CLIENTS) {
  if (!rows.some((r) => r.client === id)) continue;
  lines.push(`| ${name} | ${FORMATS.map(([f]) => cell(rows.findLast((r) => r.client === id && r.format === f))).join(' | ')} |`);
}
const page = rows.findLast((r) => r.client === 'player-page');
lines.push('');
lines.push(`From \`scripts/test.sh\` (suite \`e2e\`, tests/e2e/) on ${new Date(fs.statSync(resultsPath).mtime).toISOString().slice(0, 10)}` +
           `${chromium ? `, headless Chromium ${chromium}` : ''}: a 30 s asset of three H.264 rungs (540p, 360p, 180p) ` +
           'with AAC audio in English and French behind `ams serve`. "yes" means: played to the end with every ' +
           'frame (GStreamer, ffmpeg), or in a browser: started, played past the third fragment, took a forced ' +
           'switch to the top and the bottom quality, a seek to the middle and a switch to the second audio ' +
           'language (HLS v3 muxes one language; Chromium\'s own player offers no quality or audio control, so ' +
           'those two checks do not apply to it), with no error event. ffmpeg reads HLS with ' +
           '`-extension_picky 0`: by default it refuses segment URLs without a file extension, as AMS URLs are. ' +
           '— : the client does not play that protocol.' +
           (page ? ` The player page at \`/\`: ${page.ok ? 'plays (screenshots checked)' : `**fails**: ${page.error}`}.` : ''));
for (const r of references) {
  const name = (CLIENTS.find(([id]) => id === r.client) || [r.client, r.client])[1];
  lines.push('');
  lines.push(`Control: ${name} on ffmpeg's own HLS (MPEG-TS, alternate audio) of the same MP4s: ` +
             (r.ok ? 'passes every check.' : `fails: ${(r.error || '').split('\n')[0].slice(0, 300).replace(/\|/g, '\\|')}`));
}
if (notes.length) {
  lines.push('');
  notes.forEach((n, i) => lines.push(`${i + 1}. ${n.replace(/\|/g, '\\|')}`));
}
const table = lines.join('\n') + '\n';

if (readme) {
  const text = fs.readFileSync(readme, 'utf8');
  const start = text.indexOf('<!-- player-support -->');
  const end = text.indexOf('<!-- /player-support -->');
  if (start < 0 || end < 0) throw new Error(`${readme} has no <!-- player-support --> markers`);
  fs.writeFileSync(readme, text.slice(0, start) + '<!-- player-support -->\n' + table + text.slice(end));
} else {
  process.stdout.write(table);
}
