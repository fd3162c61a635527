// DrainingReadBuffer's pooled form on real loopback sockets: a read holds a buffer from the
// worker's ReadBufferPool only once its socket has data, a waiting read holds none, the bytes land
// in the caller's slot, and a peer's close after its last data still ends the stream.

#include "proxy/draining_read.h"

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "boost/asio/io_context.hpp"
#include "boost/asio/ip/tcp.hpp"
#include "boost/asio/write.hpp"
#include "gtest/gtest.h"
#include "proxy/read_buffer_pool.h"

namespace proxy {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

struct ReadResult {
  boost::system::error_code ec;
  size_t bytes = 0;
};

class PooledReadTest : public ::testing::Test {
 protected:
  // A connected pair: `client` writes, the returned server side is watched and read.
  Socket Connect(tcp::socket& client) {
    tcp::acceptor acceptor(io_, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    client.connect(acceptor.local_endpoint());
    Socket server(io_.get_executor());
    acceptor.accept(server);
    watch_.Watch(server);
    return server;
  }

  void StartRead(Socket& socket, ReadBufferPool::Buffer* slot, std::optional<ReadResult>* result) {
    result->reset();
    socket.async_read_some(DrainingReadBuffer(pool_, slot, watch_),
                           [result](boost::system::error_code ec, size_t n) {
                             *result = ReadResult{ec, n};
                           });
  }

  // Runs handlers until `result` is set (bounded in time).
  void RunUntil(const std::optional<ReadResult>& result) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (!result.has_value() && std::chrono::steady_clock::now() < deadline) {
      io_.run_one_for(std::chrono::milliseconds(50));
    }
  }

  asio::io_context io_;
  PeerCloseWatch watch_{io_.get_executor()};
  ReadBufferPool pool_;
};

TEST_F(PooledReadTest, AWaitingReadHoldsNoBufferAndTheDataLandsInTheSlot) {
  tcp::socket client(io_);
  Socket server = Connect(client);
  ReadBufferPool::Buffer slot;
  std::optional<ReadResult> result;
  StartRead(server, &slot, &result);
  io_.poll();
  // The first attempt found nothing: its buffer went back to the pool before the read waited.
  EXPECT_FALSE(result.has_value());
  EXPECT_EQ(slot, nullptr);
  EXPECT_EQ(pool_.spare(), 1u);

  asio::write(client, asio::buffer(std::string("hello")));
  RunUntil(result);
  ASSERT_TRUE(result.has_value());
  ASSERT_FALSE(result->ec) << result->ec.message();
  ASSERT_NE(slot, nullptr);
  EXPECT_EQ(std::string(slot.get(), result->bytes), "hello");
  EXPECT_EQ(pool_.spare(), 0u);  // the caller holds it until its codec has the bytes
  pool_.Return(std::move(slot));
  EXPECT_EQ(pool_.spare(), 1u);
}

TEST_F(PooledReadTest, ManyWaitingConnectionsShareOneBuffer) {
  std::vector<tcp::socket> clients;
  std::vector<Socket> servers;
  constexpr int kConnections = 50;
  clients.reserve(kConnections);
  servers.reserve(kConnections);
  for (int i = 0; i < kConnections; ++i) {
    clients.emplace_back(io_);
    servers.push_back(Connect(clients.back()));
  }
  std::vector<ReadBufferPool::Buffer> slots(kConnections);
  std::vector<std::optional<ReadResult>> results(kConnections);
  for (int i = 0; i < kConnections; ++i) StartRead(servers[i], &slots[i], &results[i]);
  io_.poll();
  EXPECT_EQ(pool_.spare(), 1u);
  for (const auto& slot : slots) EXPECT_EQ(slot, nullptr);

  // One connection gets data; only it takes a buffer.
  asio::write(clients[7], asio::buffer(std::string("x")));
  RunUntil(results[7]);
  ASSERT_TRUE(results[7].has_value());
  EXPECT_EQ(results[7]->bytes, 1u);
  EXPECT_EQ(pool_.spare(), 0u);
  for (int i = 0; i < kConnections; ++i) {
    if (i != 7) {
      EXPECT_EQ(slots[i], nullptr) << i;
    }
  }
  for (auto& server : servers) server.close();
  io_.poll();
}

TEST_F(PooledReadTest, ThePeersCloseAfterItsLastDataEndsTheStream) {
  tcp::socket client(io_);
  Socket server = Connect(client);
  // The data and the FIN arrive before the first read: its short read must not hide the FIN.
  asio::write(client, asio::buffer(std::string("last words")));
  client.shutdown(tcp::socket::shutdown_send);
  ReadBufferPool::Buffer slot;
  std::optional<ReadResult> result;
  StartRead(server, &slot, &result);
  RunUntil(result);
  ASSERT_TRUE(result.has_value());
  ASSERT_FALSE(result->ec) << result->ec.message();
  EXPECT_EQ(std::string(slot.get(), result->bytes), "last words");
  pool_.Return(std::move(slot));

  StartRead(server, &slot, &result);
  RunUntil(result);
  ASSERT_TRUE(result.has_value()) << "the end of stream was never reported";
  EXPECT_EQ(result->ec, asio::error::eof);
  pool_.Return(std::move(slot));
  EXPECT_EQ(pool_.spare(), 1u);
}

TEST(ReadBufferPoolTest, HandsOutTheLastReturnedBufferFirstAndKeepsABoundedNumber) {
  ReadBufferPool pool;
  ReadBufferPool::Buffer first = pool.Take();
  ReadBufferPool::Buffer second = pool.Take();
  char* const second_data = second.get();
  pool.Return(std::move(first));
  pool.Return(std::move(second));
  EXPECT_EQ(pool.Take().get(), second_data);

  std::vector<ReadBufferPool::Buffer> many;
  for (size_t i = 0; i < ReadBufferPool::kMaxSpare + 10; ++i) many.push_back(pool.Take());
  for (auto& buffer : many) pool.Return(std::move(buffer));
  EXPECT_EQ(pool.spare(), ReadBufferPool::kMaxSpare);
  pool.Return(nullptr);
  EXPECT_EQ(pool.spare(), ReadBufferPool::kMaxSpare);
}

}  // namespace
}  // namespace proxy
