// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.
//
// The c-ares resolver against real servers: Debian's dnsmasq for what a real server says
// (records, NXDOMAIN, empty answers, REFUSED, a stopped server), and a scripted UDP server
// for what dnsmasq never says (SERVFAIL, distinct TTLs, a malformed answer, silence).

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/dns/dnsmasq_process.h"
#include "ufc/resolver.h"

namespace ufc {
namespace {

using testing::Dnsmasq;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

// The longest any single answer may take in these tests (a loaded machine included).
constexpr absl::Duration kAnswerLimit = absl::Seconds(10);

DnsQuery address(std::string name, AddressFamily family = AddressFamily::kAny) {
  return DnsQuery{std::move(name), DnsRecordType::kAddress, family};
}
DnsQuery srv(std::string name, AddressFamily family = AddressFamily::kAny) {
  return DnsQuery{std::move(name), DnsRecordType::kSrv, family};
}

// resolve_now() waits for the answer to `q`, at most `limit` (then a test failure).
DnsAnswer resolve_now(Resolver& r, const DnsQuery& q, absl::Duration limit = kAnswerLimit) {
  struct State {
    absl::Notification done;
    DnsAnswer answer;
  };
  auto state = std::make_shared<State>();
  r.resolve(q, [state](DnsAnswer a) {
    state->answer = std::move(a);
    state->done.Notify();
  });
  if (!state->done.WaitForNotificationWithTimeout(limit)) {
    ADD_FAILURE() << "no answer for " << q.name << " within " << limit;
    DnsAnswer a;
    a.status = absl::DeadlineExceededError("test: no answer");
    return a;
  }
  return std::move(state->answer);
}

// "ip" for address records, "ip:port p<priority> w<weight>" for SRV ones.
std::vector<std::string> records(const DnsAnswer& a) {
  std::vector<std::string> out;
  for (const DnsRecord& r : a.records) {
    out.push_back(r.port == 0 && r.priority == 0 && r.weight == 0
                      ? r.ip
                      : absl::StrCat(r.ip, ":", r.port, " p", r.priority, " w", r.weight));
  }
  return out;
}

std::unique_ptr<Resolver> make_resolver(std::vector<std::string> servers,
                                        absl::Duration timeout = absl::Seconds(1), int tries = 2) {
  ResolverOptions o;
  o.servers = std::move(servers);
  o.timeout = timeout;
  o.tries = tries;
  absl::StatusOr<std::unique_ptr<Resolver>> r = make_cares_resolver(o);
  EXPECT_TRUE(r.ok()) << r.status();
  return r.ok() ? *std::move(r) : nullptr;
}

// A UDP port that is bound and never read: queries sent there vanish (no ICMP refusal),
// so they stay pending until they time out.
class SilentUdpPort {
 public:
  SilentUdpPort() {
    fd_ = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof(a));
    socklen_t len = sizeof(a);
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
    address_ = absl::StrCat("127.0.0.1:", ntohs(a.sin_port));
  }
  ~SilentUdpPort() { ::close(fd_); }
  const std::string& address() const { return address_; }

