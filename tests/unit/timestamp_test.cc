#include "domain/timestamp.h"

#include <gtest/gtest.h>

namespace regulars {
namespace {

TEST(Timestamp, ParsesOffsetsToTheSameUtcInstant) {
  auto paris = ParseTimestamp("2026-11-23T10:15:00+01:00");
  auto utc = ParseTimestamp("2026-11-23T09:15:00Z");
  auto montreal = ParseTimestamp("2026-11-23T04:15:00-05:00");
  ASSERT_TRUE(paris.ok() && utc.ok() && montreal.ok());
  EXPECT_EQ(*paris, *utc);
  EXPECT_EQ(*montreal, *utc);
  EXPECT_EQ(*utc, 1795425300000);
}

TEST(Timestamp, KeepsMilliseconds) {
  EXPECT_EQ(*ParseTimestamp("2026-11-23T09:15:00.250Z"), 1795425300250);
  EXPECT_EQ(*ParseTimestamp("2026-11-23T09:15:00.2Z"), 1795425300200);
}

TEST(Timestamp, RefusesWhatIsNotAnInstant) {
  for (const char* bad :
       {"2026-11-23T10:15:00", "2026-02-30T10:00:00Z", "2026-11-23 10:15:00Z",
        "2026-13-01T00:00:00Z", "2026-11-23T24:00:00Z", "yesterday", "", "2026-11-23T10:15:00+1",
        "2026-11-23T10:15:00Zjunk", "2026-11-23T10:15:00."}) {
    EXPECT_FALSE(ParseTimestamp(bad).ok()) << bad;
  }
  EXPECT_TRUE(ParseTimestamp("2028-02-29T00:00:00Z").ok());
}

TEST(Timestamp, FormatsUtc) {
  EXPECT_EQ(FormatTimestampUtc(1795425300000), "2026-11-23T09:15:00Z");
  EXPECT_EQ(FormatTimestampUtc(0), "1970-01-01T00:00:00Z");
}

}  // namespace
}  // namespace regulars
