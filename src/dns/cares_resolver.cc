// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.
//
// src/dns/cares_resolver.cc: make_cares_resolver(), the default Resolver: one c-ares
// 1.18 channel driven by one thread of its own.
//
// c-ares 1.18 channels are not thread-safe, so every channel call happens under Core::mu.
// c-ares calls its callbacks from inside ares_process_fd() / ares_getaddrinfo() /
// ares_destroy(), i.e. under that mutex: they only build the answer and queue it
// (Core::finished); the user's `done` runs later, from the queue, with no lock held.

#include <ares.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <tuple>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "src/config/validation_errors.h"
#include "ufc/resolver.h"

namespace ufc {
namespace {

using internal::ValidationErrors;

// Bounds on the work one answer may cause (a hostile or broken server must not make the
// client allocate without limit, nor start thousands of lookups for one name).
constexpr size_t kMaxRecords = 100000;
constexpr size_t kMaxSrvTargets = 1024;
// The longest the thread sleeps in poll() with nothing to do; c-ares' own timers are
// usually shorter.
constexpr int kMaxPollMs = 100;

constexpr int kClassIn = 1;  // ns_c_in
constexpr int kTypeCname = 5;
constexpr int kTypeSrv = 33;  // ns_t_srv

// ---------------------------------------------------------------------------------------
// Options.

// parse_server() turns "1.2.3.4", "1.2.3.4:53", "[::1]:53", "[::1]" or "::1" into the
// form ares_set_servers_ports_csv() reads unambiguously ("1.2.3.4:53", "[::1]:53").
absl::StatusOr<std::string> parse_server(absl::string_view s) {
  const auto bad = [&](absl::string_view why) {
    return absl::InvalidArgumentError(absl::StrCat("\"", absl::CEscape(s), "\" ", why));
  };
  if (s.empty()) return bad("is empty (expected an IP literal with an optional port)");
  std::string host;
  absl::string_view port_text;
  bool has_port = false;
  if (s.front() == '[') {
    const size_t close = s.find(']');
    if (close == absl::string_view::npos) return bad("has no closing ']'");
    host = std::string(s.substr(1, close - 1));
    absl::string_view rest = s.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') return bad("has text after ']' that is not \":port\"");
      port_text = rest.substr(1);
      has_port = true;
    }
    in6_addr a6;
    if (::inet_pton(AF_INET6, host.c_str(), &a6) != 1) {
      return bad("is not an IPv6 literal in brackets (expected \"[::1]:53\")");
    }
  } else {
    const size_t colons = std::count(s.begin(), s.end(), ':');
    if (colons > 1) {  // a bare IPv6 literal: no port possible
      host = std::string(s);
      in6_addr a6;
      if (::inet_pton(AF_INET6, host.c_str(), &a6) != 1) {
        return bad("is not an IP literal (an IPv6 address with a port goes in brackets)");
      }
    } else {
      const size_t colon = s.find(':');
      host = std::string(s.substr(0, colon));
      if (colon != absl::string_view::npos) {
        port_text = s.substr(colon + 1);
        has_port = true;
      }
      in_addr a4;
      if (::inet_pton(AF_INET, host.c_str(), &a4) != 1) {
        return bad("is not an IP literal with an optional port (\"10.0.0.1\", \"10.0.0.1:53\")");
      }
    }
  }
  uint32_t port = 53;
  if (has_port) {
    const bool digits = !port_text.empty() && port_text.size() <= 5 &&
                        std::all_of(port_text.begin(), port_text.end(), absl::ascii_isdigit);
    if (!digits || !absl::SimpleAtoi(port_text, &port) || port < 1 || port > 65535) {
      return bad("has a port that is not in 1..65535");
    }
  }
  return host.find(':') != std::string::npos ? absl::StrCat("[", host, "]:", port)
                                             : absl::StrCat(host, ":", port);
}

// ---------------------------------------------------------------------------------------
// Answers.

std::string describe(const DnsQuery& q) {
  const char* what = "SRV";
  if (q.type == DnsRecordType::kAddress) {
    what = q.family == AddressFamily::kIpv4   ? "A"
           : q.family == AddressFamily::kIpv6 ? "AAAA"
                                              : "A/AAAA";
  }
  return absl::StrCat("\"", absl::CEscape(q.name), "\" (", what, ")");
}

