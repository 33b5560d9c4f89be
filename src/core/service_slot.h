// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.
//
// src/core/service_slot.h: what a ServiceHandle points to.

#ifndef UFC_CORE_SERVICE_SLOT_H_
#define UFC_CORE_SERVICE_SLOT_H_

#include <atomic>
#include <cstdint>
#include <string>

namespace ufc::internal {

class ClientCore;
struct ServiceState;  // src/core/service_state.h

// ServiceSlot: one service name of one client, for as long as a handle names it.
//
// `state` is the service as the client's published registry has it, or nullptr while it
// has none: the client sets it, under its config mutex, each time it publishes the
// registry, so a pick through a handle sees exactly what a pick by name sees. Like the
// registry's entries it is read inside an epoch section: a ServiceState taken out is
// retired through the epoch domain after the slot stops pointing to it.
//
// Lifetime: reference-counted by the handles and by the client's slot map. The map's
// reference goes when no handle is left (housekeeping) or with the client; the last
// reference deletes the slot.
struct ServiceSlot {
  ServiceSlot(ClientCore* client, std::string service_name)
      : owner(client), name(std::move(service_name)) {}

  std::atomic<ServiceState*> state{nullptr};
  // The client whose handle this is (a handle used with another client is refused);
  // nullptr once that client is gone.
  ClientCore* owner;
  std::atomic<uint32_t> refs{1};
  const std::string name;
};

}  // namespace ufc::internal

#endif  // UFC_CORE_SERVICE_SLOT_H_
