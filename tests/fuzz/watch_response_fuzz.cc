// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.
//
// watch_response_fuzz: bytes as what a lying, broken or hostile control server sends a
// client on its Watch stream: a sequence of ufc.v1.WatchResponse, each applied by the sync
// state (src/sync/watch_state.h) through the client's ConfigSink, as the sync thread does.
//
// Input: a mode byte, then the responses in the wire form of `repeated WatchResponse
// responses = 1` (tag 0x0a, a varint length, the message; at most 16; a field that does
// not parse ends the input). Mode bit 0: first bring the client to the good services at
// version 10, global 10, as a server would (so the fuzzed responses meet synced state).
//
// Invariants, per response: never a crash or a leak; the ACK answers the response's id;
// the global version never goes back; a response whose global version is below the
// client's is refused whole (FAILED_PRECONDITION, an ACK with the error, nothing changes);
// a response rejected whole changes nothing observable; a NACKed service keeps the version
// it had; every service applied is what the client runs, at the response's version, and
// picks only its endpoints; every removal applied is gone from the client and the state;
// the IDC map's version moves exactly when a map is sent and not NACKed.

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "google/protobuf/io/coded_stream.h"
#include "src/core/client_core.h"
#include "src/sync/watch_state.h"
#include "tests/fuzz/fuzz_support.h"

