// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.
//
// tests/metad/etcd_process.h: real etcd members (/usr/bin/etcd) on 127.0.0.1 for integration
// tests: ephemeral client and peer ports, a data directory under a fresh temporary
// directory, start, SIGKILL, restart on the same directory and ports, and raw stubs for what
// a test does behind the store's back (compact, revoke a lease, read a key's lease).
// Optionally the client URLs serve TLS (a certificate that is its own CA), with extra
// flags, and etcdctl runs against the members (users, roles, auth enable).
//
// Members die with the test process (PR_SET_PDEATHSIG) and are killed by PID, within a
// bounded time, when the TestEtcd goes away. Elections are fast (heartbeat 50 ms, election
// timeout 500 ms), which also lowers etcd's minimum lease TTL to 1 s.

#ifndef UFC_TESTS_METAD_ETCD_PROCESS_H_
#define UFC_TESTS_METAD_ETCD_PROCESS_H_

#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "grpcpp/client_context.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "grpcpp/support/channel_arguments.h"
#include "gtest/gtest.h"
#include "metad/store/etcd/rpc.grpc.pb.h"

namespace ufc::metad::testing {

inline constexpr char kEtcdBinary[] = "/usr/bin/etcd";

inline bool etcd_installed() { return ::access(kEtcdBinary, X_OK) == 0; }

// `count` distinct free TCP ports on 127.0.0.1: bound to port 0 together (so the kernel
// gives distinct ones), then released for etcd to bind.
inline std::vector<int> free_ports(int count) {
  std::vector<int> fds, ports;
  for (int i = 0; i < count; ++i) {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
      ADD_FAILURE() << "cannot bind a free port on 127.0.0.1";
      if (fd >= 0) ::close(fd);
      continue;
    }
    socklen_t len = sizeof(addr);
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
    ports.push_back(ntohs(addr.sin_port));
    fds.push_back(fd);
  }
  for (int fd : fds) ::close(fd);
  return ports;
}

inline constexpr char kEtcdctlBinary[] = "/usr/bin/etcdctl";

// Serve the client URLs over TLS with this certificate and key (PEM file paths); the
// certificate is also the CA clients trust.
struct EtcdTls {
  std::string cert, key;
};

// One or several members of one etcd cluster.
class TestEtcd {
 public:
  explicit TestEtcd(int members = 1, EtcdTls tls = {}, std::vector<std::string> extra_args = {})
      : tls_(std::move(tls)), extra_args_(std::move(extra_args)) {
    char dir[] = "/tmp/ufc-etcd-test-XXXXXX";
    if (::mkdtemp(dir) == nullptr) {
      ADD_FAILURE() << "mkdtemp failed";
      return;
    }
    dir_ = dir;
    const std::vector<int> ports = free_ports(2 * members);
    std::vector<std::string> peers;
    for (int i = 0; i < members && 2 * i + 1 < static_cast<int>(ports.size()); ++i) {
      Member m;
      m.name = absl::StrCat("m", i);
      m.client_port = ports[2 * i];
      m.peer_port = ports[2 * i + 1];
      m.data_dir = absl::StrCat(dir_, "/", m.name);
      m.log = absl::StrCat(dir_, "/", m.name, ".log");
      peers.push_back(absl::StrCat(m.name, "=http://127.0.0.1:", m.peer_port));
      members_.push_back(m);
    }
    initial_cluster_ = absl::StrJoin(peers, ",");
  }

  ~TestEtcd() {
    for (size_t i = 0; i < members_.size(); ++i) kill(i);
    if (!dir_.empty()) {
      std::error_code ignored;
      std::filesystem::remove_all(dir_, ignored);
    }
  }

  TestEtcd(const TestEtcd&) = delete;
  TestEtcd& operator=(const TestEtcd&) = delete;

  size_t size() const { return members_.size(); }
  std::string endpoint(size_t i) const {
    return absl::StrCat("127.0.0.1:", members_[i].client_port);
  }
  std::vector<std::string> endpoints() const {
    std::vector<std::string> out;
    for (size_t i = 0; i < members_.size(); ++i) out.push_back(endpoint(i));
    return out;
  }
  // "https://127.0.0.1:port" with TLS, else "http://...".
  std::string url(size_t i) const {
    return absl::StrCat(tls_.cert.empty() ? "http://" : "https://", endpoint(i));
  }

