// What a locator id leads to — its asset (folder) and streaming policy — read from the Store and
// kept in memory. Store::changed() (another process ran `ams locator create/delete`) empties the
// cache, so changes take effect without a restart. Main-thread only, like the Store it owns.
#pragma once

#include <memory>
#include <string>
#include <unordered_map>

#include "base/status.h"
#include "errors.h"
#include "store/store.h"

namespace ams::server {

struct Published {
  store::Locator locator;
  store::Asset asset;
  store::Policy policy;
};

class Catalog {
 public:
  explicit Catalog(std::unique_ptr<store::Store> store) : store_(std::move(store)) {}

  // The locator, its asset and its policy; a 404 HttpError when any of them is gone, or when
  // `now_iso` (ISO 8601 UTC, as the Store writes times) is outside the locator's start/end time.
  Result<std::shared_ptr<const Published>> lookup(const std::string& locator_id,
                                                  const std::string& now_iso, HttpError* error);

  store::Store& store() { return *store_; }  // the player page lists every locator

 private:
  std::unique_ptr<store::Store> store_;
  std::unordered_map<std::string, std::shared_ptr<const Published>> cache_;
};

}  // namespace ams::server
