// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.
//
// tests/testing/fake_prober.h: a Prober whose answers a test decides.

#ifndef UFC_TESTS_TESTING_FAKE_PROBER_H_
#define UFC_TESTS_TESTING_FAKE_PROBER_H_

#include <functional>
#include <mutex>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "ufc/prober.h"

namespace ufc::testing {

// FakeProber: answers at once, from `reachable(address)` ("host:port"); by default every
// backend is reachable. Deferred, it keeps the probes until the test answers them (or
// never does). Records every probe.
class FakeProber final : public Prober {
 public:
  void probe(const std::string& host, uint16_t port, absl::Duration timeout,
             absl::AnyInvocable<void(bool)> done) override {
    const std::string address = host.find(':') != std::string::npos
                                    ? absl::StrCat("[", host, "]:", port)
                                    : absl::StrCat(host, ":", port);
    std::function<bool(const std::string&)> decide;
    {
      std::lock_guard<std::mutex> lock(mu_);
      probed_.push_back(address);
      if (deferred_) {
        pending_.push_back(Pending{address, std::move(done)});
        return;
      }
      decide = reachable_;
    }
    done(decide ? decide(address) : true);
  }

  void set_deferred(bool deferred) {
    std::lock_guard<std::mutex> lock(mu_);
    deferred_ = deferred;
  }
  size_t pending() const {
    std::lock_guard<std::mutex> lock(mu_);
    return pending_.size();
  }
  // Answers every held probe with `reachable`.
  void answer_pending(bool reachable) {
    std::vector<Pending> now;
    {
      std::lock_guard<std::mutex> lock(mu_);
      now.swap(pending_);
    }
    for (Pending& p : now) p.done(reachable);
  }

  void set_reachable(std::function<bool(const std::string&)> reachable) {
    std::lock_guard<std::mutex> lock(mu_);
    reachable_ = std::move(reachable);
  }

  std::vector<std::string> probed() const {
    std::lock_guard<std::mutex> lock(mu_);
    return probed_;
  }

 private:
  struct Pending {
    std::string address;
    absl::AnyInvocable<void(bool)> done;
  };
  mutable std::mutex mu_;
  std::function<bool(const std::string&)> reachable_;
  std::vector<std::string> probed_;
  bool deferred_ = false;
  std::vector<Pending> pending_;
};

}  // namespace ufc::testing

#endif  // UFC_TESTS_TESTING_FAKE_PROBER_H_
