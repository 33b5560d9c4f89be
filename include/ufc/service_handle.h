// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.
//
// ufc/service_handle.h: a service resolved once, for the callers that pick from it often.
//
//   ufc::ServiceHandle echo = client->service("echo").value();   // at start-up
//   ...
//   absl::StatusOr<ufc::Pick> pick = client->pick(echo, {.deadline = deadline});
//
// pick() by name hashes the name and looks it up in the client's service table on every
// call; pick() through a handle goes straight to the service's current snapshot.

#ifndef UFC_SERVICE_HANDLE_H_
#define UFC_SERVICE_HANDLE_H_

#include <string_view>
#include <utility>

namespace ufc {

namespace internal {
struct ServiceSlot;  // src/core/service_slot.h
class ClientCore;
// Reference counting of slots, out of line: handles are copied at start-up, not per pick.
void ref_slot(ServiceSlot* slot) noexcept;
void unref_slot(ServiceSlot* slot) noexcept;
std::string_view slot_name(const ServiceSlot* slot) noexcept;
}  // namespace internal

// ServiceHandle: a Client's service, by name, resolved once.
//
// A handle names a service, not a config version: it follows every update of the
// service, and it may name a service the client has no config for yet (pick() answers
// NOT_FOUND, kNotConfigured, until one arrives; with sync, Client::service() subscribes).
// A removed service's handle answers NOT_FOUND until the service comes back, and then
// picks from it again. A default-constructed handle names nothing (pick() answers
// INVALID_ARGUMENT).
//
// Cost: copying or destroying one is an atomic increment or decrement; pick() through it
// skips the name's hash and table lookup (bench/pick_report_bench: BM_PickReportHandle).
// Thread-safety: a handle is immutable; copies may be used from any thread at once.
// Lifetime: use it with the Client that made it, and not after that Client is destroyed
// (destroying the handle later is fine).
class ServiceHandle {
 public:
  ServiceHandle() = default;
  ServiceHandle(const ServiceHandle& other) noexcept : slot_(other.slot_) {
    if (slot_ != nullptr) internal::ref_slot(slot_);
  }
  ServiceHandle(ServiceHandle&& other) noexcept : slot_(std::exchange(other.slot_, nullptr)) {}
  ServiceHandle& operator=(ServiceHandle other) noexcept {
    std::swap(slot_, other.slot_);
    return *this;
  }
  ~ServiceHandle() {
    if (slot_ != nullptr) internal::unref_slot(slot_);
  }

  // The service's name; "" for a default-constructed handle.
  std::string_view name() const { return slot_ != nullptr ? internal::slot_name(slot_) : ""; }
  // False for a default-constructed (or moved-from) handle.
  explicit operator bool() const { return slot_ != nullptr; }

 private:
  friend class internal::ClientCore;
  // Adopts one reference to `slot`.
  explicit ServiceHandle(internal::ServiceSlot* slot) : slot_(slot) {}
  internal::ServiceSlot* slot_ = nullptr;
};

}  // namespace ufc

#endif  // UFC_SERVICE_HANDLE_H_
