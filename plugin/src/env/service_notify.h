// systemd's notify protocol (sd_notify(3)) without libsystemd: one datagram, such as
// "READY=1", to the AF_UNIX socket named by $NOTIFY_SOCKET ('@' first: the abstract
// namespace). In env/ because it reaches the operating system (environment, sockets).
#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

namespace regulars {

// Sends `state` ("READY=1", "WATCHDOG=1", "STOPPING=1") to $NOTIFY_SOCKET. False when the
// variable is unset (not run by systemd) or the datagram could not be sent; never blocks.
bool NotifyServiceManager(const std::string& state);

// Half of $WATCHDOG_USEC, in milliseconds, when the watchdog is on for this process
// ($WATCHDOG_PID unset or ours); 0 when off.
int64_t WatchdogPingIntervalMs();

// Pings the service manager's watchdog every `interval_ms` from the executor that serves
// requests: each ping is handed to `post`, so a hung executor stops the pings and systemd
// restarts the service. Stops (and joins) when destroyed.
class WatchdogPinger {
 public:
  WatchdogPinger(int64_t interval_ms, std::function<void(std::function<void()>)> post);
  ~WatchdogPinger();
  WatchdogPinger(const WatchdogPinger&) = delete;
  WatchdogPinger& operator=(const WatchdogPinger&) = delete;

 private:
  void Run();

  int64_t interval_ms_;
  std::function<void(std::function<void()>)> post_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread thread_;  // last: it starts once the rest is made
};

}  // namespace regulars
