// LogitSortKey (lib/runtime/logit_order.h): sorting the keys must give exactly the order the
// sampler defines (descending logit, ties by ascending id, -0 equal to +0), and a key must
// give back its candidate. Checked against the comparator on values chosen to hit every
// corner of the float encoding: signs, zeros, subnormals, infinities, the largest finite
// values, and many ties.
#include "lib/runtime/logit_order.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <utility>
#include <vector>

#include "gtest/gtest.h"

namespace ember {
namespace {

using Candidate = std::pair<float, int32_t>;

bool ByLogit(const Candidate& a, const Candidate& b) {
  return a.first > b.first || (a.first == b.first && a.second < b.second);
}

std::vector<float> CornerValues() {
  const float inf = std::numeric_limits<float>::infinity();
  const float max = std::numeric_limits<float>::max();
  const float min_normal = std::numeric_limits<float>::min();
  const float min_sub = std::numeric_limits<float>::denorm_min();
  return {0.0f, -0.0f, inf, -inf, max, -max, min_normal, -min_normal, min_sub, -min_sub,
          1.0f, -1.0f, 1.5f, -1.5f, std::nextafter(1.0f, 2.0f), std::nextafter(-1.0f, -2.0f), 3e-39f, -3e-39f,
          12.25f, -12.25f, 1e30f, -1e30f};
}

void ExpectKeyOrderMatches(std::vector<Candidate> candidates) {
  std::vector<uint64_t> keys;
  for (const Candidate& c : candidates) keys.push_back(LogitSortKey(c.first, c.second));
  std::sort(keys.begin(), keys.end());
  std::stable_sort(candidates.begin(), candidates.end(), ByLogit);
  ASSERT_EQ(keys.size(), candidates.size());
  for (size_t i = 0; i < keys.size(); ++i) {
    const Candidate back = LogitSortKeyCandidate(keys[i]);
    EXPECT_EQ(back.second, candidates[i].second) << "position " << i;
    // The same value; -0 comes back as +0.
    EXPECT_TRUE(back.first == candidates[i].first) << back.first << " vs " << candidates[i].first;
    EXPECT_FALSE(std::signbit(back.first) && back.first == 0.0f);
  }
}

TEST(LogitSortKeyTest, CornerValuesSortLikeTheComparator) {
  std::vector<Candidate> candidates;
  int32_t id = 0;
  // Every corner value three times under different ids (ties), in a shuffled order.
  for (int rep = 0; rep < 3; ++rep) {
    for (float v : CornerValues()) candidates.push_back({v, id++});
  }
  std::mt19937 rng(7);
  std::shuffle(candidates.begin(), candidates.end(), rng);
  ExpectKeyOrderMatches(candidates);
}

TEST(LogitSortKeyTest, RandomLogitsWithTiesSortLikeTheComparator) {
  std::mt19937 rng(11);
  std::normal_distribution<float> normal(0.0f, 8.0f);
  std::uniform_int_distribution<uint32_t> any_bits;
  std::vector<Candidate> candidates;
  for (int32_t id = 0; id < 51200; ++id) {
    float v;
    switch (id % 4) {
      case 0: v = normal(rng); break;
      case 1: v = std::round(normal(rng));  break;  // many exact ties
      case 2: {  // any non-NaN bit pattern
        uint32_t bits = any_bits(rng);
        std::memcpy(&v, &bits, 4);
        if (std::isnan(v)) v = -std::numeric_limits<float>::infinity();
        break;
      }
      default: v = (id % 8 == 3) ? -0.0f : 0.0f;
    }
    candidates.push_back({v, id});
  }
  std::shuffle(candidates.begin(), candidates.end(), rng);
  ExpectKeyOrderMatches(candidates);
}

TEST(LogitSortKeyTest, LargestIdsKeepTheirPlace) {
  const int32_t big = std::numeric_limits<int32_t>::max();
  ExpectKeyOrderMatches({{1.0f, big}, {1.0f, 0}, {1.0f, big - 1}, {-1.0f, big}, {2.0f, 5}});
}

}  // namespace
}  // namespace ember
