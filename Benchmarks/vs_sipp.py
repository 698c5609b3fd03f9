#!/usr/bin/env python3
"""wasim and SIPp side by side on this machine, in one run, printed as a Markdown table with ratios.

Every row runs both tools under the same conditions, one after the other, against the same peer:

  generator  CPU per plain call (INVITE/180/200/ACK/BYE/200, no auth) of the UAC, against a SIPp UAS
  max-rate   highest clean UAC rate by steps (< 0.1 % failed, the schedule kept, not saturated)
  server     CPU per call of the server under a SIPp UAC: `wasim mock` (digest: two INVITE transactions)
             against `sipp -sn uas` (no auth); then the mock's highest clean rate by steps
  tls        wasim -> a separate `wasim mock` over TLS: one shared connection, and one connection per call
             (Debian's SIPp has no TLS: its column quotes platform-notes' figures for a TLS build)
  held       resident memory with 10,000 and 50,000 calls held: generator and server of both tools
  finished   resident memory over 100,000 finished calls (hold 0): flat or growing
  embedded   highest clean rate of wasim with the embedded mock (UAC and mock in one process, digest)

CPU is the process's user + system time (wait4 for a process that exits, /proc for one that keeps
running), memory its resident set from /proc. Raw output stays under Results/bench-<UTC>/.

  python3 Benchmarks/vs_sipp.py [--quick] [--rows generator,server,...] [--wasim PATH]
"""

import argparse
import atexit
import datetime
import json
import os
import platform
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TICKS = os.sysconf("SC_CLK_TCK")
PAGE_KB = os.sysconf("SC_PAGE_SIZE") // 1024
ALL_ROWS = ["generator", "max-rate", "server", "tls", "held", "finished", "embedded"]


RUNNING = []  # every process started, stopped at exit if still up


def stop_all():
    for p in RUNNING:
        if p.rusage is None:
            p.stop(grace=5)


atexit.register(stop_all)
signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))