 private:
  int fd_;
  std::string address_;
};

// DNS messages (RFC 1035 section 4.1), built by hand for the scripted server.
struct Dns {
  static void u16(std::string& out, unsigned v) {
    out += static_cast<char>((v >> 8) & 0xff);
    out += static_cast<char>(v & 0xff);
  }
  static void u32(std::string& out, uint32_t v) {
    u16(out, v >> 16);
    u16(out, v & 0xffff);
  }
  static std::string name(const std::string& dotted) {
    std::string out;
    size_t at = 0;
    while (at < dotted.size()) {
      size_t dot = dotted.find('.', at);
      if (dot == std::string::npos) dot = dotted.size();
      out += static_cast<char>(dot - at);
      out += dotted.substr(at, dot - at);
      at = dot + 1;
    }
    out += '\0';
    return out;
  }
  // The question of `query`: its name (dotted, no trailing dot) and type.
  static bool question(const std::string& query, std::string* qname, unsigned* qtype) {
    size_t at = 12;
    qname->clear();
    while (at < query.size() && query[at] != 0) {
      const size_t n = static_cast<unsigned char>(query[at]);
      if (n > 63 || at + 1 + n > query.size()) return false;
      if (!qname->empty()) *qname += '.';
      *qname += query.substr(at + 1, n);
      at += 1 + n;
    }
    if (at + 5 > query.size()) return false;
    *qtype =
        static_cast<unsigned char>(query[at + 1]) << 8 | static_cast<unsigned char>(query[at + 2]);
    return true;
  }
  // A response to `query`: its header and question, `rcode`, and `answers` (each a whole
  // resource record), none in the authority and additional sections.
  static std::string response(const std::string& query, unsigned rcode,
                              const std::vector<std::string>& answers) {
    std::string qname;
    unsigned qtype = 0;
    question(query, &qname, &qtype);
    std::string out = query.substr(0, 2);
    u16(out, 0x8180 | rcode);  // QR, RD, RA
    u16(out, 1);
    u16(out, answers.size());
    u16(out, 0);
    u16(out, 0);
    out += name(qname);
    u16(out, qtype);
    u16(out, 1);
    for (const std::string& rr : answers) out += rr;
    return out;
  }
  // A resource record owned by the question's name (a compression pointer to offset 12).
  static std::string rr(unsigned type, uint32_t ttl, const std::string& rdata) {
    std::string out("\xc0\x0c", 2);
    u16(out, type);
    u16(out, 1);
    u32(out, ttl);
    u16(out, rdata.size());
    return out + rdata;
  }
  static std::string a(const std::string& ip, uint32_t ttl) {
    in_addr addr;
    ::inet_pton(AF_INET, ip.c_str(), &addr);
    return rr(1, ttl, std::string(reinterpret_cast<const char*>(&addr), 4));
  }
  static std::string srv(const std::string& target, unsigned port, unsigned priority,
                         unsigned weight, uint32_t ttl) {
    std::string rdata;
    u16(rdata, priority);
    u16(rdata, weight);
    u16(rdata, port);
    return rr(33, ttl, rdata + name(target));
  }
};

// ScriptedDns: a DNS server on a UDP loopback port whose every answer `script` writes
// (an empty string: no answer at all). One thread; stopped by the destructor.
class ScriptedDns {
 public:
  using Script = std::function<std::string(const std::string& query)>;
  explicit ScriptedDns(Script script) : script_(std::move(script)) {
    fd_ = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof(a));
    socklen_t len = sizeof(a);
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
    address_ = absl::StrCat("127.0.0.1:", ntohs(a.sin_port));
    thread_ = std::thread([this] { serve(); });
  }
  ~ScriptedDns() {
    stop_ = true;
    thread_.join();
    ::close(fd_);
  }
  const std::string& address() const { return address_; }
  int queries() const { return queries_.load(); }

 private:
  void serve() {
    char buf[4096];
    while (!stop_) {
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, 20) != 1) continue;
      sockaddr_in from{};
      socklen_t len = sizeof(from);
      const ssize_t n =
          ::recvfrom(fd_, buf, sizeof(buf), 0, reinterpret_cast<sockaddr*>(&from), &len);
      if (n <= 0) continue;
      ++queries_;
      const std::string reply = script_(std::string(buf, static_cast<size_t>(n)));
      if (reply.empty()) continue;
      ::sendto(fd_, reply.data(), reply.size(), 0, reinterpret_cast<sockaddr*>(&from), len);
    }
  }

  Script script_;
  int fd_ = -1;
  std::string address_;
  std::atomic<bool> stop_{false};
  std::atomic<int> queries_{0};
  std::thread thread_;
};

class CaresResolverTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!Dnsmasq::available()) GTEST_SKIP() << Dnsmasq::kBinary << " is not installed";
  }

  // A dnsmasq with `config`, or nullptr (and a test failure).
  static std::unique_ptr<Dnsmasq> start_dns(Dnsmasq::Config config) {
    absl::StatusOr<std::unique_ptr<Dnsmasq>> d = Dnsmasq::start(std::move(config));
    EXPECT_TRUE(d.ok()) << d.status();
    return d.ok() ? *std::move(d) : nullptr;
  }
};

TEST_F(CaresResolverTest, AddressQueryReturnsEveryAddressSortedAndTheTtl) {
  auto dns = start_dns({.hosts = {{"10.0.0.3", "web.ufc.test"},
                                  {"10.0.0.1", "web.ufc.test"},
                                  {"10.0.0.2", "web.ufc.test"}},
                        .local_ttl = 30});
  ASSERT_NE(dns, nullptr);
  auto r = make_resolver({dns->server()});
  ASSERT_NE(r, nullptr);

  const DnsAnswer a = resolve_now(*r, address("web.ufc.test"));
  ASSERT_TRUE(a.status.ok()) << a.status;
  EXPECT_THAT(records(a), ElementsAre("10.0.0.1", "10.0.0.2", "10.0.0.3"));
  EXPECT_EQ(a.ttl, absl::Seconds(30));
}

