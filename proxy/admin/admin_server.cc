#include "proxy/admin/admin_server.h"

#include "absl/strings/str_cat.h"
#include "boost/asio/as_tuple.hpp"
#include "boost/asio/co_spawn.hpp"
#include "boost/asio/detached.hpp"
#include "boost/asio/use_awaitable.hpp"
#include "boost/beast/core/flat_buffer.hpp"
#include "boost/beast/http/read.hpp"
#include "boost/beast/http/string_body.hpp"
#include "boost/beast/http/write.hpp"

namespace proxy::admin {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
constexpr auto kNoThrow = asio::as_tuple(asio::use_awaitable);

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string Decode(std::string_view text) {
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '+') {
      out.push_back(' ');
    } else if (text[i] == '%' && i + 2 < text.size() && HexValue(text[i + 1]) >= 0 &&
               HexValue(text[i + 2]) >= 0) {
      out.push_back(static_cast<char>(HexValue(text[i + 1]) * 16 + HexValue(text[i + 2])));
      i += 2;
    } else {
      out.push_back(text[i]);
    }
  }
  return out;
}

asio::awaitable<void> Serve(tcp::socket socket,
                            std::function<AdminResponse(const AdminRequest&)> dispatch) {
  beast::flat_buffer buffer;
  while (true) {
    http::request_parser<http::string_body> parser;
    parser.header_limit(16 * 1024);
    parser.body_limit(1024 * 1024);
    auto [ec, n] = co_await http::async_read(socket, buffer, parser, kNoThrow);
    if (ec) break;
    const auto& request = parser.get();
    AdminRequest admin;
    admin.method = std::string(request.method_string());
    std::string_view target(request.target().data(), request.target().size());
    size_t question = target.find('?');
    admin.path = std::string(target.substr(0, question));
    if (question != std::string_view::npos) admin.query = ParseQuery(target.substr(question + 1));
    AdminResponse result = dispatch(admin);

    http::response<http::string_body> response{static_cast<http::status>(result.status),
                                               request.version()};
    response.set(http::field::content_type, result.content_type);
    response.set(http::field::cache_control, "no-cache, max-age=0");
    response.set("x-content-type-options", "nosniff");
    response.set(http::field::server, "envoy");
    response.keep_alive(request.keep_alive());
    response.body() = std::move(result.body);
    response.prepare_payload();
    auto [write_ec, written] = co_await http::async_write(socket, response, kNoThrow);
    if (write_ec || !request.keep_alive()) break;
  }
  boost::system::error_code ignored;
  socket.shutdown(tcp::socket::shutdown_both, ignored);
  socket.close(ignored);
}

}  // namespace

std::map<std::string, std::string> ParseQuery(std::string_view query) {
  std::map<std::string, std::string> params;
  while (!query.empty()) {
    size_t amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    size_t eq = pair.find('=');
    params[Decode(pair.substr(0, eq))] =
        eq == std::string_view::npos ? "" : Decode(pair.substr(eq + 1));
    if (amp == std::string_view::npos) break;
    query.remove_prefix(amp + 1);
  }
  return params;
}

AdminServer::AdminServer(asio::io_context& io) : io_(io), acceptor_(io) {}

AdminServer::~AdminServer() { Stop(); }

void AdminServer::AddHandler(std::string path, std::string help, bool post_only,
                             Handler handler) {
  handlers_[std::move(path)] = Entry{std::move(help), post_only, std::move(handler)};
}

AdminResponse AdminServer::Dispatch(const AdminRequest& request) const {
  if (request.path == "/" || request.path == "/help") {
    std::string body = "admin commands are:\n";
    for (const auto& [path, entry] : handlers_) {
      absl::StrAppend(&body, "  ", path, ": ", entry.help, "\n");
    }
    return {.status = 200, .body = std::move(body)};
  }
  auto it = handlers_.find(request.path);
  if (it == handlers_.end()) {
    return {.status = 404, .body = absl::StrCat("invalid path. ", request.path, " not found\n")};
  }
  if (it->second.post_only && request.method != "POST") {
    return {.status = 400, .body = "This endpoint requires POST\n"};
  }
  return it->second.handler(request);
}

absl::StatusOr<tcp::endpoint> AdminServer::Start(const tcp::endpoint& at) {
  boost::system::error_code ec;
  acceptor_.open(at.protocol(), ec);
  if (!ec) acceptor_.set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec) acceptor_.bind(at, ec);
  if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    return absl::UnavailableError(
        absl::StrCat("cannot listen for admin on ", at.address().to_string(), ":", at.port(),
                     ": ", ec.message()));
  }
  tcp::endpoint bound = acceptor_.local_endpoint(ec);
  asio::co_spawn(
      io_,
      [this]() -> asio::awaitable<void> {
        while (acceptor_.is_open()) {
          auto [accept_ec, socket] = co_await acceptor_.async_accept(kNoThrow);
          if (accept_ec) {
            if (!acceptor_.is_open()) break;
            continue;
          }
          asio::co_spawn(io_,
                         Serve(std::move(socket),
                               [this](const AdminRequest& r) { return Dispatch(r); }),
                         asio::detached);
        }
      },
      asio::detached);
  return bound;
}

void AdminServer::Stop() {
  boost::system::error_code ignored;
  acceptor_.close(ignored);
}

}  // namespace proxy::admin
