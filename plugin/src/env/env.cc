#include "env/env.h"

#include <fcntl.h>
#include <openssl/rand.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <limits>
#include <thread>

namespace regulars {
namespace {

Error FileError(const std::string& doing, const std::string& path, int error) {
  return Error::Storage("cannot " + doing + " " + path + ": " + std::strerror(error), path);
}

// Writes all of `bytes` to `fd`, through short writes and signals.
bool WriteAll(int fd, std::string_view bytes) {
  while (!bytes.empty()) {
    ssize_t n = ::write(fd, bytes.data(), bytes.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    bytes.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

// Flushes the folder's entry for `path`, so the rename itself survives a power cut. Best
// effort: the file is already whole under one name or the other.
void SyncFolderOf(const std::string& path) {
  size_t slash = path.rfind('/');
  std::string folder = slash == std::string::npos ? "." : slash == 0 ? "/" : path.substr(0, slash);
  int fd = ::open(folder.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return;
  (void)::fsync(fd);
  ::close(fd);
}

class PosixEnv final : public Env {
 public:
  int64_t NowMs() override {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  }

  void SleepMs(int64_t ms) override {
    if (ms > 0) std::this_thread::sleep_for(std::chrono::milliseconds(ms));
  }

  Status RandomBytes(std::span<unsigned char> out) override {
    if (out.size() > static_cast<size_t>(std::numeric_limits<int>::max()) ||
        RAND_bytes(out.data(), static_cast<int>(out.size())) != 1) {
      return Error::Internal("no randomness from the system");
    }
    return Status::Ok();
  }

  Result<std::string> ReadFile(const std::string& path, size_t max_bytes) override {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return FileError("read", path, errno);
    std::string content;
    char buffer[65536];
    while (content.size() < max_bytes) {
      size_t want = std::min(sizeof buffer, max_bytes - content.size());
      ssize_t n = ::read(fd, buffer, want);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) {
        int error = errno;  // a folder fails here, with EISDIR
        ::close(fd);
        return FileError("read", path, error);
      }
      if (n == 0) break;
      content.append(buffer, static_cast<size_t>(n));
    }
    ::close(fd);
    return content;
  }

  FileStamp StampOf(const std::string& path) override {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) return {};
    return {true, static_cast<uint64_t>(st.st_ino), static_cast<int64_t>(st.st_size),
            static_cast<int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec};
  }

  Status WriteFileAtomically(const std::string& path, std::string_view bytes, int mode) override {
    std::string temporary = path + ".new-" + std::to_string(::getpid());
    int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
                    static_cast<mode_t>(mode));
    if (fd < 0) return FileError("write", temporary, errno);
    bool written = WriteAll(fd, bytes) && ::fsync(fd) == 0;
    int error = errno;
    ::close(fd);
    if (!written || std::rename(temporary.c_str(), path.c_str()) != 0) {
      if (written) error = errno;
      std::remove(temporary.c_str());
      return FileError("replace", path, error);
    }
    SyncFolderOf(path);
    return Status::Ok();
  }
};

}  // namespace

Env* Env::Default() {
  static PosixEnv* env = new PosixEnv();  // never destroyed: threads may outlive main
  return env;
}

Result<uint64_t> Env::RandomU64() {
  unsigned char bytes[8];
  REGULARS_TRY(RandomBytes(bytes));
  uint64_t value = 0;
  for (unsigned char b : bytes) value = (value << 8) | b;
  return value;
}

}  // namespace regulars
