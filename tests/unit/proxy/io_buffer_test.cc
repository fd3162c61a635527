// IoBuffer: reads append, parsers consume, space is compacted before it grows, growth keeps the
// unread bytes and stops at the caller's maximum.

#include "proxy/io_buffer.h"

#include <cstring>
#include <string>

#include "gtest/gtest.h"
#include "proxy/read_buffer_pool.h"

namespace proxy {
namespace {

// Copies `text` into the buffer the way a read does.
void Append(IoBuffer& buffer, const std::string& text, size_t max_capacity = 1 << 20) {
  boost::asio::mutable_buffer space = buffer.Prepare(text.size(), max_capacity);
  ASSERT_GE(space.size(), text.size());
  std::memcpy(space.data(), text.data(), text.size());
  buffer.Commit(text.size());
}

TEST(IoBufferTest, AppendsAndConsumes) {
  IoBuffer buffer(16);
  EXPECT_TRUE(buffer.empty());
  Append(buffer, "hello ");
  Append(buffer, "world");
  EXPECT_EQ(buffer.Data(), "hello world");
  buffer.Consume(6);
  EXPECT_EQ(buffer.Data(), "world");
  EXPECT_EQ(buffer.size(), 5u);
  buffer.Consume(5);
  EXPECT_TRUE(buffer.empty());
  EXPECT_EQ(buffer.capacity(), 16u);
}

TEST(IoBufferTest, CompactsBeforeGrowing) {
  IoBuffer buffer(16);
  Append(buffer, "0123456789abc");
  buffer.Consume(10);
  // 3 unread bytes and 3 free at the end: asking for 10 moves the unread bytes to the front.
  boost::asio::mutable_buffer space = buffer.Prepare(10, 16);
  EXPECT_EQ(space.size(), 13u);
  EXPECT_EQ(buffer.capacity(), 16u);
  EXPECT_EQ(buffer.Data(), "abc");
}

TEST(IoBufferTest, GrowsKeepingUnreadBytesUpToTheMaximum) {
  IoBuffer buffer(8);
  Append(buffer, "abcdefgh", 8);
  EXPECT_TRUE(buffer.Full(8));
  Append(buffer, "ijklmnop", 64);
  EXPECT_EQ(buffer.Data(), "abcdefghijklmnop");
  EXPECT_GE(buffer.capacity(), 16u);
  EXPECT_LE(buffer.capacity(), 64u);
  // At the maximum, Prepare hands out what is left and Full reports it.
  boost::asio::mutable_buffer space = buffer.Prepare(1000, 32);
  EXPECT_EQ(buffer.capacity(), 32u);
  EXPECT_EQ(space.size(), 16u);
  buffer.Commit(space.size());
  EXPECT_TRUE(buffer.Full(32));
  EXPECT_EQ(buffer.Data().substr(0, 16), "abcdefghijklmnop");
}

TEST(IoBufferTest, AnEmptyBufferGrowsOnFirstUse) {
  IoBuffer buffer(0);
  EXPECT_EQ(buffer.capacity(), 0u);
  EXPECT_TRUE(buffer.Data().empty());
  Append(buffer, "x");
  EXPECT_EQ(buffer.Data(), "x");
}

TEST(IoBufferTest, ReleaseGivesPoolSizedStorageBackOnlyWhenEmpty) {
  ReadBufferPool pool;
  IoBuffer buffer(0);
  ReadBufferPool::Buffer pooled = pool.Take();
  std::memcpy(pooled.get(), "GET / HTTP/1.1\r\n", 16);
  char* const storage = pooled.get();
  buffer.CommitRead(16, std::move(pooled));  // a pooled read's buffer becomes the storage
  EXPECT_EQ(buffer.Data(), "GET / HTTP/1.1\r\n");
  EXPECT_EQ(buffer.capacity(), ReadBufferPool::kBufferSize);

  buffer.Consume(4);
  buffer.Release(pool);  // bytes still unread: kept
  EXPECT_EQ(buffer.Data(), "/ HTTP/1.1\r\n");
  EXPECT_EQ(pool.spare(), 0u);

  buffer.Consume(buffer.size());
  buffer.Release(pool);
  EXPECT_EQ(buffer.capacity(), 0u);
  ASSERT_EQ(pool.spare(), 1u);
  EXPECT_EQ(pool.Take().get(), storage);

  // Storage of another size (grown for a large head) is freed, not pooled.
  Append(buffer, "abc");
  buffer.Consume(3);
  buffer.Release(pool);
  EXPECT_EQ(buffer.capacity(), 0u);
  EXPECT_EQ(pool.spare(), 0u);
  // A read into the buffer's own space passes no pooled buffer.
  Append(buffer, "def");
  buffer.CommitRead(0, nullptr);
  EXPECT_EQ(buffer.Data(), "def");
}

}  // namespace
}  // namespace proxy
