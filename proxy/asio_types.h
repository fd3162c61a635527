#pragma once

// The asio types the data plane uses. Every worker object lives on exactly one io_context, so
// naming that io_context's concrete executor (instead of asio's type-erased any_io_executor)
// removes a type-erased dispatch from every I/O operation on the request path.

#include <chrono>

#include "boost/asio/as_tuple.hpp"
#include "boost/asio/awaitable.hpp"
#include "boost/asio/basic_socket_acceptor.hpp"
#include "boost/asio/basic_stream_socket.hpp"
#include "boost/asio/basic_waitable_timer.hpp"
#include "boost/asio/io_context.hpp"
#include "boost/asio/ip/tcp.hpp"
#include "boost/asio/use_awaitable.hpp"

namespace proxy {

using Executor = boost::asio::io_context::executor_type;
using Socket = boost::asio::basic_stream_socket<boost::asio::ip::tcp, Executor>;
using Acceptor = boost::asio::basic_socket_acceptor<boost::asio::ip::tcp, Executor>;
using Timer =
    boost::asio::basic_waitable_timer<std::chrono::steady_clock,
                                      boost::asio::wait_traits<std::chrono::steady_clock>, Executor>;
template <typename T>
using Task = boost::asio::awaitable<T, Executor>;

// Completion token for coroutines: errors come back as values (error_code first), never thrown.
inline constexpr auto kNoThrow = boost::asio::as_tuple(boost::asio::use_awaitable_t<Executor>{});

}  // namespace proxy