class Process:
    """A started peer or tool: its CPU and resident memory read from /proc while it runs."""

    def __init__(self, argv, log, cwd=None):
        self.argv = argv
        self.log_path = log
        self.log = open(log, "w")
        self.started = time.monotonic()
        self.popen = subprocess.Popen(argv, stdout=self.log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, cwd=cwd)
        RUNNING.append(self)
        self.rusage = None
        self.peak_rss_kb = 0
        self.samples = []  # (seconds since start, rss KB)
        self._sampling = False

    @property
    def pid(self):
        return self.popen.pid

    def cpu_seconds(self):
        """User + system time so far (every thread), from /proc."""
        try:
            fields = open(f"/proc/{self.pid}/stat").read().rsplit(")", 1)[1].split()
            return (int(fields[11]) + int(fields[12])) / TICKS
        except OSError:
            return None

    def rss_kb(self):
        try:
            return int(open(f"/proc/{self.pid}/statm").read().split()[1]) * PAGE_KB
        except OSError:
            return None

    def sample_memory(self, every=0.25):
        """Samples resident memory in the background until the process ends."""
        self._sampling = True

        def run():
            while self._sampling and self.running():
                rss = self.rss_kb()
                if rss:
                    self.samples.append((time.monotonic() - self.started, rss))
                    self.peak_rss_kb = max(self.peak_rss_kb, rss)
                time.sleep(every)

        threading.Thread(target=run, daemon=True).start()

    def running(self):
        """True until the process exits (read from /proc, so that only wait4 reaps it)."""
        if self.rusage is not None:
            return False
        try:
            return open(f"/proc/{self.pid}/stat").read().rsplit(")", 1)[1].split()[0] != "Z"
        except OSError:
            return False

    def wait(self, timeout=None):
        """Waits for the process to exit and keeps its resource usage (wait4)."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            pid, status, usage = os.wait4(self.pid, os.WNOHANG)
            if pid == self.pid:
                self.rusage = usage
                self.popen.returncode = os.waitstatus_to_exitcode(status)
                break
            if deadline is not None and time.monotonic() > deadline:
                print(f"  (timeout: stopping {os.path.basename(self.argv[0])})", flush=True)
                return self.stop()
            time.sleep(0.05)
        self._sampling = False
        self.elapsed = time.monotonic() - self.started
        self.log.close()
        return self.popen.returncode

    def total_cpu(self):
        return self.rusage.ru_utime + self.rusage.ru_stime

    def stop(self, sig=signal.SIGINT, grace=15):
        """Signals the process and reaps it; SIGKILL after `grace` seconds."""
        if self.rusage is not None:
            return
        if self.running():
            self.popen.send_signal(sig)
        deadline = time.monotonic() + grace
        while self.running() and time.monotonic() < deadline:
            time.sleep(0.05)
        if self.running():
            self.popen.kill()
        self.wait()


class Bench:
    def __init__(self, args):
        self.args = args
        self.quick = args.quick
        stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
        self.out = os.path.join(ROOT, "Results", f"bench-{stamp}")
        os.makedirs(self.out, exist_ok=True)
        self.wasim = os.path.abspath(args.wasim)
        self.certs = os.path.join(self.out, "certs")
        self.rows = []
        self.notes = []
        self.port = 27000
        self.run_index = 0

    # -- helpers -------------------------------------------------------------------------------------

    def next_port(self):
        """A port free for both UDP and TCP on 127.0.0.1 (the next one up from the last)."""
        while True:
            self.port += 1
            try:
                for kind in (socket.SOCK_DGRAM, socket.SOCK_STREAM):
                    with socket.socket(socket.AF_INET, kind) as probe:
                        probe.bind(("127.0.0.1", self.port))
                return self.port
            except OSError:
                continue

    def path(self, name):
        self.run_index += 1
        return os.path.join(self.out, f"{self.run_index:02d}-{name}")

    def seconds(self, full):
        return max(3, full // 4) if self.quick else full

    def row(self, measure, wasim, sipp, ratio, note=""):
        self.rows.append((measure, wasim, sipp, ratio, note))
        print(f"| {measure} | {wasim} | {sipp} | {ratio} |", flush=True)

    def sipp_uas(self, port, name="sipp-uas"):
        # Built-in UAS: 180, 200, waits for ACK and BYE. A 4 MB socket buffer (platform notes: with the
        # default 64 KB SIPp loses datagrams from ~3,000 calls/s and reports losses that are its own).
        p = Process(["sipp", "-sn", "uas", "-i", "127.0.0.1", "-p", str(port), "-t", "u1", "-buff_size", "4194304",
                     "-nostdin", "-max_recv_loops", "10000"], self.path(name + ".log"))
        time.sleep(0.5)
        return p

    def sipp_uac(self, port, rate, calls, hold_ms=0, name="sipp-uac", scenario=None, extra=(), cwd=None, timeout=None):
        stat = self.path(name + "-stat.csv")
        argv = ["sipp"] + (["-sf", scenario] if scenario else ["-sn", "uac"]) + [
            "-i", "127.0.0.1", "-t", "u1", "-r", str(rate), "-m", str(calls), "-d", str(hold_ms),
            "-l", str(max(rate * 40, 100000)), "-buff_size", "4194304", "-nostdin", "-max_recv_loops", "10000",
            "-trace_stat", "-stf", stat, "-fd", "1"] + list(extra) + [f"127.0.0.1:{port}"]
        p = Process(argv, self.path(name + ".log"), cwd=cwd)
        p.sample_memory()
        p.wait(timeout or (calls / rate + hold_ms / 1000 + 120))
        p.stat = read_sipp_stat(stat)
        return p

    def scenario_yaml(self, name, rate, calls, target, hold="0s", transport="udp", password='"x"', extra="", transport_options=""):
        text = f"""name: {name}
