// `regulars demo`: a believable day at one store, through the C ABI as a POS would
// drive it, on a fresh ledger.
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "cli/cli.h"
#include "config/config.h"
#include "recognition/qr_code.h"
#include "store/ledger.h"
#include "till/sync_client.h"

namespace regulars_cli {
namespace {

using Json = nlohmann::ordered_json;

std::string Euros(int64_t cents) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%s%lld.%02lld", cents < 0 ? "-" : "",
                static_cast<long long>(std::llabs(cents) / 100),
                static_cast<long long>(std::llabs(cents) % 100));
  return buf;
}

struct Product {
  std::string sku, name, brand, category;
  int64_t price;
};

const std::map<std::string, Product> kShelf = {
    {"diapers3", {"3400000000001", "Dodo diapers size 3", "Dodo", "baby/diapers", 1290}},
    {"diapers4", {"3400000000002", "Dodo diapers size 4", "Dodo", "baby/diapers", 1390}},
    {"wipes", {"3400000000050", "Dodo baby wipes", "Dodo", "baby/care", 349}},
    {"milk", {"3400000000200", "Organic milk 1 L", "Laiterie", "grocery/dairy", 129}},
    {"bread", {"3400000000300", "Country loaf", "Fournil", "bakery/bread", 260}},
    {"coffee", {"3400000000101", "Coffee beans 500 g", "Torréfacteur", "grocery/coffee", 749}},
};

std::map<std::string, std::string> g_names;  // sku -> product name, for printing

// Headquarters for the day: a QR signing key made at start; the till gets its public key.
regulars::Ed25519PrivateKey g_hq_key;

// The dynamic code Chloé's phone shows right now (signed in advance by HQ in real life).
std::string PhoneCode(const std::string& card) {
  regulars::QrPayload payload;
  payload.key_id = 1;
  payload.card_number = card;
  int64_t now_s = static_cast<int64_t>(std::time(nullptr));
  payload.time_step = static_cast<uint32_t>(now_s / 30);
  auto code = regulars::SignQr(payload, g_hq_key);
  return code.ok() ? *code : "";
}

// A demo step the library refused: the demo stops, cleans up and exits 1.
struct StepFailed {
  std::string error;
};

class Day {
 public:
  explicit Day(regulars_till* till) : till_(till) {
    for (const auto& [key, p] : kShelf) g_names[p.sku] = p.name;
  }

  // Enrols a card and remembers the customer's first name for the printout.
  std::string Enrol(const std::string& time, const std::string& name, const std::string& card) {
    Json request{{"card", card}};
    Json out = Call(regulars_enroll, request);
    std::string id = out["customer"]["id"];
    names_[id] = name;
    std::cout << (txn_ > 0 ? "\n" : "") << time << "  Enrolment: " << name << "'s card " << card
              << " -> customer " << id << "\n";
    return id;
  }

  // Links a payment card, with the customer's consent; the number is never printed.
  void LinkCard(const std::string& time, const std::string& name, const std::string& card,
                const std::string& payment) {
    Json request{{"card", card},
                 {"payment_token", {{"value", payment}}},
                 {"consent",
                  {{"text",
                    "I agree that the bank card I pay with recognizes me for my loyalty "
                    "rewards at this chain's tills."},
                   {"at", "2026-11-23T" + time + ":00+01:00"},
                   {"cashier_id", "C07"}}}};
    Json out = Call(regulars_link, request);
    std::cout << "\n"
              << time << "  " << name
              << " agrees to be recognized by the bank card they pay with: consent #"
              << out["consent_id"]
              << " recorded (text, time, store, till, cashier); only a keyed hash of the card "
                 "is kept.\n";
    if (!out["merged_from"].is_null()) {
      std::cout << "       The pseudonymous profile " << out["merged_from"].get<std::string>()
                << " this card had built up merges into " << name
                << "'s account: nothing earned is lost.\n";
    }
  }

  // A basket paid with a bank card the terminal read before authorisation.
  Json PaidByCard(const std::string& time, const std::string& payment,
                  const std::vector<std::pair<std::string, int64_t>>& items) {
    Json basket = Basket(time, "", items);
    basket["identifiers"].push_back({{"kind", "payment_token"}, {"value", payment}});
    return basket;
  }

