// The operating system as the till sees it (env/env.h): the real one on a temporary folder,
// and the in-memory one the other tests run on.
#include "env/env.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>

#include "env/memory_env.h"
#include "test_till.h"

namespace regulars::testing {
namespace {

std::vector<std::string> FilesIn(const std::string& folder) {
  std::vector<std::string> names;
  for (const auto& entry : std::filesystem::directory_iterator(folder)) {
    names.push_back(entry.path().filename().string());
  }
  return names;
}

TEST(Env, AnAtomicWriteReplacesTheFileWholeAndLeavesNoTemporaryFile) {
  TempDir dir;
  Env& env = *Env::Default();
  std::string path = dir.path() + "/store.json";
  ASSERT_TRUE(env.WriteFileAtomically(path, "first version\n").ok());
  ASSERT_TRUE(env.WriteFileAtomically(path, "second\n", 0600).ok());
  auto read = env.ReadFile(path, 1024);
  ASSERT_TRUE(read.ok()) << read.error().message;
  EXPECT_EQ(*read, "second\n");
  EXPECT_EQ(FilesIn(dir.path()), std::vector<std::string>{"store.json"});
  struct stat st {};
  ASSERT_EQ(stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
}

TEST(Env, AFailedAtomicWriteNamesTheFileAndLeavesNothingBehind) {
  TempDir dir;
  std::string path = dir.path() + "/no-such-folder/store.json";
  Status written = Env::Default()->WriteFileAtomically(path, "x");
  ASSERT_FALSE(written.ok());
  EXPECT_NE(written.error().message.find(dir.path() + "/no-such-folder/store.json"),
            std::string::npos)
      << written.error().message;
  EXPECT_TRUE(FilesIn(dir.path()).empty());
}

TEST(Env, ReadingAMissingFileNamesIt) {
  TempDir dir;
  std::string path = dir.path() + "/missing.json";
  auto read = Env::Default()->ReadFile(path, 1024);
  ASSERT_FALSE(read.ok());
  EXPECT_EQ(read.error().where, path);
  EXPECT_NE(read.error().message.find(path), std::string::npos) << read.error().message;
  EXPECT_NE(read.error().message.find("No such file"), std::string::npos);
}

TEST(Env, AFolderIsNotAFileToRead) {
  TempDir dir;
  auto read = Env::Default()->ReadFile(dir.path(), 1024);
  ASSERT_FALSE(read.ok());
  EXPECT_EQ(read.error().where, dir.path());
}

TEST(Env, AReadStopsAtItsLimit) {
  TempDir dir;
  std::string path = dir.path() + "/big";
  std::ofstream(path) << std::string(200'000, 'x');
  auto read = Env::Default()->ReadFile(path, 100'001);
  ASSERT_TRUE(read.ok());
  EXPECT_EQ(read->size(), 100'001u);
  auto whole = Env::Default()->ReadFile(path, 1 << 20);
  ASSERT_TRUE(whole.ok());
  EXPECT_EQ(whole->size(), 200'000u);
}

TEST(Env, AFileRewrittenAtOnceWithTheSameSizeGetsANewStamp) {
  TempDir dir;
  Env& env = *Env::Default();
  std::string path = dir.path() + "/store.json";
  EXPECT_FALSE(env.StampOf(path).exists);
  ASSERT_TRUE(env.WriteFileAtomically(path, "every 5").ok());
  FileStamp first = env.StampOf(path);
  EXPECT_TRUE(first.exists);
  EXPECT_EQ(first.size, 7);
  EXPECT_EQ(env.StampOf(path), first) << "an untouched file keeps its stamp";
  ASSERT_TRUE(env.WriteFileAtomically(path, "every 3").ok());  // no wait for a clock tick
  EXPECT_NE(env.StampOf(path), first);
}

TEST(Env, RandomBytesAreNotRepeated) {
  auto a = Env::Default()->RandomU64();
  auto b = Env::Default()->RandomU64();
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_NE(*a, *b);
}

TEST(MemoryEnv, ASleepMovesTheClockAtOnceAndIsRecorded) {
  MemoryEnv env(1'000'000);
  auto started = std::chrono::steady_clock::now();
  env.SleepMs(3'600'000);
  env.SleepMs(250);
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(1));
  EXPECT_EQ(env.NowMs(), 1'000'000 + 3'600'000 + 250);
  EXPECT_EQ(env.sleeps(), (std::vector<int64_t>{3'600'000, 250}));
  env.AdvanceMs(50);
  EXPECT_EQ(env.NowMs(), 1'000'000 + 3'600'300);
  EXPECT_EQ(env.sleeps().size(), 2u) << "moving the clock is not a sleep";
}

TEST(MemoryEnv, TheSameSeedGivesTheSameBytesAndAnotherSeedOthers) {
  MemoryEnv one(0, 7), same(0, 7), other(0, 8);
  auto a = one.RandomU64(), b = same.RandomU64(), c = other.RandomU64();
  ASSERT_TRUE(a.ok() && b.ok() && c.ok());
  EXPECT_EQ(*a, *b);
  EXPECT_NE(*a, *c);
  auto next = one.RandomU64();
  ASSERT_TRUE(next.ok());
  EXPECT_NE(*next, *a) << "a sequence, not one number";
}

TEST(MemoryEnv, FilesLiveInMemoryAndARewriteChangesTheStampWithTheClockStill) {
  MemoryEnv env;
  std::string path = "/nowhere/store.json";
  EXPECT_FALSE(env.StampOf(path).exists);
  auto missing = env.ReadFile(path, 100);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().where, path);
  ASSERT_TRUE(env.WriteFileAtomically(path, "every 5").ok());
  FileStamp first = env.StampOf(path);
  ASSERT_TRUE(env.WriteFileAtomically(path, "every 3").ok());
  EXPECT_NE(env.StampOf(path), first);
  auto read = env.ReadFile(path, 5);
  ASSERT_TRUE(read.ok());
  EXPECT_EQ(*read, "every") << "at most the limit";
  EXPECT_FALSE(std::filesystem::exists("/nowhere")) << "nothing on disk";
}

}  // namespace
}  // namespace regulars::testing