TEST_F(CaresResolverTest, TtlZeroIsReportedAsZero) {
  auto dns = start_dns({.hosts = {{"10.0.0.1", "web.ufc.test"}}});  // local_ttl 0
  ASSERT_NE(dns, nullptr);
  auto r = make_resolver({dns->server()});
  ASSERT_NE(r, nullptr);

  const DnsAnswer a = resolve_now(*r, address("web.ufc.test"));
  ASSERT_TRUE(a.status.ok()) << a.status;
  EXPECT_EQ(a.ttl, absl::ZeroDuration());
}

TEST_F(CaresResolverTest, AaaaRecordsComeWithoutBrackets) {
  auto dns = start_dns({.hosts = {{"::1", "v6.ufc.test"}, {"fd00::2", "v6.ufc.test"}}});
  ASSERT_NE(dns, nullptr);
  auto r = make_resolver({dns->server()});
  ASSERT_NE(r, nullptr);

  const DnsAnswer a = resolve_now(*r, address("v6.ufc.test", AddressFamily::kIpv6));
  ASSERT_TRUE(a.status.ok()) << a.status;
  EXPECT_THAT(records(a), ElementsAre("::1", "fd00::2"));
}

TEST_F(CaresResolverTest, FamilySelectsTheRecordTypes) {
  auto dns = start_dns({.hosts = {{"10.0.0.1", "dual.ufc.test"}, {"fd00::1", "dual.ufc.test"}}});
  ASSERT_NE(dns, nullptr);
  auto r = make_resolver({dns->server()});
  ASSERT_NE(r, nullptr);

  EXPECT_THAT(records(resolve_now(*r, address("dual.ufc.test"))),
              ElementsAre("10.0.0.1", "fd00::1"));
  EXPECT_THAT(records(resolve_now(*r, address("dual.ufc.test", AddressFamily::kIpv4))),
              ElementsAre("10.0.0.1"));
  EXPECT_THAT(records(resolve_now(*r, address("dual.ufc.test", AddressFamily::kIpv6))),
              ElementsAre("fd00::1"));
}

TEST_F(CaresResolverTest, NxdomainIsNotFoundNamingTheQuery) {
  auto dns = start_dns({.hosts = {{"10.0.0.1", "web.ufc.test"}}});
  ASSERT_NE(dns, nullptr);
  auto r = make_resolver({dns->server()});
  ASSERT_NE(r, nullptr);

  const DnsAnswer a = resolve_now(*r, address("nope.ufc.test"));
  EXPECT_EQ(a.status.code(), absl::StatusCode::kNotFound) << a.status;
  EXPECT_EQ(a.status.message(), "\"nope.ufc.test\" (A/AAAA): NXDOMAIN: the name does not exist");
  EXPECT_THAT(a.records, IsEmpty());
}

TEST_F(CaresResolverTest, NameWithoutRecordsOfTheFamilyIsAnEmptyAnswer) {
  auto dns = start_dns({.hosts = {{"fd00::1", "v6only.ufc.test"}}});
  ASSERT_NE(dns, nullptr);
  auto r = make_resolver({dns->server()});
  ASSERT_NE(r, nullptr);

  const DnsAnswer a = resolve_now(*r, address("v6only.ufc.test", AddressFamily::kIpv4));
  EXPECT_EQ(a.status.code(), absl::StatusCode::kNotFound) << a.status;
  EXPECT_EQ(a.status.message(), "\"v6only.ufc.test\" (A): empty answer (no records of the type)");
}

TEST_F(CaresResolverTest, RefusedIsUnavailable) {
  // dnsmasq has no upstream: a name outside ufc.test is REFUSED.
  auto dns = start_dns({.hosts = {{"10.0.0.1", "web.ufc.test"}}});
  ASSERT_NE(dns, nullptr);
  auto r = make_resolver({dns->server()});
  ASSERT_NE(r, nullptr);

  const DnsAnswer a = resolve_now(*r, address("www.example.org"));
  EXPECT_EQ(a.status.code(), absl::StatusCode::kUnavailable) << a.status;
  EXPECT_THAT(a.status.message(), HasSubstr("\"www.example.org\" (A/AAAA): "));
  EXPECT_THAT(a.status.message(), HasSubstr("REFUSED"));
}