  Json Basket(const std::string& time, const std::string& card,
              const std::vector<std::pair<std::string, int64_t>>& items) {
    Json basket{{"pos_txn_id", "S001-T01-" + Pad(++txn_)},
                {"store_id", "S001"},
                {"till_id", "T01"},
                {"cashier_id", "C07"},
                {"at", "2026-11-23T" + time + ":00+01:00"},
                {"currency", "EUR"},
                {"identifiers", Json::array()},
                {"lines", Json::array()}};
    if (!card.empty()) basket["identifiers"].push_back({{"kind", "card"}, {"value", card}});
    int line = 0;
    for (const auto& [key, qty] : items) {
      const Product& p = kShelf.at(key);
      basket["lines"].push_back({{"line", ++line},
                                 {"sku", p.sku},
                                 {"qty", qty},
                                 {"unit_price", p.price},
                                 {"brand", p.brand},
                                 {"categories", {p.category}}});
    }
    return basket;
  }

  Json Checkout(const std::string& time, const std::string& story, const Json& basket) {
    std::cout << "\n" << time << "  " << story << "\n";
    Json receipt = Call(regulars_commit, basket);
    PrintReceipt(receipt);
    ++sales_;
    gross_ += receipt["total_gross"].get<int64_t>();
    discount_ += receipt["total_discount"].get<int64_t>();
    net_ += receipt["total_net"].get<int64_t>();
    return receipt;
  }

  void Retry(const Json& basket, const Json& first) {
    Json again = Call(regulars_commit, basket);
    std::cout << "       The POS lost the answer and commits "
              << basket["pos_txn_id"].get<std::string>() << " again: "
              << (again == first ? "same receipt, nothing written twice."
                                 : "DIFFERENT RECEIPT (bug)")
              << "\n";
  }

  void Void(const std::string& time, const std::string& story, const std::string& txn) {
    std::cout << "\n" << time << "  " << story << "\n";
    Json out = Call(regulars_void, Json{{"pos_txn_id", txn}});
    int64_t back = out["total_refund"];
    std::cout << "       Voided " << txn << ": " << Euros(back) << " EUR back to the customer.\n";
    PrintProgress(out);
    net_ -= back;
    returned_ += back;
  }

  void Refund(const std::string& time, const std::string& story, const Json& refund) {
    std::cout << "\n" << time << "  " << story << "\n";
    Json out = Call(regulars_refund, refund);
    for (const auto& l : out["lines"]) {
      std::cout << "       returned " << l["qty"] << " x " << g_names[l["sku"]] << ": "
                << Euros(l["amount"]) << " EUR";
      if (l.contains("reward_withdrawn")) {
        std::cout << " (reward of " << Euros(l["reward_withdrawn"]) << " no longer earned)";
      }
      std::cout << "\n";
    }
    int64_t back = out["total_refund"];
    std::cout << "       Refund " << out["pos_txn_id"].get<std::string>() << ": " << Euros(back)
              << " EUR back.\n";
    PrintProgress(out);
    net_ -= back;
    returned_ += back;
  }

  void Summary() {
    char* out = nullptr;
    int code = regulars_db_verify(till_, &out);
    Json report = code == REGULARS_OK ? Json::parse(out) : Json{{"ok", false}};
    regulars_free(out);
    char* audit = nullptr;
    int audit_code = regulars_audit_verify(till_, &audit);
    Json chain = audit_code == REGULARS_OK ? Json::parse(audit) : Json{{"ok", false}};
    regulars_free(audit);
    std::cout << "\n=== End of day at S001 ===\n"
              << "  sales committed       " << sales_ << "\n"
              << "  gross                 " << Euros(gross_) << " EUR\n"
              << "  discounts             " << Euros(discount_) << " EUR (" << rewards_
              << " rewarded units, goodwill included)\n"
              << "  voids and refunds     " << Euros(returned_) << " EUR\n"
              << "  takings               " << Euros(net_) << " EUR\n"
              << "  ledger events         " << report.value("events", 0) << "\n"
              << "  counters verified     "
              << (report.value("ok", false) ? "all equal to their recomputation from events"
                                            : "MISMATCH (see regulars db verify)")
              << "\n"
              << "  goodwill audit chain  " << chain.value("entries", 0) << " entries, "
              << (chain.value("ok", false) ? "intact" : "ALTERED (see regulars audit verify)")
              << "\n";
  }

 private:
  using Call3 = int (*)(regulars_till*, const char*, char**);

  Json Call(Call3 fn, const Json& request) {
    char* out = nullptr;
    int code = fn(till_, request.dump().c_str(), &out);
    Json result = Json::parse(out ? out : "{}", nullptr, false);
    regulars_free(out);
    if (code != REGULARS_OK) throw StepFailed{result.dump()};
    return result;
  }