// The family a query asks the address records of, for ares_getaddrinfo().
int ai_family(AddressFamily f) {
  switch (f) {
    case AddressFamily::kIpv4:
      return AF_INET;
    case AddressFamily::kIpv6:
      return AF_INET6;
    case AddressFamily::kAny:
      break;
  }
  return AF_UNSPEC;
}

// A non-negative TTL: RFC 2181 section 8 reads a TTL with the top bit set as zero.
absl::Duration ttl_of(int64_t seconds) {
  return absl::Seconds(seconds < 0 || seconds > INT32_MAX ? 0 : seconds);
}

// Failure statuses of the header's contract, from a c-ares status. `what` names the query.
absl::Status failure(int ares_status, absl::string_view what, const ResolverOptions& options) {
  switch (ares_status) {
    case ARES_ENOTFOUND:
      return absl::NotFoundError(absl::StrCat(what, ": NXDOMAIN: the name does not exist"));
    case ARES_ENODATA:
      return absl::NotFoundError(absl::StrCat(what, ": empty answer (no records of the type)"));
    case ARES_ETIMEOUT:
      return absl::DeadlineExceededError(
          absl::StrCat(what, ": timeout: no server answered (tries: ", options.tries,
                       ", timeout: ", absl::FormatDuration(options.timeout), ")"));
    case ARES_ESERVFAIL:
      return absl::UnavailableError(absl::StrCat(what, ": SERVFAIL: the server failed"));
    case ARES_EREFUSED:
      return absl::UnavailableError(absl::StrCat(what, ": REFUSED: the server refused"));
    case ARES_ECONNREFUSED:
      // c-ares 1.18 also ends here when every try got SERVFAIL, REFUSED or NOTIMP: it
      // moves on to the next server then, and reports its initial status once none is
      // left. (ARES_FLAG_NOCHECKRESP would tell them apart, at the cost of that failover.)
      return absl::UnavailableError(
          absl::StrCat(what, ": connection refused, or SERVFAIL/REFUSED/NOTIMP from every server"));
    case ARES_EFORMERR:
      return absl::DataLossError(
          absl::StrCat(what, ": FORMERR: the server could not read the query"));
    case ARES_EBADRESP:
    case ARES_EBADSTR:
      return absl::DataLossError(
          absl::StrCat(what, ": malformed answer (", ares_strerror(ares_status), ")"));
    case ARES_EDESTRUCTION:
    case ARES_ECANCELLED:
      return absl::CancelledError(absl::StrCat(what, ": cancelled: the resolver was destroyed"));
    default:
      break;
  }
  return absl::UnavailableError(absl::StrCat(what, ": ", ares_strerror(ares_status)));
}

absl::Status too_many_records(absl::string_view what) {
  return absl::ResourceExhaustedError(
      absl::StrCat(what, ": the answer has more than ", kMaxRecords, " records"));
}

// The sorted, distinct records, or RESOURCE_EXHAUSTED past kMaxRecords.
absl::Status finish_records(std::vector<DnsRecord>& records, absl::string_view what) {
  const auto key = [](const DnsRecord& r) { return std::tie(r.ip, r.port, r.priority, r.weight); };
  std::sort(records.begin(), records.end(),
            [&](const DnsRecord& a, const DnsRecord& b) { return key(a) < key(b); });
  records.erase(
      std::unique(records.begin(), records.end(),
                  [&](const DnsRecord& a, const DnsRecord& b) { return key(a) == key(b); }),
      records.end());
  if (records.size() > kMaxRecords) return too_many_records(what);
  return absl::OkStatus();
}

// The addresses of an ares_getaddrinfo() result, and their smallest TTL (CNAMEs on the
// way included: they are records the answer used).
struct Addresses {
  std::vector<std::string> ips;  // distinct, sorted
  absl::Duration ttl = absl::InfiniteDuration();
};

