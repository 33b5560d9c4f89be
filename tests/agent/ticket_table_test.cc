// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.
//
// TicketTable on simulated time: round trips, single use, forged and malformed tickets,
// expiry, eviction when full, memory bounded under a million picks never reported, and
// concurrent put/take.

#include "agentd/ticket_table.h"

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "ufc/client.h"

namespace ufc::agentd {
namespace {

using ::testing::HasSubstr;

std::unique_ptr<Client> make_client() {
  ClientOptions options;
  v1::ClientConfig config;
  v1::ServiceConfig* s = config.add_services();
  s->set_name("svc");
  s->add_endpoints()->set_address("10.0.0.1:80");
  s->add_endpoints()->set_address("10.0.0.2:80");
  options.initial_config = config;
  return Client::create(options).value();
}

std::unique_ptr<TicketTable> make_table(size_t capacity, size_t shards = 1,
                                        absl::Duration ttl = absl::Seconds(30)) {
  TicketTable::Options o;
  o.capacity = capacity;
  o.shards = shards;
  o.ttl = ttl;
  return TicketTable::create(o).value();
}

MonotonicTime at(absl::Duration d) { return MonotonicTime() + absl::Hours(1) + d; }

// The "inflight" count of the service's endpoints, summed, from the query.
int inflight(Client& client) {
  const std::string json = client.query("request_info^svc");
  const size_t p = json.find("\"inflight\":");
  return p == std::string::npos ? -1 : std::stoi(json.substr(p + 11));
}

std::string put(TicketTable& table, Client& client, MonotonicTime now) {
  char ticket[kTicketSize];
  table.put(client.pick({.service = "svc"}).value(), now, ticket);
  return std::string(ticket, kTicketSize);
}

TEST(TicketTable, RoundTripIsSingleUse) {
  auto client = make_client();
  auto table = make_table(64);
  const std::string ticket = put(*table, *client, at(absl::ZeroDuration()));
  EXPECT_EQ(inflight(*client), 1);
  absl::StatusOr<Pick> pick = table->take(ticket, at(absl::Seconds(1)));
  ASSERT_TRUE(pick.ok()) << pick.status();
  EXPECT_THAT(std::string(pick->address()), HasSubstr("10.0.0."));
  client->report(*pick, Outcome::http(200, absl::Milliseconds(1)));
  EXPECT_EQ(inflight(*client), 0);
  // Reused: the slot is empty now.
  absl::StatusOr<Pick> again = table->take(ticket, at(absl::Seconds(1)));
  EXPECT_EQ(again.status().code(), absl::StatusCode::kNotFound);
  const TicketTable::Stats s = table->stats();
  EXPECT_EQ(s.issued, 1u);
  EXPECT_EQ(s.reported, 1u);
  EXPECT_EQ(s.unknown, 1u);
  EXPECT_EQ(s.outstanding, 0u);
}

TEST(TicketTable, ForgedAndMalformedTicketsAreRejected) {
  auto client = make_client();
  auto table = make_table(64);
  const std::string ticket = put(*table, *client, at(absl::ZeroDuration()));

  std::string forged = ticket;
  forged[12] = static_cast<char>(forged[12] ^ 0x5a);  // the nonce
  EXPECT_EQ(table->take(forged, at(absl::ZeroDuration())).status().code(),
            absl::StatusCode::kInvalidArgument);
  std::string wrong_generation = ticket;
  wrong_generation[4] = static_cast<char>(wrong_generation[4] + 1);
  EXPECT_EQ(table->take(wrong_generation, at(absl::ZeroDuration())).status().code(),
            absl::StatusCode::kNotFound);
  std::string no_such_slot = ticket;
  no_such_slot[3] = '\x7f';
  EXPECT_EQ(table->take(no_such_slot, at(absl::ZeroDuration())).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(table->take("short", at(absl::ZeroDuration())).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(table->take("", at(absl::ZeroDuration())).status().code(),
            absl::StatusCode::kInvalidArgument);
  // None of that disturbed the real ticket.
  EXPECT_TRUE(table->take(ticket, at(absl::ZeroDuration())).ok());
  const TicketTable::Stats s = table->stats();
  EXPECT_EQ(s.forged, 1u);
  EXPECT_EQ(s.malformed, 3u);
}

TEST(TicketTable, TicketsExpireAndReleaseTheirInflightSlot) {
  auto client = make_client();
  auto table = make_table(64, 1, absl::Seconds(5));
  const std::string a = put(*table, *client, at(absl::ZeroDuration()));
  const std::string b = put(*table, *client, at(absl::Seconds(3)));
  EXPECT_EQ(inflight(*client), 2);
  EXPECT_EQ(table->expire(at(absl::Seconds(4))), 0u);
  EXPECT_EQ(table->expire(at(absl::Seconds(5))), 1u);  // a, not b
  EXPECT_EQ(inflight(*client), 1);
  EXPECT_EQ(table->take(a, at(absl::Seconds(5))).status().code(), absl::StatusCode::kNotFound);
  // A ticket past its ttl that expire() has not swept yet is refused by take() too.
  EXPECT_EQ(table->take(b, at(absl::Seconds(9))).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(inflight(*client), 0);
  EXPECT_EQ(table->stats().expired, 2u);
  EXPECT_EQ(table->stats().outstanding, 0u);
}

TEST(TicketTable, AFullShardEvictsItsOldest) {
  auto client = make_client();
  auto table = make_table(4);
  std::vector<std::string> tickets;
  for (int i = 0; i < 6; ++i) tickets.push_back(put(*table, *client, at(absl::Seconds(i))));
  EXPECT_EQ(table->stats().evicted, 2u);
  EXPECT_EQ(inflight(*client), 4);
  EXPECT_EQ(table->take(tickets[0], at(absl::Seconds(6))).status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(table->take(tickets[1], at(absl::Seconds(6))).status().code(),
            absl::StatusCode::kNotFound);
  for (int i = 2; i < 6; ++i) EXPECT_TRUE(table->take(tickets[i], at(absl::Seconds(6))).ok());
}

TEST(TicketTable, AReportedSlotIsReusedWithANewGeneration) {
  auto client = make_client();
  auto table = make_table(1);
  const std::string first = put(*table, *client, at(absl::ZeroDuration()));
  ASSERT_TRUE(table->take(first, at(absl::ZeroDuration())).ok());
  const std::string second = put(*table, *client, at(absl::ZeroDuration()));
  EXPECT_EQ(first.substr(0, 4), second.substr(0, 4));  // same slot
  EXPECT_NE(first.substr(4, 4), second.substr(4, 4));  // another generation
  EXPECT_EQ(table->take(first, at(absl::ZeroDuration())).status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_TRUE(table->take(second, at(absl::ZeroDuration())).ok());
}

// A long request's ticket outlives any number of quick ones while there is room: only a
// table whose every slot holds a live pick evicts.
TEST(TicketTable, ALongPickIsNotEvictedWhileThereIsRoom) {
  auto client = make_client();
  auto table = make_table(8);
  const std::string slow = put(*table, *client, at(absl::ZeroDuration()));
  for (int i = 0; i < 10000; ++i) {
    const std::string quick = put(*table, *client, at(absl::Milliseconds(1)));
    ASSERT_TRUE(table->take(quick, at(absl::Milliseconds(1))).ok());
  }
  EXPECT_EQ(table->stats().evicted, 0u);
  EXPECT_TRUE(table->take(slow, at(absl::Seconds(1))).ok());
}

// A million picks never reported: the table holds at most its capacity, each pick that
// leaves it releases its in-flight slot, and every one is counted as unreported.
TEST(TicketTable, AMillionUnreportedPicksStayBounded) {
  auto client = make_client();
  auto table = make_table(4096, 4, absl::Seconds(1));
  char ticket[kTicketSize];
  for (int i = 0; i < 1000000; ++i) {
    table->put(client->pick({.service = "svc"}).value(), at(absl::Microseconds(i)), ticket);
  }
  EXPECT_LE(inflight(*client), 4096);
  TicketTable::Stats s = table->stats();
  EXPECT_EQ(s.issued, 1000000u);
  EXPECT_LE(s.outstanding, 4096u);
  EXPECT_EQ(s.expired + s.evicted + s.outstanding, 1000000u);
  table->expire(at(absl::Seconds(10)));
  EXPECT_EQ(inflight(*client), 0);
  s = table->stats();
  EXPECT_EQ(s.outstanding, 0u);
  EXPECT_EQ(s.expired + s.evicted, 1000000u);
}

TEST(TicketTable, ConcurrentPutAndTake) {
  auto client = make_client();
  // Room for every pick of the test: a thread preempted while holding tickets must not
  // see them evicted (a ticket lives for about `capacity` puts of all threads).
  auto table = make_table(size_t{1} << 18, 8);
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&] {
      std::vector<std::string> mine;
      for (int i = 0; i < 20000; ++i) {
        mine.push_back(put(*table, *client, at(absl::ZeroDuration())));
        if (mine.size() == 16) {
          for (const std::string& ticket : mine) {
            absl::StatusOr<Pick> pick = table->take(ticket, at(absl::ZeroDuration()));
            if (!pick.ok()) {
              failures.fetch_add(1);
              continue;
            }
            client->report(*pick, Outcome::http(200, absl::Milliseconds(1)));
          }
          mine.clear();
        }
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(table->stats().reported, 8u * 20000u);
  EXPECT_EQ(inflight(*client), 0);
}

TEST(TicketTable, OptionsAreChecked) {
  TicketTable::Options o;
  o.shards = 0;
  EXPECT_THAT(std::string(TicketTable::create(o).status().message()), HasSubstr("shards"));
  o = {};
  o.capacity = 2;
  o.shards = 4;
  EXPECT_THAT(std::string(TicketTable::create(o).status().message()), HasSubstr("capacity"));
  o = {};
  o.ttl = absl::ZeroDuration();
  EXPECT_THAT(std::string(TicketTable::create(o).status().message()), HasSubstr("ttl"));
}

}  // namespace
}  // namespace ufc::agentd
