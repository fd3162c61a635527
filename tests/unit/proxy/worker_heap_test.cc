#include "proxy/worker_heap.h"

#include <cstdint>
#include <cstring>
#include <set>
#include <thread>
#include <vector>

#include "gtest/gtest.h"

namespace proxy {
namespace {

uintptr_t Address(const void* block) { return reinterpret_cast<uintptr_t>(block); }

class WorkerHeapTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(heap_.ok());
    thread_ = heap_.RegisterThread();
    ASSERT_EQ(thread_, 0);
  }
  WorkerHeap heap_;
  int thread_ = -1;
};

TEST_F(WorkerHeapTest, EverySizeGetsAnAlignedBlockAtLeastThatBig) {
  for (size_t size = 0; size <= WorkerHeap::kMaxBlock; ++size) {
    void* block = heap_.Allocate(thread_, size);
    ASSERT_NE(block, nullptr) << size;
    EXPECT_TRUE(heap_.Contains(block));
    EXPECT_GE(heap_.BlockSize(block), std::max<size_t>(size, 1)) << size;
    EXPECT_EQ(Address(block) % 16, 0u) << size;
    std::memset(block, 0xab, size);
    heap_.Free(thread_, block);
  }
  EXPECT_EQ(heap_.Allocate(thread_, WorkerHeap::kMaxBlock + 1), nullptr);
  int outside = 0;
  EXPECT_FALSE(heap_.Contains(&outside));
}

// The property the heap exists for: whatever was freed, the next block is the lowest free one,
// so the blocks in use after a burst are as dense as on a fresh heap.
TEST_F(WorkerHeapTest, HandsOutTheLowestFreeBlockAfterABurst) {
  std::vector<void*> burst;
  for (int i = 0; i < 1000; ++i) burst.push_back(heap_.Allocate(thread_, 200));
  for (size_t i = 1; i < burst.size(); ++i) ASSERT_GT(Address(burst[i]), Address(burst[i - 1]));
  // Free in an order unrelated to the addresses, as a burst's streams end.
  for (size_t i = 0; i < burst.size(); i += 2) heap_.Free(thread_, burst[(i * 7) % burst.size()]);
  for (size_t i = 1; i < burst.size(); i += 2) heap_.Free(thread_, burst[(i * 7) % burst.size()]);
  std::vector<void*> after;
  for (int i = 0; i < 64; ++i) after.push_back(heap_.Allocate(thread_, 200));
  for (int i = 0; i < 64; ++i) EXPECT_EQ(after[i], burst[i]) << i;
  // A block freed in the middle is the next one handed out.
  heap_.Free(thread_, after[10]);
  EXPECT_EQ(heap_.Allocate(thread_, 200), after[10]);
}

TEST_F(WorkerHeapTest, ClassesDoNotShareBlocks) {
  std::set<uintptr_t> seen;
  for (size_t size : {1, 16, 17, 100, 1000, 1025, 4096}) {
    for (int i = 0; i < 50; ++i) {
      void* block = heap_.Allocate(thread_, size);
      EXPECT_TRUE(seen.insert(Address(block)).second) << size;
    }
  }
}

TEST_F(WorkerHeapTest, AFullClassFallsThroughAndRefillsOnFree) {
  std::vector<void*> blocks;
  while (void* block = heap_.Allocate(thread_, WorkerHeap::kMaxBlock)) blocks.push_back(block);
  EXPECT_EQ(blocks.size(), WorkerHeap::kSlabBytes / WorkerHeap::kMaxBlock);
  // Other classes are unaffected.
  EXPECT_NE(heap_.Allocate(thread_, 64), nullptr);
  heap_.Free(thread_, blocks[5]);
  EXPECT_EQ(heap_.Allocate(thread_, WorkerHeap::kMaxBlock), blocks[5]);
  EXPECT_EQ(heap_.Allocate(thread_, WorkerHeap::kMaxBlock), nullptr);
}

TEST_F(WorkerHeapTest, SmallClassesHoldFourThousandBlocks) {
  int count = 0;
  while (heap_.Allocate(thread_, 16) != nullptr) ++count;
  EXPECT_EQ(count, 4096);
}

TEST_F(WorkerHeapTest, UnregisteredThreadsAreNotServed) {
  EXPECT_EQ(heap_.Allocate(-1, 64), nullptr);
}

TEST_F(WorkerHeapTest, BlocksFreedByAnotherThreadComeBackToTheOwner) {
  std::vector<void*> blocks;
  while (void* block = heap_.Allocate(thread_, 3000)) blocks.push_back(block);
  ASSERT_FALSE(blocks.empty());
  std::thread other([&] {
    // Registered or not, a foreign thread's free goes to the owner's remote bitmap.
    const int other_thread = heap_.RegisterThread();
    EXPECT_EQ(other_thread, 1);
    heap_.Free(other_thread, blocks[3]);
    heap_.Free(-1, blocks[7]);
  });
  other.join();
  EXPECT_EQ(heap_.Allocate(thread_, 3000), blocks[3]);
  EXPECT_EQ(heap_.Allocate(thread_, 3000), blocks[7]);
  EXPECT_EQ(heap_.Allocate(thread_, 3000), nullptr);
}

TEST_F(WorkerHeapTest, ThreadsGetSeparateRangesUntilTheyRunOut) {
  void* mine = heap_.Allocate(thread_, 64);
  std::vector<int> threads;
  for (int i = 1; i < WorkerHeap::kMaxThreads; ++i) threads.push_back(heap_.RegisterThread());
  EXPECT_EQ(threads.back(), WorkerHeap::kMaxThreads - 1);
  EXPECT_EQ(heap_.RegisterThread(), -1);
  void* theirs = heap_.Allocate(threads.back(), 64);
  EXPECT_NE(theirs, mine);
  EXPECT_TRUE(heap_.Contains(theirs));
}

// With no process heap installed (every binary but weir), using it is a no-op.
TEST(WorkerHeapProcessTest, UseOnThisThreadWithoutAProcessHeapDoesNothing) {
  ASSERT_EQ(WorkerHeap::ProcessHeap(), nullptr);
  WorkerHeap::UseOnThisThread();
  EXPECT_EQ(WorkerHeap::ThisThread(), -1);
}

}  // namespace
}  // namespace proxy
