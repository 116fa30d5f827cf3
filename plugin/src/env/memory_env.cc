#include "env/memory_env.h"

namespace regulars {

MemoryEnv::MemoryEnv(int64_t now_ms, uint64_t seed) : now_ms_(now_ms), random_state_(seed) {}

int64_t MemoryEnv::NowMs() {
  std::lock_guard lock(mutex_);
  return now_ms_;
}

void MemoryEnv::SleepMs(int64_t ms) {
  std::lock_guard lock(mutex_);
  sleeps_.push_back(ms);
  if (ms > 0) now_ms_ += ms;
}

Status MemoryEnv::RandomBytes(std::span<unsigned char> out) {
  std::lock_guard lock(mutex_);
  for (unsigned char& byte : out) {
    // SplitMix64: a fixed sequence per seed, well spread even from seeds 1, 2, 3.
    uint64_t z = (random_state_ += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    byte = static_cast<unsigned char>(z ^ (z >> 31));
  }
  return Status::Ok();
}

Result<std::string> MemoryEnv::ReadFile(const std::string& path, size_t max_bytes) {
  std::lock_guard lock(mutex_);
  auto file = files_.find(path);
  if (file == files_.end()) {
    return Error::Storage("cannot read " + path + ": No such file or directory", path);
  }
  return file->second.content.substr(0, max_bytes);
}

FileStamp MemoryEnv::StampOf(const std::string& path) {
  std::lock_guard lock(mutex_);
  auto file = files_.find(path);
  if (file == files_.end()) return {};
  return {true, file->second.id, static_cast<int64_t>(file->second.content.size()),
          file->second.modified_ms * 1'000'000};
}

Status MemoryEnv::WriteFileAtomically(const std::string& path, std::string_view bytes, int) {
  std::lock_guard lock(mutex_);
  files_[path] = File{std::string(bytes), ++writes_, now_ms_};
  return Status::Ok();
}

void MemoryEnv::SetNowMs(int64_t now_ms) {
  std::lock_guard lock(mutex_);
  now_ms_ = now_ms;
}

void MemoryEnv::AdvanceMs(int64_t ms) {
  std::lock_guard lock(mutex_);
  now_ms_ += ms;
}

std::vector<int64_t> MemoryEnv::sleeps() const {
  std::lock_guard lock(mutex_);
  return sleeps_;
}

}  // namespace regulars