TEST_F(CaresResolverTest, SrvGivesEveryRecordOfEveryPriorityWithTargetAddresses) {
  auto dns = start_dns({.hosts = {{"10.0.1.1", "web1.ufc.test"},
                                  {"10.0.1.2", "web1.ufc.test"},
                                  {"10.0.2.1", "web2.ufc.test"},
                                  {"10.0.3.1", "web3.ufc.test"},
                                  {"fd00::3", "web3.ufc.test"}},
                        .srv = {{"_http._tcp.ufc.test", "web1.ufc.test", 8080, 1, 10},
                                {"_http._tcp.ufc.test", "web2.ufc.test", 8081, 1, 20},
                                {"_http._tcp.ufc.test", "web3.ufc.test", 8082, 2, 5}},
                        .local_ttl = 40});
  ASSERT_NE(dns, nullptr);
  auto r = make_resolver({dns->server()});
  ASSERT_NE(r, nullptr);

  // All priorities: choosing the lowest present is the caller's job.
  const DnsAnswer a = resolve_now(*r, srv("_http._tcp.ufc.test"));
  ASSERT_TRUE(a.status.ok()) << a.status;
  EXPECT_THAT(records(a),
              ElementsAre("10.0.1.1:8080 p1 w10", "10.0.1.2:8080 p1 w10", "10.0.2.1:8081 p1 w20",
                          "10.0.3.1:8082 p2 w5", "fd00::3:8082 p2 w5"));
  EXPECT_EQ(a.ttl, absl::Seconds(40));

  // The family applies to the targets' addresses.
  EXPECT_THAT(records(resolve_now(*r, srv("_http._tcp.ufc.test", AddressFamily::kIpv6))),
              ElementsAre("fd00::3:8082 p2 w5"));
}

TEST_F(CaresResolverTest, SrvRecordWhoseTargetIsMissingIsDropped) {
  auto dns = start_dns({.hosts = {{"10.0.1.1", "web1.ufc.test"}, {"fd00::9", "v6only.ufc.test"}},
                        .srv = {{"_http._tcp.ufc.test", "web1.ufc.test", 8080, 1, 10},
                                {"_http._tcp.ufc.test", "gone.ufc.test", 8081, 1, 10},
                                {"_http._tcp.ufc.test", "v6only.ufc.test", 8082, 1, 10},
                                {"_gone._tcp.ufc.test", "gone.ufc.test", 8081, 1, 10}}});
  ASSERT_NE(dns, nullptr);
  auto r = make_resolver({dns->server()});
  ASSERT_NE(r, nullptr);

  // gone: NXDOMAIN; v6only: an empty answer for A.
  const DnsAnswer a = resolve_now(*r, srv("_http._tcp.ufc.test", AddressFamily::kIpv4));
  ASSERT_TRUE(a.status.ok()) << a.status;
  EXPECT_THAT(records(a), ElementsAre("10.0.1.1:8080 p1 w10"));

  const DnsAnswer none = resolve_now(*r, srv("_gone._tcp.ufc.test"));
  EXPECT_EQ(none.status.code(), absl::StatusCode::kNotFound) << none.status;
  EXPECT_EQ(none.status.message(),
            "\"_gone._tcp.ufc.test\" (SRV): no target has an address (NXDOMAIN or an empty "
            "answer for \"gone.ufc.test\")");
}

TEST_F(CaresResolverTest, SrvTargetDotMeansNotAvailable) {
  auto dns = start_dns({.srv = {{"_none._tcp.ufc.test", "", 0, 0, 0}}});
  ASSERT_NE(dns, nullptr);
  auto r = make_resolver({dns->server()});
  ASSERT_NE(r, nullptr);

  const DnsAnswer a = resolve_now(*r, srv("_none._tcp.ufc.test"));
  EXPECT_EQ(a.status.code(), absl::StatusCode::kNotFound) << a.status;
  EXPECT_THAT(a.status.message(), HasSubstr("not available"));
}

TEST_F(CaresResolverTest, SrvNameThatDoesNotExistIsNotFound) {
  auto dns = start_dns({.srv = {{"_http._tcp.ufc.test", "web1.ufc.test", 8080, 1, 10}}});
  ASSERT_NE(dns, nullptr);
  auto r = make_resolver({dns->server()});
  ASSERT_NE(r, nullptr);

  const DnsAnswer a = resolve_now(*r, srv("_nope._tcp.ufc.test"));
  EXPECT_EQ(a.status.code(), absl::StatusCode::kNotFound) << a.status;
  EXPECT_EQ(a.status.message(), "\"_nope._tcp.ufc.test\" (SRV): NXDOMAIN: the name does not exist");
}

TEST_F(CaresResolverTest, ChangedHostsAreSeenByTheNextQuery) {
  auto dns = start_dns({.hosts = {{"10.0.0.1", "web.ufc.test"}}});
  ASSERT_NE(dns, nullptr);
  auto r = make_resolver({dns->server()});
  ASSERT_NE(r, nullptr);
  EXPECT_THAT(records(resolve_now(*r, address("web.ufc.test"))), ElementsAre("10.0.0.1"));

  ASSERT_TRUE(dns->set_hosts({{"10.0.0.7", "web.ufc.test"}, {"10.0.0.8", "web.ufc.test"}}).ok());
  EXPECT_THAT(records(resolve_now(*r, address("web.ufc.test"))),
              ElementsAre("10.0.0.7", "10.0.0.8"));
}

