// Turns the verdict of the last end-to-end run (build/tests/e2e/verdict.json, written by
// run_e2e.py) into the README's "Player support" table: one row per asset and client, one column
// per format, each cell the row's verdict and the tries it took, with numbered notes.
//   node tests/e2e/matrix.mjs build/tests/e2e/verdict.json > table.md
//   node tests/e2e/matrix.mjs build/tests/e2e/verdict.json --readme README.md   (replaces the table)
import fs from 'node:fs';

const [verdictPath, ...rest] = process.argv.slice(2);
const readme = rest[0] === '--readme' ? rest[1] : null;
const V = JSON.parse(fs.readFileSync(verdictPath, 'utf8'));

const FORMATS = [['hls-v3', 'HLS v3'], ['hls-v4', 'HLS v4'], ['hls-cmaf', 'HLS CMAF'],
                 ['dash-csf', 'DASH CSF'], ['dash-cmaf', 'DASH CMAF'], ['smooth', 'Smooth']];
const ver = (client) => String(V.versions[client] || '?').replace(/^.*@/, '');
const CLIENTS = [
  ['gstreamer', 'GStreamer', `GStreamer ${ver('gstreamer')} playbin3 (hlsdemux2, dashdemux2, mssdemux2)`],
  ['ffmpeg', 'ffmpeg', `ffmpeg ${ver('ffmpeg')}`],
  ['hls.js', 'hls.js', `hls.js ${ver('hls.js')}`],
  ['hls.js-1.6', 'hls.js 1.6', `hls.js ${ver('hls.js-1.6')}`],
  ['dash.js', 'dash.js', `dash.js ${ver('dash.js')}`],
  ['shaka', 'shaka', `shaka-player ${ver('shaka')}`],
  ['shaka-4', 'shaka 4', `shaka-player ${ver('shaka-4')}`],
  ['native', 'Chromium HLS', `Chromium ${ver('native')}'s own HLS player`],
];

