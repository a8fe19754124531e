#include "catalog.h"

namespace ams::server {
Result<std::shared_ptr<const Published>> Catalog::lookup(const std::string& locator_id,
                                                         const std::string& now_iso,
                                                         HttpError* error) {
  if (store_->changed()) cache_.clear();
  std::shared_ptr<const Published> entry;
  if (auto it = cache_.find(locator_id); it != cache_.end()) {
    entry = it->second;
  } else {
    auto fill = [&]() -> Result<std::shared_ptr<const Published>> {
      auto published = std::make_shared<Published>();
      AMS_ASSIGN_OR_RETURN(published->locator, store_->get_locator(locator_id));
      AMS_ASSIGN_OR_RETURN(published->asset, store_->get_asset(published->locator.asset));
      AMS_ASSIGN_OR_RETURN(published->policy, store_->get_policy(published->locator.policy));
      return std::shared_ptr<const Published>(std::move(published));
    };
    Result<std::shared_ptr<const Published>> filled = fill();
    if (!filled) {
      *error = from_status(filled.status(), hresult::kLocatorNotFound);
      return filled.status();
    }
    entry = *filled;
    cache_[locator_id] = entry;
  }
  if (!store::is_active(entry->locator, now_iso)) {
    *error = http_error(404, hresult::kLocatorNotActive,
                        "locator " + locator_id + " is outside its start/end time");
    return not_found(error->detail);
  }
  return entry;
}

}  // namespace ams::server