  static std::string Pad(int n) {
    char buf[16];
    std::snprintf(buf, sizeof buf, "%06d", n);
    return buf;
  }

  void PrintReceipt(const Json& r) {
    std::string who = "anonymous";
    if (!r["customer"].is_null()) {
      std::string id = r["customer"]["id"];
      std::string name = names_.count(id) ? names_[id] : "a card-only shopper";
      if (r["customer"].value("pseudonymous", false)) name = "pseudonymous profile";
      who = name + " (" + id + ", by " + r["customer"]["recognized_by"].get<std::string>() + ")";
    }
    std::cout << "       +--------------------------------------------------------------+\n"
              << "       | Receipt " << r["pos_txn_id"].get<std::string>() << "   customer: " << who
              << "\n";
    for (const auto& l : r["lines"]) {
      char row[160];
      std::snprintf(row, sizeof row, "       | %3lld x %-34s %9s", static_cast<long long>(l["qty"]),
                    g_names[l["sku"]].c_str(), Euros(l["gross"]).c_str());
      std::cout << row << "\n";
      for (const auto& d : l["discounts"]) {
        std::snprintf(row, sizeof row, "       |       %-34s %9s",
                      d["text"]["en"].get<std::string>().c_str(),
                      ("-" + Euros(d["amount"])).c_str());
        std::cout << row << "\n";
        std::cout << "       |       (" << d["text"]["fr"].get<std::string>() << ")\n";
        rewards_ += d.value("units", int64_t{0});
      }
    }
    std::cout << "       | Total " << Euros(r["total_gross"]) << "   savings -"
              << Euros(r["total_discount"]) << "   to pay " << Euros(r["total_net"]) << " EUR\n";
    for (const auto& p : r["progress"]) {
      std::cout << "       | " << p["text"]["en"].get<std::string>() << "  /  "
                << p["text"]["fr"].get<std::string>() << "\n";
    }
    std::cout << "       +--------------------------------------------------------------+\n";
    // What only the cashier's screen shows.
    if (!r["customer"].is_null() && r["customer"].contains("tier_status")) {
      const Json& tier = r["customer"]["tier_status"];
      std::cout << "       cashier screen: " << tier["text"]["en"].get<std::string>()
                << " (services: " << tier["services"].dump() << ")\n";
    }
    for (const auto& s : r.value("suggestions", Json::array())) {
      std::cout << "       cashier screen, might mention: " << s["text"]["en"].get<std::string>()
                << "\n";
    }
    if (r.contains("goodwill")) {
      std::cout << "       cashier screen: goodwill budget left for this customer today "
                << Euros(r["goodwill"]["budget_left"]) << " EUR\n";
    }
    for (const auto& n : r["notices"]) {
      std::cout << "       cashier notice: " << n["message"].get<std::string>() << "\n";
    }
  }

  void PrintProgress(const Json& out) {
    for (const auto& p : out["progress"]) {
      std::cout << "       now: " << p["text"]["en"].get<std::string>() << "\n";
    }
  }

  regulars_till* till_;
  std::map<std::string, std::string> names_;
  int txn_ = 0;
  int sales_ = 0;
  int64_t gross_ = 0, discount_ = 0, net_ = 0, returned_ = 0, rewards_ = 0;
};

