// What the till and its sync ask of the operating system: the wall clock, sleeping,
// randomness, and whole-file reads and writes. One seam, so tests run on a clock that moves
// only when told (env/memory_env.h) and never sleep. The ledger's SQLite files are not
// here: SQLite opens them itself.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "result.h"

namespace regulars {

// What identifies a file's content without reading it: a rewrite (even in the same clock
// tick) or a rename over it gives a different stamp.
struct FileStamp {
  bool exists = false;
  uint64_t id = 0;  // the inode on disk; a write count in memory
  int64_t size = 0;
  int64_t modified_ns = 0;
  bool operator==(const FileStamp&) const = default;
};

// Implementations are thread-safe: the serve's nightly sync runs beside the checkouts.
class Env {
 public:
  virtual ~Env() = default;

  // The real one: the system clock, this thread sleeping, OpenSSL's RAND_bytes, POSIX
  // files. Lives as long as the process.
  static Env* Default();

  // Milliseconds since the Unix epoch, UTC.
  virtual int64_t NowMs() = 0;
  // Returns after `ms` milliseconds have passed on NowMs()'s clock (at once when ms <= 0).
  virtual void SleepMs(int64_t ms) = 0;
  // Fills `out` with cryptographically strong random bytes.
  virtual Status RandomBytes(std::span<unsigned char> out) = 0;
  // Eight random bytes as a number, for jitter.
  Result<uint64_t> RandomU64();

  // The first `max_bytes` bytes of the file (all of it when shorter). The error's `where`
  // names the file.
  virtual Result<std::string> ReadFile(const std::string& path, size_t max_bytes) = 0;
  // The file's stamp now, or one with exists == false.
  virtual FileStamp StampOf(const std::string& path) = 0;
  // Replaces the file with `bytes` so that a crash leaves the old content or the new, never
  // a mix: a temporary file beside it, flushed to disk, renamed over it.
  virtual Status WriteFileAtomically(const std::string& path, std::string_view bytes,
                                     int mode = 0644) = 0;
};

}  // namespace regulars
