#!/usr/bin/env python3
"""The end-to-end verdict's own test (run_e2e.py): each way a run can go wrong must fail it.

The rows here are written by hand to drive the verdict, they are not player results: a missing
row, a crash, an error a known failure's signature does not match, a stale or unused entry, a
retried case that never passed. The crash cases run a real process that aborts.
    python3 tests/e2e/verdict_test.py
"""
import contextlib
import io
import json
import os
import shutil
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import run_e2e  # noqa: E402

VERSIONS = {"gstreamer": "gstreamer@1.22.0", "ffmpeg": "ffmpeg@5.1", "hls.js": "hls.js@1.7.4",
            "hls.js-1.6": "hls.js@1.6.19", "dash.js": "dashjs@5.2.1", "shaka": "shaka-player@5.2.12",
            "shaka-4": "shaka-player@4.16.50", "native": "chromium@156", "player-page": "chromium@156"}
KNOWN = """# a test list
gstreamer smooth * gstreamer@1.22.0 known /^seek: no video frame after/
  mssdemux2 after a seek
hls.js hls-v3 x264-* hls.js@1.7.4 intermittent /^mediaError bufferSeekOverHole/
  start gap
gstreamer hls-v4 * gstreamer@1.22.0 intermittent /^crash: .*signal 6/
  adaptivedemux2 abort
hls.js-1.6 hls-cmaf * hls.js@1.6.19 sometimes /^mediaError bufferStalledError: Playback stalling at @0/
  a start report that shows in some runs and not others
"""


class Args:
    pass