TEST_F(CaresResolverTest, ChangedSrvRecordsAreSeenAfterTheRestartOnTheSamePort) {
  auto dns = start_dns({.hosts = {{"10.0.1.1", "web1.ufc.test"}, {"10.0.2.1", "web2.ufc.test"}},
                        .srv = {{"_http._tcp.ufc.test", "web1.ufc.test", 8080, 1, 10}}});
  ASSERT_NE(dns, nullptr);
  const int port = dns->port();
  auto r = make_resolver({dns->server()});
  ASSERT_NE(r, nullptr);
  EXPECT_THAT(records(resolve_now(*r, srv("_http._tcp.ufc.test"))),
              ElementsAre("10.0.1.1:8080 p1 w10"));

  const absl::Status s = dns->set_srv({{"_http._tcp.ufc.test", "web2.ufc.test", 9090, 3, 7}});
  ASSERT_TRUE(s.ok()) << s;
  EXPECT_EQ(dns->port(), port);
  EXPECT_THAT(records(resolve_now(*r, srv("_http._tcp.ufc.test"))),
              ElementsAre("10.0.2.1:9090 p3 w7"));
}

TEST_F(CaresResolverTest, StoppedServerFailsWithinTimeoutTimesTriesAndRestartRecovers) {
  auto dns = start_dns({.hosts = {{"10.0.0.1", "web.ufc.test"}}});
  ASSERT_NE(dns, nullptr);
  const absl::Duration timeout = absl::Milliseconds(200);
  auto r = make_resolver({dns->server()}, timeout, /*tries=*/1);
  ASSERT_NE(r, nullptr);
  ASSERT_TRUE(resolve_now(*r, address("web.ufc.test")).status.ok());

  ASSERT_TRUE(dns->stop().ok());
  const absl::Time start = absl::Now();
  const DnsAnswer a = resolve_now(*r, address("web.ufc.test"));
  const absl::Duration took = absl::Now() - start;
  EXPECT_TRUE(a.status.code() == absl::StatusCode::kDeadlineExceeded ||
              a.status.code() == absl::StatusCode::kUnavailable)
      << a.status;
  EXPECT_THAT(a.status.message(), HasSubstr("\"web.ufc.test\" (A/AAAA): "));
  EXPECT_LT(took, timeout * 1 + absl::Seconds(1));  // slack for a loaded machine

  const absl::Status s = dns->restart();
  ASSERT_TRUE(s.ok()) << s;
  EXPECT_THAT(records(resolve_now(*r, address("web.ufc.test"))), ElementsAre("10.0.0.1"));
}

TEST_F(CaresResolverTest, SilentServerIsDeadlineExceededAfterTimeoutTimesTries) {
  SilentUdpPort silent;
  const absl::Duration timeout = absl::Milliseconds(200);
  auto r = make_resolver({silent.address()}, timeout, /*tries=*/2);
  ASSERT_NE(r, nullptr);

  const absl::Time start = absl::Now();
  const DnsAnswer a = resolve_now(*r, address("web.ufc.test", AddressFamily::kIpv4));
  const absl::Duration took = absl::Now() - start;
  EXPECT_EQ(a.status.code(), absl::StatusCode::kDeadlineExceeded) << a.status;
  EXPECT_THAT(a.status.message(), HasSubstr("\"web.ufc.test\" (A): timeout"));
  // c-ares 1.18 doubles the timeout on each round of the servers: 200 ms, then 400 ms.
  EXPECT_GE(took, timeout * 2);
  EXPECT_LT(took, timeout * 3 + absl::Seconds(1));
}

TEST_F(CaresResolverTest, ServfailIsUnavailable) {
  ScriptedDns server([](const std::string& q) { return Dns::response(q, /*SERVFAIL*/ 2, {}); });
  auto r = make_resolver({server.address()}, absl::Milliseconds(500), /*tries=*/1);
  ASSERT_NE(r, nullptr);

  const DnsAnswer a = resolve_now(*r, srv("_http._tcp.t.test"));
  EXPECT_EQ(a.status.code(), absl::StatusCode::kUnavailable) << a.status;
  EXPECT_THAT(a.status.message(), HasSubstr("\"_http._tcp.t.test\" (SRV): "));
  EXPECT_THAT(a.status.message(), HasSubstr("SERVFAIL"));
}

