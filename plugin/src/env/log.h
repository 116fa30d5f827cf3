// The long-running programs' log: one JSON object a line on standard error, with the
// syslog priority prefix ("<3>") when standard error is the journal (docs/OPERATIONS.md,
// "Logs"). Here in env/, the lowest layer, because every program (serve, the scanner, the
// sync, HQ) logs and because finding out whether stderr is the journal asks the operating
// system (the environment, fstat).
#pragma once

#include <functional>
#include <nlohmann/json.hpp>
#include <string>

namespace regulars {

// syslog(3)'s numbers, as journald reads them from a "<N>" prefix.
enum class LogPriority { kErr = 3, kWarning = 4, kInfo = 6, kDebug = 7 };

// One log line without its newline: `{"event": EVENT, "store_id", "till_id" (when not
// empty), then `fields` in their order}`, prefixed with "<N>" when `journal`. Invalid UTF-8
// in a field is replaced, never thrown. Pure.
std::string FormatLogLine(LogPriority priority, bool journal, const std::string& event,
                          const std::string& store_id, const std::string& till_id,
                          const nlohmann::ordered_json& fields);

// Whether `journal_stream` (the value of $JOURNAL_STREAM, "DEV:INODE", or null) names the
// file open on `fd` (same st_dev and st_ino).
bool StreamIsJournal(const char* journal_stream, int fd);

// The prefix a line written to standard error takes: "<N>" when stderr is the journal,
// "" otherwise. For the Contract v1 error lines, which keep their text.
std::string StderrPriorityPrefix(LogPriority priority);

// Receives each whole line, newline included.
using LogSink = std::function<void(const std::string& line)>;

// A program's logger: who it speaks for (the store, the till) and where its lines go.
// Thread-safe: the sink is called under a lock, one whole line at a time.
class Logger {
 public:
  // Lines go to `sink`, prefixed when `journal`.
  Logger(std::string store_id, std::string till_id, LogSink sink, bool journal);
  // Lines go to standard error, prefixed when $JOURNAL_STREAM names it.
  static Logger ToStderr(std::string store_id, std::string till_id);

  void Log(LogPriority priority, const std::string& event,
           const nlohmann::ordered_json& fields = nlohmann::ordered_json::object()) const;
  void Error(const std::string& event,
             const nlohmann::ordered_json& fields = nlohmann::ordered_json::object()) const {
    Log(LogPriority::kErr, event, fields);
  }
  void Warning(const std::string& event,
               const nlohmann::ordered_json& fields = nlohmann::ordered_json::object()) const {
    Log(LogPriority::kWarning, event, fields);
  }
  void Info(const std::string& event,
            const nlohmann::ordered_json& fields = nlohmann::ordered_json::object()) const {
    Log(LogPriority::kInfo, event, fields);
  }

 private:
  std::string store_id_;
  std::string till_id_;
  LogSink sink_;
  bool journal_;
};

}  // namespace regulars
