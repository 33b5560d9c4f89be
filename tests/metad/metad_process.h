// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.
//
// tests/metad/metad_process.h: a real ufc-metad process for tests and benchmarks, on an
// ephemeral loopback port, killed by PID.

#ifndef UFC_TESTS_METAD_METAD_PROCESS_H_
#define UFC_TESTS_METAD_METAD_PROCESS_H_

#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

namespace ufc::testing {

// A fresh temporary directory, removed by the destructor.
class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/ufc-test-XXXXXX";
    path_ = ::mkdtemp(tmpl);
  }
  ~TempDir() { (void)std::system(("rm -rf '" + path_ + "'").c_str()); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// stop_child() sends `sig` to child `pid` (if > 0), waits up to `wait_ms` for it, then
// SIGKILLs it, and reaps it.
inline void stop_child(pid_t pid, int sig, int wait_ms = 5000) {
  if (pid <= 0) return;
  ::kill(pid, sig);
  int status = 0;
  for (int i = 0; i < wait_ms / 10 && ::waitpid(pid, &status, WNOHANG) == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  if (::waitpid(pid, &status, WNOHANG) == 0) {
    ::kill(pid, SIGKILL);
    ::waitpid(pid, &status, 0);
  }
}

// A server process that takes --listen=127.0.0.1:<port> (ufc-metad, ufc-agentd) or
// --port=<port> (examples/backend), and --port_file.
class MetadProcess {
 public:
  enum class PortFlag { kListen, kPort };
  // `args`: extra flags; --listen (or --port) and --port_file are added (port 0 unless
  // `port`).
  explicit MetadProcess(std::string binary, PortFlag flag = PortFlag::kListen)
      : binary_(std::move(binary)), flag_(flag) {}
  ~MetadProcess() { kill(SIGKILL); }

  // Starts it and waits (up to 10 s) until it serves. False on failure.
  bool start(const std::vector<std::string>& args, int port = 0) {
    port_file_ = dir_.path() + "/port";
    ::unlink(port_file_.c_str());
    std::vector<std::string> argv = {
        binary_,
        (flag_ == PortFlag::kListen ? "--listen=127.0.0.1:" : "--port=") + std::to_string(port),
        "--port_file=" + port_file_};
    argv.insert(argv.end(), args.begin(), args.end());
    // ufc-metad's /metrics defaults to 127.0.0.1:7071; tests never take a fixed port.
    if (binary_.size() >= 9 && binary_.compare(binary_.size() - 9, 9, "ufc-metad") == 0) {
      bool has_metrics_flag = false;
      for (const std::string& a : args) has_metrics_flag |= a.rfind("--metrics_listen", 0) == 0;
      if (!has_metrics_flag) {
        argv.push_back("--metrics_listen=127.0.0.1:0");
        argv.push_back("--metrics_port_file=" + dir_.path() + "/metrics.port");
      }
    }
    // ufc-agentd's HTTP proxy defaults to 127.0.0.1:8888; tests never take a fixed port.
    if (binary_.size() >= 10 && binary_.compare(binary_.size() - 10, 10, "ufc-agentd") == 0) {
      bool has_proxy_flag = false;
      for (const std::string& a : args) has_proxy_flag |= a.rfind("--proxy_listen", 0) == 0;
      if (!has_proxy_flag) {
        argv.push_back("--proxy_listen=127.0.0.1:0");
        argv.push_back("--proxy_port_file=" + dir_.path() + "/proxy.port");
      }
      // And its status page / metrics listener, 127.0.0.1:8889.
      bool has_admin_flag = false;
      for (const std::string& a : args) has_admin_flag |= a.rfind("--admin_listen", 0) == 0;
      if (!has_admin_flag) {
        argv.push_back("--admin_listen=127.0.0.1:0");
        argv.push_back("--admin_port_file=" + dir_.path() + "/admin.port");
      }
    }
    std::fflush(nullptr);  // the child must not write out the parent's buffers
    pid_ = ::fork();
    if (pid_ == 0) {
      std::vector<char*> c;
      for (std::string& a : argv) c.push_back(a.data());
      c.push_back(nullptr);
      // Dies with the test (a killed test must not leave a server holding its pipes).
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);
      const std::string log = dir_.path() + "/log";
      if (std::freopen(log.c_str(), "a", stderr) == nullptr ||
          std::freopen("/dev/null", "w", stdout) == nullptr) {
        ::_exit(126);
      }
      ::execv(binary_.c_str(), c.data());
      ::_exit(127);
    }
    for (int i = 0; i < 1000; ++i) {
      std::ifstream in(port_file_);
      int p = 0;
      if (in >> p && p > 0) {
        port_ = p;
        return true;
      }
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        return false;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return false;
  }
  // Sends `sig` and reaps the process (SIGTERM: a clean stop; SIGKILL: a crash).
  void kill(int sig) {
    stop_child(pid_, sig);
    pid_ = -1;
  }
  int port() const { return port_; }
  // A port the process wrote to <dir()>/<name> (e.g. ufc-agentd's "proxy.port"); 0 if none.
  int port_from(const std::string& name) const {
    std::ifstream in(dir_.path() + "/" + name);
    int p = 0;
    return in >> p ? p : 0;
  }
  const std::string& dir() const { return dir_.path(); }
  pid_t pid() const { return pid_; }
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }
  std::string log() const {
    std::ifstream in(dir_.path() + "/log");
    return std::string(std::istreambuf_iterator<char>(in), {});
  }

 private:
  std::string binary_;
  PortFlag flag_;
  TempDir dir_;
  std::string port_file_;
  pid_t pid_ = -1;
  int port_ = 0;
};

using ServerProcess = MetadProcess;

}  // namespace ufc::testing

#endif  // UFC_TESTS_METAD_METAD_PROCESS_H_
