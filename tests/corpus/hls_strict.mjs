// Parses each HLS playlist named on the command line with hls-parser in strict mode (it throws on
// anything RFC 8216 says a playlist MUST NOT do) and prints one JSON line per file:
// {"file": ..., "ok": true} or {"file": ..., "ok": false, "error": ...}. Used by corpus_check.py.
import { readFileSync } from 'node:fs';
import HLS from 'hls-parser';

HLS.setOptions({ strictMode: true });
for (const file of process.argv.slice(2)) {
  let result;
  try {
    HLS.parse(readFileSync(file, 'utf8'));
    result = { file, ok: true };
  } catch (e) {
    result = { file, ok: false, error: String((e && e.message) || e) };
  }
  console.log(JSON.stringify(result));
}