TEST_F(CaresResolverTest, SrvTtlIsTheSmallestOfTheRecordsAndTheTargetsAddresses) {
  std::atomic<uint32_t> a_ttl{50};  // the server's thread reads it
  ScriptedDns server([&a_ttl](const std::string& q) {
    std::string name;
    unsigned type = 0;
    if (!Dns::question(q, &name, &type)) return std::string();
    if (type == 33 && name == "_http._tcp.t.test") {
      return Dns::response(
          q, 0, {Dns::srv("a.t.test", 80, 1, 1, 30), Dns::srv("b.t.test", 81, 1, 1, 20)});
    }
    if (type == 1 && name == "a.t.test")
      return Dns::response(q, 0, {Dns::a("10.0.0.1", a_ttl.load())});
    if (type == 1 && name == "b.t.test") return Dns::response(q, 0, {Dns::a("10.0.0.2", 40)});
    return Dns::response(q, 3, {});  // NXDOMAIN
  });
  auto r = make_resolver({server.address()});
  ASSERT_NE(r, nullptr);

  DnsAnswer a = resolve_now(*r, srv("_http._tcp.t.test", AddressFamily::kIpv4));
  ASSERT_TRUE(a.status.ok()) << a.status;
  EXPECT_THAT(records(a), ElementsAre("10.0.0.1:80 p1 w1", "10.0.0.2:81 p1 w1"));
  EXPECT_EQ(a.ttl, absl::Seconds(20));  // the second SRV record's

  a_ttl = 0x80000001;  // the top bit set: read as zero (RFC 2181 section 8)
  a = resolve_now(*r, srv("_http._tcp.t.test", AddressFamily::kIpv4));
  ASSERT_TRUE(a.status.ok()) << a.status;
  EXPECT_EQ(a.ttl, absl::ZeroDuration());
}

TEST_F(CaresResolverTest, MalformedSrvAnswerIsDataLoss) {
  ScriptedDns server([](const std::string& q) {
    std::string reply = Dns::response(q, 0, {Dns::srv("a.t.test", 80, 1, 1, 30)});
    return reply.substr(0, reply.size() - 6);  // the record's rdata cut short
  });
  auto r = make_resolver({server.address()}, absl::Milliseconds(500), /*tries=*/1);
  ASSERT_NE(r, nullptr);

  const DnsAnswer a = resolve_now(*r, srv("_http._tcp.t.test"));
  EXPECT_EQ(a.status.code(), absl::StatusCode::kDataLoss) << a.status;
  EXPECT_THAT(a.status.message(), HasSubstr("\"_http._tcp.t.test\" (SRV): malformed answer"));
}

TEST_F(CaresResolverTest, SrvTargetThatTimesOutFailsTheWholeAnswer) {
  ScriptedDns server([](const std::string& q) {
    std::string name;
    unsigned type = 0;
    if (!Dns::question(q, &name, &type)) return std::string();
    if (type == 33) {
      return Dns::response(
          q, 0, {Dns::srv("a.t.test", 80, 1, 1, 30), Dns::srv("b.t.test", 81, 1, 1, 30)});
    }
    if (name == "a.t.test") return Dns::response(q, 0, {Dns::a("10.0.0.1", 30)});
    return std::string();  // b.t.test: silence
  });
  auto r = make_resolver({server.address()}, absl::Milliseconds(200), /*tries=*/1);
  ASSERT_NE(r, nullptr);

  // A partial answer would read as the removal of b's records.
  const DnsAnswer a = resolve_now(*r, srv("_http._tcp.t.test", AddressFamily::kIpv4));
  EXPECT_EQ(a.status.code(), absl::StatusCode::kDeadlineExceeded) << a.status;
  EXPECT_THAT(a.status.message(),
              HasSubstr("\"_http._tcp.t.test\" (SRV): target \"b.t.test\" (A): timeout"));
  EXPECT_THAT(a.records, IsEmpty());
}

TEST_F(CaresResolverTest, BadOptionsAreInvalidArgumentNamingEachField) {
  ResolverOptions o;
  o.servers = {"dns.example", "10.0.0.1:0", "[::1]:53", "::1", "10.0.0.1:53", "[::1", "1.2.3"};
  o.timeout = absl::ZeroDuration();
  o.tries = 11;
  const absl::StatusOr<std::unique_ptr<Resolver>> r = make_cares_resolver(o);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(r.status().message(),
            "ResolverOptions.servers[0]: \"dns.example\" is not an IP literal with an optional "
            "port (\"10.0.0.1\", \"10.0.0.1:53\"); "
            "ResolverOptions.servers[1]: \"10.0.0.1:0\" has a port that is not in 1..65535; "
            "ResolverOptions.servers[5]: \"[::1\" has no closing ']'; "
            "ResolverOptions.servers[6]: \"1.2.3\" is not an IP literal with an optional port "
            "(\"10.0.0.1\", \"10.0.0.1:53\"); "
            "ResolverOptions.timeout: must be in [1ms, 1m], got 0; "
            "ResolverOptions.tries: must be in [1, 10], got 11");

  ResolverOptions good;
  good.servers = {"[::1]:5353", "::1", "127.0.0.1", "127.0.0.1:5353"};
  EXPECT_TRUE(make_cares_resolver(good).ok());
  EXPECT_TRUE(make_cares_resolver(ResolverOptions()).ok());  // the system's servers
}