Addresses addresses_of(const ares_addrinfo* ai) {
  Addresses out;
  if (ai == nullptr) return out;
  for (const ares_addrinfo_node* n = ai->nodes; n != nullptr; n = n->ai_next) {
    char text[INET6_ADDRSTRLEN] = {};
    const void* src = nullptr;
    if (n->ai_family == AF_INET && n->ai_addrlen >= sizeof(sockaddr_in)) {
      src = &reinterpret_cast<const sockaddr_in*>(n->ai_addr)->sin_addr;
    } else if (n->ai_family == AF_INET6 && n->ai_addrlen >= sizeof(sockaddr_in6)) {
      src = &reinterpret_cast<const sockaddr_in6*>(n->ai_addr)->sin6_addr;
    }
    if (src == nullptr || ::inet_ntop(n->ai_family, src, text, sizeof(text)) == nullptr) continue;
    out.ips.emplace_back(text);
    out.ttl = std::min(out.ttl, ttl_of(n->ai_ttl));
  }
  for (const ares_addrinfo_cname* c = ai->cnames; c != nullptr; c = c->next) {
    out.ttl = std::min(out.ttl, ttl_of(c->ttl));
  }
  std::sort(out.ips.begin(), out.ips.end());
  out.ips.erase(std::unique(out.ips.begin(), out.ips.end()), out.ips.end());
  return out;
}

// The smallest TTL of the SRV (and CNAME) records in the answer section of `abuf`, which
// ares_parse_srv_reply() does not report in c-ares 1.18. RFC 1035 section 4.1: a 12-byte
// header, the questions (name, type, class), then resource records (name, type, class,
// TTL, rdlength, rdata). Everything is bounds-checked; a malformed message is nullopt.
std::optional<absl::Duration> srv_answer_ttl(const unsigned char* abuf, int alen) {
  if (abuf == nullptr || alen < 12) return std::nullopt;
  const auto u16 = [&](int at) { return static_cast<unsigned>(abuf[at] << 8 | abuf[at + 1]); };
  const unsigned qdcount = u16(4);
  const unsigned ancount = u16(6);
  int at = 12;
  // Steps over the (possibly compressed) name at `at`.
  const auto skip_name = [&]() {
    char* name = nullptr;
    long enclen = 0;
    if (ares_expand_name(abuf + at, abuf, alen, &name, &enclen) != ARES_SUCCESS) return false;
    ares_free_string(name);
    if (enclen <= 0 || enclen > alen - at) return false;
    at += static_cast<int>(enclen);
    return true;
  };
  for (unsigned i = 0; i < qdcount; ++i) {
    if (!skip_name() || alen - at < 4) return std::nullopt;
    at += 4;  // type, class
  }
  absl::Duration ttl = absl::InfiniteDuration();
  for (unsigned i = 0; i < ancount; ++i) {
    if (!skip_name() || alen - at < 10) return std::nullopt;
    const unsigned type = u16(at);
    const unsigned klass = u16(at + 2);
    const uint32_t rr_ttl = static_cast<uint32_t>(abuf[at + 4]) << 24 |
                            static_cast<uint32_t>(abuf[at + 5]) << 16 |
                            static_cast<uint32_t>(abuf[at + 6]) << 8 | abuf[at + 7];
    const unsigned rdlength = u16(at + 8);
    at += 10;
    if (static_cast<unsigned>(alen - at) < rdlength) return std::nullopt;
    at += static_cast<int>(rdlength);
    if (klass == kClassIn && (type == kTypeSrv || type == kTypeCname)) {
      ttl = std::min(ttl, ttl_of(rr_ttl));
    }
  }
  return ttl;
}

// ---------------------------------------------------------------------------------------
// The resolver.

// A finished query: the user's callback and its answer, to be called with no lock held.
struct Finished {
  absl::AnyInvocable<void(DnsAnswer)> done;
  DnsAnswer answer;
};

// Core: what the resolver's thread shares with the handle (the thread keeps it alive, so
// that a resolver destroyed from inside one of its own `done` callbacks can let its thread
// unwind after the destructor returned).
struct Core {
  ResolverOptions options;  // immutable after creation
  int wake_fd = -1;         // eventfd: resolve() and the destructor wake the thread
  absl::Mutex mu;
  ares_channel channel ABSL_GUARDED_BY(mu) = nullptr;
  std::deque<Finished> finished ABSL_GUARDED_BY(mu);
  bool stopping ABSL_GUARDED_BY(mu) = false;

  ~Core() {
    if (wake_fd >= 0) ::close(wake_fd);
  }

  void wake() const {
    const uint64_t one = 1;
    // EAGAIN means the counter is already non-zero: the thread wakes anyway.
    while (::write(wake_fd, &one, sizeof(one)) < 0 && errno == EINTR) {
    }
  }

