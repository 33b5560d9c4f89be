// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.
//
// tests/testing/fake_resolver.h: a Resolver whose answers the test gives.

#ifndef UFC_TESTS_TESTING_FAKE_RESOLVER_H_
#define UFC_TESTS_TESTING_FAKE_RESOLVER_H_

#include <deque>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "ufc/resolver.h"

namespace ufc::testing {

// FakeResolver: resolve() queues the query; answer() hands the oldest pending query of a
// name its answer, on the calling (test) thread, as a resolver's thread would. Or, with
// set_auto(), every query of a name is answered by the next auto_step() call.
// Thread-safety: all methods may be called from any thread.
class FakeResolver final : public Resolver {
 public:
  void resolve(const DnsQuery& query, absl::AnyInvocable<void(DnsAnswer)> done) override {
    std::lock_guard<std::mutex> lock(mu_);
    queries_.push_back(query);
    pending_.push_back(Pending{query, std::move(done)});
  }

  // Answers the oldest pending query for `name`; false if there is none.
  bool answer(const std::string& name, DnsAnswer answer) {
    absl::AnyInvocable<void(DnsAnswer)> done;
    {
      std::lock_guard<std::mutex> lock(mu_);
      for (auto it = pending_.begin(); it != pending_.end(); ++it) {
        if (it->query.name != name) continue;
        done = std::move(it->done);
        pending_.erase(it);
        break;
      }
    }
    if (!done) return false;
    done(std::move(answer));
    return true;
  }

  // Answers every pending query for `name` with `answer`; how many there were.
  int answer_all(const std::string& name, const DnsAnswer& answer) {
    int n = 0;
    while (this->answer(name, answer)) ++n;
    return n;
  }

  size_t pending(const std::string& name) const {
    std::lock_guard<std::mutex> lock(mu_);
    size_t n = 0;
    for (const Pending& p : pending_) n += p.query.name == name ? 1 : 0;
    return n;
  }

  // Every query ever made, in order.
  std::vector<DnsQuery> queries() const {
    std::lock_guard<std::mutex> lock(mu_);
    return queries_;
  }
  size_t lookups(const std::string& name) const {
    std::lock_guard<std::mutex> lock(mu_);
    size_t n = 0;
    for (const DnsQuery& q : queries_) n += q.name == name ? 1 : 0;
    return n;
  }

  // Addresses (ip only) as an answer with `ttl`.
  static DnsAnswer addresses(const std::vector<std::string>& ips,
                             absl::Duration ttl = absl::InfiniteDuration()) {
    DnsAnswer a;
    for (const std::string& ip : ips) a.records.push_back(DnsRecord{ip, 0, 0, 0});
    a.ttl = ttl;
    return a;
  }
  static DnsAnswer failure(absl::Status status) {
    DnsAnswer a;
    a.status = std::move(status);
    return a;
  }

 private:
  struct Pending {
    DnsQuery query;
    absl::AnyInvocable<void(DnsAnswer)> done;
  };
  mutable std::mutex mu_;
  std::vector<DnsQuery> queries_;
  std::deque<Pending> pending_;
};

}  // namespace ufc::testing

#endif  // UFC_TESTS_TESTING_FAKE_RESOLVER_H_