  // Runs etcdctl (API v3) with `args` against every member (and the CA with TLS); its exit
  // status, and its output in `out`.
  int etcdctl(const std::string& args, std::string* out = nullptr) const {
    std::vector<std::string> urls;
    for (size_t i = 0; i < members_.size(); ++i) urls.push_back(url(i));
    const std::string file = absl::StrCat(dir_, "/etcdctl.out");
    std::string cmd = absl::StrCat(
        "ETCDCTL_API=3 ", kEtcdctlBinary,
        " --dial-timeout=5s --command-timeout=10s --endpoints=", absl::StrJoin(urls, ","));
    if (!tls_.cert.empty()) absl::StrAppend(&cmd, " --cacert=", tls_.cert);
    absl::StrAppend(&cmd, " ", args, " > ", file, " 2>&1");
    const int rc = std::system(cmd.c_str());
    if (out != nullptr) {
      std::ifstream in(file);
      std::stringstream text;
      text << in.rdbuf();
      *out = text.str();
    }
    return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
  }

  // Starts every member (all at once: they need each other for a quorum) and waits until each
  // answers a linearizable read.
  ::testing::AssertionResult start(absl::Duration timeout = absl::Seconds(20)) {
    for (size_t i = 0; i < members_.size(); ++i) {
      if (!spawn(i)) return ::testing::AssertionFailure() << "cannot start etcd " << i;
    }
    for (size_t i = 0; i < members_.size(); ++i) {
      ::testing::AssertionResult ready = wait_ready(i, timeout);
      if (!ready) return ready;
    }
    return ::testing::AssertionSuccess();
  }

  // Starts member `i` again on its data directory and ports; waits until it answers.
  ::testing::AssertionResult restart(size_t i, absl::Duration timeout = absl::Seconds(20)) {
    if (!spawn(i)) return ::testing::AssertionFailure() << "cannot start etcd " << i;
    return wait_ready(i, timeout);
  }

  // SIGKILL, reaped within 5 s.
  void kill(size_t i, int sig = SIGKILL) {
    Member& m = members_[i];
    if (m.pid <= 0) return;
    ::kill(m.pid, sig);
    const absl::Time give_up = absl::Now() + absl::Seconds(5);
    while (::waitpid(m.pid, nullptr, WNOHANG) == 0) {
      if (absl::Now() > give_up) {
        ::kill(m.pid, SIGKILL);
        ::waitpid(m.pid, nullptr, 0);
        break;
      }
      absl::SleepFor(absl::Milliseconds(5));
    }
    m.pid = -1;
  }

