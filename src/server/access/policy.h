// Who may talk to the server, checked on every request before routing (http::Middleware), in
// Ollama's order: the browser origin (access/origin.h: CORS, preflights, 403), the Host header
// (access/host.h: DNS rebinding, 403), then the API key when CORRAL_API_KEYS is set
// (access/auth.h: 401). A request that passes carries its key's tenant in Request::tenant.
#pragma once

#include <memory>

#include "server/access/auth.h"
#include "server/access/host.h"
#include "server/access/origin.h"
#include "server/http/server.h"

namespace corral::server {

struct AccessPolicy {
  OriginPolicy origins;
  HostPolicy hosts;
  ApiKeys keys;
};

http::Middleware make_access_middleware(std::shared_ptr<const AccessPolicy> policy);

}  // namespace corral::server
