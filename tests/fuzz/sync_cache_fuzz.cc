// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.
//
// sync_cache_fuzz: bytes as the sync cache file a client starts from when every control
// server is down (src/sync/sync_cache.h) — a file a full disk truncated, a crash tore, or
// something else wrote — read with read_sync_cache() and, when it reads, applied as the
// client applies its cache (all or nothing) over a client holding good_config().
//
// The first byte chooses: odd, the harness rewrites the file's checksum to match (so the
// mutations reach the header's numbers and the payload); even, the bytes are the file as
// they are (the checksum must catch them). The rest is the file.
//
// Invariants: never a crash or a leak; a file that does not read is DATA_LOSS; one that
// reads writes back to a file that reads the same; applied, a rejected update leaves the
// good services observable as they were, an accepted one picks only endpoints of the
// services it names.

#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <string_view>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "google/protobuf/util/field_comparator.h"
#include "google/protobuf/util/message_differencer.h"
#include "src/sync/sync_cache.h"
#include "tests/fuzz/fuzz_support.h"

namespace ufc::fuzz {
namespace {

// A directory of this process's, made once and removed at exit.
const std::string& scratch() {
  static const std::string* dir = [] {
    char path[] = "/tmp/ufc_sync_cache_fuzz.XXXXXX";
    if (::mkdtemp(path) == nullptr) fuzz_fail("mkdtemp failed");
    std::atexit([] {
      for (const char* f : {"/cache", "/again", "/again.tmp"}) {
        std::remove((scratch() + f).c_str());
      }
      ::rmdir(scratch().c_str());
    });
    return new std::string(path);
  }();
  return *dir;
}

// The file with the checksum its body calls for (src/sync/sync_cache.h).
std::string with_checksum(std::string_view file) {
  if (file.size() < 17) return std::string(file);
  const std::string_view body = file.substr(0, file.size() - 17);
  std::string out(body);
  out += absl::StrFormat("%016x\n", internal::sync_cache_checksum(body));
  return out;
}

}  // namespace

void sync_cache_one(std::string_view data) {
  if (data.empty()) return;
  const bool fix = (static_cast<unsigned char>(data[0]) & 1) != 0;
  const std::string file = fix ? with_checksum(data.substr(1)) : std::string(data.substr(1));
  const std::string path = scratch() + "/cache";
  {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(file.data(), static_cast<std::streamsize>(file.size()));
    if (!out) fuzz_fail("cannot write the scratch file");
  }
  absl::StatusOr<internal::SyncCacheContent> read = internal::read_sync_cache(path);
  fuzz_note(absl::StrCat("read_sync_cache: ", read.status().ToString()));
  if (!read.ok()) {
    UFC_FUZZ_CHECK(read.status().code() == absl::StatusCode::kDataLoss, read.status().ToString());
    return;
  }
  // What reads, writes back to what reads the same.
  const std::string again = scratch() + "/again";
  const absl::Status written = internal::write_sync_cache(again, *read);
  UFC_FUZZ_CHECK(written.ok(), written.ToString());
  absl::StatusOr<internal::SyncCacheContent> reread = internal::read_sync_cache(again);
  UFC_FUZZ_CHECK(reread.ok(), reread.status().ToString());
  UFC_FUZZ_CHECK(reread->global_version == read->global_version, "the global version changed");
  // A NaN weight round-trips bit for bit, yet the default comparator calls NaN != NaN.
  google::protobuf::util::DefaultFieldComparator comparator;
  comparator.set_treat_nan_as_equal(true);
  google::protobuf::util::MessageDifferencer differencer;
  differencer.set_field_comparator(&comparator);
  UFC_FUZZ_CHECK(differencer.Compare(reread->config, read->config),
                 "the config changed on a round trip");

  // Applied as the client applies its cache: the whole config, all or nothing.
  std::unique_ptr<FuzzClient> c = FuzzClient::create(good_config());
  if (c == nullptr) fuzz_fail("good_config is refused by Client::create");
  std::vector<std::string> before;
  for (const v1::ServiceConfig& s : good_config().services()) {
    before.push_back(observable_state(*c->client, s.name()));
  }
  ApplyOptions options;
  options.allow_removing_all = true;  // a cache may say anything; only validity counts here
  const absl::Status applied = c->client->apply(read->config, options);
  fuzz_note(absl::StrCat("apply(cache): ", applied.ToString()));
  if (applied.ok()) {
    for (const v1::ServiceConfig& s : read->config.services()) check_picks_in_config(*c->client, s);
    return;
  }
  for (int i = 0; i < good_config().services_size(); ++i) {
    const v1::ServiceConfig& s = good_config().services(i);
    UFC_FUZZ_CHECK(
        before[i] == observable_state(*c->client, s.name()),
        absl::StrCat("rejected with ", applied.ToString(), ", yet \"", s.name(), "\" changed"));
  }
}

}  // namespace ufc::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  ufc::fuzz::sync_cache_one(std::string_view(reinterpret_cast<const char*>(data), size));
  return 0;
}
