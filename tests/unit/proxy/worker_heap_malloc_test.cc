// The malloc and operator new that the weir binary links (proxy/worker_heap_malloc.cc), in a test
// binary that links them the same way: registered threads get WorkerHeap blocks, everything else
// tcmalloc's, and every entry point frees and resizes both kinds.

#include <malloc.h>

#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "proxy/worker_heap.h"

namespace proxy {
namespace {

bool IsWorkerBlock(const void* block) { return WorkerHeap::ProcessHeap()->Contains(block); }

// Runs `body` on a new thread registered with the process heap.
template <typename Body>
void OnWorkerThread(Body body) {
  std::thread thread([&] {
    WorkerHeap::UseOnThisThread();
    ASSERT_GE(WorkerHeap::ThisThread(), 0);
    body();
  });
  thread.join();
}

TEST(WorkerHeapMallocTest, TheBinaryInstallsTheHeapBeforeMain) {
  ASSERT_NE(WorkerHeap::ProcessHeap(), nullptr);
}

TEST(WorkerHeapMallocTest, UnregisteredThreadsUseTcmalloc) {
  void* block = std::malloc(100);
  EXPECT_FALSE(IsWorkerBlock(block));
  std::free(block);
  auto object = std::make_unique<std::string>(50, 'x');
  EXPECT_FALSE(IsWorkerBlock(object.get()));
}

TEST(WorkerHeapMallocTest, EveryEntryPointOnAWorkerThread) {
  OnWorkerThread([] {
    char* block = static_cast<char*>(std::malloc(100));
    ASSERT_TRUE(IsWorkerBlock(block));
    std::memset(block, 'a', 100);
    EXPECT_GE(malloc_usable_size(block), 100u);

    // Growing within the block keeps it; beyond, the bytes move (here to tcmalloc).
    const auto before = reinterpret_cast<uintptr_t>(block);
    block = static_cast<char*>(std::realloc(block, 110));
    EXPECT_EQ(reinterpret_cast<uintptr_t>(block), before);
    block = static_cast<char*>(std::realloc(block, 10000));
    ASSERT_NE(block, nullptr);
    EXPECT_FALSE(IsWorkerBlock(block));
    EXPECT_EQ(std::string(block, 100), std::string(100, 'a'));
    // And shrinking a tcmalloc block stays with tcmalloc.
    block = static_cast<char*>(std::realloc(block, 50));
    EXPECT_EQ(std::string(block, 50), std::string(50, 'a'));
    std::free(block);

    auto* zeroed = static_cast<unsigned char*>(std::calloc(30, 10));
    ASSERT_TRUE(IsWorkerBlock(zeroed));
    for (int i = 0; i < 300; ++i) ASSERT_EQ(zeroed[i], 0) << i;
    std::memset(zeroed, 0xff, 300);
    std::free(zeroed);
    zeroed = static_cast<unsigned char*>(std::calloc(30, 10));  // the same slot, dirty before
    for (int i = 0; i < 300; ++i) ASSERT_EQ(zeroed[i], 0) << i;
    std::free(zeroed);
    volatile size_t too_many = SIZE_MAX / 2;  // volatile: the compiler would flag the overflow
    EXPECT_EQ(std::calloc(too_many, 4), nullptr);

    void* aligned = std::aligned_alloc(16, 64);
    EXPECT_TRUE(IsWorkerBlock(aligned));
    std::free(aligned);
    void* wide = nullptr;
    ASSERT_EQ(posix_memalign(&wide, 256, 100), 0);
    EXPECT_EQ(reinterpret_cast<uintptr_t>(wide) % 256, 0u);
    EXPECT_FALSE(IsWorkerBlock(wide));
    std::free(wide);
    EXPECT_EQ(posix_memalign(&wide, 3, 100), EINVAL);

    void* large = std::malloc(WorkerHeap::kMaxBlock + 1);
    EXPECT_FALSE(IsWorkerBlock(large));
    std::free(large);

    auto object = std::make_unique<std::string>(50, 'x');
    EXPECT_TRUE(IsWorkerBlock(object.get()));
    struct alignas(64) Wide {
      char bytes[64];
    };
    auto wide_object = std::make_unique<Wide>();
    EXPECT_EQ(reinterpret_cast<uintptr_t>(wide_object.get()) % 64, 0u);
    auto array = std::make_unique<int[]>(100);
    EXPECT_TRUE(IsWorkerBlock(array.get()));
  });
}

// Blocks allocated on worker threads, freed on others (and the other way round), under load:
// every block keeps its bytes until freed and nothing is handed out twice. Sizes are 4 B to
// `max_words` × 4 B; with one large size the owners' classes run full, so they take back other
// threads' frees while those are still arriving.
void RunCrossThreadLoad(size_t min_words, size_t max_words) {
  constexpr int kThreads = 4;
  constexpr int kRounds = 20000;
  std::mutex mu;
  std::vector<std::pair<uint32_t*, uint32_t>> handoff;  // block, stamp
  std::atomic<int> bad{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      if (t % 2 == 0) WorkerHeap::UseOnThisThread();  // half of them registered
      uint32_t seed = 12345 + t;
      std::vector<std::pair<uint32_t*, uint32_t>> mine;
      for (int round = 0; round < kRounds; ++round) {
        seed = seed * 1664525 + 1013904223;
        const size_t words = min_words + seed % (max_words - min_words + 1);
        auto* block = static_cast<uint32_t*>(std::malloc(words * 4));
        for (size_t i = 0; i < words; ++i) block[i] = seed;
        block[0] = static_cast<uint32_t>(words);
        mine.emplace_back(block, seed);
        if (mine.size() > 64 || round + 1 == kRounds) {
          std::vector<std::pair<uint32_t*, uint32_t>> taken;
          {
            std::lock_guard lock(mu);
            taken.swap(handoff);
            handoff.swap(mine);
          }
          for (auto [freed, stamp] : taken) {
            for (uint32_t i = 1; i < freed[0]; ++i) {
              if (freed[i] != stamp) ++bad;
            }
            std::free(freed);
          }
          mine.clear();
        }
      }
    });
  }
  for (auto& thread : threads) thread.join();
  for (auto [freed, stamp] : handoff) std::free(freed);
  EXPECT_EQ(bad.load(), 0);
}

TEST(WorkerHeapMallocTest, BlocksCrossThreadsUnderLoad) { RunCrossThreadLoad(1, 300); }

TEST(WorkerHeapMallocTest, FullClassesTakeBackFreesFromOtherThreads) {
  RunCrossThreadLoad(900, 1000);  // the 4 KiB class: 128 slots per thread
}

}  // namespace
}  // namespace proxy