class VerdictTest(unittest.TestCase):
    def setUp(self):
        # What the suite prints goes nowhere: the meson log must not hold "[ e2e ]" lines of a
        # test run (scripts/test.sh counts the suite's closing line).
        self.quiet = contextlib.redirect_stdout(io.StringIO())
        self.quiet.__enter__()
        self.addCleanup(self.quiet.__exit__, None, None, None)
        self.dir = tempfile.mkdtemp(prefix="ams-e2e-verdict-")
        args = Args()
        args.out = self.dir
        args.build = args.src = self.dir
        args.here = os.path.dirname(os.path.abspath(__file__))
        args.gst_test = os.path.join(self.dir, "gst_test")
        self.suite = run_e2e.Suite(args)
        self.suite.full = False  # whatever AMS_TEST_FULL says: the tests set it where they need it
        os.makedirs(self.suite.logs)
        open(self.suite.results, "w").close()
        self.assets = [{"name": "x264-a", "set": "quick", "description": "", "features": [],
                        "browsers": True, "codecs_playable_in_chromium": True, "duration": 4.0,
                        "fragment": 2.0, "video": [{"height": 360, "frames": 120, "fps": "30"}],
                        "audio": [{"language": "eng", "codec": "aac"}], "base": "http://x/y.ism"}]

    def tearDown(self):
        shutil.rmtree(self.dir)

    def entries(self, text=KNOWN, versions=VERSIONS):
        path = os.path.join(self.dir, "known.txt")
        with open(path, "w") as f:
            f.write(text)
        return self.suite.load_known(path, versions)

    def row(self, client, fmt, ok=True, try_=1, errors=None, **extra):
        r = {"asset": "x264-a", "client": client, "format": fmt, "try": try_, "ok": ok}
        if errors:
            r.update(errors=errors, error=" | ".join(errors))
        r.update(extra)
        self.suite.append_row(r)

    def verdict(self, expected, entries):
        code = self.suite.verdict(expected, entries, VERSIONS, self.assets)
        with open(os.path.join(self.dir, "verdict.json")) as f:
            return code, json.load(f)

    def kinds(self):
        return sorted({k for k, _ in self.suite.problems})

    def test_every_row_passes(self):
        self.row("gstreamer", "hls-v3")
        self.row("ffmpeg", "smooth", ok=None, skipped="no demuxer")
        code, v = self.verdict([("x264-a", "gstreamer", "hls-v3"), ("x264-a", "ffmpeg", "smooth")],
                               self.entries(""))
        self.assertEqual(code, 0, self.suite.problems)
        self.assertEqual(v["counts"]["pass"], 1)
        self.assertEqual(v["counts"]["n/a"], 1)

    def test_a_missing_row_fails_and_is_named(self):
        self.row("gstreamer", "hls-v3")
        code, v = self.verdict([("x264-a", "gstreamer", "hls-v3"), ("x264-a", "shaka", "dash-csf")],
                               self.entries(""))
        self.assertEqual(code, 1)
        self.assertIn(("missing row", "x264-a shaka dash-csf"), self.suite.problems)
        self.assertEqual(v["rows"][1]["verdict"], "missing")

    def test_a_row_nobody_expected_or_twice_fails(self):
        self.row("gstreamer", "hls-v3")
        self.row("gstreamer", "hls-v3")
        self.row("gstreamer", "hls-v4")
        code, _ = self.verdict([("x264-a", "gstreamer", "hls-v3")], self.entries(""))
        self.assertEqual(code, 1)
        self.assertEqual(self.kinds(), ["duplicate row", "unexpected row"])

    def test_a_known_failure_matches_by_signature_not_by_pair(self):
        self.row("gstreamer", "smooth", ok=False,
                 errors=["seek: no video frame after a flushing key-unit seek to 15.0 s"])
        code, v = self.verdict([("x264-a", "gstreamer", "smooth")], self.entries())
        self.assertEqual(code, 0, self.suite.problems)
        self.assertEqual(v["rows"][0]["verdict"], "known")

    def test_an_error_beside_a_known_one_fails(self):
        self.row("gstreamer", "smooth", ok=False,
                 errors=["seek: no video frame after a flushing key-unit seek to 15.0 s",
                         "full: 898 video frames decoded, expected 900"])
        code, v = self.verdict([("x264-a", "gstreamer", "smooth")], self.entries())
        self.assertEqual(code, 1)
        self.assertEqual(v["rows"][0]["verdict"], "fail")

    def test_the_same_pair_with_another_error_fails(self):
        self.row("gstreamer", "smooth", ok=False, errors=["full: souphttpsrc0: Not Found"])
        code, _ = self.verdict([("x264-a", "gstreamer", "smooth")], self.entries())
        self.assertEqual(code, 1)
        self.assertEqual(self.kinds(), ["failure"])

    def test_a_known_entry_that_matched_nothing_fails_a_full_run(self):
        self.row("gstreamer", "smooth")
        code, _ = self.verdict([("x264-a", "gstreamer", "smooth")], self.entries())
        self.assertEqual(code, 0, self.suite.problems)  # a quick run reports it
        self.suite.full = True
        code, _ = self.verdict([("x264-a", "gstreamer", "smooth")], self.entries())
        self.assertEqual(code, 1)
        self.assertEqual(self.kinds(), ["unused entry"])

    def test_an_entry_covers_only_its_assets(self):
        self.assets[0]["name"] = "gst-b"
        r = {"asset": "gst-b", "client": "hls.js", "format": "hls-v3", "try": 1, "ok": False,
             "errors": ["mediaError bufferSeekOverHole x"], "error": "x"}
        self.suite.append_row(r)
        code, v = self.verdict([("gst-b", "hls.js", "hls-v3")], self.entries())
        self.assertEqual(code, 1)
        self.assertEqual(v["rows"][0]["verdict"], "fail")

    def test_a_crash_is_never_a_known_failure(self):
        self.row("gstreamer", "smooth", ok=False, crashed=True,
                 errors=["crash: seek: no video frame after everything"])
        entries = self.entries(KNOWN.replace("/^seek: no video frame after/", "/no video frame after/"))
        code, _ = self.verdict([("x264-a", "gstreamer", "smooth")], entries)
        self.assertEqual(code, 1)
        self.assertIn("crash", self.kinds())

    def test_an_intermittent_failure_passes_only_if_a_try_passes(self):
        self.row("hls.js", "hls-v3", ok=False, errors=["mediaError bufferSeekOverHole a"])
        self.row("hls.js", "hls-v3", ok=True, try_=2)
        code, v = self.verdict([("x264-a", "hls.js", "hls-v3")], self.entries())
        self.assertEqual(code, 0, self.suite.problems)
        self.assertEqual((v["rows"][0]["verdict"], v["rows"][0]["tries"]), ("pass", 2))

    def test_an_intermittent_failure_that_stays_fails(self):
        for t in (1, 2, 3):
            self.row("hls.js", "hls-v3", ok=False, try_=t, errors=["mediaError bufferSeekOverHole a"])
        code, v = self.verdict([("x264-a", "hls.js", "hls-v3")], self.entries())
        self.assertEqual(code, 1)
        self.assertEqual((v["rows"][0]["verdict"], v["rows"][0]["tries"]), ("fail", 3))

    def test_a_retried_failure_that_was_not_intermittent_fails(self):
        self.row("gstreamer", "hls-v3", ok=False, errors=["full: no EOS"])
        self.row("gstreamer", "hls-v3", ok=True, try_=2)
        code, _ = self.verdict([("x264-a", "gstreamer", "hls-v3")], self.entries(""))
        self.assertEqual(code, 1)
        self.assertIn("retry", self.kinds())

    def test_an_entry_of_another_version_is_stale(self):
        entries = self.entries(KNOWN.replace("hls.js@1.7.4", "hls.js@1.7.3"))
        self.row("hls.js", "hls-v3")
        code, _ = self.verdict([("x264-a", "hls.js", "hls-v3")], entries)
        self.assertEqual(code, 1)
        self.assertIn("stale entry", self.kinds())

    def test_a_malformed_entry_fails(self):
        self.entries("hls.js hls-v3 * hls.js@1.7.4 maybe /x/ why\n")
        self.assertEqual(self.kinds(), ["known_failures.txt"])

    def test_unused_intermittent_entries_are_only_reported(self):
        self.row("hls.js", "hls-v3")
        code, _ = self.verdict([("x264-a", "hls.js", "hls-v3")], self.entries())
        self.assertEqual(code, 0, self.suite.problems)

    def test_a_sometimes_entry_excuses_without_a_retry_and_need_not_occur(self):
        self.row("hls.js-1.6", "hls-cmaf", ok=False,
                 errors=["mediaError bufferStalledError: Playback stalling at @0 due to low buffer"])
        code, v = self.verdict([("x264-a", "hls.js-1.6", "hls-cmaf")], self.entries())
        self.assertEqual(code, 0, self.suite.problems)
        self.assertEqual(v["rows"][0]["verdict"], "known")
        self.tearDown()
        self.setUp()
        self.suite.full = True
        self.row("hls.js-1.6", "hls-cmaf")
        code, _ = self.verdict([("x264-a", "hls.js-1.6", "hls-cmaf")], self.entries())
        self.assertEqual(code, 0, self.suite.problems)  # not "unused": it is not required to occur

    def test_codecs_chromium_refuses_against_the_corpus_fail(self):
        self.row("dash.js", "dash-csf", ok=None, unsupported=["hvc1.1.6.L93.90"], skipped="cannot")
        code, _ = self.verdict([("x264-a", "dash.js", "dash-csf")], self.entries(""))
        self.assertEqual(code, 1)
        self.suite.problems = []
        self.assets[0]["codecs_playable_in_chromium"] = False
        code, v = self.verdict([("x264-a", "dash.js", "dash-csf")], self.entries(""))
        self.assertEqual((code, v["rows"][0]["verdict"]), (0, "n/a"))

    def test_a_5xx_answer_of_the_endpoint_fails_even_if_every_row_passed(self):
        self.row("gstreamer", "hls-v3")
        self.assets[0]["locator"] = "5b7cd1a0-0000-4000-8000-000000000001"
        with open(self.suite.access_log, "w") as f:
            f.write('127.0.0.1 - - [02/Dec/2026:00:09:20 +0000] "GET /5b7cd1a0-0000-4000-8000-000000000001/'
                    'y.ism/QualityLevels(1)/Fragments(video=0) HTTP/1.1" 200 10 "-" "ua" 1ms\n')
        code, _ = self.verdict([("x264-a", "gstreamer", "hls-v3")], self.entries(""))
        self.assertEqual(code, 0, self.suite.problems)
        with open(self.suite.access_log, "a") as f:
            f.write('127.0.0.1 - - [02/Dec/2026:00:09:21 +0000] "GET /5b7cd1a0-0000-4000-8000-000000000001/'
                    'y.ism/QualityLevels(1)/Fragments(video=2) HTTP/1.1" 500 32957 "-" "ua" 1ms\n')
        code, _ = self.verdict([("x264-a", "gstreamer", "hls-v3")], self.entries(""))
        self.assertEqual(code, 1)
        self.assertEqual(self.kinds(), ["server error"])
        self.assertIn("(asset x264-a)", self.suite.problems[0][1])

    # --- A real process --------------------------------------------------------------------
    def gst_test(self, script):
        with open(self.suite.args.gst_test, "w") as f:
            f.write("#!/bin/sh\n" + script)
        os.chmod(self.suite.args.gst_test, 0o755)

    def test_a_gstreamer_process_that_aborts_is_a_crash_row(self):
        self.gst_test('echo "ERROR:downloadrequest.c:245:assertion failed"; kill -ABRT $$\n')
        entries = self.entries()
        key = ("x264-a", "gstreamer", "hls-v4")
        self.suite.run_with_retries(key, lambda t: self.suite.gst_try(self.assets[0], "hls-v4", t),
                                    entries)
        rows = self.suite.read_rows()
        self.assertEqual([r["try"] for r in rows], [1, 2, 3])  # the intermittent entry retried it
        self.assertTrue(all(r["crashed"] and "signal 6 (SIGABRT)" in r["error"] for r in rows))
        code, v = self.verdict([key], entries)
        self.assertEqual((code, v["rows"][0]["verdict"]), (1, "fail"))

    def test_a_gstreamer_exit_code_that_disagrees_with_its_row_fails(self):
        self.gst_test('printf \'{"asset":"x264-a","client":"gstreamer","format":"hls-v3","try":1,'
                      '"ok":true}\\n\' >> "$AMS_E2E_RESULTS"; exit 1\n')
        self.suite.gst_try(self.assets[0], "hls-v3", 1)
        code, _ = self.verdict([("x264-a", "gstreamer", "hls-v3")], self.entries(""))
        self.assertEqual(code, 1)
        self.assertEqual(self.kinds(), ["crash"])


if __name__ == "__main__":
    unittest.main(verbosity=2)
