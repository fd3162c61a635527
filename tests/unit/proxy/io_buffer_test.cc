// IoBuffer: reads append, parsers consume, space is compacted before it grows, growth keeps the
// unread bytes and stops at the caller's maximum.

#include "proxy/io_buffer.h"

#include <cstring>
#include <string>

#include "gtest/gtest.h"

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

}  // namespace
}  // namespace proxy
