#include "env/log.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <mutex>

namespace regulars {

std::string FormatLogLine(LogPriority priority, bool journal, const std::string& event,
                          const std::string& store_id, const std::string& till_id,
                          const nlohmann::ordered_json& fields) {
  nlohmann::ordered_json line{{"event", event}};
  if (!store_id.empty()) line["store_id"] = store_id;
  if (!till_id.empty()) line["till_id"] = till_id;
  if (fields.is_object()) {
    for (const auto& [key, value] : fields.items()) line[key] = value;
  }
  std::string text = line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  if (!journal) return text;
  return "<" + std::to_string(static_cast<int>(priority)) + ">" + text;
}

bool StreamIsJournal(const char* journal_stream, int fd) {
  if (journal_stream == nullptr) return false;
  std::string text(journal_stream);
  auto colon = text.find(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == text.size()) return false;
  std::string dev = text.substr(0, colon), ino = text.substr(colon + 1);
  if (dev.find_first_not_of("0123456789") != std::string::npos ||
      ino.find_first_not_of("0123456789") != std::string::npos || dev.size() > 20 ||
      ino.size() > 20) {
    return false;
  }
  struct stat st {};
  if (fstat(fd, &st) != 0) return false;
  return std::strtoull(dev.c_str(), nullptr, 10) == static_cast<unsigned long long>(st.st_dev) &&
         std::strtoull(ino.c_str(), nullptr, 10) == static_cast<unsigned long long>(st.st_ino);
}

std::string StderrPriorityPrefix(LogPriority priority) {
  if (!StreamIsJournal(std::getenv("JOURNAL_STREAM"), STDERR_FILENO)) return "";
  return "<" + std::to_string(static_cast<int>(priority)) + ">";
}

Logger::Logger(std::string store_id, std::string till_id, LogSink sink, bool journal)
    : store_id_(std::move(store_id)),
      till_id_(std::move(till_id)),
      sink_(std::move(sink)),
      journal_(journal) {}

Logger Logger::ToStderr(std::string store_id, std::string till_id) {
  // write(2) of the whole line at once: lines of several threads or processes never mix.
  LogSink sink = [](const std::string& line) {
    const char* at = line.data();
    size_t left = line.size();
    while (left > 0) {
      ssize_t n = write(STDERR_FILENO, at, left);
      if (n <= 0) return;
      at += n;
      left -= static_cast<size_t>(n);
    }
  };
  bool journal = StreamIsJournal(std::getenv("JOURNAL_STREAM"), STDERR_FILENO);
  return Logger(std::move(store_id), std::move(till_id), std::move(sink), journal);
}

void Logger::Log(LogPriority priority, const std::string& event,
                 const nlohmann::ordered_json& fields) const {
  static std::mutex mutex;
  std::string line = FormatLogLine(priority, journal_, event, store_id_, till_id_, fields) + "\n";
  std::lock_guard<std::mutex> lock(mutex);
  if (sink_) sink_(line);
}

}  // namespace regulars