// Notes, numbered once per distinct text (the same failure on several rows shares a number).
const notes = [];
function note(text) {
  const clean = text.replace(/http:\/\/127\.0\.0\.1:\d+\/[0-9a-f-]{36}\//g, '/{locator}/')
    .replace(/http:\/\/127\.0\.0\.1:\d+/g, '').replace(/\s+/g, ' ').replace(/\|/g, '\\|').trim();
  let i = notes.indexOf(clean);
  if (i < 0) i = notes.push(clean) - 1;
  return i + 1;
}
const cut = (s, n) => (s.length > n ? s.slice(0, n) + '…' : s);

function cell(v) {
  if (!v) return '—';
  const tries = v.tries > 1 ? `, ${v.tries} tries` : '';
  const earlier = (v.earlier || []).map((e) => `try ${e.try}: ${cut(e.error.split('\n')[0], 200)}`).join('; ');
  switch (v.verdict) {
    case 'pass':
      return v.tries > 1 ? `yes${tries} [${note(`passed on try ${v.tries}; ${earlier}`)}]` : 'yes';
    case 'n/a':
      return `n/a [${note(v.error)}]`;
    case 'known': {
      const why = (v.known || []).map((k) => `known_failures.txt:${k.line} (${k.version}): ${cut(k.reason, 300)}`).join('; ');
      return `known${tries} [${note(`${cut(v.error, 300)} — ${why}`)}]`;
    }
    case 'missing':
      return '**missing**';
    default:
      return `**no**${tries} [${note(cut(v.error || 'failed', 400) + (earlier ? ` (${earlier})` : ''))}]`;
  }
}

const rows = V.rows.filter((r) => r.verdict !== 'control');
const lines = [];
const chromium = V.chromium ? (/HeadlessChrome\/([\d.]+)/.exec(V.chromium.userAgent) || [])[1] : '';
lines.push(`Clients: ${CLIENTS.map(([, , long]) => long).join('; ')}.`);
lines.push('');
lines.push(`| asset | client | ${FORMATS.map(([, name]) => name).join(' | ')} |`);
lines.push(`| --- | --- | ${FORMATS.map(() => '---').join(' | ')} |`);
for (const asset of V.assets) {
  let first = true;
  for (const [id, short] of CLIENTS) {
    const mine = rows.filter((r) => r.asset === asset.name && r.client === id);
    if (!mine.length) continue;
    lines.push(`| ${first ? `\`${asset.name}\`` : ''} | ${short} | ${FORMATS.map(([f]) => cell(mine.find((r) => r.format === f))).join(' | ')} |`);
    first = false;
  }
}
lines.push('');
const c = V.counts;
lines.push(`From \`scripts/test.sh${V.full ? ' --full' : ''}\` (suite \`e2e\`, tests/e2e/) on ${V.date}` +
           `${chromium ? `, headless Chromium ${chromium}` : ''}, ${V.full ? 'full' : 'quick'} corpus behind \`ams ${V.mode === 'static' ? 'package` output' : 'serve`'}: ` +
           `${c.pass} rows passed, ${c.known} known failures, ${c['n/a']} n/a, ${c.fail} failed, ${c.missing} missing` +
           `${V.problems.length ? `; the suite **failed** (${V.problems.length} problems)` : '; the suite passed'}. ` +
           '"yes" means: played to the end with every frame of the rung, the full duration and a seek to the middle that ' +
           'lands within a fragment and plays every frame from there (GStreamer), every frame (ffmpeg), or in a browser: ' +
           'started, played past the third fragment, took a forced switch to the top and the bottom quality, a seek to the ' +
           'middle and a switch to another audio language, with no error event (HLS v3 muxes one language; Chromium\'s own ' +
           'player offers no quality or audio control). "known": fails as tests/e2e/known_failures.txt says, matched by ' +
           'its error signature. "N tries": an intermittent failure, tried again (3 tries at most; a row passes only if a ' +
           'try passes). — : the client does not play that protocol, or the asset is not in the browser matrix.');
// What failed the suite besides the rows' verdicts: 5xx answers, crashes, stale or unused entries.
const other = V.problems.filter((p) => !['failure', 'missing row'].includes(p.kind));
if (other.length) {
  lines.push('', 'The suite also failed on:');
  for (const p of other) lines.push(`- ${p.kind}: ${cut(p.text.replace(/http:\/\/127\.0\.0\.1:\d+/g, ''), 300).replace(/\|/g, '\\|')}`);
}
for (const page of V.rows.filter((r) => r.client === 'player-page')) {
  const what = page.summary && page.summary.checks && page.summary.checks.text ? 'plays (screenshots checked), shows the subtitles chosen in its menu' : 'plays (screenshots checked)';
  lines.push('', `The player page at \`/\` (asset \`${page.asset}\`, HLS v4): ${page.verdict === 'pass' ? `${what}${page.tries > 1 ? `, ${page.tries} tries` : ''}` : `**${page.verdict}**: ${cut(page.error || '', 300)}`}.`);
}
const controls = V.rows.filter((r) => r.verdict === 'control');
for (const r of controls) {
  lines.push('', `Control, \`${r.asset}\`: hls.js ${ver('hls.js')} on ffmpeg's own HLS (MPEG-TS, alternate audio) of the same MP4s: ` +
             (r.ok ? 'passes every check.' : `${r.ok === null ? 'n/a' : 'fails'}: ${cut((r.error || '').replace(/http:\/\/127\.0\.0\.1:\d+/g, ''), 300).replace(/\|/g, '\\|')}`));
}
lines.push('', 'Assets:');
for (const a of V.assets) {
  lines.push(`- \`${a.name}\` (${a.set} set${a.browsers ? ', browser matrix' : ''}): ${a.description}`);
}
if (notes.length) {
  lines.push('', 'Notes:');
  notes.forEach((n, i) => lines.push(`${i + 1}. ${n}`));
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
