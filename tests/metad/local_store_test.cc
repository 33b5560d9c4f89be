// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.

#include "metad/store/local_store.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/metad/metad_process.h"

namespace ufc::metad {
namespace {

using ::testing::HasSubstr;
using testing::TempDir;

TEST(LocalStoreTest, WritesSurviveReopenWithTheirRevisions) {
  TempDir dir;
  uint64_t a, b, del;
  {
    auto store = LocalStore::open(dir.path()).value();
    a = store->put("a", "va", std::nullopt).value();
    b = store->put("b/with spaces%", "vb", std::nullopt).value();
    EXPECT_EQ(b, a + 1);
    ASSERT_TRUE(store->put("c", "vc", std::nullopt).ok());
    del = store->remove("c", std::nullopt).value();
    EXPECT_EQ(del, b + 2);
  }
  auto store = LocalStore::open(dir.path()).value();
  StoreSnapshot s = store->load().value();
  EXPECT_EQ(s.revision, del);  // a delete's revision is kept: versions never go back
  ASSERT_EQ(s.services.size(), 2u);
  EXPECT_EQ(s.services[0].name, "a");
  EXPECT_EQ(s.services[0].value, "va");
  EXPECT_EQ(s.services[0].mod_revision, a);
  EXPECT_EQ(s.services[1].name, "b/with spaces%");
  EXPECT_EQ(s.services[1].mod_revision, b);
  EXPECT_EQ(store->put("d", "vd", std::nullopt).value(), del + 1);
}

TEST(LocalStoreTest, ExpectedVersionsAreCompareAndSwap) {
  TempDir dir;
  auto store = LocalStore::open(dir.path()).value();
  const uint64_t v = store->put("a", "1", 0).value();  // 0: only if new
  EXPECT_EQ(store->put("a", "2", 0).status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(store->put("a", "2", v + 5).status().message()),
              HasSubstr("is at version"));
  EXPECT_TRUE(store->put("a", "2", v).ok());
  EXPECT_EQ(store->remove("a", v).status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(store->remove("nope", std::nullopt).status().code(), absl::StatusCode::kNotFound);
}

TEST(LocalStoreTest, WatchersSeeEveryWriteInOrder) {
  TempDir dir;
  auto store = LocalStore::open(dir.path()).value();
  std::vector<std::pair<std::string, uint64_t>> seen;
  StoreWatcher w;
  w.on_events = [&](const std::vector<StoreEvent>& events, uint64_t revision) {
    for (const StoreEvent& e : events)
      seen.emplace_back(e.deleted ? "-" + e.name : e.name, revision);
  };
  ASSERT_TRUE(store->watch(0, std::move(w)).ok());
  ASSERT_TRUE(store->put("a", "1", std::nullopt).ok());
  ASSERT_TRUE(store->put("b", "1", std::nullopt).ok());
  ASSERT_TRUE(store->remove("a", std::nullopt).ok());
  EXPECT_EQ(seen, (std::vector<std::pair<std::string, uint64_t>>{{"a", 1}, {"b", 2}, {"-a", 3}}));
}

TEST(LocalStoreTest, ABadFileRefusesToOpenAndLeftoverTemporaryFilesGo) {
  TempDir dir;
  {
    auto store = LocalStore::open(dir.path()).value();
    ASSERT_TRUE(store->put("a", std::string(1000, 'x'), std::nullopt).ok());
  }
  const std::string file = dir.path() + "/services/" + local_store_file_name("a");
  std::string whole;
  {
    std::ifstream in(file, std::ios::binary);
    whole.assign(std::istreambuf_iterator<char>(in), {});
  }
  { std::ofstream(dir.path() + "/services/x.svc.tmp") << "half a write"; }
  EXPECT_TRUE(LocalStore::open(dir.path()).ok());
  EXPECT_NE(::access((dir.path() + "/services/x.svc.tmp").c_str(), F_OK), 0);
  for (const std::string& bad : {whole.substr(0, whole.size() - 5),
                                 std::string(whole).replace(100, 1, "y"), std::string("junk")}) {
    { std::ofstream(file, std::ios::binary | std::ios::trunc) << bad; }
    absl::StatusOr<std::unique_ptr<LocalStore>> s = LocalStore::open(dir.path());
    EXPECT_EQ(s.status().code(), absl::StatusCode::kDataLoss);
    EXPECT_THAT(std::string(s.status().message()), HasSubstr(file));
  }
}

TEST(LocalStoreTest, FileNamesAreSafeForAnyName) {
  EXPECT_EQ(local_store_file_name("echo.v1_a-b"), "echo.v1_a-b.svc");
  EXPECT_EQ(local_store_file_name("a/b"), "a%2Fb.svc");
  EXPECT_EQ(local_store_file_name(".."), "%2E..svc");
  const std::string long_name(250, 'z');
  EXPECT_EQ(local_store_file_name(long_name).substr(0, 2), "h-");
  EXPECT_LT(local_store_file_name(long_name).size(), 30u);
}

// kill -9 a writer at random points: every put it was told succeeded is there after, and
// the store opens.
TEST(LocalStoreTest, KillNineLosesNothingAcknowledged) {
  TempDir dir;
  for (int round = 0; round < 5; ++round) {
    int fds[2];
    ASSERT_EQ(::pipe(fds), 0);
    pid_t pid = ::fork();
    if (pid == 0) {
      ::close(fds[0]);
      auto store = LocalStore::open(dir.path()).value();
      for (int i = 0;; ++i) {
        const std::string name = absl::StrCat("s", i % 7);
        absl::StatusOr<uint64_t> v = i % 5 == 4 ? store->remove(name, std::nullopt)
                                                : store->put(name, absl::StrCat(i), std::nullopt);
        if (v.ok()) {
          const std::string line =
              absl::StrCat(i % 5 == 4 ? "-" : "+", name, " ", i, " ", *v, "\n");
          if (::write(fds[1], line.data(), line.size()) < 0) ::_exit(1);
        }
      }
    }
    ::close(fds[1]);
    // The kill lands at a random point once the writer got going: wait for its first two
    // acknowledgements (a loaded machine, ctest -j, may take longer than the kill's delay
    // just to start it), then 20..80 ms more.
    std::string acked;
    char buf[4096];
    for (ssize_t n; std::count(acked.begin(), acked.end(), '\n') < 2 &&
                    (n = ::read(fds[0], buf, sizeof buf)) > 0;) {
      acked.append(buf, n);
    }
    ::usleep(20000 + round * 15000);
    ::kill(pid, SIGKILL);
    ::waitpid(pid, nullptr, 0);
    for (ssize_t n; (n = ::read(fds[0], buf, sizeof buf)) > 0;) acked.append(buf, n);
    ::close(fds[0]);
    // The last acknowledged state of each name, and the one operation that may have landed
    // unacknowledged (the writer is sequential: op last+1 was in progress).
    std::map<std::string, uint64_t> expect;  // name -> revision of its acknowledged put
    std::set<std::string> gone;
    uint64_t last_rev = 0;
    int last_op = -1;
    std::istringstream in(acked);
    std::string op;
    int index;
    uint64_t rev;
    while (in >> op >> index >> rev) {
      const std::string name = op.substr(1);
      if (op[0] == '-') {
        expect.erase(name);
        gone.insert(name);
      } else {
        expect[name] = rev;
        gone.erase(name);
      }
      last_rev = rev;
      last_op = index;
    }
    const int inflight = last_op + 1;
    const std::string inflight_name = absl::StrCat("s", inflight % 7);
    const bool inflight_remove = inflight % 5 == 4;
    auto store = LocalStore::open(dir.path());
    ASSERT_TRUE(store.ok()) << store.status();
    StoreSnapshot s = (*store)->load().value();
    EXPECT_GE(s.revision, last_rev);
    std::map<std::string, uint64_t> found;
    for (const StoredService& x : s.services) found[x.name] = x.mod_revision;
    for (const auto& [name, r] : expect) {
      if (name == inflight_name && inflight_remove && !found.contains(name)) continue;
      ASSERT_TRUE(found.contains(name)) << name << " lost in round " << round;
      EXPECT_GE(found[name], r);
    }
    for (const std::string& name : gone) {
      if (name == inflight_name && !inflight_remove) continue;
      EXPECT_FALSE(found.contains(name)) << name << " came back in round " << round;
    }
    EXPECT_GT(last_op, 0);  // the writer did get going
  }
}

}  // namespace
}  // namespace ufc::metad
