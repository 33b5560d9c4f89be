# Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.
"""Shared by the Python agent tests: finding the binaries and the generated stubs,
starting real processes on loopback ephemeral ports, HTTP GETs, assertions.

Every process is started with subprocess, its stdout/stderr in files of the test's temp
dir, and killed by PID when the test ends (Processes.stop_all, from a finally block);
every wait is bounded. Ports are always ephemeral (--port=0 / --listen=127.0.0.1:0, read
back from the port file the process writes once it serves).
"""

import argparse
import http.client
import json
import os
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.normpath(os.path.join(HERE, "..", "..", ".."))
CLIENT_DIR = os.path.join(REPO, "clients", "python")


def _reexec_with_system_python():
    # python3-grpcio is a Debian package: it lives in /usr/bin/python3's dist-packages. A
    # python3 first on PATH (pyenv, a venv) may not see it; run under the system one then.
    try:
        import grpc  # noqa: F401
        import google.protobuf  # noqa: F401
        return
    except ImportError as e:
        error = e
    system = "/usr/bin/python3"
    if os.path.exists(system) and not os.environ.get("UFC_TEST_REEXEC"):
        os.environ["UFC_TEST_REEXEC"] = "1"
        sys.stdout.flush()
        os.execv(system, [system] + sys.argv)
    sys.exit("cannot import gRPC/protobuf for Python (%s): apt-get install python3-grpcio "
             "python3-protobuf" % error)


def setup(description):
    """Parses the common flags, makes gRPC and the stubs importable, and returns
    (args, tmp dir). Flags win over env: --agentd ($UFC_AGENTD), --backend ($UFC_BACKEND),
    --gen ($UFC_PY_GEN; when absent, the stubs are generated into the temp dir)."""
    _reexec_with_system_python()
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--agentd", default=os.environ.get(
        "UFC_AGENTD", os.path.join(REPO, "build", "agentd", "ufc-agentd")))
    p.add_argument("--backend", default=os.environ.get(
        "UFC_BACKEND", os.path.join(REPO, "build", "examples", "backend")))
    p.add_argument("--gen", default=os.environ.get("UFC_PY_GEN"))
    p.add_argument("--keep", action="store_true", help="keep the temp dir (logs)")
    args = p.parse_args()
    for name in ("agentd", "backend"):
        path = getattr(args, name)
        if not os.access(path, os.X_OK):
            sys.exit("--%s: %s is not an executable" % (name, path))
    tmp = tempfile.mkdtemp(prefix="ufc-agent-py-")
    if not args.gen or not os.path.exists(os.path.join(args.gen, "ufc", "v1", "agent_pb2.py")):
        if args.gen:
            print("--gen %s has no ufc/v1/agent_pb2.py: generating the stubs here" % args.gen)
        args.gen = os.path.join(tmp, "gen")
        subprocess.run(["sh", os.path.join(CLIENT_DIR, "generate.sh"), args.gen], check=True,
                       timeout=60)
    sys.path[:0] = [args.gen, CLIENT_DIR]
    return args, tmp


class Proc:
    def __init__(self, name, argv, tmp):
        self.name = name
        self.argv = argv
        self.out_path = os.path.join(tmp, name + ".out")
        self.err_path = os.path.join(tmp, name + ".err")
        with open(self.out_path, "ab") as out, open(self.err_path, "ab") as err:
            self.popen = subprocess.Popen(argv, stdout=out, stderr=err, stdin=subprocess.DEVNULL)
        self.pid = self.popen.pid

    def stderr_tail(self, n=2000):
        try:
            with open(self.err_path, "rb") as f:
                return f.read()[-n:].decode("utf-8", "replace")
        except OSError:
            return ""

    def kill9(self):
        """SIGKILL by PID, then reap (bounded)."""
        if self.popen.poll() is None:
            os.kill(self.pid, signal.SIGKILL)
        try:
            self.popen.wait(timeout=5)
        except subprocess.TimeoutExpired:
            pass


