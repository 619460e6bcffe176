// The one place a StatusCode becomes an HTTP status: layers below server/ speak codes only.
#pragma once

#include "base/status.h"

namespace corral::server {

// kCancelled gives 499 (nginx's "client closed request"): nobody receives it, but the request
// log and the per-status request counter record it.
int http_status_for(StatusCode code);

}  // namespace corral::server
