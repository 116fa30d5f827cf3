// The nightly sync benchmark (issue #5; docs/PERFORMANCE.md, "Nightly sync"). A plain timed
// program: a till's backlog pushed to an in-process HQ over mutual TLS on loopback, into
// each HQ backend, next to a bare bulk load of the same rows into the same backend; checkout
// latency while a sync runs; and HQ taking batches from many stores at once.
//
//   regulars_sync_bench [--dir DIR] [--pg CONNINFO] [--events N] [--stores N]
//                       [--pause-ms N] [--quick]
//
// --pause-ms: the checkout thread's pause between two commits (default 0: back to
// back, which can starve the sync of the ledger's write lock, see docs/PERFORMANCE.md).
// DIR (default /tmp/regulars-sync-bench) holds the certificates, the cached generated
// ledger and the SQLite HQ files. Without --pg only SQLite is measured.
#include <libpq-fe.h>
#include <sqlite3.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "big_ledger.h"
#include "checkout/till.h"
#include "domain/timestamp.h"
#include "hq/hq_service.h"
#include "hq/hq_store.h"
#include "hq/pg_hq_store.h"
#include "till/outbox.h"
#include "till/sync_client.h"
#include "wire/tls_transport.h"

namespace regulars::bench {
namespace {

namespace fs = std::filesystem;
using SteadyClock = std::chrono::steady_clock;

double SecondsSince(SteadyClock::time_point start) {
  return std::chrono::duration<double>(SteadyClock::now() - start).count();
}

struct Options {
  std::string dir = "/tmp/regulars-sync-bench";
  std::string pg;
  int64_t events = 500'000;  // this till's events to push (the ledger holds twice as many)
  int stores = 100;
  int64_t checkout_commits = 2'000;
  int64_t pause_ms = 0;  // between two checkouts (0: back to back)
  std::vector<int64_t> batch_sizes{2'000, 5'000, 10'000};
  int64_t store_batch = 500;  // events per batch in the many-stores part
};

[[noreturn]] void Die(const std::string& what) {
  std::fprintf(stderr, "regulars_sync_bench: %s\n", what.c_str());
  std::exit(1);
}

template <typename T>
T Must(Result<T> result, const std::string& doing) {
  if (!result.ok()) Die(doing + ": " + result.error().code + ": " + result.error().message);
  return std::move(result).value();
}

void Must(const Status& status, const std::string& doing) {
  if (!status.ok()) Die(doing + ": " + status.error().code + ": " + status.error().message);
}

std::string LoadAverage() {
  std::ifstream in("/proc/loadavg");
  std::string one, five, fifteen;
  in >> one >> five >> fifteen;
  return one + " " + five + " " + fifteen;
}

// Nearest rank, as bench/latencies.h: the smallest value at least `percent` % of samples
// did not exceed. `sorted` ascending, in nanoseconds; the answer in microseconds.
double PercentileUs(const std::vector<int64_t>& sorted, int percent) {
  if (sorted.empty()) return 0;
  size_t rank = (sorted.size() * static_cast<size_t>(percent) + 99) / 100;
  return static_cast<double>(sorted[std::max<size_t>(rank, 1) - 1]) / 1000;
}

// ---------------------------------------------------------------------------------------
// Certificates: installer/provision-pki.sh, once per folder (it never overwrites a key).

class Pki {
 public:
  explicit Pki(std::string dir) : dir_(std::move(dir)) {}

  void Ensure(const std::string& file, const std::string& args) const {
    if (fs::exists(dir_ + "/" + file)) return;
    std::string command = std::string(REGULARS_SOURCE_DIR) + "/installer/provision-pki.sh " + dir_ +
                          " " + args + " >/dev/null 2>&1";
    if (std::system(command.c_str()) != 0) Die("provision-pki.sh " + args + " failed");
  }
  TlsFiles Hq() const { return {dir_ + "/ca.pem", dir_ + "/hq.pem", dir_ + "/hq.key"}; }
  TlsFiles Store(const std::string& id) const {
    return {dir_ + "/ca.pem", dir_ + "/store-" + id + ".pem", dir_ + "/store-" + id + ".key"};
  }

 private:
  std::string dir_;
};

std::string ManyStoreId(int i) {
  char id[16];
  std::snprintf(id, sizeof id, "S%d", 100 + i);
  return id;
}

// ---------------------------------------------------------------------------------------
// HQ backends: a fresh SQLite file, or a fresh PostgreSQL schema (through search_path).

class Backend {
 public:
  Backend(std::string name, std::string dir, std::string pg)
      : name_(std::move(name)), dir_(std::move(dir)), pg_(std::move(pg)) {}
  ~Backend() {
    for (const auto& schema : schemas_)
      (void)Sql(pg_, "SET client_min_messages = warning; DROP SCHEMA " + schema + " CASCADE");
  }
  Backend(const Backend&) = delete;
  Backend& operator=(const Backend&) = delete;

  const std::string& name() const { return name_; }
  bool postgres() const { return !pg_.empty(); }