class Processes:
    """The test's processes; stop_all() kills every one still running, by PID."""

    def __init__(self, tmp):
        self.tmp = tmp
        self.procs = []

    def start(self, name, argv):
        proc = Proc(name, argv, self.tmp)
        self.procs.append(proc)
        return proc

    def stop_all(self):
        for proc in self.procs:
            if proc.popen.poll() is None:
                try:
                    os.kill(proc.pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass
        deadline = time.monotonic() + 3
        for proc in self.procs:
            try:
                proc.popen.wait(timeout=max(0.01, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                proc.kill9()


def wait_port_file(path, proc, timeout=10.0):
    """The port `proc` wrote to `path`, once it is there; fails the test when the process
    exits or `timeout` passes first."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with open(path) as f:
                text = f.read().strip()
            if text:
                return int(text)
        except (OSError, ValueError):
            pass
        if proc.popen.poll() is not None:
            fail("%s exited (%s) before writing %s:\n%s" % (proc.name, proc.popen.returncode, path,
                                                           proc.stderr_tail()))
        time.sleep(0.005)
    fail("%s did not write %s within %g s:\n%s" % (proc.name, path, timeout, proc.stderr_tail()))


def start_backend(procs, backend, name, mode):
    """Starts examples/backend in `mode` on an ephemeral port; returns (proc, port)."""
    port_file = os.path.join(procs.tmp, name + ".port")
    proc = procs.start(name, [backend, "--port=0", "--port_file=" + port_file, "--mode=" + mode,
                              "--name=" + name])
    return proc, wait_port_file(port_file, proc)


def start_agent(procs, agentd, name, config_path, port=0, extra=()):
    """Starts ufc-agentd on 127.0.0.1:`port` (0: ephemeral); returns (proc, port). The port
    file is removed first, so that a restart is seen only once the new process serves."""
    port_file = os.path.join(procs.tmp, name + ".port")
    if os.path.exists(port_file):
        os.unlink(port_file)
    proc = procs.start(name, [agentd, "--config=" + config_path,
                              "--listen=127.0.0.1:%d" % port, "--port_file=" + port_file,
                              "--proxy_listen=127.0.0.1:0", "--admin_listen=127.0.0.1:0"]
                       + list(extra))
    return proc, wait_port_file(port_file, proc)


def write_json(tmp, name, value):
    path = os.path.join(tmp, name)
    with open(path, "w") as f:
        json.dump(value, f, indent=2)
    return path


def http_get(pick, ufc_agent, conns=None, path="/", default_timeout=2.0):
    """GET `path` from the picked backend, honouring its timeouts (default_timeout where
    UFC sets none) and sending its deadline on: (status or None, transport, seconds).
    With `conns` (a dict, one per thread), connections are kept alive per backend."""
    start = time.monotonic()
    headers = {}
    if pick.deadline_remaining_ms is not None:
        headers["x-ufc-timeout-ms"] = str(pick.deadline_remaining_ms)
    key = (pick.host, pick.port)
    conn = conns.get(key) if conns is not None else None
    fresh = conn is None
    phase = "connect"
    try:
        if fresh:
            conn = http.client.HTTPConnection(pick.host, pick.port,
                                              timeout=pick.connect_timeout or default_timeout)
            conn.connect()
        conn.sock.settimeout(pick.write_timeout or default_timeout)
        phase = "write"
        conn.request("GET", path, headers=headers)
        conn.sock.settimeout(pick.read_timeout or default_timeout)
        phase = "read"
        response = conn.getresponse()
        response.read()
        if conns is not None and not response.will_close:
            conns[key] = conn
        else:
            conn.close()
        return response.status, "ok", time.monotonic() - start
    except (OSError, http.client.HTTPException) as e:
        if conn is not None:
            conn.close()
        if conns is not None:
            conns.pop(key, None)
        if not fresh and phase != "connect":
            # A kept-alive connection the backend had closed: try once more on a new one.
            return http_get(pick, ufc_agent, conns, path, default_timeout)
        return None, ufc_agent.transport_of(e, phase), time.monotonic() - start


class TestFailure(Exception):
    pass


def fail(message):
    raise TestFailure(message)


def check(condition, message):
    if not condition:
        fail(message)
    print("ok   " + message)


_deferred = []


def expect(condition, message):
    """Like check(), but a failure only fails the test at the end, so that the checks
    after it still run."""
    if condition:
        print("ok   " + message)
    else:
        print("FAIL " + message + " (the test goes on; it fails at the end)")
        _deferred.append(message)


def run(main, description):
    """Runs main(args, tmp, procs) with the processes killed afterwards; exit code 0 on
    success, 1 on a failed check (printed with the tail of every process's stderr)."""
    args, tmp = setup(description)
    procs = Processes(tmp)
    started = time.monotonic()
    code = 1
    try:
        main(args, tmp, procs)
        if _deferred:
            raise TestFailure("%d check(s) failed: %s" % (len(_deferred), "; ".join(_deferred)))
        code = 0
    except TestFailure as e:
        print("FAIL " + str(e))
    except Exception:
        import traceback
        traceback.print_exc()
    finally:
        procs.stop_all()
    if code != 0:
        for proc in procs.procs:
            tail = proc.stderr_tail(1500)
            if tail:
                print("--- %s stderr (%s) ---\n%s" % (proc.name, proc.err_path, tail))
        print("logs kept in " + tmp)
    elif not args.keep:
        import shutil
        shutil.rmtree(tmp, ignore_errors=True)
    print("%s in %.1f s" % ("PASS" if code == 0 else "FAIL", time.monotonic() - started))
    sys.exit(code)