target: {target}
business: {{ number: "+33639980001", domain: sip.example.com, password: {password} }}
transport: {{ protocol: {transport}{", " + transport_options if transport_options else ""} }}
callees: {{ range: "+15550200000..+15550299999" }}
load: {{ arrivals: constant, rate: {rate}/s, total_calls: {calls}, max_concurrent: 1000000 }}
call: {{ hold: {hold} }}
{extra}"""
        path = self.path(name + ".yaml")
        with open(path, "w") as f:
            f.write(text)
        return path

    def wasim_scenario(self, scenario, name="wasim", extra=(), timeout=None, wait=True):
        results = self.path(name + "-results")
        argv = [self.wasim, "scenario", scenario, "--results", results, "--certs", self.certs, "--trace", "none"] + list(extra)
        p = Process(argv, self.path(name + ".log"))
        p.results = results
        p.sample_memory()
        if not wait:
            return p
        p.wait(timeout)
        p.summary = read_summary(results)
        return p

    def wasim_mock(self, config, udp=None, tls=None, name="wasim-mock"):
        cfg = self.path(name + ".yaml")
        with open(cfg, "w") as f:
            f.write(config)
        argv = [self.wasim, "mock", "--config", cfg, "--certs", self.certs, "--no-tcp",
                "--udp-port", str(udp or 0), "--tls-port", str(tls or 0)]
        if udp is None:
            argv.append("--no-udp")
        p = Process(argv, self.path(name + ".log"))
        p.sample_memory()
        for _ in range(100):
            if "listening" in open(p.log_path).read().lower() or not p.running():
                break
            time.sleep(0.1)
        if not p.running():
            sys.exit(f"error: wasim mock did not start: {open(p.log_path).read().strip()}")
        time.sleep(0.3)
        return p

    # -- rows ----------------------------------------------------------------------------------------

    def generator(self):
        """UAC CPU per plain call at 1,000 calls/s against one SIPp UAS."""
        rate, seconds = 1000, self.seconds(20)
        calls = rate * seconds
        port = self.next_port()
        uas = self.sipp_uas(port)
        w = self.wasim_scenario(self.scenario_yaml("bench-generator", rate, calls, f'"sip:127.0.0.1:{port};transport=udp"'))
        s = self.sipp_uac(port, rate, calls)
        uas.stop()
        w_us = w.total_cpu() / calls * 1e6
        s_us = s.total_cpu() / calls * 1e6
        self.row(f"UAC CPU per plain call, {rate:,}/s for {seconds} s, against a SIPp UAS",
                 f"{w_us:.0f} µs ({connected(w)})", f"{s_us:.0f} µs ({sipp_ok(s)})", f"{w_us / s_us:.2f}×")

    def max_rate(self):
        """Highest clean UAC rate: steps until a step is not clean, for each tool."""
        seconds = self.seconds(20)
        steps = [2000, 4000, 6000, 8000, 10000, 12500, 15000, 17500, 20000]
        best = {"wasim": (0, ""), "sipp": (0, "")}
        alive = {"wasim": True, "sipp": True}
        for rate in steps:
            if not any(alive.values()):
                break
            calls = rate * seconds
            port = self.next_port()
            uas = self.sipp_uas(port, f"sipp-uas-{rate}")
            if alive["wasim"]:
                w = self.wasim_scenario(self.scenario_yaml(f"bench-rate-{rate}", rate, calls, f'"sip:127.0.0.1:{port};transport=udp"'),
                                        name=f"wasim-{rate}", timeout=seconds * 4 + 90)
                clean, why = wasim_clean(w, seconds)
                print(f"  wasim UAC {rate}/s: {why}", flush=True)
                if clean:
                    best["wasim"] = (rate, why)
                else:
                    alive["wasim"] = False
            if alive["sipp"]:
                s = self.sipp_uac(port, rate, calls, name=f"sipp-uac-{rate}", timeout=seconds * 4 + 90)
                clean, why = sipp_clean(s, calls, seconds)
                print(f"  SIPp UAC {rate}/s: {why}", flush=True)
                if clean:
                    best["sipp"] = (rate, why)
                else:
                    alive["sipp"] = False
            uas.stop()
        w, s = best["wasim"][0], best["sipp"][0]
        self.row(f"Highest clean UAC rate, {seconds} s steps (< 0.1 % failed, on schedule)",
                 f"{w:,}/s" if w else "< 2,000/s", f"{s:,}/s" if s else "< 2,000/s", f"{w / s:.2f}" if s else "-")

    def server(self):
        """Server CPU per call at 1,000/s under a SIPp UAC, then the mock's highest clean rate."""
        rate, seconds = 1000, self.seconds(20)
        calls = rate * seconds
        work = self.path("server")
        os.makedirs(work)
        write_callees(os.path.join(work, "callees.csv"), min(calls, 100000))
        udp = self.next_port()
        mock = self.wasim_mock(mock_config(), udp=udp)
        before = mock.cpu_seconds()
        d = self.sipp_uac(udp, rate, calls, name="sipp-digest-uac", cwd=work,
                          scenario=os.path.join(ROOT, "Tests/IntegrationTests/SIPp/uac-digest.xml"),
                          extra=["-inf", "callees.csv", "-key", "fromhost", "sip.example.com", "-au", "33639980001",
                                 "-ap", "wasim-default-sip-password"])
        mock_cpu = mock.cpu_seconds() - before
        mock.stop()
        port = self.next_port()
        uas = self.sipp_uas(port)
        before = uas.cpu_seconds()
        self.sipp_uac(port, rate, calls, name="sipp-plain-uac")
        uas_cpu = uas.cpu_seconds() - before
        uas.stop()
        w_us, s_us = mock_cpu / calls * 1e6, uas_cpu / calls * 1e6
        self.row(f"Server CPU per call, {rate:,}/s for {seconds} s: `wasim mock` (digest) vs `sipp -sn uas` (no auth)",
                 f"{w_us:.0f} µs ({sipp_ok(d)} by SIPp)", f"{s_us:.0f} µs", f"{w_us / s_us:.2f}×")
        # The mock's highest clean rate under SIPp with digest.
        best = 0
        for rate in [2000, 4000, 6000, 8000, 10000, 12500, 15000]:
            calls = rate * seconds
            write_callees(os.path.join(work, "callees.csv"), min(calls, 100000))
            udp = self.next_port()
            mock = self.wasim_mock(mock_config(), udp=udp, name=f"wasim-mock-{rate}")
            d = self.sipp_uac(udp, rate, calls, name=f"sipp-digest-uac-{rate}", cwd=work, timeout=seconds * 4 + 90,
                              scenario=os.path.join(ROOT, "Tests/IntegrationTests/SIPp/uac-digest.xml"),
                              extra=["-inf", "callees.csv", "-key", "fromhost", "sip.example.com", "-au", "33639980001",
                                     "-ap", "wasim-default-sip-password"])
            mock.stop()
            clean, why = sipp_clean(d, calls, seconds)
            print(f"  wasim mock under SIPp with digest, {rate}/s: {why}", flush=True)
            if not clean:
                break
            best = rate
        self.row(f"`wasim mock` highest clean rate under SIPp with digest, {seconds} s steps", f"{best:,}/s" if best else "< 2,000/s",
                 "", "")

    def tls(self):
        """wasim -> separate wasim mock over TLS: shared connection and connection per call."""
        seconds = self.seconds(20)
        for mode, steps in [("shared", [1000, 2000, 4000, 6000, 8000, 10000]), ("per-agent", [250, 500, 1000, 1500, 2000])]:
            best, best_p99 = 0, None
            for rate in steps:
                tls_port = self.next_port()
                mock = self.wasim_mock(mock_config(), tls=tls_port, name=f"wasim-mock-tls-{mode}-{rate}")
                calls = rate * seconds
                path = self.scenario_yaml(f"bench-tls-{mode}-{rate}", rate, calls, f'"sip:127.0.0.1:{tls_port};transport=tls"',
                                          transport="tls", transport_options=f"connections: {mode}, server_name: wa.meta.vc",
                                          password="{ from: mock }")
                w = self.wasim_scenario(path, name=f"wasim-tls-{mode}-{rate}", timeout=seconds * 4 + 90)
                mock.stop()
                clean, why = wasim_clean(w, seconds, p99_bound_ms=50 if mode == "shared" else None)
                print(f"  TLS {mode} {rate}/s: {why}", flush=True)
                if not clean:
                    break
                best, best_p99 = rate, w.summary["latency_ms"]["setup"]["p99"]
            reference = "12,500/s (platform notes, a TLS build, no auth)" if mode == "shared" else "500/s (platform notes)"
            label = "one shared connection, p99 setup < 50 ms" if mode == "shared" else "a connection per call"
            result = f"{best:,}/s (p99 setup {best_p99:.1f} ms)" if best else f"< {steps[0]:,}/s"
            self.row(f"TLS with digest, wasim → separate `wasim mock`, {label}", result, reference,
                     f"{best / (12500 if mode == 'shared' else 500):.2f}" if best else "-")

    def held(self):
        """Resident memory with 10,000 and 50,000 calls held (hold long enough that all are up together)."""
        results = {}
        for held in [10000, 50000]:
            rate = 1000 if held == 10000 else 2500
            ramp = held / rate
            hold_s = int(ramp + 15)
            # wasim generator -> wasim mock (UDP, digest); the mock holds the same calls.
            udp = self.next_port()
            mock = self.wasim_mock(mock_config(), udp=udp, name=f"wasim-mock-held-{held}")
            path = self.scenario_yaml(f"bench-held-{held}", rate, held, f'"sip:127.0.0.1:{udp};transport=udp"', hold=f"{hold_s}s",
                                      password="{ from: mock }")
            w = self.wasim_scenario(path, name=f"wasim-held-{held}", timeout=ramp + hold_s + 120)
            mock_peak = mock.peak_rss_kb
            mock.stop()
            # SIPp UAC -> SIPp UAS, the same calls.
            port = self.next_port()
            uas = self.sipp_uas(port, f"sipp-uas-held-{held}")
            uas.sample_memory()
            s = self.sipp_uac(port, rate, held, hold_ms=hold_s * 1000, name=f"sipp-uac-held-{held}")
            uas_peak = uas.peak_rss_kb
            uas.stop()
            results[held] = dict(wasim=w.peak_rss_kb, mock=mock_peak, sipp=s.peak_rss_kb, uas=uas_peak,
                                 wasim_ok=connected(w), sipp_ok=sipp_ok(s), concurrency=w.summary.get("concurrency", {}).get("max"))
            print(f"  held {held}: {results[held]}", flush=True)
        a, b = results[10000], results[50000]
        per = lambda k: (b[k] - a[k]) / 40000
        self.row("Resident memory, 10,000 / 50,000 calls held: generator (peak RSS)",
                 f"{a['wasim'] / 1024:.0f} / {b['wasim'] / 1024:.0f} MB ({b['wasim_ok']})",
                 f"{a['sipp'] / 1024:.0f} / {b['sipp'] / 1024:.0f} MB ({b['sipp_ok']})", f"{b['wasim'] / b['sipp']:.2f}×")
        self.row("Resident memory per held call (10,000 → 50,000): generator", f"{per('wasim'):.1f} KB", f"{per('sipp'):.1f} KB",
                 f"{per('wasim') / per('sipp'):.2f}×")
        self.row("Resident memory, 10,000 / 50,000 calls held: server (`wasim mock` with digest vs SIPp UAS)",
                 f"{a['mock'] / 1024:.0f} / {b['mock'] / 1024:.0f} MB", f"{a['uas'] / 1024:.0f} / {b['uas'] / 1024:.0f} MB",
                 f"{b['mock'] / b['uas']:.2f}×")
        self.row("Resident memory per held call (10,000 → 50,000): server", f"{per('mock'):.1f} KB", f"{per('uas'):.1f} KB",
                 f"{per('mock') / per('uas'):.2f}×")

    def finished(self):
        """Resident memory over 100,000 finished calls (hold 0) at 1,000/s. The generator: from 40 s (RFC 3261's
        32 s transaction timers have filled their window by then: what grows after is kept per call) to the
        end. The server: after a first batch and after a second one with the same users, since the mock keeps,
        by Meta's rules, replay state for a nonce's 300 s life and each pair's connected calls for 24 h."""
        calls = 50000 if self.quick else 100000
        rate = 1000
        udp = self.next_port()
        mock = self.wasim_mock(mock_config(), udp=udp, name="wasim-mock-finished")
        path = self.scenario_yaml("bench-finished", rate, calls, f'"sip:127.0.0.1:{udp};transport=udp"', password="{ from: mock }")
        w = self.wasim_scenario(path, name="wasim-finished", timeout=calls / rate + 120)
        mock_first = mock.rss_kb()
        self.wasim_scenario(path, name="wasim-finished-2", timeout=calls / rate + 120)
        mock_second = mock.rss_kb()
        mock.stop()
        port = self.next_port()
        uas = self.sipp_uas(port, "sipp-uas-finished")
        uas.sample_memory()
        s = self.sipp_uac(port, rate, calls, name="sipp-uac-finished")
        uas_first = uas.rss_kb()
        self.sipp_uac(port, rate, calls, name="sipp-uac-finished-2")
        uas_second = uas.rss_kb()
        uas.stop()
        wg = growth(w.samples, 0, calls / rate)
        sg = growth(s.samples, 0, calls / rate)
        at = growth_start(calls / rate)
        self.row(f"RSS over {calls:,} finished calls (hold 0, {rate:,}/s): generator, at {at:g} s → end", fmt_growth(wg) + f" ({connected(w)})",
                 fmt_growth(sg) + f" ({sipp_ok(s)})", "")
        self.row(f"RSS after {calls:,} → {2 * calls:,} finished calls, two runs with the same users: server (`wasim mock` with digest vs SIPp UAS)",
                 fmt_growth((mock_first, mock_second)) if mock_first and mock_second else "-",
                 fmt_growth((uas_first, uas_second)) if uas_first and uas_second else "-", "")

    def embedded(self):
        """wasim with the embedded mock (both in one process, UDP, digest): highest clean rate."""
        seconds = self.seconds(20)
        best, cpu_at_1000 = 0, None
        # Meta's limits lifted as for the separate mock (10,000 BIC attempts a day per number would end a step).
        config = self.path("embedded-mock.yaml")
        with open(config, "w") as f:
            f.write(mock_config())
        for rate in [1000, 2000, 3000, 4000, 5000, 6000, 8000]:
            calls = rate * seconds
            path = self.scenario_yaml(f"bench-embedded-{rate}", rate, calls, "embedded", password="{ from: mock }",
                                      extra=f"mock: {config}\n")
            w = self.wasim_scenario(path, name=f"wasim-embedded-{rate}", timeout=seconds * 4 + 120)
            clean, why = wasim_clean(w, seconds)
            print(f"  embedded {rate}/s: {why}", flush=True)
            if rate == 1000:
                cpu_at_1000 = w.total_cpu() / calls * 1e6
            if not clean:
                break
            best = rate
        self.row(f"Embedded mock (UAC + mock in one process, digest): highest clean rate, {seconds} s steps",
                 f"{best:,}/s" if best else "< 1,000/s" + (f"; {cpu_at_1000:.0f} µs CPU per call at 1,000/s" if cpu_at_1000 else ""),
                 "", "")

    def run(self):
        print(f"# wasim vs SIPp, {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC, {machine()}")
        print(f"raw output: {os.path.relpath(self.out, ROOT)}\n")
        print("| Measure | wasim | SIPp 3.6.1 | ratio |")
        print("|---|---|---|---|")
        for name in self.args.rows:
            getattr(self, name.replace("-", "_"))()
        with open(os.path.join(self.out, "table.md"), "w") as f:
            f.write(f"# wasim vs SIPp, {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC, {machine()}\n\n")
            f.write("| Measure | wasim | SIPp 3.6.1 | ratio |\n|---|---|---|---|\n")
            for r in self.rows:
                f.write(f"| {r[0]} | {r[1]} | {r[2]} | {r[3]} |\n")
        print(f"\ntable: {os.path.relpath(os.path.join(self.out, 'table.md'), ROOT)}")