  // A new, empty HQ store; `conninfo` (PostgreSQL) or `path` (SQLite) says where it is.
  struct Fresh {
    std::unique_ptr<HqStore> store;
    std::string conninfo;
    std::string path;
  };
  Fresh Open(const std::string& label) {
    Fresh fresh;
    if (postgres()) {
      std::string schema = "sync_bench_" + std::to_string(::getpid()) + "_" + label;
      for (char& c : schema) {
        if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
      }
      if (auto made = Sql(pg_, "CREATE SCHEMA " + schema); !made.empty()) Die(made);
      schemas_.push_back(schema);
      fresh.conninfo = pg_ + " options='-csearch_path=" + schema + "'";
      fresh.store = Must(PgHqStore::Open(fresh.conninfo), "opening PostgreSQL");
    } else {
      fresh.path = dir_ + "/hq-" + label + ".db";
      for (const char* suffix : {"", "-wal", "-shm", "-journal"}) fs::remove(fresh.path + suffix);
      fresh.store = Must(SqliteHqStore::Open(fresh.path), "opening " + fresh.path);
    }
    return fresh;
  }

  // Runs one statement on a connection of its own; "" or the error.
  static std::string Sql(const std::string& conninfo, const std::string& sql) {
    PGconn* conn = PQconnectdb(conninfo.c_str());
    std::string failure;
    if (PQstatus(conn) != CONNECTION_OK) {
      failure = PQerrorMessage(conn);
    } else {
      PGresult* r = PQexec(conn, sql.c_str());
      if (PQresultStatus(r) != PGRES_COMMAND_OK) failure = PQresultErrorMessage(r);
      PQclear(r);
    }
    PQfinish(conn);
    return failure;
  }