  // Behind the store's back, through the first live member:
  // compacts the history before `revision` (physically, before it answers).
  ::testing::AssertionResult compact(int64_t revision) {
    etcdserverpb::CompactionRequest request;
    request.set_revision(revision);
    request.set_physical(true);
    etcdserverpb::CompactionResponse response;
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(5)));
    const grpc::Status status = kv()->Compact(&context, request, &response);
    if (!status.ok()) return ::testing::AssertionFailure() << "compact: " << status.error_message();
    return ::testing::AssertionSuccess();
  }

  // etcd's current revision (every write counts).
  int64_t revision() {
    etcdserverpb::RangeRequest request;
    request.set_key("revision-probe");
    etcdserverpb::RangeResponse response;
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(5)));
    if (!kv()->Range(&context, request, &response).ok()) return 0;
    return response.header().revision();
  }

  // The lease of `key` (0: none or absent).
  int64_t lease_of(const std::string& key) {
    etcdserverpb::RangeRequest request;
    request.set_key(key);
    etcdserverpb::RangeResponse response;
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(5)));
    if (!kv()->Range(&context, request, &response).ok() || response.kvs_size() == 0) return 0;
    return response.kvs(0).lease();
  }

  ::testing::AssertionResult revoke(int64_t lease) {
    etcdserverpb::LeaseRevokeRequest request;
    request.set_id(lease);
    etcdserverpb::LeaseRevokeResponse response;
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(5)));
    const grpc::Status status = lease_stub()->LeaseRevoke(&context, request, &response);
    if (!status.ok()) return ::testing::AssertionFailure() << "revoke: " << status.error_message();
    return ::testing::AssertionSuccess();
  }

  // The end of member i's log, for failure messages.
  std::string log_tail(size_t i, size_t bytes = 2000) const {
    std::ifstream in(members_[i].log);
    std::stringstream text;
    text << in.rdbuf();
    const std::string all = text.str();
    return all.size() <= bytes ? all : all.substr(all.size() - bytes);
  }

 private:
  struct Member {
    std::string name;
    int client_port = 0;
    int peer_port = 0;
    std::string data_dir;
    std::string log;
    pid_t pid = -1;
  };

  bool spawn(size_t i) {
    Member& m = members_[i];
    const std::string client = url(i);
    const std::string peer = absl::StrCat("http://127.0.0.1:", m.peer_port);
    std::vector<std::string> args = {kEtcdBinary,
                                     "--name",
                                     m.name,
                                     "--data-dir",
                                     m.data_dir,
                                     "--listen-client-urls",
                                     client,
                                     "--advertise-client-urls",
                                     client,
                                     "--listen-peer-urls",
                                     peer,
                                     "--initial-advertise-peer-urls",
                                     peer,
                                     "--initial-cluster",
                                     initial_cluster_,
                                     "--initial-cluster-state",
                                     "new",
                                     "--initial-cluster-token",
                                     dir_,
                                     "--heartbeat-interval",
                                     "50",
                                     "--election-timeout",
                                     "500",
                                     "--logger",
                                     "zap",
                                     "--log-outputs",
                                     "stderr"};
    if (!tls_.cert.empty()) {
      args.insert(args.end(), {"--cert-file", tls_.cert, "--key-file", tls_.key});
    }
    args.insert(args.end(), extra_args_.begin(), extra_args_.end());
    std::vector<char*> argv;
    for (std::string& arg : args) argv.push_back(arg.data());
    argv.push_back(nullptr);
    const pid_t parent = ::getpid();
    const pid_t pid = ::fork();
    if (pid < 0) return false;
    if (pid == 0) {
      // Only async-signal-safe calls until exec: the parent has gRPC's threads.
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);
      if (::getppid() != parent) ::_exit(1);
      const int log = ::open(m.log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
      if (log >= 0) {
        ::dup2(log, 1);
        ::dup2(log, 2);
      }
      ::execv(kEtcdBinary, argv.data());
      ::_exit(127);
    }
    m.pid = pid;
    stubs_.clear();
    return true;
  }

  ::testing::AssertionResult wait_ready(size_t i, absl::Duration timeout) {
    const absl::Time give_up = absl::Now() + timeout;
    std::string last;
    while (absl::Now() < give_up) {
      if (::waitpid(members_[i].pid, nullptr, WNOHANG) == members_[i].pid) {
        members_[i].pid = -1;
        return ::testing::AssertionFailure() << "etcd " << i << " exited:\n" << log_tail(i);
      }
      // A fresh channel each time: etcd listens before it serves, and a connection made in
      // between hangs in the HTTP/2 handshake for seconds.
      grpc::ChannelArguments args;
      args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
      auto stub = etcdserverpb::KV::NewStub(grpc::CreateCustomChannel(endpoint(i), creds(), args));
      etcdserverpb::RangeRequest request;
      request.set_key("ready");
      etcdserverpb::RangeResponse response;
      grpc::ClientContext context;
      context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Milliseconds(500)));
      const grpc::Status status = stub->Range(&context, request, &response);
      if (status.ok()) return ::testing::AssertionSuccess();
      last = status.error_message();
      absl::SleepFor(absl::Milliseconds(50));
    }
    return ::testing::AssertionFailure() << "etcd " << i << " not ready within "
                                         << absl::FormatDuration(timeout) << " (" << last << "):\n"
                                         << log_tail(i);
  }

  struct Stubs {
    std::shared_ptr<grpc::Channel> channel;
    std::unique_ptr<etcdserverpb::KV::Stub> kv;
    std::unique_ptr<etcdserverpb::Lease::Stub> lease;
  };
  Stubs& stubs(size_t i) {
    if (stubs_.size() < members_.size()) stubs_.resize(members_.size());
    if (stubs_[i].channel == nullptr) {
      stubs_[i].channel = grpc::CreateChannel(endpoint(i), creds());
      stubs_[i].kv = etcdserverpb::KV::NewStub(stubs_[i].channel);
      stubs_[i].lease = etcdserverpb::Lease::NewStub(stubs_[i].channel);
    }
    return stubs_[i];
  }
  size_t live() const {
    for (size_t i = 0; i < members_.size(); ++i) {
      if (members_[i].pid > 0) return i;
    }
    return 0;
  }
  etcdserverpb::KV::Stub* kv() { return stubs(live()).kv.get(); }
  etcdserverpb::Lease::Stub* lease_stub() { return stubs(live()).lease.get(); }

  std::shared_ptr<grpc::ChannelCredentials> creds() const {
    if (tls_.cert.empty()) return grpc::InsecureChannelCredentials();
    std::ifstream in(tls_.cert);
    std::stringstream pem;
    pem << in.rdbuf();
    grpc::SslCredentialsOptions ssl;
    ssl.pem_root_certs = pem.str();
    return grpc::SslCredentials(ssl);
  }

  const EtcdTls tls_;
  const std::vector<std::string> extra_args_;
  std::string dir_;
  std::string initial_cluster_;
  std::vector<Member> members_;
  std::vector<Stubs> stubs_;
};

}  // namespace ufc::metad::testing

#endif  // UFC_TESTS_METAD_ETCD_PROCESS_H_