  void finish(absl::AnyInvocable<void(DnsAnswer)> done, DnsAnswer answer)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) {
    finished.push_back(Finished{std::move(done), std::move(answer)});
  }

  // Calls every queued `done`, one at a time, without the lock; until the queue is empty
  // (a `done` may resolve() again) or, with `until_stopping`, the resolver is stopping.
  void deliver(bool until_stopping) ABSL_LOCKS_EXCLUDED(mu) {
    while (true) {
      Finished f;
      {
        absl::MutexLock lock(&mu);
        if ((until_stopping && stopping) || finished.empty()) return;
        f = std::move(finished.front());
        finished.pop_front();
      }
      f.done(std::move(f.answer));
    }
  }
};

// One kAddress query in flight (owned by c-ares' callback until it runs).
struct AddressLookup {
  Core* core;
  DnsQuery query;
  absl::AnyInvocable<void(DnsAnswer)> done;
};

// One kSrv query in flight: the SRV query, then one address lookup per distinct target.
// Owned by the callbacks: deleted by the last of them.
struct SrvLookup {
  struct Target {
    SrvLookup* parent;
    std::string name;  // lowercased, as the SRV record gives it (no trailing dot)
    int ares_status = ARES_SUCCESS;
    Addresses addresses;
  };
  struct Record {
    size_t target;  // index in `targets`
    uint16_t port, priority, weight;
  };
  Core* core;
  DnsQuery query;
  absl::AnyInvocable<void(DnsAnswer)> done;
  absl::Duration srv_ttl = absl::InfiniteDuration();
  std::vector<Record> records;
  std::vector<Target> targets;  // not resized once lookups start (callbacks point in)
  size_t targets_left = 0;
};

void on_address(void* arg, int status, int /*timeouts*/, ares_addrinfo* ai) {
  std::unique_ptr<AddressLookup> l(static_cast<AddressLookup*>(arg));
  Core& core = *l->core;
  core.mu.AssertHeld();  // c-ares calls back from inside a channel call made under mu
  const std::string what = describe(l->query);
  DnsAnswer answer;
  if (status != ARES_SUCCESS) {
    answer.status = failure(status, what, core.options);
  } else {
    Addresses a = addresses_of(ai);
    for (std::string& ip : a.ips) answer.records.push_back(DnsRecord{std::move(ip)});
    answer.status = finish_records(answer.records, what);
    if (answer.status.ok() && answer.records.empty()) {
      answer.status = failure(ARES_ENODATA, what, core.options);
    }
    if (answer.status.ok()) answer.ttl = a.ttl;
  }
  if (!answer.status.ok()) answer.records.clear();
  if (ai != nullptr) ares_freeaddrinfo(ai);
  core.finish(std::move(l->done), std::move(answer));
}

// The aggregation of a kSrv query once every target lookup is done.
void finish_srv(std::unique_ptr<SrvLookup> l) {
  Core& core = *l->core;
  core.mu.AssertHeld();
  const std::string what = describe(l->query);
  DnsAnswer answer;
  // A target that failed for another reason than "it does not exist" fails the whole
  // answer: a partial one would read as removals. The first such target, in record order.
  for (const SrvLookup::Target& t : l->targets) {
    if (t.ares_status == ARES_SUCCESS || t.ares_status == ARES_ENOTFOUND ||
        t.ares_status == ARES_ENODATA) {
      continue;
    }
    DnsQuery tq{t.name, DnsRecordType::kAddress, l->query.family};
    const absl::Status s = failure(t.ares_status, describe(tq), core.options);
    answer.status = absl::Status(s.code(), absl::StrCat(what, ": target ", s.message()));
    core.finish(std::move(l->done), std::move(answer));
    return;
  }
  absl::Duration ttl = l->srv_ttl;
  std::vector<bool> used(l->targets.size(), false);
  size_t count = 0;
  for (const SrvLookup::Record& r : l->records) {
    count += l->targets[r.target].addresses.ips.size();
  }
  if (count > kMaxRecords) {
    answer.status = too_many_records(what);
    core.finish(std::move(l->done), std::move(answer));
    return;
  }
  for (const SrvLookup::Record& r : l->records) {
    const SrvLookup::Target& t = l->targets[r.target];
    if (t.addresses.ips.empty()) continue;
    if (!used[r.target]) {
      used[r.target] = true;
      ttl = std::min(ttl, t.addresses.ttl);
    }
    for (const std::string& ip : t.addresses.ips) {
      answer.records.push_back(DnsRecord{ip, r.port, r.priority, r.weight});
    }
  }
  answer.status = finish_records(answer.records, what);
  if (answer.status.ok() && answer.records.empty()) {
    if (l->targets.empty()) {
      answer.status = absl::NotFoundError(
          absl::StrCat(what, ": the service is not available (every record's target is \".\")"));
    } else {
      std::vector<std::string> names;
      for (const SrvLookup::Target& t : l->targets)
        names.push_back(absl::StrCat("\"", t.name, "\""));
      answer.status = absl::NotFoundError(
          absl::StrCat(what, ": no target has an address (NXDOMAIN or an empty answer for ",
                       absl::StrJoin(names, ", "), ")"));
    }
  }
  if (answer.status.ok()) {
    answer.ttl = ttl;
  } else {
    answer.records.clear();
  }
  core.finish(std::move(l->done), std::move(answer));
}