TEST_F(CaresResolverTest, DestroyingCancelsPendingQueriesBeforeTheDestructorReturns) {
  SilentUdpPort silent;
  auto r = make_resolver({silent.address()}, absl::Seconds(30), /*tries=*/1);
  ASSERT_NE(r, nullptr);

  absl::Mutex mu;
  std::vector<absl::Status> answers;
  const auto collect = [&](DnsAnswer a) {
    absl::MutexLock lock(&mu);
    answers.push_back(a.status);
  };
  r->resolve(address("a.ufc.test"), collect);
  r->resolve(address("b.ufc.test", AddressFamily::kIpv6), collect);
  r->resolve(srv("_c._tcp.ufc.test"), collect);
  // A `done` that asks again while the resolver goes: that one is cancelled too.
  Resolver* raw = r.get();
  r->resolve(address("d.ufc.test"), [&, raw](DnsAnswer a) {
    collect(a);
    raw->resolve(address("e.ufc.test"), collect);
  });

  const absl::Time start = absl::Now();
  r.reset();
  EXPECT_LT(absl::Now() - start, absl::Seconds(5));
  absl::MutexLock lock(&mu);
  ASSERT_EQ(answers.size(), 5u);
  for (const absl::Status& s : answers) {
    EXPECT_EQ(s.code(), absl::StatusCode::kCancelled) << s;
    EXPECT_THAT(s.message(), HasSubstr("cancelled: the resolver was destroyed"));
  }
}

TEST_F(CaresResolverTest, DestroyingCancelsAnSrvQueryWaitingForItsTargets) {
  ScriptedDns server([](const std::string& q) {
    std::string name;
    unsigned type = 0;
    if (!Dns::question(q, &name, &type) || type != 33) return std::string();  // targets: silence
    return Dns::response(q, 0, {Dns::srv("a.t.test", 80, 1, 1, 30)});
  });
  auto r = make_resolver({server.address()}, absl::Seconds(30), /*tries=*/1);
  ASSERT_NE(r, nullptr);

  absl::Notification done;
  absl::Status status;
  r->resolve(srv("_http._tcp.t.test"), [&](DnsAnswer a) {
    status = a.status;
    done.Notify();
  });
  // Wait until the targets' lookups are out: the SRV query, then A and AAAA of a.t.test.
  for (int i = 0; i < 1000 && server.queries() < 3; ++i) absl::SleepFor(absl::Milliseconds(5));
  ASSERT_GE(server.queries(), 3);
  r.reset();
  ASSERT_TRUE(done.HasBeenNotified());
  EXPECT_EQ(status.code(), absl::StatusCode::kCancelled) << status;
}

TEST_F(CaresResolverTest, DoneMayResolveAgainAndNeverRunsInsideResolve) {
  auto dns = start_dns({.hosts = {{"10.0.0.1", "a.ufc.test"}, {"10.0.0.2", "b.ufc.test"}}});
  ASSERT_NE(dns, nullptr);
  auto r = make_resolver({dns->server()});
  ASSERT_NE(r, nullptr);

  const std::thread::id caller = std::this_thread::get_id();
  std::atomic<bool> on_caller_thread{false};
  absl::Notification second;
  std::vector<std::string> got;
  Resolver* raw = r.get();
  r->resolve(address("a.ufc.test"), [&, raw](DnsAnswer a) {
    on_caller_thread = on_caller_thread || std::this_thread::get_id() == caller;
    got = records(a);
    raw->resolve(address("b.ufc.test"), [&](DnsAnswer b) {
      on_caller_thread = on_caller_thread || std::this_thread::get_id() == caller;
      for (const std::string& s : records(b)) got.push_back(s);
      second.Notify();
    });
  });
  ASSERT_TRUE(second.WaitForNotificationWithTimeout(kAnswerLimit));
  EXPECT_THAT(got, ElementsAre("10.0.0.1", "10.0.0.2"));
  EXPECT_FALSE(on_caller_thread);

  // c-ares answers an IP literal at once, inside ares_getaddrinfo(): still not in
  // resolve(), i.e. not on the caller's thread.
  absl::Notification literal;
  std::atomic<bool> literal_on_caller_thread{true};
  r->resolve(address("10.9.8.7"), [&](DnsAnswer a) {
    literal_on_caller_thread = std::this_thread::get_id() == caller;
    got = records(a);
    literal.Notify();
  });
  ASSERT_TRUE(literal.WaitForNotificationWithTimeout(kAnswerLimit));
  EXPECT_FALSE(literal_on_caller_thread);
  EXPECT_THAT(got, ElementsAre("10.9.8.7"));
}

