// The `regulars` command line of Contract v1, run as a separate process.
#include <gtest/gtest.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <thread>

namespace {

using Json = nlohmann::json;

struct Outcome {
  int status = -1;
  std::string out;
  std::string err;
};

std::string Read(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

class Cli : public ::testing::Test {
 protected:
  void SetUp() override {
    char dir[] = "/tmp/regulars-cli-XXXXXX";
    ASSERT_NE(mkdtemp(dir), nullptr);
    dir_ = dir;
    config_ = std::string(REGULARS_SOURCE_DIR) + "/config/examples/store.json";
    db_ = dir_ + "/ledger.sqlite";
    // Every command but `db init` needs an existing ledger.
    Outcome made = Run("db init");
    ASSERT_EQ(made.status, 0) << made.err;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  // Runs `regulars ARGS` with --config and --db, feeding `input` on stdin.
  Outcome Run(const std::string& args, const std::string& input = "", bool with_files = true) {
    std::ofstream(dir_ + "/stdin") << input;
    std::string command = std::string(REGULARS_CLI) + " " + args;
    if (with_files) command += " --config " + config_ + " --db " + db_;
    command += " < " + dir_ + "/stdin > " + dir_ + "/stdout 2> " + dir_ + "/stderr";
    int raw = std::system(command.c_str());
    Outcome o;
    o.status = WIFEXITED(raw) ? WEXITSTATUS(raw) : -1;
    o.out = Read(dir_ + "/stdout");
    o.err = Read(dir_ + "/stderr");
    return o;
  }

  // Points the till's config at a regulars-hq on loopback `port`, with the store S001's
  // certificates from the PKI folder `pki` (ending in '/').
  void SyncWithHqAt(int port, const std::string& pki) {
    Json config = Json::parse(Read(config_));
    config["sync"] = {{"hq", "127.0.0.1:" + std::to_string(port)},
                      {"ca", pki + "ca.pem"},
                      {"cert", pki + "store-S001.pem"},
                      {"key", pki + "store-S001.key"}};
    config_ = dir_ + "/store.json";
    std::ofstream(config_) << config.dump();
  }

  std::string WriteBasket(const std::string& name, const Json& basket) {
    std::string path = dir_ + "/" + name;
    std::ofstream(path) << basket.dump();
    return path;
  }

  static Json Basket(const std::string& txn, int packs) {
    return {{"pos_txn_id", txn},
            {"store_id", "S001"},
            {"till_id", "T01"},
            {"at", "2026-11-23T10:15:00+01:00"},
            {"currency", "EUR"},
            {"identifiers", {{{"kind", "card"}, {"value", "2900000000018"}}}},
            {"lines",
             {{{"line", 1},
               {"sku", "3400000000001"},
               {"qty", packs},
               {"unit_price", 1290},
               {"brand", "Dodo"},
               {"categories", {"baby/diapers"}}}}}};
  }

  std::string dir_, config_, db_;
};

TEST_F(Cli, EnrollPrintsTheCustomer) {
  Outcome o = Run("enroll --card 2900000000018");
  ASSERT_EQ(o.status, 0) << o.err;
  Json out = Json::parse(o.out);
  EXPECT_EQ(out["customer"]["id"].get<std::string>().rfind("c_", 0), 0u);
}

TEST_F(Cli, EnrollKeepsTheFirstNameForTheGreeting) {
  ASSERT_EQ(Run("enroll --card 2900000000018 --first-name Amélie").status, 0);
  Outcome dry = Run("checkout --dry-run -", Basket("T-1", 1).dump());
  ASSERT_EQ(dry.status, 0) << dry.err;
  EXPECT_EQ(Json::parse(dry.out)["customer"]["first_name"], "Amélie");
  Outcome bad = Run("enroll --card 2900000000025 --first-name \"$(printf 'A\\tb')\"");
  EXPECT_EQ(bad.status, 2);
  EXPECT_EQ(Json::parse(bad.err)["error"]["where"], "--first-name") << bad.err;
}

TEST_F(Cli, CardReplaceGivesTheCustomerANewCardAndRetiresTheOld) {
  ASSERT_EQ(Run("enroll --card 2900000000018").status, 0);
  ASSERT_EQ(Run("checkout -", Basket("T-1", 4).dump()).status, 0);
  Outcome o = Run("card replace --card 2900000000018 --new-card 2900000000032 --cashier C07");
  ASSERT_EQ(o.status, 0) << o.err;
  EXPECT_EQ(Json::parse(o.out)["replaced"]["new_card"], "2900000000032");
  Outcome old = Run("checkout --dry-run -", Basket("T-2", 1).dump());
  ASSERT_EQ(old.status, 0) << old.err;
  EXPECT_EQ(Json::parse(old.out)["notices"][0]["code"], "card_replaced");

  Outcome again = Run("card replace --card 2900000000018 --new-card 2900000000049");
  EXPECT_EQ(again.status, 2);
  EXPECT_EQ(Json::parse(again.err)["error"]["code"], "card_replaced");
  EXPECT_EQ(Json::parse(again.err)["error"]["where"], "--card");
  Outcome in_use = Run("card replace --card 2900000000032 --new-card 2900000000032");
  EXPECT_EQ(in_use.status, 2);
  EXPECT_EQ(Json::parse(in_use.err)["error"]["where"], "--new-card");
  Outcome missing = Run("card replace --card 2900000000032");
  EXPECT_EQ(missing.status, 2);
  EXPECT_EQ(Json::parse(missing.err)["error"]["code"], "invalid_arguments");
}

TEST_F(Cli, AnInvalidCardIsExitTwoWithAnError) {
  Outcome o = Run("enroll --card 2900000000017");
  EXPECT_EQ(o.status, 2);
  Json err = Json::parse(o.err);
  EXPECT_EQ(err["error"]["code"], "invalid_card");
  EXPECT_EQ(err["error"]["where"], "--card");
  EXPECT_TRUE(o.out.empty());
}

TEST_F(Cli, CheckoutCommitsOnceAndDryRunWritesNothing) {
  ASSERT_EQ(Run("enroll --card 2900000000018").status, 0);
  ASSERT_EQ(Run("checkout " + WriteBasket("b1.json", Basket("T-1", 4))).status, 0);
  Outcome dry = Run("checkout --dry-run -", Basket("T-2", 1).dump());
  ASSERT_EQ(dry.status, 0) << dry.err;
  EXPECT_EQ(Json::parse(dry.out)["status"], "proposed");
  EXPECT_EQ(Json::parse(dry.out)["total_discount"], 1290);
  Outcome first = Run("checkout -", Basket("T-2", 1).dump());
  ASSERT_EQ(first.status, 0) << first.err;
  EXPECT_EQ(Json::parse(first.out)["total_discount"], 1290);
  Outcome again = Run("checkout -", Basket("T-2", 1).dump());
  EXPECT_EQ(again.status, 0);
  EXPECT_EQ(again.out, first.out);
}

// Each command is a process of its own: the rules a dry run showed are kept in the ledger.
TEST_F(Cli, ARulesVersionFromADryRunIsHonouredByTheCheckoutAfterTheRulesChanged) {
  Json config = Json::parse(Read(config_));
  config_ = dir_ + "/store.json";
  std::ofstream(config_) << config.dump();
  ASSERT_EQ(Run("enroll --card 2900000000018").status, 0);
  ASSERT_EQ(Run("checkout " + WriteBasket("b1.json", Basket("T-1", 4))).status, 0);
  Outcome dry = Run("checkout --dry-run -", Basket("T-2", 1).dump());
  ASSERT_EQ(dry.status, 0) << dry.err;
  Json shown = Json::parse(dry.out);
  ASSERT_EQ(shown["total_discount"], 1290);
  config["rules"][0]["reward"] = {{"percent", 50}};  // the fifth pack at half price now
  std::ofstream(config_) << config.dump();
  Json basket = Basket("T-2", 1);
  basket["rules_version"] = shown["rules_version"];
  Outcome paid = Run("checkout -", basket.dump());
  ASSERT_EQ(paid.status, 0) << paid.err;
  Json receipt = Json::parse(paid.out);
  EXPECT_EQ(receipt["total_discount"], 1290) << "the price the dry run showed";
  EXPECT_EQ(receipt["rules_version"], shown["rules_version"]);
  EXPECT_TRUE(receipt["notices"].empty()) << paid.out;
  Outcome now = Run("checkout --dry-run -", Basket("T-3", 5).dump());
  EXPECT_EQ(Json::parse(now.out)["total_discount"], 645) << "new baskets: the rules in force";
  EXPECT_EQ(Run("db verify").status, 0);
}

TEST_F(Cli, BadBasketsAreExitTwoWithAPointer) {
  Json basket = Basket("T-1", 1);
  basket["lines"][0]["qty"] = -1;
  Outcome o = Run("checkout -", basket.dump());
  EXPECT_EQ(o.status, 2);
  EXPECT_EQ(Json::parse(o.err)["error"]["where"], "/lines/0/qty");
  Outcome malformed = Run("checkout -", "{\"pos_txn_id\": ");
  EXPECT_EQ(malformed.status, 2);
  EXPECT_EQ(Json::parse(malformed.err)["error"]["code"], "invalid_basket");
  Outcome missing = Run("checkout /nonexistent/basket.json");
  EXPECT_EQ(missing.status, 2);
}

TEST_F(Cli, AMalformedBasketFileIsNamedWithItsLineAndColumn) {
  std::string file = dir_ + "/basket.json";
  std::ofstream(file)
      << "{\n  \"pos_txn_id\": \"T-1\",\n  \"lines\": [\n    {\"line\": 1,, }\n  ]\n}\n";
  Outcome o = Run("checkout " + file);
  EXPECT_EQ(o.status, 2);
  Json error = Json::parse(o.err)["error"];
  EXPECT_EQ(error["code"], "invalid_basket");
  EXPECT_EQ(error["where"], file + ": line 4, column 16") << o.err;  // the second comma
  Outcome piped = Run("checkout -", "{\"pos_txn_id\": ");
  EXPECT_EQ(
      Json::parse(piped.err)["error"]["where"].get<std::string>().rfind("standard input: ", 0), 0u)
      << piped.err;
}

TEST_F(Cli, AWholeNumberWrittenAsAFloatIsNamedForWhatItIs) {
  Json basket = Basket("T-1", 1);
  basket["lines"][0]["qty"] = 1e30;
  Outcome huge = Run("checkout -", basket.dump());
  EXPECT_EQ(huge.status, 2);
  EXPECT_EQ(Json::parse(huge.err)["error"]["message"], "qty is too large") << huge.err;
  basket["lines"][0]["qty"] = 3.0;
  Outcome written = Run("checkout -", basket.dump());
  EXPECT_NE(written.err.find("without a decimal point or exponent"), std::string::npos)
      << written.err;
  basket["lines"][0]["qty"] = 2.5;
  Outcome fraction = Run("checkout -", basket.dump());
  EXPECT_NE(fraction.err.find("not a number with a fraction"), std::string::npos) << fraction.err;
}

TEST_F(Cli, VoidAndRefund) {
  ASSERT_EQ(Run("checkout -", Basket("T-1", 3).dump()).status, 0);
  Json refund{{"pos_txn_id", "R-1"}, {"refund_of", "T-1"}, {"lines", {{{"line", 1}, {"qty", 1}}}}};
  Outcome r = Run("refund -", refund.dump());
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(Json::parse(r.out)["total_refund"], 1290);
  refund["pos_txn_id"] = "R-2";
  refund["lines"][0]["qty"] = 5;
  Outcome too_much = Run("refund -", refund.dump());
  EXPECT_EQ(too_much.status, 2);
  EXPECT_EQ(Json::parse(too_much.err)["error"]["code"], "refund_exceeds_sale");
  Outcome v = Run("void T-1");
  ASSERT_EQ(v.status, 0) << v.err;
  EXPECT_EQ(Json::parse(v.out)["total_refund"], 2 * 1290);
  Outcome unknown = Run("void NOPE");
  EXPECT_EQ(unknown.status, 2);
  EXPECT_EQ(Json::parse(unknown.err)["error"]["code"], "unknown_transaction");
}

TEST_F(Cli, DbVerifyPassesOnAHealthyLedgerAndFailsOnATamperedOne) {
  ASSERT_EQ(Run("enroll --card 2900000000018").status, 0);
  ASSERT_EQ(Run("checkout -", Basket("T-1", 3).dump()).status, 0);
  Outcome ok = Run("db verify");
  EXPECT_EQ(ok.status, 0) << ok.out << ok.err;
  EXPECT_TRUE(Json::parse(ok.out)["ok"]);
  std::string tamper = "sqlite3 " + db_ + " 'UPDATE counters SET progress = 2' 2>/dev/null";
  if (std::system(tamper.c_str()) != 0) GTEST_SKIP() << "no sqlite3 shell to tamper with";
  Outcome bad = Run("db verify");
  EXPECT_EQ(bad.status, 1);
  EXPECT_FALSE(Json::parse(bad.out)["ok"]);
  EXPECT_EQ(Json::parse(bad.out)["mismatches"][0]["recomputed"]["progress"], 3);
}

TEST_F(Cli, AuditVerifyWithoutAnAuditKeyIsExitTwo) {
  // A config without goodwill, whatever the example holds: no key, no chain to verify.
  Json config = Json::parse(Read(config_));
  config.erase("goodwill");
  config_ = dir_ + "/no-goodwill.json";
  std::ofstream(config_) << config.dump();
  Outcome o = Run("audit verify");
  EXPECT_EQ(o.status, 2);
  EXPECT_EQ(Json::parse(o.err)["error"]["code"], "goodwill_not_configured");
  EXPECT_TRUE(o.out.empty());
}

TEST_F(Cli, AuditVerifyPassesOnAnIntactChainAndFailsOnAnAlteredGesture) {
  Json config = Json::parse(Read(config_));
  config["goodwill"] = {{"per_customer_per_day", {{"default", 500}}},
                        {"audit_key", {{"secret_hex", std::string(64, 'c')}}}};
  config_ = dir_ + "/goodwill.json";
  std::ofstream(config_) << config.dump();
  ASSERT_EQ(Run("enroll --card 2900000000018").status, 0);
  Json basket = Basket("T-1", 1);
  basket["cashier_id"] = "C07";
  basket["goodwill"] = {{"amount", 200}, {"reason", "box damaged"}};
  Outcome sold = Run("checkout -", basket.dump());
  ASSERT_EQ(sold.status, 0) << sold.err;
  EXPECT_EQ(Json::parse(sold.out)["total_discount"], 200);
  Outcome ok = Run("audit verify");
  EXPECT_EQ(ok.status, 0) << ok.out << ok.err;
  EXPECT_EQ(Json::parse(ok.out)["entries"], 1);
  std::string tamper = "sqlite3 " + db_ + " 'UPDATE goodwill_audit SET amount = 2000' 2>/dev/null";
  if (std::system(tamper.c_str()) != 0) GTEST_SKIP() << "no sqlite3 shell to tamper with";
  Outcome bad = Run("audit verify");
  EXPECT_EQ(bad.status, 1);
  EXPECT_EQ(Json::parse(bad.out)["problems"][0]["seq"], 1);
}

TEST_F(Cli, AuditTakesVerifyOnly) {
  db_ = dir_ + "/never-made.sqlite";
  EXPECT_EQ(Run("audit").status, 2);
  EXPECT_EQ(Run("audit check").status, 2);
  EXPECT_FALSE(std::filesystem::exists(db_));
}

TEST_F(Cli, AForeignDatabaseOrBadConfigIsExitTwo) {
  std::ofstream(db_) << "this is not a database, just a text file long enough to look like one "
                     << std::string(200, 'x');
  Outcome o = Run("db verify");
  EXPECT_EQ(o.status, 2);
  EXPECT_EQ(Json::parse(o.err)["error"]["code"], "database_unreadable");
  std::ofstream(dir_ + "/bad.json") << "{\"store_id\": 5}";
  std::filesystem::remove(db_);
  ASSERT_EQ(Run("db init").status, 0);
  Outcome c = Run("db verify --config " + dir_ + "/bad.json --db " + db_, "", false);
  EXPECT_EQ(c.status, 2);
  EXPECT_EQ(Json::parse(c.err)["error"]["where"], dir_ + "/bad.json#/store_id");
}

TEST_F(Cli, MissingArgumentsAreExitTwo) {
  EXPECT_EQ(Run("checkout", "", true).status, 2);
  EXPECT_EQ(Run("enroll", "", false).status, 2);
  EXPECT_EQ(Run("frobnicate", "", true).status, 2);
  EXPECT_EQ(Run("checkout --bogus x", "", true).status, 2);
  EXPECT_EQ(Run("--help", "", false).status, 0);
}

TEST_F(Cli, TheDemoRunsADayAndVerifiesItsLedger) {
  Outcome o = Run("demo", "", false);
  ASSERT_EQ(o.status, 0) << o.err;
  EXPECT_NE(o.out.find("5th pack free"), std::string::npos);
  EXPECT_NE(o.out.find("Voided"), std::string::npos);
  EXPECT_NE(o.out.find("Refund"), std::string::npos);
  EXPECT_NE(o.out.find("same receipt, nothing written twice"), std::string::npos);
  EXPECT_NE(o.out.find("all equal to their recomputation"), std::string::npos);
}

TEST_F(Cli, EndlessOrBinaryInputIsRefusedQuickly) {
  Outcome zero = Run("checkout /dev/zero");
  EXPECT_EQ(zero.status, 2);
  EXPECT_NE(zero.err.find("larger than 16 MiB"), std::string::npos);
  Outcome config = Run("db verify --config /dev/zero --db " + db_, "", false);
  EXPECT_EQ(config.status, 2);
  std::string with_nul = Basket("T-1", 1).dump();
  with_nul += std::string(1, '\0') + "garbage";
  Outcome nul = Run("checkout -", with_nul);
  EXPECT_EQ(nul.status, 2);
  EXPECT_NE(nul.err.find("NUL byte"), std::string::npos);
}

TEST_F(Cli, AUsageErrorNeverCreatesALedger) {
  db_ = dir_ + "/never-made.sqlite";
  EXPECT_EQ(Run("enroll").status, 2);
  EXPECT_EQ(Run("checkout").status, 2);
  EXPECT_EQ(Run("checkout /nonexistent.json").status, 2);
  EXPECT_FALSE(std::filesystem::exists(db_));
}

// The files in the test's folder whose name starts with `stem`: a ledger and its -wal,
// -shm or -journal.
std::vector<std::string> FilesStartingWith(const std::string& dir, const std::string& stem) {
  std::vector<std::string> found;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    std::string name = entry.path().filename().string();
    if (name.rfind(stem, 0) == 0) found.push_back(name);
  }
  return found;
}

TEST_F(Cli, AMistypedDbIsRefusedNamingItAndCreatesNothing) {
  Json config = Json::parse(Read(config_));
  config["http"] = {{"listen", "127.0.0.1"}, {"token", {{"secret_hex", std::string(64, 'a')}}}};
  std::string serving = dir_ + "/serving.json";
  std::ofstream(serving) << config.dump();
  std::string typo = dir_ + "/ledgr.sqlite";
  std::string basket = WriteBasket("b.json", Basket("T-1", 1));
  for (const std::string& command : std::vector<std::string>{
           "db verify", "audit verify", "enroll --card 2900000000018", "checkout " + basket,
           "checkout --dry-run " + basket, "void T-1", "sync status", "sync now --quiet",
           "import-poslog " + std::string(REGULARS_SOURCE_DIR) + "/tests/data/poslog/week.xml"}) {
    Outcome o = Run(command + " --config " + config_ + " --db " + typo, "", false);
    EXPECT_EQ(o.status, 2) << command << ": " << o.err;
    Json error = Json::parse(o.err)["error"];
    EXPECT_EQ(error["code"], "database_not_found") << command;
    EXPECT_EQ(error["where"], "--db") << command;
    EXPECT_NE(error["message"].get<std::string>().find(typo), std::string::npos) << command;
    EXPECT_TRUE(o.out.empty()) << command;
  }
  Outcome serve = Run("serve --port 0 --config " + serving + " --db " + typo, "", false);
  EXPECT_EQ(serve.status, 2) << serve.err;
  EXPECT_EQ(Json::parse(serve.err)["error"]["code"], "database_not_found");
  EXPECT_TRUE(FilesStartingWith(dir_, "ledgr").empty()) << "nothing created";
}

TEST_F(Cli, DbInitCreatesTheLedgerOnceAndRefusesAnExistingOne) {
  db_ = dir_ + "/new.sqlite";
  Outcome made = Run("db init");
  ASSERT_EQ(made.status, 0) << made.err;
  Json out = Json::parse(made.out);
  EXPECT_EQ(out["created"], db_);
  EXPECT_EQ(out["store_id"], "S001");
  EXPECT_EQ(out["till_id"], "T01");
  EXPECT_EQ(out["currency"], "EUR");
  ASSERT_EQ(Run("enroll --card 2900000000018").status, 0);

  Outcome again = Run("db init");
  EXPECT_EQ(again.status, 2);
  Json error = Json::parse(again.err)["error"];
  EXPECT_EQ(error["code"], "database_exists");
  EXPECT_EQ(error["where"], "--db");
  EXPECT_NE(error["message"].get<std::string>().find(db_), std::string::npos);
  Outcome verify = Run("db verify");
  ASSERT_EQ(verify.status, 0) << verify.err;
  EXPECT_EQ(Json::parse(verify.out)["events"], 1) << "the ledger is untouched";

  EXPECT_EQ(Run("db init", "", false).status, 2) << "--config and --db are required";
  EXPECT_EQ(Run("db create").status, 2);
}

TEST_F(Cli, ALedgerOfAnotherStoreOrCurrencyIsExitTwoNamingBothAndVerifyNamesItsOwner) {
  ASSERT_EQ(Run("enroll --card 2900000000018").status, 0);
  Outcome verify = Run("db verify");
  ASSERT_EQ(verify.status, 0) << verify.err;
  EXPECT_EQ(Json::parse(verify.out)["ledger"],
            Json({{"store_id", "S001"}, {"till_id", "T01"}, {"currency", "EUR"}}));

  std::string before = Read(db_);
  auto modified = std::filesystem::last_write_time(db_);
  for (const auto& [field, value] : {std::pair{"store_id", "S009"}, std::pair{"currency", "USD"}}) {
    Json config = Json::parse(Read(config_));
    config[field] = value;
    std::string other = dir_ + "/other-" + field + ".json";
    std::ofstream(other) << config.dump();
    for (std::string command : {"db verify", "sync status"}) {
      Outcome o = Run(command + " --config " + other + " --db " + db_, "", false);
      EXPECT_EQ(o.status, 2) << command << " " << field << ": " << o.err;
      Json error = Json::parse(o.err)["error"];
      EXPECT_EQ(error["code"], "ledger_belongs_elsewhere") << command;
      EXPECT_EQ(error["where"], "--db") << command;
      std::string message = error["message"];
      std::string says = field == std::string("store_id") ? "S009 in EUR" : "S001 in USD";
      EXPECT_EQ(message, db_ + " belongs to store S001 in EUR; the config says store " + says);
    }
  }
  EXPECT_EQ(Read(db_), before) << "the ledger is untouched";
  EXPECT_EQ(std::filesystem::last_write_time(db_), modified);
}

// A ledger the process may not write: refused at open naming the file, never blamed on
// --card, and no -wal or -shm file left beside it. Run as another user when the tests
// run as root (root may write any file).
TEST_F(Cli, AReadOnlyLedgerIsRefusedNamingTheFileAndLeavesNoWalBehind) {
  std::string as_user;
  if (geteuid() == 0) {
    if (std::system("setpriv --version > /dev/null 2>&1") != 0) GTEST_SKIP() << "no setpriv";
    as_user = "setpriv --reuid=65534 --regid=65534 --clear-groups ";
    std::filesystem::permissions(dir_, std::filesystem::perms::all);
  }
  std::filesystem::permissions(db_, std::filesystem::perms::owner_read |
                                        std::filesystem::perms::group_read |
                                        std::filesystem::perms::others_read);
  for (std::string command : {"enroll --card 2900000000018", "db verify", "sync status"}) {
    std::string line = as_user + REGULARS_CLI + " " + command + " --config " + config_ + " --db " +
                       db_ + " > " + dir_ + "/stdout 2> " + dir_ + "/stderr";
    int raw = std::system(line.c_str());
    ASSERT_TRUE(WIFEXITED(raw));
    EXPECT_EQ(WEXITSTATUS(raw), 2) << command;
    Json error = Json::parse(Read(dir_ + "/stderr"))["error"];
    EXPECT_EQ(error["code"], "database_read_only") << command;
    EXPECT_EQ(error["where"], "--db") << command;
    EXPECT_NE(error["message"].get<std::string>().find(db_), std::string::npos) << command;
  }
  EXPECT_EQ(FilesStartingWith(dir_, "ledger.sqlite"), std::vector<std::string>{"ledger.sqlite"})
      << "no -wal or -shm left behind";
}

TEST_F(Cli, ADbInAMissingFolderIsRefusedNamingTheFolder) {
  std::string folder = dir_ + "/no-such-folder";
  for (std::string command : {"db init", "db verify", "enroll --card 2900000000018"}) {
    Outcome o =
        Run(command + " --config " + config_ + " --db " + folder + "/ledger.sqlite", "", false);
    EXPECT_EQ(o.status, 2) << command << ": " << o.err;
    Json error = Json::parse(o.err)["error"];
    EXPECT_EQ(error["code"], "folder_not_found") << command;
    EXPECT_EQ(error["where"], "--db") << command;
    EXPECT_NE(error["message"].get<std::string>().find("the folder " + folder + " does not exist"),
              std::string::npos)
        << error["message"];
  }
  EXPECT_FALSE(std::filesystem::exists(folder));
}

TEST_F(Cli, RegularsHqRefusesAMistypedDbAndDbInitCreatesItOnce) {
  auto hq = [&](const std::string& args) {
    std::string command =
        std::string(REGULARS_HQ) + " " + args + " > " + dir_ + "/stdout 2> " + dir_ + "/stderr";
    int raw = std::system(command.c_str());
    return Outcome{WIFEXITED(raw) ? WEXITSTATUS(raw) : -1, Read(dir_ + "/stdout"),
                   Read(dir_ + "/stderr")};
  };
  std::string typo = dir_ + "/hq-typo.sqlite";
  for (const char* command : {"status", "export --since 0", "erase --customer c_1"}) {
    Outcome o = hq(std::string(command) + " --db " + typo);
    EXPECT_EQ(o.status, 2) << command << ": " << o.err;
    Json error = Json::parse(o.err)["error"];
    EXPECT_EQ(error["code"], "database_not_found") << command;
    EXPECT_EQ(error["where"], "--db") << command;
    EXPECT_NE(error["message"].get<std::string>().find(typo), std::string::npos) << command;
  }
  EXPECT_TRUE(FilesStartingWith(dir_, "hq-typo").empty()) << "nothing created";

  std::string db = dir_ + "/hq.sqlite";
  Outcome made = hq("db init --db " + db);
  ASSERT_EQ(made.status, 0) << made.err;
  EXPECT_EQ(Json::parse(made.out)["created"], db);
  ASSERT_EQ(hq("erase --customer c_1 --db " + db).status, 0);
  Outcome again = hq("db init --db " + db);
  EXPECT_EQ(again.status, 2);
  EXPECT_EQ(Json::parse(again.err)["error"]["code"], "database_exists");
  Outcome status = hq("status --db " + db);
  ASSERT_EQ(status.status, 0) << status.err;
  EXPECT_EQ(Json::parse(status.out)["events"], 1) << "the store is untouched";
  EXPECT_EQ(hq("db wipe --db " + db).status, 2);
}

TEST_F(Cli, SyncCommandsSayWhatIsWrongAndStatusShowsTheBacklog) {
  EXPECT_EQ(Run("sync").status, 2);
  EXPECT_EQ(Run("sync later").status, 2);
  EXPECT_EQ(Run("sync now", "", false).status, 2) << "--config and --db are required";
  ASSERT_EQ(Run("enroll --card 2900000000018").status, 0);
  Outcome now = Run("sync now --quiet");
  EXPECT_EQ(now.status, 2);
  EXPECT_EQ(Json::parse(now.err)["error"]["code"], "sync_not_configured");
  Outcome status = Run("sync status");
  ASSERT_EQ(status.status, 0) << status.err;
  Json s = Json::parse(status.out);
  EXPECT_EQ(s["backlog"], 1) << "the enrolment waits for HQ";
  EXPECT_EQ(s["configured"], false);
  EXPECT_TRUE(s["last_success"].is_null());
  EXPECT_TRUE(s["oldest_unsent"].is_string());
}

TEST_F(Cli, RegularsHqChecksItsArgumentsAndStatusCountsEvents) {
  auto hq = [&](const std::string& args) {
    std::string command =
        std::string(REGULARS_HQ) + " " + args + " > " + dir_ + "/stdout 2> " + dir_ + "/stderr";
    int raw = std::system(command.c_str());
    return Outcome{WIFEXITED(raw) ? WEXITSTATUS(raw) : -1, Read(dir_ + "/stdout"),
                   Read(dir_ + "/stderr")};
  };
  std::string db = " --db " + dir_ + "/hq.sqlite";
  EXPECT_EQ(hq("").status, 2);
  EXPECT_EQ(hq("serve" + db).status, 2) << "--listen, --ca, --cert and --key are required";
  EXPECT_EQ(hq("serve --listen nowhere --ca a --cert b --key c" + db).status, 2);
  EXPECT_EQ(hq("export" + db).status, 2) << "--since is required";
  EXPECT_EQ(hq("export --since -1" + db).status, 2);
  EXPECT_EQ(hq("export --since 0 --format csv" + db).status, 2) << "csv needs --table";
  EXPECT_EQ(hq("export --since 0 --format csv --table shoes" + db).status, 2);
  EXPECT_EQ(hq("erase" + db).status, 2) << "--customer is required";
  EXPECT_EQ(hq("status").status, 2) << "a store is required";
  ASSERT_EQ(hq("db init" + db).status, 0);
  Outcome status = hq("status" + db);
  ASSERT_EQ(status.status, 0) << status.err;
  EXPECT_EQ(Json::parse(status.out)["events"], 0);
  Outcome erased = hq("erase --customer c_1 --reason test" + db);
  ASSERT_EQ(erased.status, 0) << erased.err;
  EXPECT_EQ(Json::parse(erased.out)["event_id"], "HQ:HQ:1");
  Outcome exported = hq("export --since 0" + db);
  ASSERT_EQ(exported.status, 0) << exported.err;
  EXPECT_EQ(Json::parse(exported.out)["kind"], "erase");
  EXPECT_EQ(Json::parse(exported.err)["next_since"], 1);
}

// A till restored from an older copy of its ledger numbers new sales with ids HQ holds:
// `sync now` is refused naming the id, `sync status` shows it, and HQ keeps its events.
TEST_F(Cli, SyncNowOfALedgerRestoredFromAnOlderCopyExitsTwoNamingTheReusedId) {
  std::string script = std::string(REGULARS_SOURCE_DIR) + "/installer/provision-pki.sh";
  for (const char* args : {" ca", " hq localhost 127.0.0.1", " store S001"}) {
    ASSERT_EQ(std::system((script + " " + dir_ + "/pki" + args + " >/dev/null 2>&1").c_str()), 0);
  }
  std::string p = dir_ + "/pki/";
  std::string port_file = dir_ + "/hq.port";
  std::string init = std::string(REGULARS_HQ) + " db init --db " + dir_ + "/hq.sqlite >/dev/null";
  ASSERT_EQ(std::system(init.c_str()), 0);
  pid_t hq = fork();
  if (hq == 0) {
    FILE* log = std::freopen((dir_ + "/hq.log").c_str(), "w", stderr);
    (void)log;
    execl(REGULARS_HQ, REGULARS_HQ, "serve", "--db", (dir_ + "/hq.sqlite").c_str(), "--listen",
          "127.0.0.1:0", "--ca", (p + "ca.pem").c_str(), "--cert", (p + "hq.pem").c_str(), "--key",
          (p + "hq.key").c_str(), "--port-file", port_file.c_str(), nullptr);
    _exit(127);
  }
  auto stop_hq = [hq] {
    kill(hq, SIGTERM);
    waitpid(hq, nullptr, 0);
  };
  for (int i = 0; i < 200 && !std::filesystem::exists(port_file); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  int port = 0;
  std::ifstream(port_file) >> port;
  if (port == 0) stop_hq();
  ASSERT_NE(port, 0) << "regulars-hq did not start: " << Read(dir_ + "/hq.log");

  SyncWithHqAt(port, p);
  ASSERT_EQ(Run("enroll --card 2900000000018").status, 0);
  std::filesystem::copy_file(db_, dir_ + "/older-copy.sqlite");
  ASSERT_EQ(Run("checkout " + WriteBasket("a1.json", Basket("A1", 3))).status, 0);
  Outcome first = Run("sync now --quiet");
  ASSERT_EQ(first.status, 0) << first.err;

  // The older copy restored: the next sale takes seq 2 again.
  std::filesystem::copy_file(dir_ + "/older-copy.sqlite", db_,
                             std::filesystem::copy_options::overwrite_existing);
  ASSERT_EQ(Run("checkout " + WriteBasket("a2.json", Basket("A2", 1))).status, 0);
  Outcome refused = Run("sync now --quiet");
  Outcome status = Run("sync status");
  std::string hq_status =
      std::string(REGULARS_HQ) + " status --db " + dir_ + "/hq.sqlite > " + dir_ + "/held.json";
  int held_status = std::system(hq_status.c_str());
  stop_hq();
  ASSERT_EQ(refused.status, 2) << refused.err;
  Json error = Json::parse(refused.err)["error"];
  EXPECT_EQ(error["code"], "sync_refused");
  std::string message = error["message"].get<std::string>();
  EXPECT_NE(message.find("event_id_reused"), std::string::npos) << message;
  EXPECT_NE(message.find("S001:T01:2"), std::string::npos) << message;
  ASSERT_EQ(status.status, 0) << status.err;
  Json s = Json::parse(status.out);
  EXPECT_NE(s["last_error"].get<std::string>().find("S001:T01:2"), std::string::npos);
  EXPECT_EQ(s["backlog"], 2) << "the restored till keeps its sales to send";
  ASSERT_EQ(held_status, 0);
  EXPECT_EQ(Json::parse(Read(dir_ + "/held.json"))["events"], 2) << "HQ's events, untouched";
}

// HQ as systemd runs it: READY=1 on $NOTIFY_SOCKET once it listens, WATCHDOG=1 from its
// executor, then one log line for
// each push (store, till, events, duplicates, ms) and each pull page (store, cursor,
// events), and never the card number the till's events are about.
TEST_F(Cli, RegularsHqServeIsReadyOnceListeningAndLogsEachPushAndPull) {
  std::string script = std::string(REGULARS_SOURCE_DIR) + "/installer/provision-pki.sh";
  for (const char* args : {" ca", " hq localhost 127.0.0.1", " store S001"}) {
    ASSERT_EQ(std::system((script + " " + dir_ + "/pki" + args + " >/dev/null 2>&1").c_str()), 0);
  }
  std::string p = dir_ + "/pki/";
  std::string port_file = dir_ + "/hq.port", notify = dir_ + "/notify";
  int manager = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  std::snprintf(address.sun_path, sizeof(address.sun_path), "%s", notify.c_str());
  ASSERT_EQ(bind(manager, reinterpret_cast<sockaddr*>(&address), sizeof(address)), 0);
  timeval timeout{5, 0};
  setsockopt(manager, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
  std::string init = std::string(REGULARS_HQ) + " db init --db " + dir_ + "/hq.sqlite >/dev/null";
  ASSERT_EQ(std::system(init.c_str()), 0);
  pid_t hq = fork();
  if (hq == 0) {
    FILE* log = std::freopen((dir_ + "/hq.log").c_str(), "w", stderr);
    (void)log;
    setenv("NOTIFY_SOCKET", notify.c_str(), 1);
    setenv("WATCHDOG_USEC", "200000", 1);
    unsetenv("JOURNAL_STREAM");
    execl(REGULARS_HQ, REGULARS_HQ, "serve", "--db", (dir_ + "/hq.sqlite").c_str(), "--listen",
          "127.0.0.1:0", "--ca", (p + "ca.pem").c_str(), "--cert", (p + "hq.pem").c_str(), "--key",
          (p + "hq.key").c_str(), "--port-file", port_file.c_str(), nullptr);
    _exit(127);
  }
  char datagram[64] = {};
  ssize_t got = recv(manager, datagram, sizeof(datagram) - 1, 0);
  bool listening = std::filesystem::exists(port_file);
  char ping[64] = {};
  ssize_t pinged = recv(manager, ping, sizeof(ping) - 1, 0);
  close(manager);
  int port = 0;
  std::ifstream(port_file) >> port;
  if (port == 0) {
    kill(hq, SIGTERM);
    waitpid(hq, nullptr, 0);
  }
  ASSERT_NE(port, 0) << "regulars-hq did not start: " << Read(dir_ + "/hq.log");
  EXPECT_EQ(std::string(datagram, got > 0 ? static_cast<size_t>(got) : 0), "READY=1");
  EXPECT_TRUE(listening) << "ready once the port is known";
  EXPECT_EQ(std::string(ping, pinged > 0 ? static_cast<size_t>(pinged) : 0), "WATCHDOG=1");

  SyncWithHqAt(port, p);
  ASSERT_EQ(Run("enroll --card 2900000000018 --first-name Ophelie").status, 0);
  ASSERT_EQ(Run("checkout " + WriteBasket("a1.json", Basket("A1", 3))).status, 0);
  Outcome synced = Run("sync now --quiet");
  kill(hq, SIGTERM);
  waitpid(hq, nullptr, 0);
  ASSERT_EQ(synced.status, 0) << synced.err;

  std::string log = Read(dir_ + "/hq.log");
  Json push, pull;
  std::istringstream lines(log);
  for (std::string line; std::getline(lines, line);) {
    Json json = Json::parse(line, nullptr, false);
    ASSERT_TRUE(json.is_object()) << line;
    if (json["event"] == "push_stored") push = json;
    if (json["event"] == "pull_served" && pull.is_null()) pull = json;
  }
  ASSERT_TRUE(push.is_object()) << log;
  EXPECT_EQ(push["store_id"], "S001");
  EXPECT_EQ(push["till_id"], "T01");
  EXPECT_GE(push["events"].get<int>(), 2) << "the enrolment and the sale";
  EXPECT_EQ(push["duplicates"], 0);
  EXPECT_GE(push["ms"].get<int>(), 0);
  ASSERT_TRUE(pull.is_object()) << log;
  EXPECT_EQ(pull["store_id"], "S001");
  EXPECT_TRUE(pull.contains("upto") && pull.contains("events")) << pull.dump();
  EXPECT_NE(log.find("\"hq_stopped\""), std::string::npos) << log;
  EXPECT_EQ(log.find("2900000000018"), std::string::npos) << log;
  EXPECT_EQ(log.find("Ophelie"), std::string::npos) << log;
}

TEST_F(Cli, RegularsHqServeRefusesAServerLimitOutOfRangeNamingTheFlag) {
  std::string base = std::string(REGULARS_HQ) +
                     " serve --listen 127.0.0.1:0 --ca a --cert b --key c --db " + dir_ +
                     "/hq.sqlite ";
  for (const char* flag :
       {"--max-connections 0", "--workers -1", "--max-queued many", "--network-threads 1000",
        "--handshake-timeout-ms 0", "--request-timeout-ms 1.5", "--idle-timeout-ms ''",
        "--shutdown-timeout-ms 99999999999"}) {
    std::string command = base + flag + " > " + dir_ + "/stdout 2> " + dir_ + "/stderr";
    int raw = std::system(command.c_str());
    ASSERT_TRUE(WIFEXITED(raw)) << flag;
    EXPECT_EQ(WEXITSTATUS(raw), 2) << flag;
    Json error = Json::parse(Read(dir_ + "/stderr"))["error"];
    std::string name(flag);
    name = name.substr(0, name.find(' '));
    EXPECT_EQ(error["code"], "invalid_arguments") << flag;
    EXPECT_EQ(error["where"], name) << flag;
    EXPECT_NE(error["message"].get<std::string>().find(name), std::string::npos) << flag;
  }
}

TEST_F(Cli, HeadquartersIssuesSignedCardsThatATillRecognizesFromAPhoto) {
  std::string keys = REGULARS_KEYS;
  std::string key_file = dir_ + "/hq-qr-1.key";
  ASSERT_EQ(std::system(
                (keys + " new --key-id 1 --out " + key_file + " > " + dir_ + "/pub.json").c_str()),
            0);
  Json pub = Json::parse(Read(dir_ + "/pub.json"));
  EXPECT_EQ(pub["public_key_hex"].get<std::string>().size(), 64u);
  // The private key is for HQ's eyes only.
  EXPECT_EQ(std::filesystem::status(key_file).permissions() & std::filesystem::perms::others_read,
            std::filesystem::perms::none);

  Outcome issued = Run("card issue --first 290000000010 --count 2 --key " + key_file +
                           " --key-id 1 --out " + dir_ + "/cards",
                       "", false);
  ASSERT_EQ(issued.status, 0) << issued.err;
  Json cards = Json::parse(issued.out);
  ASSERT_EQ(cards.size(), 2u);
  EXPECT_EQ(cards[0]["card"], "2900000000100");
  EXPECT_LE(cards[0]["qr_version"].get<int>(), 6);

  // A till that knows HQ's public key recognizes the card from a photo of it.
  Json config = Json::parse(Read(config_));
  config["qr"] = {{"public_keys", {pub}}};
  config_ = dir_ + "/till.json";
  std::ofstream(config_) << config.dump();
  Json enrolled = Json::parse(Run("enroll --card 2900000000100").out);
  Outcome scan = Run("scan " + cards[0]["png"].get<std::string>());
  ASSERT_EQ(scan.status, 0) << scan.err;
  Json found = Json::parse(scan.out);
  EXPECT_EQ(found["customer"]["id"], enrolled["customer"]["id"]);
  EXPECT_EQ(found["codes"].size(), 2u);
  Outcome not_image = Run("scan " + config_);
  EXPECT_EQ(not_image.status, 2);
  EXPECT_EQ(Json::parse(not_image.err)["error"]["code"], "invalid_image");
}

TEST_F(Cli, CardIssueNamesItsImagesWithoutADoubledSlashWhenTheFolderEndsWithOne) {
  std::string key_file = dir_ + "/hq-qr-1.key";
  ASSERT_EQ(std::system(
                (std::string(REGULARS_KEYS) + " new --key-id 1 --out " + key_file + " > /dev/null")
                    .c_str()),
            0);
  Outcome issued = Run("card issue --first 290000000010 --count 1 --key " + key_file +
                           " --key-id 1 --out " + dir_ + "/cards/",
                       "", false);
  ASSERT_EQ(issued.status, 0) << issued.err;
  Json cards = Json::parse(issued.out);
  EXPECT_EQ(cards[0]["png"], dir_ + "/cards/2900000000100.png");
  EXPECT_EQ(cards[0]["svg"], dir_ + "/cards/2900000000100.svg");
  EXPECT_TRUE(std::filesystem::exists(cards[0]["png"].get<std::string>()));
}

TEST_F(Cli, ConfigCheckNamesTheFileAndThePointer) {
  Outcome ok = Run("config check " + config_, "", false);
  ASSERT_EQ(ok.status, 0) << ok.err;
  EXPECT_EQ(Json::parse(ok.out)["rules"], 1);
  Json config = Json::parse(Read(config_));
  config["rules"][0]["every"] = "five";
  std::string bad = dir_ + "/bad.json";
  std::ofstream(bad) << config.dump();
  Outcome refused = Run("config check " + bad, "", false);
  EXPECT_EQ(refused.status, 2);
  Json error = Json::parse(refused.err)["error"];
  EXPECT_EQ(error["code"], "invalid_config");
  EXPECT_EQ(error["where"], bad + "#/rules/0/every");
  EXPECT_EQ(error["message"], "every must be an integer, not a string");
}

TEST_F(Cli, ConfigCheckRefusesATopLevelTypoWithExitTwoAndTheNearKey) {
  Json config = Json::parse(Read(config_));
  config["curency"] = "EUR";
  std::string typo = dir_ + "/typo.json";
  std::ofstream(typo) << config.dump();
  Outcome refused = Run("config check " + typo, "", false);
  EXPECT_EQ(refused.status, 2);
  Json error = Json::parse(refused.err)["error"];
  EXPECT_EQ(error["code"], "invalid_config");
  EXPECT_EQ(error["where"], typo + "#/curency");
  EXPECT_EQ(error["message"], "unknown field 'curency' in the config: did you mean /currency?");
}

TEST_F(Cli, TheSchemaDescribesEveryFieldTheLoaderReads) {
  Json schema =
      Json::parse(Read(std::string(REGULARS_SOURCE_DIR) + "/config/schema/config.schema.json"));
  std::set<std::string> described;
  for (const auto& [key, value] : schema["properties"].items()) described.insert(key);
  // The loader's fields (plugin/src/config/): a field added there must be added here.
  std::set<std::string> loaded = {"store_id",       "till_id", "currency", "card_prefixes",
                                  "rules_version",  "rules",   "qr",       "scanner",
                                  "payment_tokens", "caps",    "goodwill", "messages",
                                  "products",       "sync",    "http"};
  EXPECT_EQ(described, loaded);
  std::set<std::string> kinds;
  for (const auto& form : schema["$defs"]["rule"]["oneOf"]) {
    kinds.insert(form["properties"]["kind"]["const"].get<std::string>());
  }
  EXPECT_EQ(kinds, (std::set<std::string>{"nth_unit", "tier", "milestone"}));
  for (const char* example : {"store.json", "demo-store.json"}) {
    Json config =
        Json::parse(Read(std::string(REGULARS_SOURCE_DIR) + "/config/examples/" + example));
    for (const auto& required : schema["required"]) {
      EXPECT_TRUE(config.contains(required.get<std::string>())) << example << " " << required;
    }
  }
}

// --- import-poslog (docs/poslog.md) ---

std::string PoslogSample(const std::string& name) {
  return std::string(REGULARS_SOURCE_DIR) + "/tests/data/poslog/" + name;
}

TEST_F(Cli, ImportPoslogCountsTheLoggedSalesOnceAndTheNextVisitGetsTheReward) {
  ASSERT_EQ(Run("enroll --card 2900000000018").status, 0);
  Outcome first = Run("import-poslog " + PoslogSample("week.xml"));
  ASSERT_EQ(first.status, 0) << first.err;
  Json report = Json::parse(first.out);
  EXPECT_EQ(report["file"], PoslogSample("week.xml"));
  EXPECT_EQ(report["transactions"], 6);
  EXPECT_EQ(report["imported"], 3);
  EXPECT_EQ(report["already_imported"], 0);
  EXPECT_EQ(report["recognized"], 2);
  EXPECT_EQ(report["unrecognized"], 1);
  ASSERT_EQ(report["skipped"].size(), 3u);
  EXPECT_EQ(report["skipped"][0]["index"], 2);
  EXPECT_EQ(report["skipped"][0]["reason"], "not a retail sale: ControlTransaction");

  Outcome second = Run("import-poslog " + PoslogSample("week.xml"));
  ASSERT_EQ(second.status, 0) << second.err;
  EXPECT_EQ(Json::parse(second.out)["imported"], 0);
  EXPECT_EQ(Json::parse(second.out)["already_imported"], 3);

  Outcome live = Run("checkout " + WriteBasket("live.json", Basket("LIVE-1", 1)));
  ASSERT_EQ(live.status, 0) << live.err;
  EXPECT_EQ(Json::parse(live.out)["total_discount"], 1290);
  EXPECT_EQ(Run("db verify").status, 0);
}

TEST_F(Cli, ImportPoslogRefusesABadFileWithExit2AndWritesNothing) {
  db_ = dir_ + "/never-made.sqlite";
  Outcome malformed = Run("import-poslog " + PoslogSample("malformed.xml"));
  EXPECT_EQ(malformed.status, 2);
  Json error = Json::parse(malformed.err)["error"];
  EXPECT_EQ(error["code"], "invalid_poslog");
  EXPECT_EQ(error["where"], PoslogSample("malformed.xml") + ": line 18, column 7");
  EXPECT_FALSE(std::filesystem::exists(db_)) << "the file is checked before the ledger opens";

  Outcome quantity = Run("import-poslog " + PoslogSample("bad-quantity.xml"));
  EXPECT_EQ(quantity.status, 2);
  EXPECT_EQ(Json::parse(quantity.err)["error"]["where"],
            PoslogSample("bad-quantity.xml") + ": line 40 (Transaction 2, LineItem 2)/Quantity");

  std::string zeros = dir_ + "/zeros.xml";
  std::ofstream(zeros) << std::string(10, '\0');
  EXPECT_EQ(Run("import-poslog " + zeros).status, 2);
  EXPECT_EQ(Run("import-poslog " + dir_ + "/missing.xml").status, 2);
  EXPECT_EQ(Run("import-poslog").status, 2);
  EXPECT_EQ(Run("import-poslog a.xml b.xml").status, 2);
  Outcome offset = Run("import-poslog " + PoslogSample("prefixed.xml") + " --offset 1h");
  EXPECT_EQ(offset.status, 2);
  EXPECT_EQ(Json::parse(offset.err)["error"]["where"], "--offset");
  EXPECT_FALSE(std::filesystem::exists(db_));
}

TEST_F(Cli, ImportPoslogRefusesATransactionIdAlreadyImportedWithOtherContent) {
  Outcome ok = Run("import-poslog " + PoslogSample("prefixed.xml") + " --offset +01:00");
  ASSERT_EQ(ok.status, 0) << ok.err;
  EXPECT_EQ(Json::parse(ok.out)["imported"], 1);
  std::string text = Read(PoslogSample("prefixed.xml"));
  text.replace(text.find("2.000"), 5, "3");
  std::string changed = dir_ + "/changed.xml";
  std::ofstream(changed) << text;
  Outcome conflict = Run("import-poslog " + changed + " --offset +01:00");
  EXPECT_EQ(conflict.status, 2);
  Json error = Json::parse(conflict.err)["error"];
  EXPECT_EQ(error["code"], "pos_txn_id_conflict");
  EXPECT_EQ(error["where"], changed + ": line 6 (Transaction 1)/TransactionID");
}

}  // namespace