# -- reading results ---------------------------------------------------------------------------------

def read_sipp_stat(path):
    """The last line of SIPp's -trace_stat file, as a dict of the cumulative counters."""
    try:
        lines = [l for l in open(path).read().splitlines() if l.strip()]
    except OSError:
        return {}
    if len(lines) < 2:
        return {}
    names = lines[0].split(";")
    values = lines[-1].split(";")
    out = {}
    for n, v in zip(names, values):
        try:
            out[n] = int(v)
        except ValueError:
            out[n] = v
    return out


def read_summary(results):
    for root, _, files in os.walk(results):
        if "summary.json" in files:
            return json.load(open(os.path.join(root, "summary.json")))
    return {}


def connected(p):
    c = p.summary.get("calls", {})
    return f"{c.get('connected', 0):,}/{c.get('attempted', 0):,} connected"


def sipp_ok(p):
    return f"{p.stat.get('SuccessfulCall(C)', 0):,} ok, {p.stat.get('FailedCall(C)', 0):,} failed"


def wasim_clean(p, seconds, p99_bound_ms=None):
    s = p.summary
    if not s:
        return False, f"no summary (exit {p.popen.returncode})"
    c, g = s["calls"], s["generator"]
    failed = c["failed"] + c.get("dropped", 0)
    share = failed / max(1, c["attempted"] + c.get("dropped", 0))
    p99 = s["latency_ms"]["setup"]["p99"]
    why = (f"{c['connected']:,}/{c['attempted']:,} connected, {failed:,} failed or not started, achieved {s['rate']['achieved_cps']:.0f}/s, "
           f"p99 setup {p99:.1f} ms, CPU {p.total_cpu():.1f} s, saturated {g.get('saturated')}"
           + (f" ({g.get('saturation_reason')})" if g.get("saturated") else ""))
    clean = share < 0.001 and not g.get("saturated") and s["rate"]["achieved_cps"] >= 0.97 * s["rate"]["target_cps"]
    if p99_bound_ms is not None and p99 >= p99_bound_ms:
        clean = False
    return clean, why


