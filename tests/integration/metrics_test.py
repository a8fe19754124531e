#!/usr/bin/python3
"""Issue 18, "Observe": GET /metrics of a real `ams serve`, read with the Prometheus project's own
text-format parser (Debian's python3-prometheus-client), whose counters must move by exactly what
the requests made: kinds, status classes, body bytes, the latency histogram. It needs the
operator's token (401 without). /healthz answers 200. Prints one gtest-style count line for
scripts/test.sh. Debian's python3, where the Debian package installs the parser.
"""
import glob
import http.client
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

from prometheus_client.parser import text_string_to_metric_families

BUILD = os.environ["AMS_BUILD_ROOT"]
AMS = os.path.join(BUILD, "tools", "ams")
TOKEN = "metrics-test-operator-token"
failures = []


def check(ok, what):
    print(("ok   " if ok else "FAIL ") + what, flush=True)
    if not ok:
        failures.append(what)
    return ok


class Client:
    def __init__(self, port):
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)

    def get(self, path, token=False):
        headers = {"Authorization": "Bearer " + TOKEN} if token else {}
        self.conn.request("GET", path, headers=headers)
        r = self.conn.getresponse()
        return r.status, r.read(), dict((k.lower(), v) for k, v in r.getheaders())


def scrape(client):
    status, body, headers = client.get("/metrics", token=True)
    check(status == 200, "GET /metrics with the token: %d" % status)
    check(headers.get("content-type", "").startswith("text/plain; version=0.0.4"),
          "the exposition format's content type: " + headers.get("content-type", ""))
    samples = {}
    types = {}
    for family in text_string_to_metric_families(body.decode()):  # raises on a malformed line
        types[family.name] = family.type
        for s in family.samples:
            samples[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return samples, types


def value(samples, name, **labels):
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def main():
    work = tempfile.mkdtemp(prefix="ams-metrics-test-")
    server = None
    try:
        asset = os.path.join(work, "asset")
        db = os.path.join(work, "ams.db")
        subprocess.run([AMS, "encode", "--test-source", "4", "--ladder", "360", asset], check=True,
                       capture_output=True)
        subprocess.run([AMS, "asset", "create", "demo", "--path", asset, "--db", db], check=True,
                       capture_output=True)
        locator = subprocess.run([AMS, "locator", "create", "--asset", "demo", "--policy",
                                  "Predefined_DownloadAndClearStreaming", "--db", db], check=True,
                                 capture_output=True, text=True).stdout.strip()
        token_file = os.path.join(work, "token")
        with open(token_file, "w") as f:
            f.write(TOKEN + "\n")
        log = open(os.path.join(work, "serve.log"), "w")
        server = subprocess.Popen([AMS, "serve", "--db", db, "--listen", "127.0.0.1:0",
                                   "--operator-token-file", token_file],
                                  stdout=subprocess.PIPE, stderr=log, text=True)
        m = re.search(r"on http://127\.0\.0\.1:(\d+)/", server.stdout.readline())
        if not check(m is not None, "ams serve started"):
            return
        c = Client(int(m.group(1)))
        status, body, headers = c.get("/metrics")
        check(status == 401 and b"ams_" not in body, "GET /metrics without the token: %d" % status)
        check(c.get("/healthz")[0] == 200, "GET /healthz: 200")

        before, types = scrape(c)
        # The parser names a counter's family without its _total suffix.
        for name, kind in (("ams_requests", "counter"), ("ams_request_duration_seconds",
                                                               "histogram"),
                           ("ams_pipelines", "gauge"), ("process_resident_memory_bytes", "gauge")):
            check(types.get(name) == kind, "%s is a %s (%s)" % (name, kind, types.get(name)))

        base = "/%s/testsrc.ism/" % locator
        _, master, _ = c.get(base + "manifest(format=m3u8-aapl)")
        _, smooth, _ = c.get(base + "manifest")
        playlist_uri = [l for l in master.decode().splitlines() if l and not l.startswith("#")][0]
        st, playlist, _ = c.get(base + playlist_uri)
        check(st == 200, "a media playlist: %d" % st)
        mpd = c.get(base + "manifest(format=mpd-time-csf)")[1].decode()
        bw = re.search(r'<Representation id="[^"]*" bandwidth="(\d+)"[^>]*width', mpd)
        bw = bw.group(1) if bw else re.search(r'bandwidth="(\d+)"', mpd).group(1)
        init = c.get(base + "QualityLevels(%s)/Fragments(video=i,format=mpd-time-csf)" % bw)
        check(init[0] == 200, "an init segment: %d" % init[0])
        fragment_bytes = 0
        for t in ("0", "20000000"):
            st, b, _ = c.get(base + "QualityLevels(%s)/Fragments(video=%s,format=mpd-time-csf)"
                             % (bw, t))
            check(st == 200, "fragment at %s: %d" % (t, st))
            fragment_bytes += len(b)
        segment = [l for l in playlist.decode().splitlines() if l and not l.startswith("#")][0]
        st, b, _ = c.get(base + playlist_uri.rsplit("/", 1)[0] + "/" + segment)
        check(st == 200, "a TS segment: %d" % st)
        fragment_bytes += len(b)
        mp4 = os.path.basename(sorted(glob.glob(os.path.join(asset, "*.mp4")))[0])
        st, b, _ = c.get("/%s/%s" % (locator, mp4))
        check(st == 200, "a download: %d" % st)
        download_bytes = len(b)
        missing = c.get("/%s/nothing.ism/manifest" % locator)[0]
        check(missing == 404, "an unknown asset's manifest: %d" % missing)
        no_key = c.get("/keydelivery/?kid=00000000-0000-4000-8000-000000000000")[0]
        check(no_key == 404, "key delivery of an unknown key: %d" % no_key)

        after, _ = scrape(c)

        def delta(name, **labels):
            return value(after, name, **labels) - value(before, name, **labels)

        expect = {("manifest", "2xx"): 3, ("manifest", "4xx"): 1, ("playlist", "2xx"): 1,
                  ("init", "2xx"): 1, ("fragment", "2xx"): 3, ("download", "2xx"): 1,
                  ("key", "4xx"): 1}
        for (kind, code), n in expect.items():
            got = delta("ams_requests_total", kind=kind, code=code)
            check(got == n, "ams_requests_total{kind=%s,code=%s} moved by %g (expected %d)"
                  % (kind, code, got, n))
        check(delta("ams_requests_total", kind="api", code="2xx") >= 1,
              "the first scrape is counted as an api request")
        got = delta("ams_response_bytes_total", kind="fragment")
        check(got == fragment_bytes, "ams_response_bytes_total{kind=fragment} moved by %g, the "
              "fragments were %d bytes" % (got, fragment_bytes))
        got = delta("ams_response_bytes_total", kind="download")
        check(got == download_bytes, "ams_response_bytes_total{kind=download} moved by %g, the "
              "download was %d bytes" % (got, download_bytes))
        for kind in ("manifest", "fragment"):
            count = delta("ams_request_duration_seconds_count", kind=kind)
            requests = sum(delta("ams_requests_total", kind=kind, code=c) for c in
                           ("1xx", "2xx", "3xx", "4xx", "5xx"))
            check(count == requests, "the %s histogram counted %g of %g requests"
                  % (kind, count, requests))
            buckets = sorted(((float(dict(k[1])["le"]), v) for k, v in after.items()
                              if k[0] == "ams_request_duration_seconds_bucket"
                              and dict(k[1]).get("kind") == kind))
            check(all(a[1] <= b[1] for a, b in zip(buckets, buckets[1:])),
                  "the %s buckets are cumulative" % kind)
            check(delta("ams_request_duration_seconds_sum", kind=kind) > 0,
                  "the %s latency sum moved" % kind)
        check(value(after, "process_resident_memory_bytes") > 10e6, "the resident memory: %g"
              % value(after, "process_resident_memory_bytes"))
        # CPU time is read in clock ticks (10 ms): a quick run may not have used one yet.
        check(("process_cpu_seconds_total", ()) in after, "CPU time is exported")
        started = value(after, "process_start_time_seconds")
        check(abs(time.time() - started) < 600, "the start time is the server's (%g)" % started)
        check(value(after, "ams_cache_entries", cache="answer") >= 3,
              "the answer cache holds the manifests")
        check(value(after, "ams_cache_entries", cache="index") >= 1, "the index cache holds files")
        check(value(after, "ams_connections_open") >= 1, "the scraping connection is counted")
    finally:
        if server is not None:
            server.terminate()
            try:
                server.wait(timeout=40)
            except subprocess.TimeoutExpired:
                server.kill()
        shutil.rmtree(work, ignore_errors=True)
    print("[==========] 1 test ran.")
    if failures:
        print("[  FAILED  ] 1 test, listed below:\n[  FAILED  ] metrics (%d checks failed)"
              % len(failures))
        sys.exit(1)
    print("[  PASSED  ] 1 test.")


if __name__ == "__main__":
    main()
