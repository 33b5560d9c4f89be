// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.
//
// metad/store/local_store.h: the services in a local directory (the embedded default).
//
// Layout of the directory:
//   services/<name>.svc   one file per service: its name, mod revision, value, checksum
//   REVISION              the revision of the newest delete (puts carry theirs in the file)
// The store's revision at load is max(REVISION, every file's mod revision), so a put is
// one file and a delete one REVISION update plus an unlink.
//
// Crash safety: every file is written to a temporary name, fsynced, renamed over the old
// one, and the directory fsynced before put/remove return; so after `kill -9` (or power
// loss on a filesystem that honours fsync) every acknowledged write is there and nothing
// half-written is. Leftover temporary files are removed at open. A file that does not read
// back (bad magic, truncated, checksum mismatch) fails open() with DATA_LOSS naming it:
// the server refuses to start rather than serve a fleet a store with a service missing.
//
// Thread-safety: every method may be called concurrently; writes are serialized. The
// watcher is called on the writer's thread, under the write lock, before put/remove
// return (so events arrive in revision order).

#ifndef UFC_METAD_STORE_LOCAL_STORE_H_
#define UFC_METAD_STORE_LOCAL_STORE_H_

#include <map>
#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "metad/store/store.h"

namespace ufc::metad {

class LocalStore final : public Store {
 public:
  // Opens (creating it if missing) the store in `dir`. INVALID_ARGUMENT for an empty
  // path, UNAVAILABLE when the directory cannot be created or written, DATA_LOSS for a
  // file that does not read back.
  static absl::StatusOr<std::unique_ptr<LocalStore>> open(const std::string& dir);

  absl::StatusOr<StoreSnapshot> load() override;
  absl::StatusOr<uint64_t> put(absl::string_view name, absl::string_view value,
                               std::optional<uint64_t> expected) override;
  absl::StatusOr<uint64_t> remove(absl::string_view name,
                                  std::optional<uint64_t> expected) override;
  absl::Status watch(uint64_t after_revision, StoreWatcher watcher) override;
  void stop() override;

  const std::string& dir() const { return dir_; }

 private:
  struct Entry {
    std::string value;
    uint64_t mod_revision = 0;
  };
  explicit LocalStore(std::string dir) : dir_(std::move(dir)) {}
  absl::Status read_all();
  absl::Status check_expected(absl::string_view name, std::optional<uint64_t> expected) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void notify(StoreEvent event) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const std::string dir_;
  mutable absl::Mutex mu_;
  uint64_t revision_ ABSL_GUARDED_BY(mu_) = 0;
  std::map<std::string, Entry, std::less<>> entries_ ABSL_GUARDED_BY(mu_);
  bool watching_ ABSL_GUARDED_BY(mu_) = false;
  StoreWatcher watcher_ ABSL_GUARDED_BY(mu_);
};

// The file name a service is stored under (exposed for tests): the name with every byte
// outside [A-Za-z0-9._-] as %XX, or, when that exceeds 200 bytes, "h-" and a 64-bit hash
// (the file holds the full name either way).
std::string local_store_file_name(absl::string_view service);

}  // namespace ufc::metad

#endif  // UFC_METAD_STORE_LOCAL_STORE_H_
