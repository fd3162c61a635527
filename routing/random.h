#pragma once

// A small, fast pseudo-random generator for the request path. Each proxy worker owns one
// (xoshiro256++ seeded through splitmix64) and passes its values into routing: routing itself
// never draws randomness, so every pick is a pure function of its inputs and tests are
// deterministic. Not cryptographic; not thread-safe by design (one per thread, no atomics).

#include <cstdint>

namespace routing {

// One step of splitmix64: advances `state` and returns a well-mixed 64-bit value. Also used to
// derive several independent-looking values from one random input (power-of-two-choices).
inline uint64_t SplitMix64(uint64_t& state) {
  uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

// xoshiro256++ (Blackman and Vigna, 2019): 256 bits of state, period 2^256 - 1.
class Random {
 public:
  explicit Random(uint64_t seed) {
    // splitmix64 never yields four zero words from one seed, so the state is never all zero.
    for (uint64_t& word : state_) word = SplitMix64(seed);
  }

  uint64_t Next() {
    const uint64_t result = Rotl(state_[0] + state_[3], 23) + state_[0];
    const uint64_t t = state_[1] << 17;
    state_[2] ^= state_[0];
    state_[3] ^= state_[1];
    state_[1] ^= state_[2];
    state_[0] ^= state_[3];
    state_[2] ^= t;
    state_[3] = Rotl(state_[3], 45);
    return result;
  }

  // UniformRandomBitGenerator, so it also works with <random> distributions in tests.
  using result_type = uint64_t;
  static constexpr result_type min() { return 0; }
  static constexpr result_type max() { return ~uint64_t{0}; }
  result_type operator()() { return Next(); }

 private:
  static uint64_t Rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

  uint64_t state_[4];
};

}  // namespace routing
