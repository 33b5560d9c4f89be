// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.

#include "metad/hub.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"
#include "ufc/config.h"

namespace ufc::metad {

namespace {
template <typename Message>
std::string deterministic_without_version(const Message& m) {
  Message copy = m;
  copy.set_version(0);
  std::string out;
  {
    google::protobuf::io::StringOutputStream stream(&out);
    google::protobuf::io::CodedOutputStream coded(&stream);
    coded.SetSerializationDeterministic(true);
    copy.SerializeToCodedStream(&coded);
  }
  return out;
}
}  // namespace

std::string stored_value(const v1::ServiceConfig& service) {
  return deterministic_without_version(service);
}
std::string stored_value(const v1::IdcMap& idc_map) {
  return deterministic_without_version(idc_map);
}

Hub::Hub(Store& store, Options options)
    : store_(store), options_(options), idc_map_(std::make_shared<v1::IdcMap>()) {}
Hub::~Hub() { store_.stop(); }

absl::Status Hub::start() {
  absl::StatusOr<StoreSnapshot> snapshot = store_.load();
  if (!snapshot.ok()) return snapshot.status();
  reset(*snapshot);
  StoreWatcher watcher;
  watcher.on_events = [this](const std::vector<StoreEvent>& events, uint64_t revision) {
    apply_events(events, revision);
  };
  watcher.on_reset = [this](const StoreSnapshot& s) { reset(s); };
  watcher.on_availability = [this](bool available) {
    absl::MutexLock lock(&mu_);
    available_ = available;
  };
  return store_.watch(snapshot->revision, std::move(watcher));
}

namespace {
std::shared_ptr<const v1::ServiceConfig> parse_stored(const std::string& name,
                                                      const std::string& value, uint64_t version) {
  auto config = std::make_shared<v1::ServiceConfig>();
  if (!config->ParseFromString(value) || config->name() != name) {
    return nullptr;  // not ours: another writer of the prefix; ignored
  }
  config->set_version(version);
  return config;
}

// The stored IDC map at `version`; an unreadable value reads as an empty map (a writer
// other than metad), a delete as empty at the delete's revision.
std::shared_ptr<const v1::IdcMap> parse_idc_map(const std::string& value, uint64_t version) {
  auto map = std::make_shared<v1::IdcMap>();
  if (!map->ParseFromString(value)) map->Clear();
  map->set_version(version);
  return map;
}
}  // namespace

void Hub::reset(const StoreSnapshot& snapshot) {
  uint64_t revision;
  {
    absl::MutexLock lock(&mu_);
    std::map<std::string, Entry, std::less<>> next;
    std::shared_ptr<const v1::IdcMap> idc_map;
    std::string idc_map_value;
    for (const StoredService& s : snapshot.services) {
      if (s.name == kIdcMapKey) {
        idc_map = parse_idc_map(s.value, s.mod_revision);
        idc_map_value = s.value;
        continue;
      }
      auto config = parse_stored(s.name, s.value, s.mod_revision);
      if (config == nullptr) continue;
      next[s.name] = Entry{std::move(config), s.value};
    }
    // Every name that changed, was added or went is logged at the snapshot's revision.
    revision_ = std::max(revision_, snapshot.revision);
    for (const auto& [name, entry] : services_) {
      auto it = next.find(name);
      if (it == next.end() || it->second.value != entry.value) log_.emplace_back(revision_, name);
    }
    for (const auto& [name, entry] : next) {
      if (services_.find(name) == services_.end()) log_.emplace_back(revision_, name);
    }
    services_ = std::move(next);
    if (idc_map != nullptr) {  // stored (an empty value is a cleared map, still stored)
      idc_map_ = std::move(idc_map);
      idc_map_value_ = std::move(idc_map_value);
      idc_map_present_ = true;
    } else if (idc_map_present_ || idc_map_->version() != 0) {
      // Gone from the store (deleted behind metad's back, or a store reset to another):
      // empty, at a version of its own that differs from the one watchers have.
      auto cleared = std::make_shared<v1::IdcMap>();
      cleared->set_version(idc_map_present_ ? std::max(revision_, idc_map_->version() + 1)
                                            : idc_map_->version());
      idc_map_ = std::move(cleared);
      idc_map_value_.clear();
      idc_map_present_ = false;
    }
    while (log_.size() > options_.log_size) {
      log_start_ = log_.front().first;
      log_.pop_front();
    }
    revision = revision_;
  }
  if (on_change_) on_change_(revision);
}

void Hub::apply_events(const std::vector<StoreEvent>& events, uint64_t revision) {
  {
    absl::MutexLock lock(&mu_);
    if (revision <= revision_) return;  // already seen (a reset overtook it)
    for (const StoreEvent& e : events) {
      if (e.name == kIdcMapKey) {
        idc_map_ = parse_idc_map(e.deleted ? std::string() : e.value, e.revision);
        idc_map_value_ = e.deleted ? std::string() : e.value;
        idc_map_present_ = !e.deleted;
        continue;
      }
      if (e.deleted) {
        services_.erase(e.name);
      } else {
        auto config = parse_stored(e.name, e.value, e.revision);
        if (config == nullptr) continue;
        services_[e.name] = Entry{std::move(config), e.value};
      }
      log_.emplace_back(e.revision, e.name);
    }
    revision_ = revision;
    while (log_.size() > options_.log_size) {
      log_start_ = log_.front().first;
      log_.pop_front();
    }
  }
  if (on_change_) on_change_(revision);
}

absl::StatusOr<v1::PutServiceResponse> Hub::put(const v1::PutServiceRequest& request) {
  v1::ServiceConfig service = request.service();
  service.set_version(0);
  if (absl::Status valid = ufc::validate_service(service); !valid.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("service.", valid.message()));
  }
  const std::string value = stored_value(service);
  v1::PutServiceResponse response;
  {
    absl::ReaderMutexLock lock(&mu_);
    auto it = services_.find(service.name());
    if (it != services_.end() && it->second.value == value &&
        (!request.has_expected_version() ||
         request.expected_version() == it->second.config->version())) {
      response.set_version(it->second.config->version());
      response.set_unchanged(true);
      return response;
    }
  }
  std::optional<uint64_t> expected;
  if (request.has_expected_version()) expected = request.expected_version();
  absl::StatusOr<uint64_t> revision = store_.put(service.name(), value, expected);
  if (!revision.ok()) return revision.status();
  response.set_version(*revision);
  return response;
}