void PlayTheDay(regulars_till* till) {
  Day day(till);
  const std::string amelie = "2900000000018", bruno = "2900000000025", chloe = "2900000000032";
  day.Enrol("08:02", "Amélie", amelie);
  day.Enrol("08:03", "Bruno", bruno);
  day.Enrol("08:04", "Chloé", chloe);

  day.Checkout("08:15", "Amélie's first visit: two packs of diapers and milk.",
               day.Basket("08:15", amelie, {{"diapers3", 2}, {"milk", 1}}));
  // Test card numbers (Luhn-valid, never real): the demo never prints them.
  const std::string amelie_bank = "4111 1111 1111 1111", dan_bank = "5555 5555 5555 4444";
  day.LinkCard("08:16", "Amélie", amelie, amelie_bank);
  day.Checkout("08:40", "Dan, who has no loyalty card, pays by bank card: three packs.",
               day.PaidByCard("08:40", dan_bank, {{"diapers3", 3}}));
  day.Checkout("09:30", "A walk-in customer without a card.",
               day.Basket("09:30", "", {{"bread", 1}, {"coffee", 1}}));
  auto bruno_morning = day.Basket("10:05", bruno, {{"diapers4", 3}, {"coffee", 2}});
  day.Checkout("10:05", "Bruno: three packs and coffee.", bruno_morning);
  day.Checkout("11:20", "Amélie's second visit: two more packs.",
               day.Basket("11:20", amelie, {{"diapers3", 2}}));
  auto chloe_big = day.Basket("12:40", "", {{"diapers3", 6}, {"wipes", 2}});
  // Scanned from her phone: the scanner adds the AIM identifier for QR and a line end.
  chloe_big["identifiers"].push_back(
      {{"kind", "scan"}, {"value", "]Q1" + PhoneCode(chloe) + "\r\n"}});
  day.Checkout("12:40",
               "Chloé shows the QR code in her phone app (dynamic: it changes every 30 s) and "
               "stocks up: six packs at once (the fifth is on us).",
               chloe_big);
  day.Checkout("13:10",
               "Bruno's card is mis-keyed (bad check digit): the sale goes through anyway.",
               day.Basket("13:10", "2900000000026", {{"bread", 1}}));
  auto amelie_third = day.PaidByCard("14:30", amelie_bank, {{"diapers3", 1}, {"wipes", 1}});
  auto receipt = day.Checkout(
      "14:30",
      "Amélie's third visit, without her loyalty card: she pays by bank card and is recognized; "
      "her fifth pack is free at the till.",
      amelie_third);
  day.Retry(amelie_third, receipt);

  auto bruno_wrong = day.Basket("15:45", bruno, {{"diapers4", 2}});
  day.Checkout("15:45", "Bruno: two packs; the cashier scanned the wrong size.", bruno_wrong);
  day.Void("15:47", "The cashier voids that sale: Bruno's count goes back.",
           bruno_wrong["pos_txn_id"].get<std::string>());
  auto bruno_again = day.Basket("15:50", bruno, {{"diapers3", 2}});
  bruno_again["goodwill"] = {{"amount", 150}, {"reason", "waited for the void"}};
  day.Checkout("15:50",
               "Bruno, rung up again with the right size: his fifth pack is free, and the "
               "cashier offers 1.50 for the wait (a goodwill gesture, within his budget, audited).",
               bruno_again);

  day.Enrol("16:10", "Dan", "2900000000049");
  day.LinkCard("16:11", "Dan", "2900000000049", dan_bank);
  day.Checkout("16:15", "Dan, now with his card: two packs, and the fifth is free.",
               day.Basket("16:15", "2900000000049", {{"diapers3", 2}}));

  Json refund{{"pos_txn_id", "S001-T01-R00001"},
              {"refund_of", chloe_big["pos_txn_id"]},
              {"at", "2026-11-23T17:05:00+01:00"},
              {"lines", {{{"line", 1}, {"qty", 1}}, {{"line", 2}, {"qty", 1}}}}};
  day.Refund("17:05", "Chloé brings back one pack and one box of wipes (partial refund).", refund);

  day.Checkout("17:40",
               "Amélie's fourth visit today: three visits in 30 days make her a Regular, so "
               "groceries and bread are 5% off from now on, every time, without asking.",
               day.Basket("17:40", amelie, {{"milk", 2}, {"bread", 1}, {"wipes", 1}}));

  day.Summary();
}

}  // namespace

// The night: the day's events go to HQ over mutual TLS, and what other stores did comes
// back. `hq` is HOST:PORT of a running regulars-hq; `pki` holds the certificates made by
// installer/provision-pki.sh (ca.pem, store-S001.pem, store-S001.key).
bool NightlySync(const std::string& config_path, const std::string& db_path, const std::string& hq,
                 const std::string& pki) {
  std::cout << "\n== The night: sync with headquarters (" << hq << ", mutual TLS) ==\n";
  nlohmann::json config;
  std::ifstream(config_path) >> config;
  config["sync"] = {{"hq", hq},
                    {"ca", pki + "/ca.pem"},
                    {"cert", pki + "/store-S001.pem"},
                    {"key", pki + "/store-S001.key"},
                    {"give_up_after_minutes", 1}};
  std::ofstream(config_path) << config.dump(2);
  auto loaded = regulars::LoadConfigFile(config_path);
  if (!loaded.ok()) {
    std::cerr << "demo sync: " << loaded.error().message << " at " << loaded.error().where << "\n";
    return false;
  }
  auto ledger = regulars::Ledger::Open(db_path, regulars::LedgerOwnerOf(loaded->till));
  if (!ledger.ok()) {
    std::cerr << "demo sync: " << ledger.error().message << "\n";
    return false;
  }
  regulars::SyncRunner runner(**ledger, *loaded, config_path);
  auto report = runner.Run();
  if (!report.ok()) {
    std::cerr << "demo sync failed: " << report.error().code << ": " << report.error().message
              << "\n";
    return false;
  }
  std::cout << "Pushed " << report->pushed_events << " events in " << report->pushed_batches
            << " batch(es); HQ acknowledged every one (" << report->duplicates
            << " it already held).\n"
            << "Pulled " << report->pulled_events << " events of other stores ("
            << report->merged_events << " new here); pull cursor now " << report->pull_cursor
            << ".\n";
  return true;
}

