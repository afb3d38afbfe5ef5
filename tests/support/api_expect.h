// Assertions on the C API's failure contract: a status and the thread's last error message.
#ifndef EMBER_TESTS_SUPPORT_API_EXPECT_H_
#define EMBER_TESTS_SUPPORT_API_EXPECT_H_

#include <string>

#include "ember/ember.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

// `call` returns `status`, and ember_last_error() then contains `needle`.
#define EXPECT_FAILS_WITH(call, status, needle)                                                \
  do {                                                                                         \
    EXPECT_EQ((call), (status)) << #call;                                                      \
    EXPECT_THAT(std::string(ember_last_error()), ::testing::HasSubstr(needle)) << #call;       \
  } while (0)

#endif  // EMBER_TESTS_SUPPORT_API_EXPECT_H_