absl::StatusOr<v1::PutIdcMapResponse> Hub::put_idc_map(const v1::PutIdcMapRequest& request) {
  v1::ClientConfig check;
  *check.mutable_idc_map() = request.idc_map();
  if (absl::Status valid = ufc::validate_config(check); !valid.ok()) {
    return absl::InvalidArgumentError(valid.message());
  }
  v1::IdcMap map;
  *map.mutable_entries() = request.idc_map();
  const std::string value = stored_value(map);
  v1::PutIdcMapResponse response;
  std::optional<uint64_t> expected;
  {
    absl::ReaderMutexLock lock(&mu_);
    const uint64_t current = idc_map_->version();
    if (request.has_expected_version() && request.expected_version() != current) {
      return absl::FailedPreconditionError(
          absl::StrCat("expected_version: the IDC map is at version ", current, ", not ",
                       request.expected_version()));
    }
    // Stored with this value, or not stored and asked to be empty: nothing to write.
    if (value == idc_map_value_ && (idc_map_present_ || value.empty())) {
      response.set_version(current);
      response.set_unchanged(true);
      return response;
    }
    // The store checks again, atomically (another server may write meanwhile): the key's
    // mod revision, or (0) that it does not exist, which a map deleted from the store
    // does not although it has a version.
    if (request.has_expected_version()) expected = idc_map_present_ ? current : 0;
  }
  absl::StatusOr<uint64_t> revision = store_.put(kIdcMapKey, value, expected);
  if (!revision.ok()) return revision.status();
  response.set_version(*revision);
  return response;
}

v1::IdcMap Hub::idc_map() const {
  absl::ReaderMutexLock lock(&mu_);
  return *idc_map_;
}

absl::StatusOr<v1::DeleteServiceResponse> Hub::remove(const v1::DeleteServiceRequest& request) {
  if (request.name().empty()) return absl::InvalidArgumentError("name: empty");
  if (request.name() == kIdcMapKey) {
    return absl::InvalidArgumentError(
        absl::StrCat("name: \"", kIdcMapKey, "\" is where the IDC map is kept, not a service"));
  }
  std::optional<uint64_t> expected;
  if (request.has_expected_version()) expected = request.expected_version();
  absl::StatusOr<uint64_t> revision = store_.remove(request.name(), expected);
  if (!revision.ok()) return revision.status();
  v1::DeleteServiceResponse response;
  response.set_version(*revision);
  return response;
}

absl::StatusOr<v1::GetServiceResponse> Hub::get(const std::string& name) const {
  absl::ReaderMutexLock lock(&mu_);
  auto it = services_.find(name);
  if (it == services_.end()) {
    return absl::NotFoundError(absl::StrCat("service \"", name, "\" is not stored"));
  }
  v1::GetServiceResponse response;
  *response.mutable_service() = *it->second.config;
  return response;
}

v1::ListServicesResponse Hub::list() const {
  absl::ReaderMutexLock lock(&mu_);
  v1::ListServicesResponse response;
  response.set_global_version(revision_);
  for (const auto& [name, entry] : services_) {
    v1::ServiceSummary* s = response.add_services();
    s->set_name(name);
    s->set_version(entry.config->version());
    s->set_endpoints(static_cast<uint32_t>(entry.config->endpoints_size()));
    s->set_tier(entry.config->tier());
  }
  return response;
}

std::vector<std::shared_ptr<const v1::ServiceConfig>> Hub::watched_services() const {
  absl::ReaderMutexLock lock(&mu_);
  std::vector<std::shared_ptr<const v1::ServiceConfig>> out;
  for (const auto& [name, entry] : services_) {
    const v1::ServiceConfig& c = *entry.config;
    // Also one whose watch was turned off with drains left: they are restored.
    if (c.agent_watch().enabled() ||
        std::any_of(c.endpoints().begin(), c.endpoints().end(),
                    [](const v1::Endpoint& e) { return e.has_agent_drain(); })) {
      out.push_back(entry.config);
    }
  }
  return out;
}