 private:
  std::string name_;
  std::string dir_;
  std::string pg_;
  std::vector<std::string> schemas_;
};

// An HQ on 127.0.0.1:<any port> over `store`, as `regulars-hq serve` runs it.
struct Hq {
  Hq(HqStore& store, const Pki& pki) : service(store) {
    // The many-stores figure sends up to 900 stores at once and counts a 503 as a failure:
    // the cap and the queue let them all in, so it measures storing, not refusing.
    TlsServerOptions options;
    options.max_connections = 1000;
    options.max_queued_requests = 1000;
    server = Must(TlsServer::Start(
                      "127.0.0.1", 0, pki.Hq(),
                      [this](const HttpRequest& r) { return service.Handle(r); }, options),
                  "starting HQ");
  }
  ~Hq() { server->Stop(); }
  Hq(const Hq&) = delete;
  Hq& operator=(const Hq&) = delete;
  HqService service;
  std::unique_ptr<TlsServer> server;
};

// ---------------------------------------------------------------------------------------
// The till.

// The bench till's config with a "sync" section pointing at HQ on `port`, written to
// `path` (the runner rewrites it only when HQ sends a rule set, which it does not here).
Config TillConfig(const Pki& pki, uint16_t port, int64_t batch_events, const std::string& path) {
  TlsFiles files = pki.Store("S001");
  nlohmann::json sync{
      {"hq", "127.0.0.1:" + std::to_string(port)},
      {"ca", files.ca},
      {"cert", files.cert},
      {"key", files.key},
      {"batch_events", batch_events},
      {"batch_bytes", 32 << 20},
      {"pull_page", 2000},
      {"retry_initial_ms", 100},
      {"retry_max_ms", 1000},
      {"give_up_after_minutes", 5},
      {"timeouts_ms", {{"connect", 5000}, {"handshake", 5000}, {"request", 300000}}}};
  std::string text = kBenchConfig;
  text.insert(text.rfind('}'), ",\n  \"sync\": " + sync.dump() + "\n");
  std::ofstream(path) << text;
  return Must(ParseConfig(text, path), "the till's sync config");
}

// So every run pushes the whole backlog again and pulls from the start.
void ResetSyncCursors(Ledger& ledger) {
  Must(ledger.db().Exec("DELETE FROM sync_state WHERE key IN ('pushed_seq', 'pull_cursor')"),
       "resetting the sync cursors");
}

// This till's events as HQ stores them (the body as the ledger wrote it; ParseBatch would
// re-serialise it with its keys sorted, the same bytes give or take their order).
std::vector<HqEvent> TillEvents(const std::string& ledger_path) {
  sqlite3* db = nullptr;
  sqlite3_stmt* s = nullptr;
  if (sqlite3_open_v2(ledger_path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK ||
      sqlite3_prepare_v2(db,
                         "SELECT seq, at_ms, kind, customer_id, pos_txn_id, ref_pos_txn_id, body "
                         "FROM events WHERE store_id = 'S001' AND till_id = 'T01' ORDER BY seq",
                         -1, &s, nullptr) != SQLITE_OK) {
    Die("reading the till's events: " + std::string(sqlite3_errmsg(db)));
  }
  auto text = [&](int column) -> std::optional<std::string> {
    if (sqlite3_column_type(s, column) == SQLITE_NULL) return std::nullopt;
    return std::string(reinterpret_cast<const char*>(sqlite3_column_text(s, column)),
                       static_cast<size_t>(sqlite3_column_bytes(s, column)));
  };
  std::vector<HqEvent> events;
  while (sqlite3_step(s) == SQLITE_ROW) {
    HqEvent e;
    e.seq = sqlite3_column_int64(s, 0);
    e.id = "S001:T01:" + std::to_string(e.seq);
    e.store_id = "S001";
    e.till_id = "T01";
    e.at_ms = sqlite3_column_int64(s, 1);
    e.kind = text(2).value_or("");
    e.customer_id = text(3);
    e.pos_txn_id = text(4);
    e.ref_pos_txn_id = text(5);
    e.body = text(6).value_or("{}");
    e.hq_seq = static_cast<int64_t>(events.size()) + 1;
    events.push_back(std::move(e));
  }
  sqlite3_finalize(s);
  sqlite3_close(db);
  return events;
}

// ---------------------------------------------------------------------------------------
// Checkout while the sync runs: a second Till on the same ledger file, in its own thread.

class Checkouts {
 public:
  Checkouts(const std::string& ledger_path, int64_t customers, int64_t pause_ms)
      : customers_(customers), pause_ms_(pause_ms) {
    auto config = Must(ParseConfig(kBenchConfig, "bench config"), "bench config");
    till_ = Must(Till::Open(config, ledger_path), "opening the checkout till");
    for (const Product& p : Catalogue()) {
      if (!p.weighed && basket_products_.size() < 3) basket_products_.push_back(p);
    }
  }

  struct Sample {
    SteadyClock::time_point start;
    int64_t ns = 0;
  };

  // Commits until `count` are done or `stop` is set; returns each commit's start and time.
  std::vector<Sample> Run(int64_t count, const std::atomic<bool>& stop) {
    std::vector<Sample> samples;
    while ((count <= 0 || static_cast<int64_t>(samples.size()) < count) && !stop) {
      std::string basket = Basket();
      auto start = SteadyClock::now();
      auto receipt = till_->Commit(basket);
      auto elapsed = SteadyClock::now() - start;
      if (!receipt.ok()) Die("a checkout failed: " + receipt.error().message);
      samples.push_back(
          {start, std::chrono::duration_cast<std::chrono::nanoseconds>(elapsed).count()});
      if (pause_ms_ > 0) std::this_thread::sleep_for(std::chrono::milliseconds(pause_ms_));
    }
    return samples;
  }

 private:
  // A three-line basket for a known card, with a pos_txn_id of its own.
  std::string Basket() {
    static const std::string run = "BENCH-" + std::to_string(Env::Default()->NowMs()) + "-";
    nlohmann::json lines = nlohmann::json::array();
    for (size_t i = 0; i < basket_products_.size(); ++i) {
      const Product& p = basket_products_[i];
      lines.push_back({{"line", i + 1},
                       {"sku", p.sku},
                       {"qty", 1 + static_cast<int>(i % 2)},
                       {"unit_price", p.unit_price},
                       {"brand", p.brand},
                       {"categories", {p.category}}});
    }
    int64_t customer = static_cast<int64_t>(rng_() % static_cast<uint64_t>(customers_));
    nlohmann::json basket{{"pos_txn_id", run + std::to_string(++next_)},
                          {"store_id", "S001"},
                          {"till_id", "T01"},
                          {"cashier_id", "C07"},
                          {"at", FormatTimestampUtc(Env::Default()->NowMs())},
                          {"currency", "EUR"},
                          {"identifiers", {{{"kind", "card"}, {"value", CardNumberOf(customer)}}}},
                          {"lines", lines}};
    return basket.dump();
  }

  int64_t customers_;
  int64_t pause_ms_;
  std::unique_ptr<Till> till_;
  std::vector<Product> basket_products_;
  std::mt19937_64 rng_{7};
  int64_t next_ = 0;
};

struct LatencySummary {
  size_t count = 0;
  double p50_us = 0;
  double p99_us = 0;
  double max_us = 0;
};

LatencySummary Summarize(std::vector<int64_t> ns) {
  std::sort(ns.begin(), ns.end());
  LatencySummary s;
  s.count = ns.size();
  s.p50_us = PercentileUs(ns, 50);
  s.p99_us = PercentileUs(ns, 99);
  s.max_us = ns.empty() ? 0 : static_cast<double>(ns.back()) / 1000;
  return s;
}

// ---------------------------------------------------------------------------------------
// The measurements.

struct SyncFigure {
  std::string backend;
  int64_t batch_events = 0;
  bool with_checkouts = false;
  double seconds = 0;
  int64_t pushed = 0;
  int64_t batches = 0;
  int64_t handshakes = 0;
  int attempts = 0;
  std::string failure;  // set when the run failed (only tolerated with checkouts running)
};

// One night: the till's whole backlog pushed (then the pull, which brings nothing here:
// HQ holds this store's events only) into a fresh HQ store.
SyncFigure TimeSync(Backend& backend, Till& till, const Pki& pki, const Options& options,
                    int64_t batch_events, const std::string& label, bool may_fail = false) {
  auto fresh = backend.Open(label);
  Hq hq(*fresh.store, pki);
  Config config =
      TillConfig(pki, hq.server->port(), batch_events, options.dir + "/till-config.json");
  ResetSyncCursors(till.ledger());
  SyncRunner runner(till.ledger(), config, options.dir + "/till-config.json");
  auto start = SteadyClock::now();
  auto report = runner.Run();
  double seconds = SecondsSince(start);
  if (!report.ok()) {
    if (!may_fail) Die("the sync failed: " + report.error().message);
    std::printf("  sync %-10s batch_events %6" PRId64 ": FAILED after %.2f s: %s\n",
                backend.name().c_str(), batch_events, seconds, report.error().message.c_str());
    SyncFigure failed;
    failed.backend = backend.name();
    failed.batch_events = batch_events;
    failed.seconds = seconds;
    failed.handshakes = hq.server->connections();
    failed.failure = report.error().code + ": " + report.error().message;
    return failed;
  }
  auto held = Must(fresh.store->EventCount(), "counting HQ's events");
  if (held != report->pushed_events) {
    Die("HQ holds " + std::to_string(held) + " events, the till pushed " +
        std::to_string(report->pushed_events));
  }
  SyncFigure f;
  f.backend = backend.name();
  f.batch_events = batch_events;
  f.seconds = seconds;
  f.pushed = report->pushed_events;
  f.batches = report->pushed_batches;
  f.handshakes = hq.server->connections();
  f.attempts = report->attempts;
  std::printf("  sync %-10s batch_events %6" PRId64 ": %8.2f s, %8" PRId64 " events (%" PRId64
              " batches), %10.0f events/s, %" PRId64 " TLS handshake(s)\n",
              f.backend.c_str(), batch_events, seconds, f.pushed, f.batches,
              static_cast<double>(f.pushed) / seconds, f.handshakes);
  std::fflush(stdout);
  return f;
}

// The bare load into SQLite: the same rows into a fresh HQ file of the same schema, one
// transaction, one prepared INSERT.
double BareSqlite(Backend& backend, const std::vector<HqEvent>& events) {
  auto fresh = backend.Open("bare");
  sqlite3* db = static_cast<SqliteHqStore&>(*fresh.store).db().handle();
  sqlite3_stmt* insert = nullptr;
  auto start = SteadyClock::now();
  if (sqlite3_exec(db, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr) != SQLITE_OK ||
      sqlite3_prepare_v2(
          db,
          "INSERT INTO events (id, store_id, till_id, seq, at_ms, kind, customer_id, "
          "pos_txn_id, ref_pos_txn_id, body, hq_seq) VALUES (?1, ?2, ?3, ?4, ?5, "
          "?6, ?7, ?8, ?9, ?10, ?11)",
          -1, &insert, nullptr) != SQLITE_OK) {
    Die("bare load: " + std::string(sqlite3_errmsg(db)));
  }
  auto bind_text = [&](int index, const std::optional<std::string>& value) {
    if (value) {
      sqlite3_bind_text(insert, index, value->data(), static_cast<int>(value->size()),
                        SQLITE_STATIC);
    } else {
      sqlite3_bind_null(insert, index);
    }
  };
  for (const HqEvent& e : events) {
    bind_text(1, e.id);
    bind_text(2, e.store_id);
    bind_text(3, e.till_id);
    sqlite3_bind_int64(insert, 4, e.seq);
    sqlite3_bind_int64(insert, 5, e.at_ms);
    bind_text(6, e.kind);
    bind_text(7, e.customer_id);
    bind_text(8, e.pos_txn_id);
    bind_text(9, e.ref_pos_txn_id);
    bind_text(10, e.body);
    sqlite3_bind_int64(insert, 11, e.hq_seq);
    if (sqlite3_step(insert) != SQLITE_DONE) Die("bare insert: " + std::string(sqlite3_errmsg(db)));
    sqlite3_reset(insert);
  }
  sqlite3_finalize(insert);
  if (sqlite3_exec(db, "COMMIT", nullptr, nullptr, nullptr) != SQLITE_OK) {
    Die("bare commit: " + std::string(sqlite3_errmsg(db)));
  }
  return SecondsSince(start);
}

// The bare load into PostgreSQL: the same rows COPYed into a fresh schema of the same
// tables, in one statement (one transaction), over a connection of its own.
double BarePostgres(Backend& backend, const std::vector<HqEvent>& events) {
  auto fresh = backend.Open("bare");
  fresh.store.reset();  // the tables are made; its connection is not needed
  PGconn* conn = PQconnectdb(fresh.conninfo.c_str());
  if (PQstatus(conn) != CONNECTION_OK) Die(std::string("bare COPY: ") + PQerrorMessage(conn));
  auto start = SteadyClock::now();
  PGresult* r = PQexec(conn,
                       "COPY events (hq_seq, id, store_id, till_id, seq, at_ms, kind, customer_id, "
                       "pos_txn_id, ref_pos_txn_id, body) FROM STDIN");
  if (PQresultStatus(r) != PGRES_COPY_IN) Die(std::string("COPY: ") + PQresultErrorMessage(r));
  PQclear(r);
  std::string chunk;
  chunk.reserve(5 << 20);
  auto flush = [&] {
    if (PQputCopyData(conn, chunk.data(), static_cast<int>(chunk.size())) != 1) {
      Die(std::string("PQputCopyData: ") + PQerrorMessage(conn));
    }
    chunk.clear();
  };
  for (const HqEvent& e : events) {
    for (const std::optional<std::string>& field :
         {std::optional<std::string>(std::to_string(e.hq_seq)), std::optional<std::string>(e.id),
          std::optional<std::string>(e.store_id), std::optional<std::string>(e.till_id),
          std::optional<std::string>(std::to_string(e.seq)),
          std::optional<std::string>(std::to_string(e.at_ms)), std::optional<std::string>(e.kind),
          e.customer_id, e.pos_txn_id, e.ref_pos_txn_id}) {
      AppendCopyField(chunk, field);
    }
    AppendCopyField(chunk, e.body, true);
    if (chunk.size() >= (4 << 20)) flush();
  }
  if (!chunk.empty()) flush();
  if (PQputCopyEnd(conn, nullptr) != 1) Die(std::string("PQputCopyEnd: ") + PQerrorMessage(conn));
  r = PQgetResult(conn);
  if (PQresultStatus(r) != PGRES_COMMAND_OK) Die(std::string("COPY: ") + PQresultErrorMessage(r));
  std::string copied = PQcmdTuples(r);
  PQclear(r);
  while ((r = PQgetResult(conn)) != nullptr) PQclear(r);
  double seconds = SecondsSince(start);
  PQfinish(conn);
  if (copied != std::to_string(events.size())) Die("COPY stored " + copied + " rows");
  return seconds;
}

// Where a sync's time goes, without TLS or HTTP, one step after the other on one thread:
// the till reading its outbox into batch bodies (and acknowledging them), HQ checking them
// (ParseBatch), and HQ storing them (Ingest) into a fresh store of `backend`.
struct Decomposition {
  double outbox_seconds = 0;
  double parse_seconds = 0;
  double ingest_seconds = 0;
  int64_t events = 0;
};

Decomposition Decompose(Backend& backend, Till& till, int64_t batch_events) {
  Decomposition d;
  ResetSyncCursors(till.ledger());
  Outbox outbox(till.ledger().db(), "S001", "T01");
  std::vector<std::string> bodies;
  auto start = SteadyClock::now();
  for (;;) {
    auto batch = Must(outbox.NextBatch(batch_events, 32 << 20), "reading the outbox");
    if (!batch) break;
    Must(outbox.Acknowledge(batch->last_seq), "acknowledging");
    d.events += batch->events;
    bodies.push_back(std::move(batch->body));
  }
  d.outbox_seconds = SecondsSince(start);
  std::vector<HqBatch> batches;
  start = SteadyClock::now();
  for (const std::string& body : bodies)
    batches.push_back(Must(ParseBatch("S001", body), "parsing"));
  d.parse_seconds = SecondsSince(start);
  bodies.clear();
  auto fresh = backend.Open("decompose");
  start = SteadyClock::now();
  for (const HqBatch& batch : batches) (void)Must(fresh.store->Ingest(batch), "ingesting");
  d.ingest_seconds = SecondsSince(start);
  std::printf("  in-process %-10s batch_events %6" PRId64
              ": outbox %.2f s, ParseBatch %.2f s, "
              "Ingest %.2f s (%.0f events/s), sum %.2f s\n",
              backend.name().c_str(), batch_events, d.outbox_seconds, d.parse_seconds,
              d.ingest_seconds, static_cast<double>(d.events) / d.ingest_seconds,
              d.outbox_seconds + d.parse_seconds + d.ingest_seconds);
  std::fflush(stdout);
  return d;
}

struct ManyStoresFigure {
  std::string backend;
  int stores = 0;
  int64_t events = 0;
  int64_t batches = 0;
  double seconds = 0;
  LatencySummary batch_latency;
  int64_t handshakes = 0;
};

// `stores` tills at once, each with its own certificate and connection, each pushing its
// own synthetic events (ids store:T01:seq, bodies of real sales) in batches to one HQ.
ManyStoresFigure ManyStores(Backend& backend, const Pki& pki, const Options& options,
                            const std::vector<HqEvent>& samples) {
  auto fresh = backend.Open("stores");
  Hq hq(*fresh.store, pki);
  int64_t per_store = std::max<int64_t>(options.events / options.stores, 1);
  std::vector<std::vector<std::string>> bodies(static_cast<size_t>(options.stores));
  for (int i = 0; i < options.stores; ++i) {
    std::string store = ManyStoreId(i);
    for (int64_t first = 1; first <= per_store; first += options.store_batch) {
      int64_t last = std::min(per_store, first + options.store_batch - 1);
      std::string events;
      for (int64_t seq = first; seq <= last; ++seq) {
        const HqEvent& like = samples[static_cast<size_t>(seq + i) % samples.size()];
        nlohmann::json head{{"id", store + ":T01:" + std::to_string(seq)},
                            {"at_ms", like.at_ms},
                            {"kind", like.kind},
                            {"customer_id", like.customer_id ? nlohmann::json(*like.customer_id)
                                                             : nlohmann::json()},
                            {"pos_txn_id", store + "-T01-" + std::to_string(seq)},
                            {"ref_pos_txn_id", nullptr}};
        std::string text = head.dump();
        text.pop_back();
        text += ",\"body\":" + like.body + "}";
        if (!events.empty()) events += ',';
        events += text;
      }
      nlohmann::json batch{
          {"store_id", store}, {"till_id", "T01"}, {"first_seq", first}, {"last_seq", last}};
      std::string body = batch.dump();
      body.pop_back();
      body += ",\"events\":[" + events + "]}";
      bodies[static_cast<size_t>(i)].push_back(std::move(body));
    }
  }

  std::atomic<int> connected{0};
  std::atomic<bool> go{false};
  std::mutex mutex;
  std::vector<int64_t> latencies;
  std::string failure;
  std::vector<std::thread> threads;
  std::vector<SteadyClock::time_point> finished(static_cast<size_t>(options.stores));
  for (int i = 0; i < options.stores; ++i) {
    threads.emplace_back([&, i] {
      auto client = TlsClient::Connect("127.0.0.1", hq.server->port(), pki.Store(ManyStoreId(i)),
                                       {5000, 5000, 300000});
      ++connected;
      while (!go) std::this_thread::yield();
      std::vector<int64_t> mine;
      std::string error;
      if (!client.ok()) error = client.error().message;
      for (size_t b = 0; error.empty() && b < bodies[static_cast<size_t>(i)].size(); ++b) {
        auto start = SteadyClock::now();
        auto answer = (*client)->Post("/v1/events", bodies[static_cast<size_t>(i)][b]);
        auto elapsed = SteadyClock::now() - start;
        if (!answer.ok()) {
          error = answer.error().message;
        } else if (answer->status != 200) {
          error = "HQ answered " + std::to_string(answer->status) + ": " + answer->body;
        }
        mine.push_back(std::chrono::duration_cast<std::chrono::nanoseconds>(elapsed).count());
      }
      finished[static_cast<size_t>(i)] = SteadyClock::now();
      std::lock_guard lock(mutex);
      latencies.insert(latencies.end(), mine.begin(), mine.end());
      if (!error.empty() && failure.empty()) failure = ManyStoreId(i) + ": " + error;
    });
  }
  while (connected < options.stores) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  auto start = SteadyClock::now();
  go = true;
  for (auto& t : threads) t.join();
  auto last = *std::max_element(finished.begin(), finished.end());
  double seconds = std::chrono::duration<double>(last - start).count();
  if (!failure.empty()) Die("many stores: " + failure);
  ManyStoresFigure f;
  f.backend = backend.name();
  f.stores = options.stores;
  f.events = Must(fresh.store->EventCount(), "counting HQ's events");
  if (f.events != per_store * options.stores) Die("HQ holds the wrong number of events");
  f.batches = static_cast<int64_t>(latencies.size());
  f.seconds = seconds;
  f.batch_latency = Summarize(latencies);
  f.handshakes = hq.server->connections();
  std::printf("  %d stores into %-10s: %" PRId64 " events in %" PRId64
              " batches, %.2f s, %.0f events/s, batch p50 %.1f ms p99 %.1f ms, %" PRId64
              " handshakes\n",
              f.stores, f.backend.c_str(), f.events, f.batches, seconds,
              static_cast<double>(f.events) / seconds, f.batch_latency.p50_us / 1000,
              f.batch_latency.p99_us / 1000, f.handshakes);
  std::fflush(stdout);
  return f;
}

int64_t ParseCount(const std::string& flag, const char* value, int64_t least = 1) {
  char* end = nullptr;
  long long n = std::strtoll(value, &end, 10);
  if (end == value || *end != '\0' || n < least) {
    Die(flag + " needs a number of at least " + std::to_string(least));
  }
  return n;
}

Options ParseOptions(int argc, char** argv) {
  Options o;
  bool quick = false;
  bool events_given = false, stores_given = false;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    auto value = [&]() -> const char* {
      if (i + 1 >= argc) Die(arg + " needs a value");
      return argv[++i];
    };
    if (arg == "--dir") {
      o.dir = value();
    } else if (arg == "--pg") {
      o.pg = value();
    } else if (arg == "--events") {
      o.events = ParseCount(arg, value());
      events_given = true;
    } else if (arg == "--stores") {
      o.stores = static_cast<int>(std::min<int64_t>(ParseCount(arg, value()), 900));
      stores_given = true;
    } else if (arg == "--pause-ms") {
      o.pause_ms = ParseCount(arg, value(), 0);
    } else if (arg == "--quick") {
      quick = true;
    } else {
      Die("unknown argument " + arg +
          " (usage: regulars_sync_bench [--dir DIR] [--pg CONNINFO] [--events N] [--stores N] "
          "[--pause-ms N] [--quick])");
    }
  }
  if (quick) {
    if (!events_given) o.events = 20'000;
    if (!stores_given) o.stores = 10;
    o.checkout_commits = 200;
    o.batch_sizes = {2'000, 5'000};
  }
  return o;
}

}  // namespace
}  // namespace regulars::bench

int main(int argc, char** argv) {
  using namespace regulars;
  using namespace regulars::bench;
  Options options = ParseOptions(argc, argv);
  fs::create_directories(options.dir + "/pki");
  fs::create_directories(options.dir + "/cache");
  std::printf("regulars_sync_bench: dir %s, %" PRId64 " events to push, %d stores, %s\n",
              options.dir.c_str(), options.events, options.stores,
              options.pg.empty() ? "SQLite only" : "SQLite and PostgreSQL");
  std::printf("load average at start: %s\n", LoadAverage().c_str());

  // 1. Certificates.
  Pki pki(options.dir + "/pki");
  pki.Ensure("ca.pem", "ca");
  pki.Ensure("hq.pem", "hq localhost 127.0.0.1");
  pki.Ensure("store-S001.pem", "store S001");
  for (int i = 0; i < options.stores; ++i) {
    pki.Ensure("store-" + ManyStoreId(i) + ".pem", "store " + ManyStoreId(i));
  }

  // The till's ledger: generated once (half of its events are this till's, S001/T01, the
  // rest stand for other tills' events pulled earlier), then copied for each program run so
  // the checkouts this run adds never accumulate in the cache.
  auto config = Must(ParseConfig(kBenchConfig, "bench config"), "bench config");
  LedgerScale scale;
  scale.events = 2 * options.events;
  scale.customers = std::max<int64_t>(scale.events / 50, 100);
  std::string cached = options.dir + "/cache/ledger-" + std::to_string(scale.events) + ".sqlite";
  auto generating = SteadyClock::now();
  Must(EnsureBigLedger(cached, config, scale), "generating the ledger");
  std::printf("ledger: %" PRId64 " customers, %" PRId64 " events (%.1f s to make ready)\n",
              scale.customers, scale.events, SecondsSince(generating));
  std::string ledger_path = options.dir + "/till.sqlite";
  for (const char* suffix : {"", "-wal", "-shm"}) fs::remove(ledger_path + suffix);
  fs::copy_file(cached, ledger_path);
  if (fs::exists(cached + "-wal")) fs::copy_file(cached + "-wal", ledger_path + "-wal");
  auto till = Must(Till::Open(config, ledger_path), "opening the till");

  // 4a. Checkout idle (before any sync, so every sync below pushes the same events).
  Checkouts checkouts(ledger_path, scale.customers, options.pause_ms);
  std::atomic<bool> stop{false};
  std::vector<Checkouts::Sample> idle_samples;
  std::thread idle_thread([&] {
    (void)checkouts.Run(200, stop);  // warm-up: caches, statements, the WAL
    idle_samples = checkouts.Run(options.checkout_commits, stop);
  });
  idle_thread.join();
  std::vector<int64_t> idle_ns;
  for (const auto& s : idle_samples) idle_ns.push_back(s.ns);
  LatencySummary idle = Summarize(idle_ns);
  std::printf("checkout idle: %zu commits, p50 %.0f us, p99 %.0f us\n", idle.count, idle.p50_us,
              idle.p99_us);

  std::vector<HqEvent> events = TillEvents(ledger_path);
  size_t body_bytes = 0;
  for (const auto& e : events) body_bytes += e.body.size();
  std::printf("the till's own events (S001/T01): %zu, bodies %.0f MB (%.0f bytes each)\n",
              events.size(), static_cast<double>(body_bytes) / 1e6,
              static_cast<double>(body_bytes) / static_cast<double>(events.size()));

  std::vector<std::unique_ptr<Backend>> backends;
  backends.push_back(std::make_unique<Backend>("SQLite", options.dir, ""));
  if (!options.pg.empty()) {
    backends.push_back(std::make_unique<Backend>("PostgreSQL", options.dir, options.pg));
  }

  // 2 and 3. The sync at each batch size, then the bare load, for each backend.
  struct BackendFigures {
    std::vector<SyncFigure> syncs;
    SyncFigure best;
    double bare_seconds = 0;
    Decomposition parts;
  };
  std::vector<BackendFigures> figures;
  for (auto& backend : backends) {
    std::printf("%s:\n", backend->name().c_str());
    BackendFigures b;
    for (int64_t size : options.batch_sizes) {
      b.syncs.push_back(TimeSync(*backend, *till, pki, options, size, "b" + std::to_string(size)));
    }
    b.best = *std::min_element(
        b.syncs.begin(), b.syncs.end(),
        [](const SyncFigure& x, const SyncFigure& y) { return x.seconds < y.seconds; });
    b.bare_seconds =
        backend->postgres() ? BarePostgres(*backend, events) : BareSqlite(*backend, events);
    std::printf("  bare load %-10s (%s): %.2f s, %.0f rows/s; best sync / bare = %.2f\n",
                backend->name().c_str(),
                backend->postgres() ? "COPY" : "one transaction, prepared INSERT", b.bare_seconds,
                static_cast<double>(events.size()) / b.bare_seconds,
                b.best.seconds / b.bare_seconds);
    b.parts = Decompose(*backend, *till, b.best.batch_events);
    figures.push_back(b);
  }

  // 4b. Checkout during a sync into SQLite at the best batch size.
  int64_t during_batch = figures[0].best.batch_events;
  std::vector<Checkouts::Sample> busy_samples;
  stop = false;
  std::thread busy_thread([&] { busy_samples = checkouts.Run(0, stop); });
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  auto sync_start = SteadyClock::now();
  SyncFigure during = TimeSync(*backends[0], *till, pki, options, during_batch, "with-checkouts",
                               /*may_fail=*/true);
  auto sync_end = SteadyClock::now();
  stop = true;
  busy_thread.join();
  during.with_checkouts = true;
  std::vector<int64_t> busy_ns;
  for (const auto& s : busy_samples) {
    if (s.start >= sync_start && s.start < sync_end) busy_ns.push_back(s.ns);
  }
  LatencySummary busy = Summarize(busy_ns);
  std::printf(
      "checkout during the SQLite sync: %zu commits, p50 %.0f us, p99 %.0f us "
      "(p99 ratio %.2f)\n",
      busy.count, busy.p50_us, busy.p99_us, busy.p99_us / idle.p99_us);

  // 5. Many stores at once.
  std::vector<HqEvent> samples;
  for (const auto& e : events) {
    if (e.kind == "sale" && samples.size() < 1000) samples.push_back(e);
  }
  if (samples.empty()) Die("the ledger has no sale to copy");
  std::vector<ManyStoresFigure> many;
  for (auto& backend : backends) many.push_back(ManyStores(*backend, pki, options, samples));

  // The summary.
  std::printf("\n== Summary (load average at end: %s) ==\n", LoadAverage().c_str());
  std::printf("%-11s %-14s %9s %9s %11s %10s\n", "backend", "what", "events", "seconds", "events/s",
              "handshakes");
  for (size_t i = 0; i < backends.size(); ++i) {
    for (const auto& s : figures[i].syncs) {
      std::printf("%-11s sync b=%-7" PRId64 " %9" PRId64 " %9.2f %11.0f %10" PRId64 "\n",
                  s.backend.c_str(), s.batch_events, s.pushed, s.seconds,
                  static_cast<double>(s.pushed) / s.seconds, s.handshakes);
    }
    std::printf("%-11s %-14s %9zu %9.2f %11.0f %10s\n", backends[i]->name().c_str(),
                backends[i]->postgres() ? "bare COPY" : "bare 1 txn", events.size(),
                figures[i].bare_seconds,
                static_cast<double>(events.size()) / figures[i].bare_seconds, "-");
    std::printf("%-11s best sync / bare: %.2f\n", backends[i]->name().c_str(),
                figures[i].best.seconds / figures[i].bare_seconds);
    const Decomposition& d = figures[i].parts;
    std::printf("%-11s in-process b=%" PRId64
                ": outbox %.2f s + ParseBatch %.2f s + Ingest "
                "%.2f s = %.2f s\n",
                backends[i]->name().c_str(), figures[i].best.batch_events, d.outbox_seconds,
                d.parse_seconds, d.ingest_seconds,
                d.outbox_seconds + d.parse_seconds + d.ingest_seconds);
  }
  if (during.failure.empty()) {
    std::printf("%-11s sync b=%-7" PRId64 " %9" PRId64 " %9.2f %11.0f %10" PRId64
                "  (with checkouts running)\n",
                during.backend.c_str(), during.batch_events, during.pushed, during.seconds,
                static_cast<double>(during.pushed) / during.seconds, during.handshakes);
  } else {
    std::printf("%-11s sync b=%-7" PRId64 " FAILED with checkouts running after %.2f s: %s\n",
                during.backend.c_str(), during.batch_events, during.seconds,
                during.failure.c_str());
  }
  std::printf("checkout commit (%" PRId64
              " ms pause between commits): idle p50 %.0f us p99 %.0f us "
              "max %.0f us (%zu); during sync p50 %.0f us p99 %.0f us max %.0f us (%zu); p99 ratio "
              "%.2f\n",
              options.pause_ms, idle.p50_us, idle.p99_us, idle.max_us, idle.count, busy.p50_us,
              busy.p99_us, busy.max_us, busy.count, busy.p99_us / idle.p99_us);
  for (const auto& m : many) {
    std::printf("%d stores -> %-10s %" PRId64 " events, %" PRId64
                " batches: %.2f s, %.0f events/s, batch p50 %.1f ms, p99 %.1f ms, max %.1f ms, "
                "%" PRId64 " handshakes\n",
                m.stores, m.backend.c_str(), m.events, m.batches, m.seconds,
                static_cast<double>(m.events) / m.seconds, m.batch_latency.p50_us / 1000,
                m.batch_latency.p99_us / 1000, m.batch_latency.max_us / 1000, m.handshakes);
  }
  return 0;
}
