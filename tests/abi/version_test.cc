// The library's version is the build's project version, not a literal kept by hand.
#include <gtest/gtest.h>

#include <string>

#include "regulars/regulars.h"

TEST(Version, IsTheProjectVersionOfTheBuild) {
  EXPECT_EQ(std::string(regulars_version()), REGULARS_EXPECTED_VERSION);
}

TEST(Version, AbiVersionIsTheHeaders) { EXPECT_EQ(regulars_abi_version(), REGULARS_ABI_VERSION); }