uint64_t Hub::revision() const {
  absl::ReaderMutexLock lock(&mu_);
  return revision_;
}

bool Hub::store_available() const {
  absl::ReaderMutexLock lock(&mu_);
  return available_;
}

void release_borrowed(v1::WatchResponse& out,
                      std::vector<std::shared_ptr<const v1::ServiceConfig>>& borrowed) {
  // A response built with `borrowed` holds only borrowed services.
  while (!borrowed.empty() && out.services_size() > 0) {
    (void)out.mutable_services()->ReleaseLast();  // not ours to delete
    borrowed.pop_back();
  }
  borrowed.clear();
}

bool Hub::diff_one(const std::string& name, WatchCursor& cursor, v1::WatchResponse& out,
                   size_t& bytes, bool report_unknown,
                   std::vector<std::shared_ptr<const v1::ServiceConfig>>* borrowed) const {
  auto it = services_.find(name);
  auto sent = cursor.sent.find(name);
  if (it != services_.end()) {
    const v1::ServiceConfig& config = *it->second.config;
    if (sent != cursor.sent.end() && sent->second == config.version()) return false;
    if (borrowed != nullptr) {
      borrowed->push_back(it->second.config);
      out.mutable_services()->AddAllocated(const_cast<v1::ServiceConfig*>(&config));
    } else {
      *out.add_services() = config;
    }
    bytes += it->second.value.size() + name.size() + 16;
    cursor.sent[name] = config.version();
    cursor.wanted = std::max(cursor.wanted, config.version());
    return true;
  }
  if (sent != cursor.sent.end()) {
    v1::ServiceRemoval* r = out.add_removals();
    r->set_name(name);
    r->set_version(revision_);
    cursor.sent.erase(sent);
    cursor.wanted = std::max(cursor.wanted, revision_);
    bytes += name.size() + 16;
    return true;
  }
  if (report_unknown) {
    out.add_unknown(name);
    return true;
  }
  return false;
}

bool Hub::build(WatchCursor& cursor, v1::WatchResponse& out, bool& more,
                std::vector<std::shared_ptr<const v1::ServiceConfig>>* borrowed) const {
  absl::ReaderMutexLock lock(&mu_);
  const bool first = cursor.initial;
  if (cursor.initial) {
    cursor.initial = false;
    if (cursor.all_services) {
      for (const auto& [name, entry] : services_) cursor.fresh.push_back(name);
      for (const auto& [name, version] : cursor.sent) {
        if (services_.find(name) == services_.end()) cursor.fresh.push_back(name);
      }
    }
  } else if (cursor.revision < revision_) {
    if (cursor.revision < log_start_) {
      // Too far behind for the log: everything it has or wants, in full.
      for (const auto& [name, entry] : services_) {
        if (cursor.all_services || cursor.subscribed.contains(name)) cursor.fresh.push_back(name);
      }
      for (const auto& [name, version] : cursor.sent) {
        if (services_.find(name) == services_.end()) cursor.fresh.push_back(name);
      }
    } else {
      auto it = std::upper_bound(
          log_.begin(), log_.end(), cursor.revision,
          [](uint64_t r, const std::pair<uint64_t, std::string>& e) { return r < e.first; });
      for (; it != log_.end(); ++it) {
        const std::string& name = it->second;
        if (cursor.all_services || cursor.subscribed.contains(name) || cursor.sent.contains(name)) {
          cursor.fresh.push_back(name);
        }
      }
    }
  }
  cursor.revision = revision_;
  // Each name once, in order (the log may name one several times).
  std::sort(cursor.fresh.begin(), cursor.fresh.end());
  cursor.fresh.erase(std::unique(cursor.fresh.begin(), cursor.fresh.end()), cursor.fresh.end());
  size_t bytes = 0;
  bool any = false;
  if (cursor.idc_map_version != idc_map_->version()) {
    *out.mutable_idc_map() = *idc_map_;
    cursor.idc_map_version = idc_map_->version();
    cursor.wanted = std::max(cursor.wanted, idc_map_->version());
    bytes += idc_map_value_.size() + 16;
    any = true;
  }
  size_t done = 0;
  for (; done < cursor.fresh.size() && bytes < options_.max_response_bytes; ++done) {
    const std::string& name = cursor.fresh[done];
    const bool report_unknown = !cursor.all_services && cursor.subscribed.contains(name);
    any |= diff_one(name, cursor, out, bytes, report_unknown, borrowed);
  }
  cursor.fresh.erase(cursor.fresh.begin(), cursor.fresh.begin() + done);
  more = !cursor.fresh.empty();
  out.set_more(more);
  out.set_global_version(more ? 0 : revision_);
  // The first response always goes out: it tells the client it is in sync.
  return any || first || more;
}

}  // namespace ufc::metad