def sipp_clean(p, calls, seconds):
    ok, failed = p.stat.get("SuccessfulCall(C)", 0), p.stat.get("FailedCall(C)", 0)
    retrans = p.stat.get("Retransmissions(C)", 0)
    on_time = p.elapsed <= seconds * 1.1 + 3
    why = f"{ok:,} ok, {failed:,} failed, {retrans:,} retransmissions, {p.elapsed:.1f} s for {seconds} s of calls, CPU {p.total_cpu():.1f} s"
    return failed <= calls * 0.001 and ok + failed >= calls and on_time, why


def growth_start(span):
    """Seconds into a run of `span` seconds from which RSS growth is read: 40 s (after RFC 3261's 32 s
    transaction windows fill), or a quarter of a shorter run."""
    return 40 if span >= 60 else span / 4


def growth(samples, offset, span):
    """RSS at 40 s into the call span (or a quarter of it, if shorter) and at its end (KB), from samples taken
    since `offset`."""
    points = [(t - offset, r) for t, r in samples if t >= offset]
    if not points:
        return None
    at = growth_start(span)
    quarter = min(points, key=lambda p: abs(p[0] - at))[1]
    end = max(r for t, r in points if t <= span + 5) if any(t <= span + 5 for t, _ in points) else points[-1][1]
    return quarter, end