void on_srv_target(void* arg, int status, int /*timeouts*/, ares_addrinfo* ai) {
  SrvLookup::Target& t = *static_cast<SrvLookup::Target*>(arg);
  t.parent->core->mu.AssertHeld();
  t.ares_status = status;
  if (status == ARES_SUCCESS) {
    t.addresses = addresses_of(ai);
    if (t.addresses.ips.empty()) t.ares_status = ARES_ENODATA;
  }
  if (ai != nullptr) ares_freeaddrinfo(ai);
  if (--t.parent->targets_left == 0) finish_srv(std::unique_ptr<SrvLookup>(t.parent));
}

void on_srv(void* arg, int status, int /*timeouts*/, unsigned char* abuf, int alen) {
  std::unique_ptr<SrvLookup> l(static_cast<SrvLookup*>(arg));
  Core& core = *l->core;
  core.mu.AssertHeld();
  const std::string what = describe(l->query);
  const auto fail = [&](absl::Status s) {
    DnsAnswer answer;
    answer.status = std::move(s);
    core.finish(std::move(l->done), std::move(answer));
  };
  if (status != ARES_SUCCESS) return fail(failure(status, what, core.options));
  ares_srv_reply* reply = nullptr;
  const int parsed = ares_parse_srv_reply(abuf, alen, &reply);
  if (parsed != ARES_SUCCESS) return fail(failure(parsed, what, core.options));
  const std::optional<absl::Duration> ttl = srv_answer_ttl(abuf, alen);
  std::map<std::string, size_t> index;  // target name -> targets[i]
  bool too_many_targets = false;
  for (const ares_srv_reply* r = reply; r != nullptr; r = r->next) {
    std::string host = absl::AsciiStrToLower(r->host == nullptr ? "" : r->host);
    if (!host.empty() && host.back() == '.') host.pop_back();
    if (host.empty()) continue;  // RFC 2782: target "." — decidedly not available
    auto [it, inserted] = index.emplace(host, l->targets.size());
    if (inserted) {
      if (l->targets.size() == kMaxSrvTargets) {
        too_many_targets = true;
        break;
      }
      l->targets.push_back(SrvLookup::Target{l.get(), host});
    }
    l->records.push_back(SrvLookup::Record{it->second, r->port, r->priority, r->weight});
    if (l->records.size() > kMaxRecords) break;  // fails below
  }
  ares_free_data(reply);
  if (!ttl.has_value()) {
    return fail(absl::DataLossError(absl::StrCat(what, ": malformed answer (bad SRV record)")));
  }
  if (too_many_targets) {
    return fail(absl::ResourceExhaustedError(
        absl::StrCat(what, ": the answer has more than ", kMaxSrvTargets, " distinct targets")));
  }
  if (l->records.size() > kMaxRecords) return fail(too_many_records(what));
  l->srv_ttl = *ttl;
  if (l->targets.empty()) return finish_srv(std::move(l));
  ares_addrinfo_hints hints = {};
  hints.ai_family = ai_family(l->query.family);
  hints.ai_flags = ARES_AI_NOSORT;
  // One more than the lookups, released after starting them all: a lookup c-ares answers
  // at once (a target that is an IP literal) must not finish the aggregation early.
  l->targets_left = l->targets.size() + 1;
  SrvLookup* raw = l.release();
  for (SrvLookup::Target& t : raw->targets) {
    // Absolute ("name."): a target is a full name, never subject to the search list.
    const std::string absolute = absl::StrCat(t.name, ".");
    ares_getaddrinfo(core.channel, absolute.c_str(), nullptr, &hints, on_srv_target, &t);
  }
  if (--raw->targets_left == 0) finish_srv(std::unique_ptr<SrvLookup>(raw));
}