namespace ufc::fuzz {
namespace {

constexpr int kMaxResponses = 16;

// The responses of `data`, in the wire form of a repeated field 1.
std::vector<v1::WatchResponse> responses_of(std::string_view data) {
  std::vector<v1::WatchResponse> out;
  google::protobuf::io::CodedInputStream in(reinterpret_cast<const uint8_t*>(data.data()),
                                            static_cast<int>(data.size()));
  while (out.size() < kMaxResponses) {
    const uint32_t tag = in.ReadTag();
    if (tag != 0x0a) break;  // field 1, length-delimited; anything else ends it
    uint32_t length = 0;
    if (!in.ReadVarint32(&length)) break;
    const google::protobuf::io::CodedInputStream::Limit limit = in.PushLimit(length);
    v1::WatchResponse r;
    const bool parsed = r.ParseFromCodedStream(&in) && in.ConsumedEntireMessage();
    in.PopLimit(limit);
    if (!parsed) break;
    out.push_back(std::move(r));
  }
  return out;
}

uint64_t client_version(internal::ClientCore& core, const std::string& name) {
  std::shared_ptr<const internal::ServicePolicy> p = core.policy(name);
  return p == nullptr ? 0 : p->version;
}

}  // namespace

void watch_response_one(std::string_view data) {
  if (data.empty()) return;
  std::unique_ptr<FuzzClient> c = FuzzClient::create_core(good_config());
  if (c == nullptr) fuzz_fail("good_config is refused by ClientCore::create");
  internal::ClientCore& core = *c->core;
  internal::WatchState state;
  v1::WatchRequest ack;
  if ((static_cast<unsigned char>(data[0]) & 1) != 0) {
    v1::WatchResponse baseline;
    baseline.set_response_id(1);
    baseline.set_global_version(10);
    for (v1::ServiceConfig s : good_config().services()) {
      s.set_version(10);
      *baseline.add_services() = std::move(s);
    }
    const absl::Status s = state.apply(baseline, core, ack);
    UFC_FUZZ_CHECK(s.ok() && ack.ack().error().empty() && ack.ack().nacks_size() == 0,
                   ack.DebugString());
    UFC_FUZZ_CHECK(state.global() == 10, "the baseline's global version");
  }

  for (v1::WatchResponse& response : responses_of(data.substr(1))) {
    // What the client runs before, for every name the response or the good config names.
    std::vector<std::string> names;
    for (const v1::ServiceConfig& s : good_config().services()) names.push_back(s.name());
    for (const v1::ServiceConfig& s : response.services()) names.push_back(s.name());
    for (const v1::ServiceRemoval& r : response.removals()) names.push_back(r.name());
    std::map<std::string, std::string> before_state;
    std::map<std::string, uint64_t> before_version;
    for (const std::string& n : names) {
      if (before_state.count(n) == 0) before_state[n] = observable_state(core, n);
      before_version[n] = client_version(core, n);
    }
    const v1::WatchResponse sent = response;  // apply() moves the services out
    const uint64_t global_before = state.global();
    const uint64_t idc_map_before = state.idc_map_version();

    const absl::Status s = state.apply(response, core, ack);
    fuzz_note(absl::StrCat("response ", sent.response_id(), ": ", s.ToString(), " ack ",
                           ack.ShortDebugString()));
    UFC_FUZZ_CHECK(ack.has_ack() && ack.ack().response_id() == sent.response_id(),
                   ack.ShortDebugString());
    UFC_FUZZ_CHECK(state.global() >= global_before, "the global version went back");
    const bool backwards = !sent.more() && sent.global_version() < global_before;
    UFC_FUZZ_CHECK(s.ok() == !backwards, s.ToString());
    auto unchanged = [&](const std::string& why) {
      for (const auto& [n, text] : before_state) {
        UFC_FUZZ_CHECK(observable_state(core, n) == text,
                       absl::StrCat(why, ", yet \"", n, "\" changed"));
      }
      UFC_FUZZ_CHECK(state.global() == global_before, absl::StrCat(why, ", yet global moved"));
      UFC_FUZZ_CHECK(state.idc_map_version() == idc_map_before,
                     absl::StrCat(why, ", yet the IDC map's version moved"));
    };
    if (!s.ok()) {
      UFC_FUZZ_CHECK(s.code() == absl::StatusCode::kFailedPrecondition, s.ToString());
      UFC_FUZZ_CHECK(!ack.ack().error().empty(), "a refusal without an error in its ACK");
      unchanged("refused as going backwards");
      continue;
    }
    if (!ack.ack().error().empty()) {
      unchanged(absl::StrCat("rejected whole (", ack.ack().error(), ")"));
      continue;
    }
    UFC_FUZZ_CHECK(ack.ack().global_version() == state.global(), ack.ShortDebugString());
    absl::flat_hash_set<std::string> nacked;
    for (const v1::Nack& n : ack.ack().nacks()) {
      nacked.insert(n.service());
      UFC_FUZZ_CHECK(!n.error().empty(),
                     absl::StrCat("a NACK of \"", n.service(), "\" says nothing"));
    }
    for (const std::string& n : nacked) {
      UFC_FUZZ_CHECK(client_version(core, n) == before_version[n],
                     absl::StrCat("\"", n, "\" was NACKed, yet its version changed"));
    }
    absl::flat_hash_set<std::string> removed;
    for (const v1::ServiceRemoval& r : sent.removals()) {
      if (!nacked.contains(r.name())) removed.insert(r.name());
    }
    for (const v1::ServiceConfig& svc : sent.services()) {
      if (nacked.contains(svc.name()) || removed.contains(svc.name())) continue;
      UFC_FUZZ_CHECK(state.version(svc.name()) == svc.version(),
                     absl::StrCat("\"", svc.name(), "\" applied, yet the state has version ",
                                  state.version(svc.name())));
      UFC_FUZZ_CHECK(
          client_version(core, svc.name()) == svc.version(),
          absl::StrCat("\"", svc.name(), "\" applied at ", svc.version(),
                       ", yet the client runs version ", client_version(core, svc.name())));
      check_picks_in_config(core, svc);
    }
    if (sent.has_idc_map()) {
      const bool map_nacked = nacked.contains(internal::WatchState::kIdcMapName);
      UFC_FUZZ_CHECK(
          state.idc_map_version() == (map_nacked ? idc_map_before : sent.idc_map().version()),
          absl::StrCat("the IDC map was ", map_nacked ? "NACKed" : "applied",
                       ", yet the state has version ", state.idc_map_version()));
    } else {
      UFC_FUZZ_CHECK(state.idc_map_version() == idc_map_before, "no map sent, yet it moved");
    }
    for (const std::string& n : removed) {
      UFC_FUZZ_CHECK(core.policy(n) == nullptr && state.version(n) == 0,
                     absl::StrCat("\"", n, "\" was removed, yet it is still there"));
    }
  }
}

}  // namespace ufc::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  ufc::fuzz::watch_response_one(std::string_view(reinterpret_cast<const char*>(data), size));
  return 0;
}