int RunDemo(const std::string& db_path_arg, bool keep, const std::string& hq,
            const std::string& pki) {
  namespace fs = std::filesystem;
  std::error_code ec;
  std::string dir_template = (fs::temp_directory_path(ec) / "regulars-demo-XXXXXX").string();
  std::vector<char> dir_buf(dir_template.begin(), dir_template.end());
  dir_buf.push_back('\0');
  if (mkdtemp(dir_buf.data()) == nullptr) {
    std::cerr
        << R"({"error": {"code": "io_error", "message": "cannot create a temporary folder", "where": ""}})"
        << "\n";
    return kExitFailure;
  }
  fs::path dir(dir_buf.data());
  fs::path config_path = dir / "store.json";
  // The till knows headquarters' public key only.
  auto keys = regulars::NewQrKeyPair();
  if (!keys.ok()) {
    std::cerr << R"({"error": {"code": "internal", "message": "cannot make a key", "where": ""}})"
              << "\n";
    return kExitFailure;
  }
  g_hq_key = keys->first;
  nlohmann::json config = nlohmann::json::parse(kDemoConfig);
  config["qr"] = {
      {"public_keys",
       {{{"key_id", 1},
         {"public_key_hex", regulars::ToHex(keys->second.data(), keys->second.size())}}}}};
  std::ofstream(config_path) << config.dump(2);
  std::string db_path = db_path_arg.empty() ? (dir / "ledger.sqlite").string() : db_path_arg;
  if (!db_path_arg.empty() && fs::exists(db_path_arg)) {
    fs::remove_all(dir, ec);
    std::cerr
        << R"({"error": {"code": "invalid_arguments", "message": "the demo needs a fresh ledger: this file exists", "where": "--db"}})"
        << "\n";
    return kExitBadInput;
  }

  regulars_till* till = nullptr;
  char* error = nullptr;
  int code = regulars_open(&till, config_path.c_str(), db_path.c_str(), &error);
  if (code != REGULARS_OK) {
    std::cerr << (error ? error : "") << "\n";
    regulars_free(error);
    fs::remove_all(dir, ec);
    return ExitStatusOf(code);
  }

  std::cout
      << "Regulars " << regulars_version()
      << " demo: Monday 23 November 2026 at store S001, till T01\n"
      << "Rules: every 5th pack of Dodo diapers is free; every 10th bag of coffee is half price;\n"
      << "       3 visits in 30 days make a Regular (5% off groceries and bread);\n"
      << "       every 50.00 spent on baby care takes 5.00 off; goodwill up to 2.00 a day\n"
      << "       (5.00 for a Regular), every gesture audited.\n"
      << "Ledger: " << db_path << " (SQLite, WAL, synchronous=FULL)\n\n";

  bool failed = false;
  try {
    PlayTheDay(till);
  } catch (const StepFailed& step) {
    std::cerr << "demo step failed: " << step.error << "\n";
    failed = true;
  }
  regulars_close(till);
  if (!failed && !hq.empty()) {
    failed = !NightlySync(config_path.string(), db_path, hq, pki);
  } else if (!failed) {
    std::cout << "\n(The nightly sync is shown by installer/quickstart.sh, which starts a local "
                 "regulars-hq: regulars demo --hq HOST:PORT --pki DIR.)\n";
  }
  if (keep || !db_path_arg.empty()) {
    std::cout << "\nLedger kept at " << db_path << "\n";
  }
  if (!keep) {
    fs::remove(config_path, ec);
    if (db_path_arg.empty()) {
      fs::remove_all(dir, ec);
    } else {
      fs::remove(dir, ec);
    }
  }
  return failed ? kExitFailure : kExitOk;
}

}  // namespace regulars_cli
