// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.
//
// metad/hub.h: the server's view of the store, and what each watcher must be sent.
//
// The Hub holds every service, parsed once, at the store's revision, and a log of the
// recent changes (which names changed at which revision). A watcher keeps what it has been
// sent (name -> version, and the revision it was brought to); Hub::build() turns the
// difference into one WatchResponse: for a watcher one change behind, O(changes), not
// O(services). A watcher behind the log's start (or a new subscription) is diffed in full.
//
// The IDC map (v1::IdcMap) is stored beside the services under kIdcMapKey, a name no
// service can have ('^' is refused in service names), and sent to every watcher whose
// version of it differs, whatever it subscribes to.
//
// The hub learns changes only from the store's watch (this server's writes and every
// other server's alike), so every server over one store sends the same versions.
//
// Thread-safety: every method may be called concurrently; build() calls share a reader
// lock, changes take the writer lock briefly.

#ifndef UFC_METAD_HUB_H_
#define UFC_METAD_HUB_H_

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "metad/store/store.h"
#include "ufc/v1/config.pb.h"
#include "ufc/v1/meta.pb.h"

namespace ufc::metad {

// Where the IDC map is stored: a name no service can have.
inline constexpr absl::string_view kIdcMapKey = "^idc_map";

// What one watcher subscribed to and has been sent. Owned by the watcher; build() reads
// and advances it (the caller serializes calls per cursor).
struct WatchCursor {
  bool all_services = false;
  absl::flat_hash_set<std::string> subscribed;
  // Subscribed (or, with all_services, asked for in the first request) since the last
  // build: diffed in full against `sent`.
  std::vector<std::string> fresh;
  bool initial = true;  // nothing sent yet: the first build diffs everything subscribed
  absl::flat_hash_map<std::string, uint64_t> sent;  // name -> version the watcher has
  uint64_t revision = 0;  // the hub revision the watcher was last brought to
  // The newest revision at which something this watcher subscribes to changed (what its
  // ACKs must reach to be up to date).
  uint64_t wanted = 0;
  uint64_t idc_map_version = 0;  // the version of the IDC map the watcher has
};

class Hub {
 public:
  struct Options {
    size_t log_size = 65536;              // changes remembered for incremental builds
    size_t max_response_bytes = 1 << 20;  // services per response, by encoded size
  };
  Hub(Store& store, Options options);
  ~Hub();

  // Loads the store and starts watching it. The store's errors.
  absl::Status start();

  // Called after every change the hub applied (on the store's thread), with the new
  // revision. Set before start().
  void set_on_change(std::function<void(uint64_t revision)> on_change) {
    on_change_ = std::move(on_change);
  }

  // Admin, validated with the library's own validator (ufc::validate_service): errors
  // as INVALID_ARGUMENT with field paths, nothing stored; then the store's errors.
  absl::StatusOr<v1::PutServiceResponse> put(const v1::PutServiceRequest& request);
  absl::StatusOr<v1::DeleteServiceResponse> remove(const v1::DeleteServiceRequest& request);
  absl::StatusOr<v1::GetServiceResponse> get(const std::string& name) const;
  // The IDC map, validated as ClientConfig.idc_map is (INVALID_ARGUMENT "idc_map...");
  // replaced whole, an empty one clears it. Then the store's errors.
  absl::StatusOr<v1::PutIdcMapResponse> put_idc_map(const v1::PutIdcMapRequest& request);
  v1::IdcMap idc_map() const;
  v1::ListServicesResponse list() const;

  // Fills `out` with one response bringing `cursor` closer to the hub's state (a big
  // difference is split over several responses of at most max_response_bytes; `more`
  // says one is due). Returns false when there is nothing to send. Cost: O(changes since
  // the cursor's revision), or O(subscribed) for a full diff.
  //
  // With `borrowed`, services are not copied into `out`: it points at the hub's immutable
  // configs (kept alive by `borrowed`), which the caller must take back out of `out`
  // (release_borrowed) before clearing or destroying it. This is what makes a push to
  // thousands of watchers cost a serialization each, not a deep copy.
  bool build(WatchCursor& cursor, v1::WatchResponse& out, bool& more,
             std::vector<std::shared_ptr<const v1::ServiceConfig>>* borrowed = nullptr) const;

  // The services with agent_watch enabled (agent_watch.h), and those with drains left
  // after it was turned off, as held (shared, immutable; version = mod revision).
  // O(services) pointer copies, and O(endpoints) of the services with the watch off.
  std::vector<std::shared_ptr<const v1::ServiceConfig>> watched_services() const;

  uint64_t revision() const;
  bool store_available() const;

 private:
  struct Entry {
    std::shared_ptr<const v1::ServiceConfig> config;  // version = mod revision
    std::string value;                                // as stored
  };
  void apply_events(const std::vector<StoreEvent>& events, uint64_t revision);
  void reset(const StoreSnapshot& snapshot);
  // Adds `name`'s current state to `out` when `cursor` lacks it; true when it added.
  bool diff_one(const std::string& name, WatchCursor& cursor, v1::WatchResponse& out, size_t& bytes,
                bool report_unknown,
                std::vector<std::shared_ptr<const v1::ServiceConfig>>* borrowed) const
      ABSL_SHARED_LOCKS_REQUIRED(mu_);

  Store& store_;
  const Options options_;
  std::function<void(uint64_t)> on_change_;
  mutable absl::Mutex mu_;
  uint64_t revision_ ABSL_GUARDED_BY(mu_) = 0;
  std::map<std::string, Entry, std::less<>> services_ ABSL_GUARDED_BY(mu_);
  // (revision, name) of recent changes, oldest first; log_start_ is the revision after
  // which the log is complete.
  std::deque<std::pair<uint64_t, std::string>> log_ ABSL_GUARDED_BY(mu_);
  uint64_t log_start_ ABSL_GUARDED_BY(mu_) = 0;
  bool available_ ABSL_GUARDED_BY(mu_) = true;
  // The IDC map (never null; version 0: never set) and its stored form.
  std::shared_ptr<const v1::IdcMap> idc_map_ ABSL_GUARDED_BY(mu_);
  std::string idc_map_value_ ABSL_GUARDED_BY(mu_);
  bool idc_map_present_ ABSL_GUARDED_BY(mu_) = false;  // the key exists in the store
};

// Takes the borrowed services of a build() back out of `out` (without deleting them) and
// drops the references.
void release_borrowed(v1::WatchResponse& out,
                      std::vector<std::shared_ptr<const v1::ServiceConfig>>& borrowed);

// The stored form of a service (or of the IDC map): serialized without its version (the
// store's revision is the version). Exposed for tests.
std::string stored_value(const v1::ServiceConfig& service);
std::string stored_value(const v1::IdcMap& idc_map);

}  // namespace ufc::metad

#endif  // UFC_METAD_HUB_H_
