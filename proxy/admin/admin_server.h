#pragma once

// AdminServer: the admin HTTP/1.1 listener (Envoy's admin API), on the main thread's io_context.
// It only parses requests and dispatches them to handlers by path; the handlers (admin_handlers)
// produce the bodies. Mutating endpoints are POST-only, as in Envoy: a GET gets 400 and has no
// effect.

#include <functional>
#include <map>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "boost/asio/io_context.hpp"
#include "boost/asio/ip/tcp.hpp"

namespace proxy::admin {

struct AdminRequest {
  std::string method;
  std::string path;                             // without the query
  std::map<std::string, std::string> query;     // decoded ?a=b&c
};

struct AdminResponse {
  int status = 200;
  std::string content_type = "text/plain; charset=UTF-8";
  std::string body;
};

class AdminServer {
 public:
  using Handler = std::function<AdminResponse(const AdminRequest&)>;

  explicit AdminServer(boost::asio::io_context& io);
  ~AdminServer();

  // `post_only`: a mutation (POST required).
  void AddHandler(std::string path, std::string help, bool post_only, Handler handler);
  // Binds and starts accepting; returns the bound endpoint (port 0 resolved).
  absl::StatusOr<boost::asio::ip::tcp::endpoint> Start(const boost::asio::ip::tcp::endpoint& at);
  void Stop();

 private:
  struct Entry {
    std::string help;
    bool post_only;
    Handler handler;
  };
  AdminResponse Dispatch(const AdminRequest& request) const;

  boost::asio::io_context& io_;
  boost::asio::ip::tcp::acceptor acceptor_;
  std::map<std::string, Entry> handlers_;
};

// Parses "a=b&c=d" (percent-decoded; "+" is a space, as in HTML forms and Envoy's admin).
std::map<std::string, std::string> ParseQuery(std::string_view query);

}  // namespace proxy::admin
