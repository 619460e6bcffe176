#include "server/http/server.h"

#include "server/http/server_core.h"

namespace corral::http {

Server::Server(ServerOptions options) : core_(std::make_shared<detail::ServerCore>(std::move(options))) {}

Server::~Server() { core_->shutdown_unsynchronized(); }

void Server::route(std::string method, std::string pattern, Handler handler) {
  core_->router.add(std::move(method), pattern, std::move(handler));
}

void Server::route_streaming_body(std::string method, std::string pattern, StreamingHandler handler) {
  core_->streaming_router.add(std::move(method), pattern, std::move(handler));
}

void Server::set_not_found(Handler handler) { core_->not_found = std::move(handler); }

void Server::set_middleware(Middleware middleware) { core_->middleware = std::move(middleware); }

Status Server::listen() { return core_->listen(); }

int Server::port() const { return core_->port(); }

std::string Server::local_address() const { return core_->local_address(); }

void Server::run() { core_->run(); }

void Server::stop(std::chrono::milliseconds grace) { core_->stop(grace); }

size_t Server::connection_count() const { return core_->connection_count(); }

}  // namespace corral::http