// CaresResolver: the Resolver handle. Its destructor stops the thread, destroys the
// channel (c-ares calls every pending callback with ARES_EDESTRUCTION), and delivers what
// is queued, CANCELLED included, before it returns.
class CaresResolver final : public Resolver {
 public:
  explicit CaresResolver(std::shared_ptr<Core> core) : core_(std::move(core)) {
    thread_ = std::thread([core = core_] { run(*core); });
    pthread_setname_np(thread_.native_handle(), "ufc-resolver");
  }

  ~CaresResolver() override {
    {
      absl::MutexLock lock(&core_->mu);
      core_->stopping = true;
    }
    core_->wake();
    if (thread_.get_id() == std::this_thread::get_id()) {
      // Destroyed from inside one of its own `done` callbacks: the thread cannot be
      // joined; it sees `stopping` when that callback returns, and exits.
      thread_.detach();
    } else {
      thread_.join();
    }
    {
      absl::MutexLock lock(&core_->mu);
      ares_destroy(core_->channel);  // every pending callback: ARES_EDESTRUCTION
      core_->channel = nullptr;
    }
    core_->deliver(/*until_stopping=*/false);
  }

  void resolve(const DnsQuery& query, absl::AnyInvocable<void(DnsAnswer)> done) override {
    {
      absl::MutexLock lock(&core_->mu);
      if (core_->stopping) {
        // Called from a `done` while the resolver is being destroyed: the destructor
        // delivers this too, before it returns.
        DnsAnswer answer;
        answer.status = failure(ARES_EDESTRUCTION, describe(query), core_->options);
        core_->finish(std::move(done), std::move(answer));
        return;
      }
      if (query.type == DnsRecordType::kSrv) {
        auto* l = new SrvLookup{core_.get(), query, std::move(done)};
        ares_query(core_->channel, query.name.c_str(), kClassIn, kTypeSrv, on_srv, l);
      } else {
        ares_addrinfo_hints hints = {};
        hints.ai_family = ai_family(query.family);
        // No RFC 6724 sorting: it probes each address with a connect(), and the answer is
        // sorted by address anyway.
        hints.ai_flags = ARES_AI_NOSORT;
        auto* l = new AddressLookup{core_.get(), query, std::move(done)};
        ares_getaddrinfo(core_->channel, query.name.c_str(), nullptr, &hints, on_address, l);
      }
    }
    // Also when c-ares answered at once (an IP literal, a bad name): the thread delivers.
    core_->wake();
  }