TEST_F(CaresResolverTest, ResolverDestroyedInsideItsOwnDoneCancelsTheRest) {
  ScriptedDns server([](const std::string& q) {
    std::string name;
    unsigned type = 0;
    if (!Dns::question(q, &name, &type) || name != "now.t.test") return std::string();
    return Dns::response(q, 0, {Dns::a("10.0.0.1", 30)});
  });
  std::unique_ptr<Resolver> r = make_resolver({server.address()}, absl::Seconds(30), 1);
  ASSERT_NE(r, nullptr);

  std::atomic<int> cancelled{0};
  absl::Notification issued;  // resolve() has returned: the test thread is done with `r`
  absl::Notification destroyed;
  r->resolve(address("never.t.test", AddressFamily::kIpv4), [&](DnsAnswer a) {
    if (a.status.code() == absl::StatusCode::kCancelled) ++cancelled;
  });
  r->resolve(address("now.t.test", AddressFamily::kIpv4), [&](DnsAnswer a) {
    if (!issued.WaitForNotificationWithTimeout(kAnswerLimit)) return;
    r.reset();  // on the resolver's own thread
    destroyed.Notify();
  });
  issued.Notify();
  ASSERT_TRUE(destroyed.WaitForNotificationWithTimeout(kAnswerLimit));
  EXPECT_EQ(cancelled.load(), 1);
}

TEST_F(CaresResolverTest, ManyConcurrentQueriesFromManyThreads) {
  auto dns = start_dns({.hosts = {{"10.0.0.1", "a.ufc.test"}, {"10.0.0.2", "b.ufc.test"}},
                        .srv = {{"_s._tcp.ufc.test", "b.ufc.test", 81, 1, 1}}});
  ASSERT_NE(dns, nullptr);
  auto r = make_resolver({dns->server()});
  ASSERT_NE(r, nullptr);

  constexpr int kThreads = 4;
  constexpr int kEach = 50;
  std::atomic<int> good{0};
  std::atomic<int> answered{0};
  absl::Notification all;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i) {
        const bool use_srv = (i + t) % 3 == 0;
        const std::string want = use_srv ? "10.0.0.2:81 p1 w1" : (i % 2 ? "10.0.0.1" : "10.0.0.2");
        const DnsQuery q =
            use_srv ? srv("_s._tcp.ufc.test") : address(i % 2 ? "a.ufc.test" : "b.ufc.test");
        r->resolve(q, [&, want](DnsAnswer a) {
          if (a.status.ok() && records(a) == std::vector<std::string>{want}) ++good;
          if (++answered == kThreads * kEach) all.Notify();
        });
      }
    });
  }
  for (std::thread& t : threads) t.join();
  ASSERT_TRUE(all.WaitForNotificationWithTimeout(kAnswerLimit));
  EXPECT_EQ(good.load(), kThreads * kEach);
}

// The fixture itself: a restart never moves to another port (the resolver under test
// would be asking the old one).
TEST_F(CaresResolverTest, DnsmasqRestartOnATakenPortFailsInsteadOfMoving) {
  auto dns = start_dns({.hosts = {{"10.0.0.1", "web.ufc.test"}}});
  ASSERT_NE(dns, nullptr);
  const int port = dns->port();
  ASSERT_TRUE(dns->stop().ok());

  const int squatter = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(squatter, reinterpret_cast<sockaddr*>(&a), sizeof(a)), 0);
  const absl::Status s = dns->restart();
  ::close(squatter);
  EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable) << s;
  EXPECT_THAT(s.message(), HasSubstr(absl::StrCat("port ", port, " was taken")));
  EXPECT_EQ(dns->port(), port);
  EXPECT_FALSE(dns->running());

  // Free again: it comes back there.
  ASSERT_TRUE(dns->restart().ok());
  auto r = make_resolver({dns->server()});
  ASSERT_NE(r, nullptr);
  EXPECT_THAT(records(resolve_now(*r, address("web.ufc.test"))), ElementsAre("10.0.0.1"));
}

}  // namespace
}  // namespace ufc