def fmt_growth(g):
    if not g:
        return "-"
    return f"{g[0] / 1024:.0f} → {g[1] / 1024:.0f} MB"


def write_callees(path, count):
    with open(path, "w") as f:
        f.write("SEQUENTIAL\n")
        for i in range(count):
            f.write(f"+1555{200000 + i:07d};\n")


def mock_config():
    """The default business and users, with the limits out of the way of a load test: the 24 h limit and
    the per-number concurrency raised, users answering at once."""
    return """businesses:
  - number: "+33639980001"
    phone_number_id: "100000000000001"
    apps:
      - { app_id: "100000000000099", authorized: true, sip_password: "wasim-default-sip-password" }
    sip_server: { hostname: sip.example.com, port: 5061, app_id: "100000000000099" }
users:
  - range: "+15550200000..+15550299999"
    permission: permanent
    behaviour: { answer: 1, answer_after: [0s, 0s] }
limits:
  connected_bic_per_24h: 100000000
  bic_attempts_per_24h: 1000000000
  concurrent_per_number: 1000000
protection:
  max_connections_per_source: 10000   # wasim's per-agent TLS runs open a connection per call from one address
"""


def machine():
    model = ""
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{os.cpu_count()} cores ({model}), {platform.system()} {platform.release()}"


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="shorter steps (a quarter of the time), for a first look")
    parser.add_argument("--rows", default=",".join(ALL_ROWS), help="comma-separated rows: " + ", ".join(ALL_ROWS))
    parser.add_argument("--wasim", default=os.path.join(ROOT, ".build/release/wasim"))
    args = parser.parse_args()
    args.rows = [r.strip() for r in args.rows.split(",") if r.strip()]
    for r in args.rows:
        if r not in ALL_ROWS:
            parser.error(f"unknown row '{r}'; rows: {', '.join(ALL_ROWS)}")
    if not shutil.which("sipp"):
        sys.exit("error: sipp is not installed (Debian package sip-tester; bash scripts/setup-debian.sh installs it)")
    Bench(args).run()


if __name__ == "__main__":
    main()