 private:
  static void run(Core& core) ABSL_LOCKS_EXCLUDED(core.mu) {
    std::vector<pollfd> fds;
    while (true) {
      int timeout_ms = kMaxPollMs;
      fds.clear();
      fds.push_back(pollfd{core.wake_fd, POLLIN, 0});
      {
        absl::MutexLock lock(&core.mu);
        if (core.stopping) return;
        ares_socket_t socks[ARES_GETSOCK_MAXNUM];
        const int bits = ares_getsock(core.channel, socks, ARES_GETSOCK_MAXNUM);
        for (int i = 0; i < ARES_GETSOCK_MAXNUM; ++i) {
          short events = 0;
          if (ARES_GETSOCK_READABLE(bits, i)) events |= POLLIN;
          if (ARES_GETSOCK_WRITABLE(bits, i)) events |= POLLOUT;
          if (events != 0) fds.push_back(pollfd{socks[i], events, 0});
        }
        timeval max = {0, kMaxPollMs * 1000};
        timeval tv;
        const timeval* t = ares_timeout(core.channel, &max, &tv);
        timeout_ms = static_cast<int>(t->tv_sec * 1000 + (t->tv_usec + 999) / 1000);
      }
      const int n = ::poll(fds.data(), fds.size(), timeout_ms);
      if (n > 0 && (fds[0].revents & POLLIN) != 0) {
        uint64_t count;
        (void)!::read(core.wake_fd, &count, sizeof(count));
      }
      {
        absl::MutexLock lock(&core.mu);
        if (core.stopping) return;
        bool processed = false;
        for (size_t i = 1; n > 0 && i < fds.size(); ++i) {
          const short r = fds[i].revents;
          if (r == 0) continue;
          // POLLERR/POLLHUP: let c-ares read, and see the error (ICMP refusal, a reset).
          const bool readable = (r & (POLLIN | POLLERR | POLLHUP)) != 0;
          const bool writable = (r & POLLOUT) != 0;
          ares_process_fd(core.channel, readable ? fds[i].fd : ARES_SOCKET_BAD,
                          writable ? fds[i].fd : ARES_SOCKET_BAD);
          processed = true;
        }
        // Timeouts (ares_process_fd also runs them after the fds it was given).
        if (!processed) ares_process_fd(core.channel, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
      }
      core.deliver(/*until_stopping=*/true);
    }
  }

  std::shared_ptr<Core> core_;
  std::thread thread_;
};

absl::Status library_init() {
  static std::once_flag once;
  static int result = ARES_SUCCESS;
  std::call_once(once, [] { result = ares_library_init(ARES_LIB_INIT_ALL); });
  if (result == ARES_SUCCESS) return absl::OkStatus();
  return absl::InternalError(absl::StrCat("ares_library_init: ", ares_strerror(result)));
}

// The options' problems (every one, each under its field), and the servers in the form
// ares_set_servers_ports_csv() reads.
absl::Status check_options(const ResolverOptions& options, std::vector<std::string>& servers) {
  ValidationErrors errors;
  {
    ValidationErrors::Scope top(errors, "ResolverOptions");
    for (size_t i = 0; i < options.servers.size(); ++i) {
      ValidationErrors::Scope field(errors, absl::StrCat("servers[", i, "]"));
      absl::StatusOr<std::string> s = parse_server(options.servers[i]);
      if (s.ok()) {
        servers.push_back(*std::move(s));
      } else {
        errors.add(s.status().message());
      }
    }
    if (options.timeout < absl::Milliseconds(1) || options.timeout > absl::Minutes(1)) {
      ValidationErrors::Scope field(errors, "timeout");
      errors.add(absl::StrCat("must be in [1ms, 1m], got ", absl::FormatDuration(options.timeout)));
    }
    if (options.tries < 1 || options.tries > 10) {
      ValidationErrors::Scope field(errors, "tries");
      errors.add(absl::StrCat("must be in [1, 10], got ", options.tries));
    }
  }
  return errors.status();
}

}  // namespace

absl::Status validate_resolver_options(const ResolverOptions& options) {
  std::vector<std::string> servers;
  return check_options(options, servers);
}

absl::StatusOr<std::unique_ptr<Resolver>> make_cares_resolver(const ResolverOptions& options) {
  std::vector<std::string> servers;
  if (absl::Status s = check_options(options, servers); !s.ok()) return s;
  if (absl::Status s = library_init(); !s.ok()) return s;

  auto core = std::make_shared<Core>();
  core->options = options;
  core->wake_fd = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (core->wake_fd < 0) {
    return absl::InternalError(absl::StrCat("eventfd: ", std::strerror(errno)));
  }
  ares_options o = {};
  int mask = ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES;
  o.timeout = static_cast<int>(absl::ToInt64Milliseconds(options.timeout));
  o.tries = options.tries;
  static char kDnsOnly[] = "b";
  if (!servers.empty()) {
    // Only the given servers: no hosts file, and no search list from resolv.conf (the
    // names are queried exactly as given).
    mask |= ARES_OPT_LOOKUPS | ARES_OPT_DOMAINS;
    o.lookups = kDnsOnly;
    o.domains = nullptr;
    o.ndomains = 0;
  }
  {
    absl::MutexLock lock(&core->mu);
    const int init = ares_init_options(&core->channel, &o, mask);
    if (init != ARES_SUCCESS) {
      core->channel = nullptr;
      return absl::UnavailableError(absl::StrCat("ares_init_options: ", ares_strerror(init)));
    }
    if (!servers.empty()) {
      const std::string csv = absl::StrJoin(servers, ",");
      const int set = ares_set_servers_ports_csv(core->channel, csv.c_str());
      if (set != ARES_SUCCESS) {
        ares_destroy(core->channel);
        core->channel = nullptr;
        return absl::InvalidArgumentError(absl::StrCat(
            "ResolverOptions.servers: c-ares rejected \"", csv, "\": ", ares_strerror(set)));
      }
    }
  }
  return std::unique_ptr<Resolver>(new CaresResolver(std::move(core)));
}

}  // namespace ufc
